//! Tests for the disk store (a separate file to keep store.rs short).

use std::fs::{self, File, FileTimes};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::cache::compute_key;

/// A scratch directory removed on drop.
struct TestDir(PathBuf);

impl TestDir {
    fn new(tag: &str) -> TestDir {
        let dir = std::env::temp_dir().join(format!(
            "imgflo-cache-{tag}-{}-{:016x}",
            std::process::id(),
            getrandom::u64().expect("random")
        ));
        fs::create_dir_all(&dir).expect("mkdir");
        TestDir(dir)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn key(n: u8) -> CacheKey {
    CacheKey::parse(&format!("{n:02x}{}.png", "ab".repeat(31))).expect("valid key")
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).expect("read entry")
}

/// Every file under `dir`, relative names, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.push(p.strip_prefix(root).expect("prefix").to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn set_time(path: &Path, t: SystemTime) {
    let f = File::options().write(true).open(path).expect("open");
    f.set_times(FileTimes::new().set_accessed(t).set_modified(t)).expect("set_times");
}

#[test]
fn put_get_round_trip() {
    let d = TestDir::new("roundtrip");
    let cache = DiskCache::open(&d.0, 1 << 20).expect("open");
    let k = compute_key("crop", "v1", &[("w".into(), "10".into())], "in.jpg", "jpg");
    assert!(cache.get(&k).is_none());
    assert!(!cache.contains(&k));
    let before = SystemTime::now() - Duration::from_secs(5);
    cache.put(&k, b"hello world").expect("put");
    assert!(cache.contains(&k));
    let hit = cache.get(&k).expect("hit");
    let s = k.as_str();
    assert_eq!(hit.path, d.0.join(&s[0..2]).join(&s[2..4]).join(s));
    assert_eq!(hit.len, 11);
    assert_eq!(read(&hit.path), b"hello world");
    assert!(hit.modified >= before && hit.modified <= SystemTime::now() + Duration::from_secs(5));
    assert!(hit.etag.starts_with(&format!("\"{}-b-", &s[..32])), "{}", hit.etag);
    assert!(hit.etag.ends_with('"'));
    assert_eq!(cache.get(&k).expect("hit again").etag, hit.etag, "ETag is stable");
    assert_eq!((cache.entries(), cache.total_bytes()), (1, 11));
    // Only the entry itself is on disk: no temp files left over.
    assert_eq!(files_under(&d.0), vec![format!("{}/{}/{s}", &s[0..2], &s[2..4])]);
    // A clone shares the index.
    assert!(cache.clone().get(&k).is_some());
}

#[test]
fn put_replaces_atomically() {
    let d = TestDir::new("replace");
    let cache = DiskCache::open(&d.0, 1 << 20).expect("open");
    let k = key(1);
    cache.put(&k, b"aaaa").expect("put");
    let old = cache.get(&k).expect("hit");
    let mut reader = File::open(&old.path).expect("open old");
    cache.put(&k, b"bbbbbb").expect("replace");
    // The reader that opened the old file still sees the complete old content.
    let mut buf = Vec::new();
    reader.read_to_end(&mut buf).expect("read old");
    assert_eq!(buf, b"aaaa");
    let new = cache.get(&k).expect("hit");
    assert_eq!((new.len, read(&new.path)), (6, b"bbbbbb".to_vec()));
    assert_ne!(new.etag, old.etag);
    assert_eq!((cache.entries(), cache.total_bytes()), (1, 6));
    assert_eq!(files_under(&d.0).len(), 1);
}

#[test]
fn lru_eviction_keeps_recently_used() {
    let d = TestDir::new("lru");
    let cache = DiskCache::open(&d.0, 300).expect("open");
    for n in 1..=3 {
        cache.put(&key(n), &[n; 100]).expect("put");
    }
    assert_eq!(cache.total_bytes(), 300);
    assert!(cache.get(&key(1)).is_some()); // 1 is now the most recently used; 2 the least
    cache.put(&key(4), &[4; 100]).expect("put");
    assert!(!cache.contains(&key(2)));
    assert!(cache.get(&key(2)).is_none());
    for n in [1, 3, 4] {
        assert!(cache.contains(&key(n)), "{n}");
    }
    assert_eq!((cache.entries(), cache.total_bytes()), (3, 300));
    assert!(!files_under(&d.0).iter().any(|f| f.ends_with(key(2).as_str())), "evicted file deleted");
    cache.put(&key(5), &[5; 150]).expect("put"); // needs two evictions: 3 then 1
    assert!(!cache.contains(&key(3)) && !cache.contains(&key(1)));
    assert!(cache.contains(&key(4)) && cache.contains(&key(5)));
    assert_eq!((cache.entries(), cache.total_bytes()), (2, 250));
    assert_eq!(files_under(&d.0).len(), 2);
}

