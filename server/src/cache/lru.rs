//! In-memory LRU bookkeeping for the disk cache: O(log n) per operation.

use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy)]
struct Slot {
    tick: u64,
    size: u64,
}

/// Keys ordered by last use, with their sizes and the running total.
#[derive(Debug, Default)]
pub(crate) struct LruIndex {
    next_tick: u64,
    by_key: HashMap<String, Slot>,
    by_tick: BTreeMap<u64, String>,
    total: u64,
}

impl LruIndex {
    fn bump(&mut self) -> u64 {
        let t = self.next_tick;
        self.next_tick += 1;
        t
    }

    /// Marks `key` as most recently used; false if it is not indexed.
    pub(crate) fn touch(&mut self, key: &str) -> bool {
        let tick = self.bump();
        let Some(slot) = self.by_key.get_mut(key) else {
            return false;
        };
        if let Some(k) = self.by_tick.remove(&slot.tick) {
            self.by_tick.insert(tick, k);
        }
        slot.tick = tick;
        true
    }

    /// Inserts or replaces `key` with `size`, as most recently used.
    pub(crate) fn insert(&mut self, key: &str, size: u64) {
        self.remove(key);
        let tick = self.bump();
        self.by_key.insert(key.to_owned(), Slot { tick, size });
        self.by_tick.insert(tick, key.to_owned());
        self.total = self.total.saturating_add(size);
    }

    /// Removes `key`, returning its size.
    pub(crate) fn remove(&mut self, key: &str) -> Option<u64> {
        let slot = self.by_key.remove(key)?;
        self.by_tick.remove(&slot.tick);
        self.total = self.total.saturating_sub(slot.size);
        Some(slot.size)
    }

    /// Removes and returns the least recently used entry other than `keep`.
    pub(crate) fn pop_lru_except(&mut self, keep: &str) -> Option<(String, u64)> {
        // `keep` is a single entry, so at most two steps.
        let victim = self.by_tick.values().find(|k| k.as_str() != keep)?.clone();
        let size = self.remove(&victim)?;
        Some((victim, size))
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_total_and_replace() {
        let mut ix = LruIndex::default();
        ix.insert("a", 10);
        ix.insert("b", 20);
        ix.insert("c", 30);
        assert_eq!((ix.len(), ix.total()), (3, 60));
        assert!(ix.touch("a"));
        assert!(!ix.touch("zz"));
        ix.insert("b", 5); // replace: new size, now most recent
        assert_eq!((ix.len(), ix.total()), (3, 45));
        assert_eq!(ix.pop_lru_except("none"), Some(("c".to_string(), 30)));
        assert_eq!(ix.pop_lru_except("a"), Some(("b".to_string(), 5)));
        assert_eq!(ix.pop_lru_except("a"), None);
        assert_eq!((ix.len(), ix.total()), (1, 10));
        assert_eq!(ix.remove("a"), Some(10));
        assert_eq!(ix.remove("a"), None);
        assert_eq!((ix.len(), ix.total()), (0, 0));
        assert_eq!(ix.by_tick.len(), 0);
    }
}
