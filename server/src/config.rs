//! Server configuration: embedded defaults, overridden by flags and environment
//! variables (the binary maps both onto this).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::apps::App;
use crate::fetch::FetchConfig;

#[derive(Clone, Debug)]
pub struct Config {
    pub host: IpAddr,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// SQLite database and disk cache live here.
    pub data_dir: PathBuf,
    pub graphs_dir: PathBuf,
    /// Example inputs served under `/files/` and readable as `files/...` inputs.
    pub files_dir: PathBuf,
    /// Static files of the testing/debug UI.
    pub ui_dir: PathBuf,
    /// Base of Location URLs (`https://img.example.com`); else from the Host header.
    pub base_url: Option<String>,
    /// `IMGFLO_SIZE_LIMIT`: requested width × height limit in megapixels.
    pub size_limit_megapixels: f64,
    /// Largest input image accepted, in pixels (checked on the header).
    pub max_input_pixels: u64,
    /// Workers of the urgent (GET) lane; one per core by default.
    pub workers: usize,
    /// Jobs that may wait for a worker before requests get 503.
    pub queue_capacity: usize,
    /// Workers and queue of the background (POST pre-heat) lane.
    pub background_workers: usize,
    pub background_queue: usize,
    /// Longest a job may run before it is abandoned with 504.
    pub job_deadline: Duration,
    /// Workers and queue of the video lane (MP4 in or out), so video never takes
    /// an image request's worker; and the deadline of a video job.
    pub video_workers: usize,
    pub video_queue: usize,
    pub video_deadline: Duration,
    /// Limits on animated inputs (frames, total pixels) and videos (duration,
    /// frames, frame size).
    pub animation_limits: imgflo_runtime::codec::animation::AnimationLimits,
    pub video_limits: imgflo_runtime::video::VideoLimits,
    pub cache_max_bytes: u64,
    pub fetch: FetchConfig,
    /// `DATABASE_URL` (a SQLite path) instead of `<data_dir>/imgflo.db`.
    pub database_url: Option<String>,
    /// Keys from `IMGFLO_API_KEY`/`IMGFLO_ADMIN_KEY` and their secrets.
    pub env_apps: Vec<App>,
    /// How often the graphs directory is checked for changes.
    pub graph_poll: Duration,
    /// What `GET /runtime` reports about a live runtime started beside the server
    /// (`imgflo serve`): `{running, address, flowhub}`; none: not running.
    pub runtime_info: Option<serde_json::Value>,
}

impl Default for Config {
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Config {
            host: IpAddr::from([0, 0, 0, 0]),
            port: 8080,
            data_dir: PathBuf::from("var"),
            graphs_dir: PathBuf::from("graphs"),
            files_dir: PathBuf::from("ui/files"),
            ui_dir: PathBuf::from("ui"),
            base_url: None,
            size_limit_megapixels: 25.0,
            max_input_pixels: 100_000_000,
            workers,
            queue_capacity: 64 * workers,
            background_workers: 1,
            background_queue: 256,
            job_deadline: Duration::from_secs(30),
            video_workers: 1,
            video_queue: 16,
            video_deadline: Duration::from_secs(300),
            animation_limits: Default::default(),
            video_limits: Default::default(),
            cache_max_bytes: 2 << 30,
            fetch: FetchConfig::default(),
            database_url: None,
            env_apps: Vec::new(),
            graph_poll: Duration::from_secs(1),
            runtime_info: None,
        }
    }
}