#[test]
fn entry_just_written_is_never_evicted() {
    let d = TestDir::new("oversize");
    let cache = DiskCache::open(&d.0, 50).expect("open");
    cache.put(&key(1), &[1; 40]).expect("put");
    cache.put(&key(2), &[2; 100]).expect("put");
    assert!(!cache.contains(&key(1)));
    assert_eq!(read(&cache.get(&key(2)).expect("kept").path).len(), 100);
    assert_eq!((cache.entries(), cache.total_bytes()), (1, 100));
}

#[test]
fn reopen_indexes_entries_and_cleans_temp_files() {
    let d = TestDir::new("reopen");
    {
        let cache = DiskCache::open(&d.0, 1 << 20).expect("open");
        cache.put(&key(1), b"one").expect("put");
        cache.put(&key(2), b"two!").expect("put");
        cache.put(&key(0xfe), b"three").expect("put");
    }
    let k = key(1);
    let shard = d.0.join(&k.as_str()[0..2]).join(&k.as_str()[2..4]);
    let stale = shard.join(format!(".tmp-{}-deadbeef", key(7).as_str()));
    fs::write(&stale, b"partial").expect("write temp");
    fs::write(shard.join("README"), b"not ours").expect("write foreign");
    // A valid key in the wrong shard is not an entry.
    fs::write(shard.join(key(9).as_str()), b"misplaced").expect("write misplaced");

    let cache = DiskCache::open(&d.0, 1 << 20).expect("reopen");
    assert_eq!((cache.entries(), cache.total_bytes()), (3, 12));
    assert_eq!(read(&cache.get(&key(2)).expect("hit").path), b"two!");
    assert!(!stale.exists(), "stale temp file removed");
    assert!(shard.join("README").exists(), "foreign file left alone");
    assert!(!cache.contains(&key(9)));
}

#[test]
fn reopen_evicts_by_last_use_time() {
    let d = TestDir::new("reopen-lru");
    let base = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    {
        let cache = DiskCache::open(&d.0, 1 << 20).expect("open");
        for (n, age) in [(1u8, 10u64), (2, 30), (3, 20)] {
            cache.put(&key(n), &[n; 100]).expect("put");
            set_time(&cache.get(&key(n)).expect("hit").path, base - Duration::from_secs(age));
        }
    }
    // Over the cap on open: the oldest (2) goes first.
    let cache = DiskCache::open(&d.0, 250).expect("reopen");
    assert!(!cache.contains(&key(2)));
    assert!(cache.contains(&key(1)) && cache.contains(&key(3)));
    assert_eq!(files_under(&d.0).len(), 2);
    // The remaining order also came from the times: 3 is older than 1.
    cache.put(&key(4), &[4; 100]).expect("put");
    assert!(!cache.contains(&key(3)) && cache.contains(&key(1)));
}

#[test]
fn crash_before_rename_leaves_no_entry() {
    let d = TestDir::new("crash");
    let k = key(0x42);
    {
        let cache = DiskCache::open(&d.0, 1 << 20).expect("open");
        cache.put(&key(1), b"kept").expect("put");
        // What a crash mid-put leaves: a temp file in the shard, never renamed.
        let shard = d.0.join(&k.as_str()[0..2]).join(&k.as_str()[2..4]);
        fs::create_dir_all(&shard).expect("mkdir");
        fs::write(shard.join(format!(".tmp-{}-0123456789abcdef0", k.as_str())), b"half a pi").expect("write");
        assert!(cache.get(&k).is_none(), "temp files are never matched");
    }
    let cache = DiskCache::open(&d.0, 1 << 20).expect("reopen");
    assert!(!cache.contains(&k));
    assert!(cache.get(&k).is_none());
    assert_eq!(read(&cache.get(&key(1)).expect("hit").path), b"kept");
    assert_eq!(files_under(&d.0).len(), 1, "temp file removed: {:?}", files_under(&d.0));
    assert_eq!((cache.entries(), cache.total_bytes()), (1, 4));
}

