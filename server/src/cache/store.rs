//! The on-disk store: sharded layout, atomic writes, LRU eviction under a byte cap.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use super::key::CacheKey;
use super::lru::LruIndex;

/// Prefix of in-progress writes; never a valid key, so `get` can't match one.
const TMP_PREFIX: &str = ".tmp-";

/// A cache hit: where the bytes are and what to put in the HTTP validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedFile {
    /// Absolute or `dir`-relative path of the entry (as `dir` was given to [`DiskCache::open`]).
    pub path: PathBuf,
    /// Size in bytes.
    pub len: u64,
    /// Strong ETag, quotes included: `"<first 32 hex of key>-<len hex>-<mtime ns hex>"`. The mtime part changes when
    /// an entry is rewritten (admin reprocessing), so a replaced result never keeps the old validator.
    pub etag: String,
    /// When the entry was written (for `Last-Modified`).
    pub modified: SystemTime,
}

/// A size-capped LRU cache of result files. Cheap to clone; all clones share one index.
#[derive(Debug, Clone)]
pub struct DiskCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    max_bytes: u64,
    index: Mutex<LruIndex>,
}

/// `<dir>/<k[0..2]>/<k[2..4]>`. Only called with validated keys (at least 64 ASCII chars).
fn shard_dir(dir: &Path, key: &str) -> PathBuf {
    dir.join(key.get(0..2).unwrap_or_default()).join(key.get(2..4).unwrap_or_default())
}

fn entry_path(dir: &Path, key: &str) -> PathBuf {
    shard_dir(dir, key).join(key)
}

fn is_shard_name(name: &str) -> bool {
    name.len() == 2 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_regular_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

fn etag(key: &CacheKey, len: u64, modified: SystemTime) -> String {
    let hash = key.hash_hex();
    let prefix = hash.get(..32).unwrap_or(hash);
    let nanos = modified.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("\"{prefix}-{len:x}-{nanos:x}\"")
}

/// Makes a rename or new entry in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn random_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // The counter keeps names unique within this process; the random part across processes.
    let r = getrandom::u64().unwrap_or_else(|_| {
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        t ^ u64::from(std::process::id()).rotate_left(32)
    });
    format!("{r:016x}{n:x}")
}

/// Creates a new, uniquely named temp file for `key` in `shard`.
fn create_temp(shard: &Path, key: &str) -> io::Result<(PathBuf, File)> {
    let mut last = io::Error::new(io::ErrorKind::AlreadyExists, "no unique temp file name");
    for _ in 0..4 {
        let path = shard.join(format!("{TMP_PREFIX}{key}-{}", random_suffix()));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Subdirectories of `dir` whose names are shard names (symlinks are not followed).
fn shard_subdirs(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().filter(|n| is_shard_name(n)).map(str::to_owned) else {
            continue;
        };
        if entry.file_type()?.is_dir() {
            out.push((name, entry.path()));
        }
    }
    Ok(out)
}

/// Collects `(last use, key, size)` for the entries of one shard and deletes stale temp files.
fn scan_shard(shard: &Path, n1: &str, n2: &str, found: &mut Vec<(SystemTime, String, u64)>) -> io::Result<()> {
    for entry in fs::read_dir(shard)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str() else { continue };
        let Ok(file_type) = entry.file_type() else { continue };
        if name.starts_with(TMP_PREFIX) {
            if file_type.is_file() {
                match fs::remove_file(entry.path()) {
                    Ok(()) => tracing::debug!(file = %entry.path().display(), "removed stale cache temp file"),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::warn!(file = %entry.path().display(), error = %e, "cannot remove stale temp file")
                    }
                }
            }
            continue;
        }
        let Some(key) = CacheKey::parse(name) else { continue };
        if !file_type.is_file() || key.as_str().get(0..2) != Some(n1) || key.as_str().get(2..4) != Some(n2) {
            continue;
        }
        // DirEntry::metadata does not follow symlinks; an entry vanishing mid-scan is just skipped.
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let modified = meta.modified().unwrap_or(UNIX_EPOCH);
        let used = meta.accessed().map_or(modified, |a| a.max(modified));
        found.push((used, key.as_str().to_owned(), meta.len()));
    }
    Ok(())
}

/// Pops least-recently-used entries (never `keep`) until the total fits under `max_bytes`.
fn take_victims(index: &mut LruIndex, max_bytes: u64, keep: &str) -> Vec<String> {
    let mut victims = Vec::new();
    while index.total() > max_bytes {
        match index.pop_lru_except(keep) {
            Some((key, _)) => victims.push(key),
            None => break,
        }
    }
    victims
}

