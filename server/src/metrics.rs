//! Prometheus metrics, rendered in the text exposition format at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// All counters of one server.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    pub coalesced: AtomicU64,
    pub processed: AtomicU64,
    pub processing_errors: AtomicU64,
    pub queue_depth: AtomicI64,
    pub in_flight: AtomicI64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    durations: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
    pub fn request(&self, route: &'static str, status: u16) {
        *self.requests.lock().expect("metrics lock").entry((route, status)).or_default() += 1;
    }

    pub fn processing_time(&self, graph: &str, d: Duration) {
        let secs = d.as_secs_f64();
        let mut map = self.durations.lock().expect("metrics lock");
        let h = map.entry(graph.to_string()).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str("# HELP imgflo_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE imgflo_http_requests_total counter\n");
        for ((route, status), n) in self.requests.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "imgflo_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        out.push_str("# HELP imgflo_cache_requests_total Processing requests by cache outcome.\n");
        out.push_str("# TYPE imgflo_cache_requests_total counter\n");
        for (outcome, v) in [("hit", &self.cache_hits), ("miss", &self.cache_misses), ("coalesced", &self.coalesced)] {
            let _ = writeln!(out, "imgflo_cache_requests_total{{outcome=\"{outcome}\"}} {}", get(v));
        }
        let counters = [
            ("imgflo_processed_total", "Images processed (graph runs that completed).", &self.processed),
            ("imgflo_processing_errors_total", "Graph runs that failed.", &self.processing_errors),
            ("imgflo_input_bytes_total", "Bytes of input images fetched or read.", &self.bytes_in),
            ("imgflo_output_bytes_total", "Bytes of results served from the cache.", &self.bytes_out),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", get(v));
        }
        let gauges = [
            ("imgflo_queue_depth", "Jobs waiting for a worker.", &self.queue_depth),
            ("imgflo_jobs_in_flight", "Jobs being processed.", &self.in_flight),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}", v.load(Ordering::Relaxed));
        }
        out.push_str("# HELP imgflo_processing_seconds Job time by graph: input read, wait for a worker, decode, run, encode, cache write.\n");
        out.push_str("# TYPE imgflo_processing_seconds histogram\n");
        for (graph, h) in self.durations.lock().expect("metrics lock").iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ =
                    writeln!(out, "imgflo_processing_seconds_bucket{{graph=\"{graph}\",le=\"{b}\"}} {}", h.counts[i]);
            }
            let _ = writeln!(out, "imgflo_processing_seconds_bucket{{graph=\"{graph}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "imgflo_processing_seconds_sum{{graph=\"{graph}\"}} {}", h.sum);
            let _ = writeln!(out, "imgflo_processing_seconds_count{{graph=\"{graph}\"}} {}", h.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.request("graph", 301);
        m.request("graph", 301);
        Metrics::add(&m.cache_hits, 3);
        m.processing_time("crop", Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains("imgflo_http_requests_total{route=\"graph\",status=\"301\"} 2"));
        assert!(text.contains("imgflo_cache_requests_total{outcome=\"hit\"} 3"));
        assert!(text.contains("imgflo_processing_seconds_bucket{graph=\"crop\",le=\"0.05\"} 1"));
        assert!(text.contains("imgflo_processing_seconds_bucket{graph=\"crop\",le=\"0.025\"} 0"));
        assert!(text.contains("imgflo_processing_seconds_count{graph=\"crop\"} 1"));
    }
}
