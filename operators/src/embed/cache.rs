//! The vector cache: identical texts are embedded once per provider.
//!
//! Keys hash the provider's fingerprint with the exact text sent to it, so two steps (or two
//! runs) with the same model and settings share entries and a change of model never reads a
//! stale vector. [`VectorCache`] is the seam for a disk-backed store; [`LruCache`] keeps a
//! bounded number of entries in memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The cache key of one text under one provider: blake3 of fingerprint and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// The key of `text` embedded by the provider whose fingerprint is `fingerprint`.
    pub fn new(fingerprint: &str, text: &str) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(fingerprint.len() as u64).to_le_bytes());
        hasher.update(fingerprint.as_bytes());
        hasher.update(text.as_bytes());
        CacheKey(*hasher.finalize().as_bytes())
    }

    /// The key's bytes (for stores that persist it).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Where computed vectors are kept; shared by every worker of a step.
pub trait VectorCache: Send + Sync {
    /// The vector stored under `key`, if any.
    fn get(&self, key: &CacheKey) -> Option<Arc<[f32]>>;
    /// Stores `vector` under `key`.
    fn put(&self, key: CacheKey, vector: Arc<[f32]>);
}

/// A cache that keeps nothing (`cache_entries: 0`).
#[derive(Debug, Default)]
pub struct NoCache;

impl VectorCache for NoCache {
    fn get(&self, _key: &CacheKey) -> Option<Arc<[f32]>> {
        None
    }

    fn put(&self, _key: CacheKey, _vector: Arc<[f32]>) {}
}

/// An in-memory cache bounded by entries; the least recently used entry goes first.
#[derive(Debug)]
pub struct LruCache {
    capacity: usize,
    inner: Mutex<Lru>,
}

#[derive(Debug, Default)]
struct Lru {
    tick: u64,
    entries: HashMap<CacheKey, (Arc<[f32]>, u64)>,
    by_use: BTreeMap<u64, CacheKey>,
}

impl LruCache {
    /// A cache of at most `capacity` vectors (at least one).
    pub fn new(capacity: usize) -> Self {
        LruCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Lru::default()),
        }
    }

    /// Vectors held now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        // A panic while holding the lock leaves the maps consistent (no partial updates).
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl VectorCache for LruCache {
    fn get(&self, key: &CacheKey) -> Option<Arc<[f32]>> {
        let mut lru = self.lock();
        lru.tick += 1;
        let tick = lru.tick;
        let (vector, used) = lru.entries.get_mut(key)?;
        let vector = vector.clone();
        let previous = std::mem::replace(used, tick);
        lru.by_use.remove(&previous);
        lru.by_use.insert(tick, *key);
        Some(vector)
    }

    fn put(&self, key: CacheKey, vector: Arc<[f32]>) {
        let mut lru = self.lock();
        lru.tick += 1;
        let tick = lru.tick;
        if let Some((_, previous)) = lru.entries.insert(key, (vector, tick)) {
            lru.by_use.remove(&previous);
        }
        lru.by_use.insert(tick, key);
        while lru.entries.len() > self.capacity {
            let Some((_, oldest)) = lru.by_use.pop_first() else {
                break;
            };
            lru.entries.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(x: f32) -> Arc<[f32]> {
        Arc::from(vec![x])
    }

    #[test]
    fn keys_depend_on_fingerprint_and_text() {
        assert_eq!(CacheKey::new("a", "text"), CacheKey::new("a", "text"));
        assert_ne!(CacheKey::new("a", "text"), CacheKey::new("b", "text"));
        assert_ne!(CacheKey::new("a", "text"), CacheKey::new("a", "texts"));
        // The fingerprint's length is hashed, so boundaries cannot shift.
        assert_ne!(CacheKey::new("ab", "c"), CacheKey::new("a", "bc"));
    }

    #[test]
    fn least_recently_used_entries_go_first() {
        let cache = LruCache::new(2);
        let (a, b, c) = (
            CacheKey::new("f", "a"),
            CacheKey::new("f", "b"),
            CacheKey::new("f", "c"),
        );
        cache.put(a, vector(1.0));
        cache.put(b, vector(2.0));
        assert_eq!(cache.get(&a).as_deref(), Some(&[1.0][..]));
        cache.put(c, vector(3.0));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&b).is_none(), "b was least recently used");
        assert!(cache.get(&a).is_some());
        assert!(cache.get(&c).is_some());
        cache.put(a, vector(4.0));
        assert_eq!(cache.get(&a).as_deref(), Some(&[4.0][..]));
        assert_eq!(cache.len(), 2);
    }
}
