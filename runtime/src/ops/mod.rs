//! The component library: every operation a graph node can run.
//!
//! A component is a [`ComponentSpec`] (name, ports with types, defaults and ranges,
//! as Flowhub lists them) plus an [`Operation`] that turns input values into output
//! values. Operations are pure: no I/O except in the loader/saver components, so a
//! node can be evaluated on any worker thread and cancelled between nodes.

pub mod blend;
pub mod blur;
pub mod canvas;
pub mod color;
pub mod core;
pub mod draw;
pub mod filters;
pub mod geometry;
pub mod gradient;
pub mod helpers;
pub mod io;
pub mod registry;
pub mod resize;
pub mod retro;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::color::Color;
use crate::pixels::Image;
use crate::value::{PortSpec, Value};

pub use registry::Registry;

/// Name, documentation and ports of a component.
#[derive(Clone, Debug)]
pub struct ComponentSpec {
    /// `library/name`, e.g. `gegl/crop`.
    pub name: &'static str,
    pub description: &'static str,
    /// A Font Awesome 4 icon name.
    pub icon: &'static str,
    pub inports: Vec<PortSpec>,
    pub outports: Vec<PortSpec>,
}

impl ComponentSpec {
    pub fn inport(&self, name: &str) -> Option<&PortSpec> {
        self.inports.iter().find(|p| p.name == name)
    }
    pub fn outport(&self, name: &str) -> Option<&PortSpec> {
        self.outports.iter().find(|p| p.name == name)
    }
}

/// An error raised by an operation while it runs.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("no image on inport {0:?}")]
    MissingInput(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("result of {width}x{height} pixels is over the limit of {limit} pixels")]
    TooLarge { width: u64, height: u64, limit: u64 },
    #[error("cancelled")]
    Cancelled,
    #[error("deadline exceeded")]
    DeadlineExceeded,
    #[error("{0}")]
    Io(String),
}

/// Cancellation and deadline shared by one evaluation; checked between nodes and
/// inside long-running operations.
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    deadline: Option<Instant>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }
    pub fn with_deadline(deadline: Instant) -> Cancel {
        Cancel { flag: Arc::default(), deadline: Some(deadline) }
    }
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }
    pub fn check(&self) -> Result<(), OpError> {
        if self.flag.load(Ordering::Relaxed) {
            return Err(OpError::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(OpError::DeadlineExceeded);
        }
        Ok(())
    }
}

/// Limits an operation must respect.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest image an operation may produce, in pixels.
    pub max_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_pixels: 100_000_000 }
    }
}

/// Where loaders get the bytes of a URI that is not a local file (`http(s)://...`).
/// The engine knows no network: the live runtime or server supplies this, with its
/// own rules (address checks, size caps, timeouts).
pub trait Fetch: Send + Sync + std::fmt::Debug {
    fn fetch(&self, uri: &str) -> Result<Vec<u8>, String>;
}

/// What loader and saver components may do with local files. The graph's author
/// decides paths, so an edge that runs graphs for others restricts this.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FileAccess {
    /// Read and write any path: the command line, on the user's own files.
    #[default]
    ReadWrite,
    /// Loaders read local files; savers write nothing (the live runtime, where a
    /// graph edited over the network must not write files on the host).
    ReadOnly,
    /// Neither (the HTTP server: requests name inputs by URL, never by path).
    None,
}

/// What an operation sees while it runs.
#[derive(Clone, Debug, Default)]
pub struct RunContext {
    pub cancel: Cancel,
    pub limits: Limits,
    /// Fetcher for remote URIs on loader ports; without one they are refused.
    pub fetch: Option<Arc<dyn Fetch>>,
    /// Local file access of loaders and savers.
    pub files: FileAccess,
}

impl RunContext {
    pub fn check(&self) -> Result<(), OpError> {
        self.cancel.check()
    }
    /// Fails when an output of `width`x`height` would be over the pixel limit.
    pub fn check_size(&self, width: u64, height: u64) -> Result<(), OpError> {
        if width.saturating_mul(height) > self.limits.max_pixels {
            return Err(OpError::TooLarge { width, height, limit: self.limits.max_pixels });
        }
        Ok(())
    }
}

/// The values on a node's inports: defaults, then IIPs, then edges, then values set
/// by the caller; already coerced to each port's type.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    values: HashMap<&'static str, Value>,
}

