//! Aggregates folded before, each kept with the stream version it was folded to and the
//! log position it is known complete at.
//!
//! A stream only grows and a stored event never changes, so an aggregate folded to
//! version `v` is that stream's state at `v` for good: loading it again reads only the
//! events after `v` (none, most of the time: one index lookup) and folds them onto a
//! copy, instead of reading and decoding every event of the stream again. While the
//! log's head is still the position the state was checked at, nothing was appended
//! anywhere and not even the lookup is needed. Only what the log returned as durable is
//! ever cached.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// How many aggregates the cache holds before it starts over (a young person's case is
/// about a kilobyte folded).
pub(crate) const DEFAULT_CAPACITY: usize = 65_536;

struct Entry {
    version: u64,
    /// A log head at which `version` was the stream's last version.
    checked_at: u64,
    state: Arc<dyn Any + Send + Sync>,
}

/// A cached aggregate.
pub(crate) struct Cached<A> {
    /// The stream version it was folded to.
    pub(crate) version: u64,
    /// A log head at which that was the stream's last version.
    pub(crate) checked_at: u64,
    /// The state.
    pub(crate) state: Arc<A>,
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

    /// The cached state of `stream`, if there is one of type `A`.
    pub(crate) fn get<A: Any + Send + Sync>(&self, stream: &str) -> Option<Cached<A>> {
        let entries = self.lock();
        let entry = entries.get(stream)?;
        let state = Arc::clone(&entry.state).downcast::<A>().ok()?;
        Some(Cached {
            version: entry.version,
            checked_at: entry.checked_at,
            state,
        })
    }

    /// Keeps `state` as `stream` at `version`, known complete at log head `checked_at`,
    /// unless a newer version is kept already (two loads of one stream may finish in
    /// either order). When full, starts over: what is dropped is only folded again on
    /// its next load.
    pub(crate) fn put<A: Any + Send + Sync>(&self, stream: &str, version: u64, checked_at: u64, state: Arc<A>) {
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
        entries.insert(
            stream.to_owned(),
            Entry {
                version,
                checked_at,
                state,
            },
        );
    }

    /// Records that `stream` was still at `version` when the log's head was `checked_at`.
    pub(crate) fn checked(&self, stream: &str, version: u64, checked_at: u64) {
        if let Some(entry) = self.lock().get_mut(stream) {
            if entry.version == version && entry.checked_at < checked_at {
                entry.checked_at = checked_at;
            }
        }
    }

    /// Drops whatever is kept of `stream` (an erasure: its personal values must go).
    pub(crate) fn forget(&self, stream: &str) {
        self.lock().remove(stream);
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
        let seen = |cache: &AggregateCache| cache.get::<u32>("youth-a").map(|c| (c.version, c.checked_at, *c.state));
        cache.put("youth-a", 3, 10, Arc::new(30_u32));
        cache.put("youth-a", 2, 12, Arc::new(20_u32));
        assert_eq!(seen(&cache), Some((3, 10, 30)));
        cache.put("youth-a", 4, 15, Arc::new(40_u32));
        assert_eq!(seen(&cache), Some((4, 15, 40)));
    }

    #[test]
    fn a_check_moves_forward_only_for_the_version_it_saw() {
        let cache = AggregateCache::new(8);
        let seen = |cache: &AggregateCache| cache.get::<u32>("youth-a").map(|c| (c.version, c.checked_at));
        cache.put("youth-a", 3, 10, Arc::new(30_u32));
        cache.checked("youth-a", 3, 20);
        assert_eq!(seen(&cache), Some((3, 20)));
        cache.checked("youth-a", 3, 18);
        assert_eq!(seen(&cache), Some((3, 20)), "never backwards");
        cache.checked("youth-a", 2, 30);
        assert_eq!(seen(&cache), Some((3, 20)), "a check of another version says nothing");
        cache.checked("youth-b", 1, 30);
        assert!(cache.get::<u32>("youth-b").is_none(), "nothing to check");
    }

    #[test]
    fn a_state_of_another_type_is_not_returned() {
        let cache = AggregateCache::new(8);
        cache.put("staff-a", 1, 1, Arc::new(1_u32));
        assert!(cache.get::<String>("staff-a").is_none());
    }

    #[test]
    fn a_full_cache_starts_over_and_a_zero_capacity_keeps_nothing() {
        let cache = AggregateCache::new(2);
        cache.put("a", 1, 1, Arc::new(1_u32));
        cache.put("b", 1, 1, Arc::new(2_u32));
        cache.put("c", 1, 1, Arc::new(3_u32));
        assert_eq!(cache.len(), 1);
        assert!(cache.get::<u32>("c").is_some());
        let off = AggregateCache::new(0);
        off.put("a", 1, 1, Arc::new(1_u32));
        assert!(off.get::<u32>("a").is_none());
    }
}