impl DiskCache {
    /// Opens (creating if needed) the cache in `dir`, indexes the entries already there (last use taken from the
    /// later of atime and mtime), deletes temp files left by a crash and evicts down to `max_bytes`.
    /// Files that are not entries in the right shard are left alone and not counted.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<DiskCache> {
        fs::create_dir_all(dir)?;
        let mut found = Vec::new();
        for (n1, p1) in shard_subdirs(dir)? {
            for (n2, p2) in shard_subdirs(&p1)? {
                scan_shard(&p2, &n1, &n2, &mut found)?;
            }
        }
        found.sort();
        let mut index = LruIndex::default();
        for (_, key, size) in &found {
            index.insert(key, *size);
        }
        let victims = take_victims(&mut index, max_bytes, "");
        let cache =
            DiskCache { inner: Arc::new(Inner { dir: dir.to_path_buf(), max_bytes, index: Mutex::new(index) }) };
        cache.delete_files(victims);
        Ok(cache)
    }

    fn index(&self) -> MutexGuard<'_, LruIndex> {
        self.inner.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn path_of(&self, key: &str) -> PathBuf {
        entry_path(&self.inner.dir, key)
    }

    /// Looks `key` up and marks it as recently used. The index is authoritative: a file that is on disk but not
    /// indexed (being written or being evicted) is a miss. A file deleted behind the cache's back is dropped from
    /// the index here. An entry may still be evicted after this returns, so opening the path can fail with
    /// `NotFound`; treat that as a miss.
    pub fn get(&self, key: &CacheKey) -> Option<CachedFile> {
        if !self.index().touch(key.as_str()) {
            return None;
        }
        let path = self.path_of(key.as_str());
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {
                let modified = meta.modified().unwrap_or(UNIX_EPOCH);
                Some(CachedFile { etag: etag(key, meta.len(), modified), len: meta.len(), modified, path })
            }
            _ => {
                self.forget_if_missing([key.as_str()]);
                None
            }
        }
    }

    /// Whether `key` is indexed (no filesystem access, does not mark it as used).
    pub fn contains(&self, key: &CacheKey) -> bool {
        self.index().contains(key.as_str())
    }

    /// Stores `bytes` under `key`, replacing any previous entry atomically: unique temp file in the shard
    /// directory, write, fsync, rename, fsync directory. Then evicts least-recently-used entries (never this one)
    /// until the total is within the cap. On error nothing is left behind and the old entry, if any, stays.
    pub fn put(&self, key: &CacheKey, bytes: &[u8]) -> io::Result<()> {
        let k = key.as_str();
        let shard = shard_dir(&self.inner.dir, k);
        self.ensure_shard(&shard)?;
        let (tmp, mut file) = create_temp(&shard, k)?;
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        drop(file);
        if let Err(e) = written.and_then(|()| fs::rename(&tmp, shard.join(k))) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        // The entry is visible from here on; index it even if the directory fsync fails.
        let synced = sync_dir(&shard);
        let victims = {
            let mut index = self.index();
            // Size from the file now in place: with concurrent puts of one key, the last rename wins, whichever
            // put gets here first. Gone already (a concurrent remove) means nothing to index.
            match fs::symlink_metadata(shard.join(k)) {
                Ok(meta) if meta.is_file() => index.insert(k, meta.len()),
                _ => {
                    index.remove(k);
                }
            }
            take_victims(&mut index, self.inner.max_bytes, k)
        };
        self.delete_files(victims);
        synced
    }

    /// Removes `key`; `Ok(true)` if a file was deleted.
    pub fn remove(&self, key: &CacheKey) -> io::Result<bool> {
        let k = key.as_str();
        self.index().remove(k);
        let path = self.path_of(k);
        match fs::remove_file(&path) {
            Ok(()) => {
                // A concurrent put may have indexed the file just deleted.
                self.forget_if_missing([k]);
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.forget_if_missing([k]);
                Ok(false)
            }
            Err(e) => {
                // Still on disk: keep accounting for it.
                let mut index = self.index();
                if let Ok(meta) = fs::symlink_metadata(&path) {
                    if meta.is_file() && !index.contains(k) {
                        index.insert(k, meta.len());
                    }
                }
                Err(e)
            }
        }
    }

    /// Sum of the sizes of the indexed entries.
    pub fn total_bytes(&self) -> u64 {
        self.index().total()
    }

    /// Number of indexed entries.
    pub fn entries(&self) -> usize {
        self.index().len()
    }

    /// Creates the shard directory (and makes its creation durable) if needed.
    fn ensure_shard(&self, shard: &Path) -> io::Result<()> {
        if shard.is_dir() {
            return Ok(());
        }
        fs::create_dir_all(shard)?;
        if let Some(parent) = shard.parent() {
            sync_dir(parent)?;
        }
        sync_dir(&self.inner.dir)
    }

    /// Deletes evicted entries' files outside the index lock, then reconciles keys a concurrent put re-created.
    fn delete_files(&self, victims: Vec<String>) {
        if victims.is_empty() {
            return;
        }
        for key in &victims {
            let path = self.path_of(key);
            match fs::remove_file(&path) {
                Ok(()) => tracing::debug!(key = %key, "evicted cache entry"),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(file = %path.display(), error = %e, "cannot delete evicted cache entry"),
            }
        }
        self.forget_if_missing(victims.iter().map(String::as_str));
    }

    /// Drops indexed keys whose file is gone. Checked under the lock: puts index only after their rename, so an
    /// indexed key with no file is never a write still in progress.
    fn forget_if_missing<'a>(&self, keys: impl IntoIterator<Item = &'a str>) {
        let mut index = self.index();
        for key in keys {
            if index.contains(key) && !is_regular_file(&self.path_of(key)) {
                index.remove(key);
            }
        }
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