impl Inputs {
    pub fn new() -> Inputs {
        Inputs::default()
    }
    /// Inputs holding every port's default.
    pub fn defaults(spec: &ComponentSpec) -> Inputs {
        let mut inputs = Inputs::new();
        for p in &spec.inports {
            if let Some(d) = &p.default {
                inputs.values.insert(p.name, d.clone());
            }
        }
        inputs
    }
    pub fn set(&mut self, port: &'static str, value: Value) {
        self.values.insert(port, value);
    }
    pub fn get(&self, port: &str) -> Option<&Value> {
        self.values.get(port)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&&'static str, &Value)> {
        self.values.iter()
    }
    pub fn image(&self, port: &'static str) -> Option<&Arc<Image>> {
        self.values.get(port).and_then(Value::as_image)
    }
    pub fn require_image(&self, port: &'static str) -> Result<&Arc<Image>, OpError> {
        self.image(port).ok_or(OpError::MissingInput(port))
    }
    /// A number port (int ports read as numbers too). Ports always have a value
    /// when the spec gives a default; a missing one reads as 0.
    pub fn f64(&self, port: &str) -> f64 {
        match self.values.get(port) {
            Some(Value::Number(v)) => *v,
            Some(Value::Int(v)) => *v as f64,
            Some(Value::Bool(b)) => f64::from(u8::from(*b)),
            _ => 0.0,
        }
    }
    pub fn int(&self, port: &str) -> i64 {
        match self.values.get(port) {
            Some(Value::Int(v)) => *v,
            Some(Value::Number(v)) => *v as i64,
            _ => 0,
        }
    }
    pub fn bool(&self, port: &str) -> bool {
        matches!(self.values.get(port), Some(Value::Bool(true)))
    }
    pub fn color(&self, port: &str) -> Color {
        match self.values.get(port) {
            Some(Value::Color(c)) => *c,
            _ => Color::TRANSPARENT,
        }
    }
    pub fn str(&self, port: &str) -> &str {
        match self.values.get(port) {
            Some(Value::String(s)) => s,
            _ => "",
        }
    }
}

/// The values an operation produced, by outport.
#[derive(Clone, Debug, Default)]
pub struct Outputs(pub Vec<(&'static str, Value)>);

impl Outputs {
    /// The common case: one image on `output`.
    pub fn image(img: Image) -> Outputs {
        Outputs(vec![("output", Value::Image(Arc::new(img)))])
    }
    /// Passes an input image through unchanged (no copy).
    pub fn shared(img: Arc<Image>) -> Outputs {
        Outputs(vec![("output", Value::Image(img))])
    }
    pub fn none() -> Outputs {
        Outputs(Vec::new())
    }
    pub fn get(&self, port: &str) -> Option<&Value> {
        self.0.iter().find(|(p, _)| *p == port).map(|(_, v)| v)
    }
}

/// One component's behaviour.
pub trait Operation: Send + Sync + 'static {
    fn spec(&self) -> &ComponentSpec;
    fn run(&self, inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError>;
}

/// An operation given by a spec and a function; most components are one of these.
pub struct FnOp {
    pub spec: ComponentSpec,
    pub run: fn(&Inputs, &RunContext) -> Result<Outputs, OpError>,
}

impl Operation for FnOp {
    fn spec(&self) -> &ComponentSpec {
        &self.spec
    }
    fn run(&self, inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
        (self.run)(inputs, ctx)
    }
}

/// Builds the spec of a filter with `input` and `output` image ports and the given
/// parameters (the shape of most GEGL operations).
pub fn filter_spec(name: &'static str, description: &'static str, params: Vec<PortSpec>) -> ComponentSpec {
    let mut inports = vec![PortSpec::buffer("input")];
    inports.extend(params);
    ComponentSpec { name, description, icon: icon_for(name), inports, outports: vec![PortSpec::buffer("output")] }
}

/// Builds the spec of a composer: `input`, `aux` and `output` image ports.
pub fn composer_spec(name: &'static str, description: &'static str, params: Vec<PortSpec>) -> ComponentSpec {
    let mut spec = filter_spec(name, description, params);
    spec.inports.insert(1, PortSpec::buffer("aux"));
    spec
}

/// imgflo's icon rule: `crop` for crop, `save`/`file-o`/`font` by name, else `picture-o`.
pub fn icon_for(name: &str) -> &'static str {
    if name.ends_with("/crop") {
        "crop"
    } else if name.contains("save") {
        "save"
    } else if name.contains("load") {
        "file-o"
    } else if name.contains("text") {
        "font"
    } else {
        "picture-o"
    }
}

/// Linear RGBA pixels of the required `input` image, with its size: the start of
/// every float operation.
pub fn linear_input(inputs: &Inputs) -> Result<(u32, u32, Vec<f32>), OpError> {
    let img = inputs.require_image("input")?;
    Ok((img.width(), img.height(), img.to_linear_rgba().into_owned()))
}

/// Wraps linear RGBA pixels as an `output` image.
pub fn linear_output(width: u32, height: u32, data: Vec<f32>) -> Result<Outputs, OpError> {
    let img = Image::from_rgba_f32(width, height, data).map_err(|e| OpError::Invalid(e.to_string()))?;
    Ok(Outputs::image(img))
}