#[test]
fn concurrent_puts_of_one_key_end_in_one_complete_file() {
    const WRITERS: u8 = 8;
    const LEN: usize = 256 * 1024;
    let d = TestDir::new("concurrent");
    let cache = DiskCache::open(&d.0, 1 << 30).expect("open");
    let k = key(0x77);
    let start = Arc::new(Barrier::new(usize::from(WRITERS) + 1));
    let writers: Vec<_> = (1..=WRITERS)
        .map(|n| {
            let (cache, k, start) = (cache.clone(), k.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                cache.put(&k, &vec![n; LEN]).expect("put");
            })
        })
        .collect();
    // A reader racing the writers only ever sees complete files.
    let reader = {
        let (cache, k, start) = (cache.clone(), k.clone(), start.clone());
        std::thread::spawn(move || {
            start.wait();
            for _ in 0..200 {
                if let Some(hit) = cache.get(&k) {
                    let bytes = read(&hit.path);
                    assert_eq!(bytes.len(), LEN);
                    assert!(bytes.iter().all(|b| *b == bytes[0]), "mixed content");
                }
            }
        })
    };
    for w in writers {
        w.join().expect("writer");
    }
    reader.join().expect("reader");
    let hit = cache.get(&k).expect("hit");
    let bytes = read(&hit.path);
    assert_eq!(bytes.len(), LEN);
    assert!((1..=WRITERS).contains(&bytes[0]) && bytes.iter().all(|b| *b == bytes[0]));
    assert_eq!((cache.entries(), cache.total_bytes()), (1, LEN as u64));
    assert_eq!(files_under(&d.0).len(), 1, "no temp files left");
}

#[test]
fn concurrent_puts_under_a_small_cap_keep_accounting_exact() {
    let d = TestDir::new("concurrent-cap");
    let cache = DiskCache::open(&d.0, 1000).expect("open");
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let cache = cache.clone();
            std::thread::spawn(move || {
                for i in 0..25u8 {
                    let n = t * 25 + i;
                    cache.put(&key(n), &vec![n; 100 + usize::from(n)]).expect("put");
                    let _ = cache.get(&key(n / 2));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert!(cache.total_bytes() <= 1000);
    let on_disk = files_under(&d.0);
    assert_eq!(on_disk.len(), cache.entries());
    let bytes: u64 = on_disk.iter().map(|f| fs::metadata(d.0.join(f)).expect("stat").len()).sum();
    assert_eq!(bytes, cache.total_bytes());
}

#[test]
fn total_bytes_and_remove() {
    let d = TestDir::new("accounting");
    let cache = DiskCache::open(&d.0, 1 << 20).expect("open");
    assert_eq!((cache.entries(), cache.total_bytes()), (0, 0));
    cache.put(&key(1), &[0; 10]).expect("put");
    cache.put(&key(2), &[0; 20]).expect("put");
    assert_eq!((cache.entries(), cache.total_bytes()), (2, 30));
    cache.put(&key(1), &[0; 3]).expect("shrink");
    assert_eq!((cache.entries(), cache.total_bytes()), (2, 23));
    cache.put(&key(2), &[]).expect("empty");
    assert_eq!((cache.entries(), cache.total_bytes()), (2, 3));
    assert_eq!(cache.get(&key(2)).expect("empty entry is a hit").len, 0);
    assert!(cache.remove(&key(1)).expect("remove"));
    assert!(!cache.remove(&key(1)).expect("remove again"));
    assert!(!cache.contains(&key(1)) && cache.get(&key(1)).is_none());
    assert_eq!((cache.entries(), cache.total_bytes()), (1, 0));
    assert!(cache.remove(&key(2)).expect("remove"));
    assert_eq!((cache.entries(), cache.total_bytes()), (0, 0));
    assert!(files_under(&d.0).is_empty());
}

#[test]
fn file_deleted_behind_the_cache_is_a_miss() {
    let d = TestDir::new("external");
    let cache = DiskCache::open(&d.0, 1 << 20).expect("open");
    cache.put(&key(1), b"x").expect("put");
    fs::remove_file(cache.get(&key(1)).expect("hit").path).expect("rm");
    assert!(cache.get(&key(1)).is_none());
    assert_eq!((cache.entries(), cache.total_bytes()), (0, 0));
    cache.put(&key(1), b"again").expect("put after external delete");
    assert_eq!(cache.get(&key(1)).expect("hit").len, 5);
}

#[test]
fn failed_put_keeps_old_entry_and_leaves_no_temp() {
    let d = TestDir::new("failed");
    let cache = DiskCache::open(&d.0, 1 << 20).expect("open");
    cache.put(&key(1), b"old").expect("put");
    // Make the rename fail: the final name is now a non-empty directory.
    let k = key(2);
    let target = d.0.join(&k.as_str()[0..2]).join(&k.as_str()[2..4]).join(k.as_str());
    fs::create_dir_all(target.join("sub")).expect("mkdir");
    assert!(cache.put(&k, b"new").is_err());
    assert!(!cache.contains(&k));
    let shard = target.parent().expect("shard");
    let leftovers: Vec<_> = fs::read_dir(shard)
        .expect("read_dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temp file cleaned up");
    assert_eq!(read(&cache.get(&key(1)).expect("hit").path), b"old");
    assert_eq!((cache.entries(), cache.total_bytes()), (1, 3));
}
