//! Aggregates folded before, each kept with the stream version it was folded to.
//!
//! A stream only grows and a stored event never changes, so an aggregate folded to
//! version `v` is that stream's state at `v` for good: loading it again reads only the
//! events after `v` (none, most of the time: one index lookup) and folds them onto a
//! copy, instead of reading and decoding every event of the stream again. Only what the
//! log returned as durable is ever cached.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// How many aggregates the cache holds before it starts over (a young person's case is
/// about a kilobyte folded).
pub(crate) const DEFAULT_CAPACITY: usize = 65_536;

struct Entry {
    version: u64,
    state: Arc<dyn Any + Send + Sync>,
}

/// Folded aggregates by stream name.
pub(crate) struct AggregateCache {
    entries: Mutex<HashMap<String, Entry>>,
    capacity: usize,
}

impl AggregateCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // Every update is a single insert or clear: a panic elsewhere cannot leave the
        // map half-changed.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached state of `stream` and its version, if there is one of type `A`.
    pub(crate) fn get<A: Any + Send + Sync>(&self, stream: &str) -> Option<(u64, Arc<A>)> {
        let entries = self.lock();
        let entry = entries.get(stream)?;
        let state = Arc::clone(&entry.state).downcast::<A>().ok()?;
        Some((entry.version, state))
    }

    /// Keeps `state` as `stream` at `version`, unless a newer version is kept already
    /// (two loads of one stream may finish in either order). When full, starts over:
    /// what is dropped is only folded again on its next load.
    pub(crate) fn put<A: Any + Send + Sync>(&self, stream: &str, version: u64, state: Arc<A>) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.get(stream).is_some_and(|entry| entry.version >= version) {
            return;
        }
        if entries.len() >= self.capacity && !entries.contains_key(stream) {
            entries.clear();
        }
        entries.insert(stream.to_owned(), Entry { version, state });
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_version_replaces_an_older_one_and_never_the_reverse() {
        let cache = AggregateCache::new(8);
        cache.put("youth-a", 3, Arc::new(30_u32));
        cache.put("youth-a", 2, Arc::new(20_u32));
        assert_eq!(cache.get::<u32>("youth-a").map(|(v, s)| (v, *s)), Some((3, 30)));
        cache.put("youth-a", 4, Arc::new(40_u32));
        assert_eq!(cache.get::<u32>("youth-a").map(|(v, s)| (v, *s)), Some((4, 40)));
    }

    #[test]
    fn a_state_of_another_type_is_not_returned() {
        let cache = AggregateCache::new(8);
        cache.put("staff-a", 1, Arc::new(1_u32));
        assert!(cache.get::<String>("staff-a").is_none());
    }

    #[test]
    fn a_full_cache_starts_over_and_a_zero_capacity_keeps_nothing() {
        let cache = AggregateCache::new(2);
        cache.put("a", 1, Arc::new(1_u32));
        cache.put("b", 1, Arc::new(2_u32));
        cache.put("c", 1, Arc::new(3_u32));
        assert_eq!(cache.len(), 1);
        assert!(cache.get::<u32>("c").is_some());
        let off = AggregateCache::new(0);
        off.put("a", 1, Arc::new(1_u32));
        assert!(off.get::<u32>("a").is_none());
    }
}
