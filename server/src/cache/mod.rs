//! The disk result cache.
//!
//! Results are stored under `<dir>/<k[0..2]>/<k[2..4]>/<key>`, where the key ([`CacheKey`]) is a validated
//! SHA-256 hex digest of everything that determines the result, plus the output extension. Writes go to a unique
//! temp file (`.tmp-<key>-<random>`) in the same shard directory, are fsynced and renamed into place, so a reader
//! never sees a partial file. The total size is capped; least-recently-used entries are evicted after each write.
//! The index lives in memory and is rebuilt from the directory on [`DiskCache::open`].

mod key;
mod lru;
mod store;

pub use key::{compute_key, CacheKey};
pub use store::{CachedFile, DiskCache};
