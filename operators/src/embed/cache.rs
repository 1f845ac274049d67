//! The vector cache: identical texts are embedded once per provider.
//!
//! Keys hash the provider's fingerprint with the exact text sent to it, so two steps (or two
//! runs) with the same model and settings share entries and a change of model never reads a
//! stale vector. [`VectorCache`] is the seam for a disk-backed store; [`LruCache`] keeps a
//! bounded number of entries in memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::{EmbedError, Embedder};

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

    /// The key of one whole call: `texts`, together and in order, embedded by the provider
    /// whose cache scope is `scope`. It never equals a key of one text ([`CacheKey::new`]).
    pub fn of_call(scope: &str, texts: &[&str]) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(scope.len() as u64).to_le_bytes());
        hasher.update(scope.as_bytes());
        hasher.update(b"\0call");
        hasher.update(&(texts.len() as u64).to_le_bytes());
        for text in texts {
            hasher.update(&(text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
        CacheKey(*hasher.finalize().as_bytes())
    }

    /// The key's bytes (for stores that persist it).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// An embedder whose calls are cached whole: the vectors of one call's texts are kept under the
/// key of all of them ([`CacheKey::of_call`]), so the same call again gets exactly the vectors
/// the provider gave, even from a model whose int8 activations are scaled over each batch (a
/// text keyed alone could get vectors computed in other company). `chunk.semantic` embeds its
/// sentences through it, so a changed breakpoint does not embed a document's sentences again.
pub struct CallCache {
    inner: Arc<dyn Embedder>,
    cache: Arc<dyn VectorCache>,
}

impl CallCache {
    /// `inner` with its calls kept in `cache`.
    pub fn wrap(inner: Arc<dyn Embedder>, cache: Arc<dyn VectorCache>) -> Arc<dyn Embedder> {
        Arc::new(CallCache { inner, cache })
    }
}

impl Embedder for CallCache {
    fn fingerprint(&self) -> String {
        self.inner.fingerprint()
    }

    fn cache_scope(&self) -> String {
        self.inner.cache_scope()
    }

    fn legacy_fingerprint(&self) -> Option<String> {
        self.inner.legacy_fingerprint()
    }

    fn legacy_cache_scope(&self) -> Option<String> {
        self.inner.legacy_cache_scope()
    }

    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return self.inner.embed_documents(texts);
        }
        let key = CacheKey::of_call(&self.inner.cache_scope(), texts);
        // A call kept under the legacy scope is kept under the current one too.
        let legacy = || {
            let scope = self.inner.legacy_cache_scope()?;
            let all = self.cache.get(&CacheKey::of_call(&scope, texts))?;
            self.cache.put(key, all.clone());
            Some(all)
        };
        if let Some(all) = self.cache.get(&key).or_else(legacy)
            && all.len() % texts.len() == 0
        {
            let dim = all.len() / texts.len();
            return Ok(all.chunks(dim.max(1)).map(<[f32]>::to_vec).collect());
        }
        let vectors = self.inner.embed_documents(texts)?;
        // Kept as one array: only vectors of one length can be cut apart again.
        let dim = vectors.first().map_or(0, Vec::len);
        if dim > 0 && vectors.len() == texts.len() && vectors.iter().all(|v| v.len() == dim) {
            self.cache.put(key, Arc::from(vectors.concat()));
        }
        Ok(vectors)
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        self.inner.embed_query(text)
    }
}

/// Where computed vectors are kept; shared by every worker of a step.
pub trait VectorCache: Send + Sync {
    /// The vector stored under `key`, if any.
    fn get(&self, key: &CacheKey) -> Option<Arc<[f32]>>;
    /// Stores `vector` under `key`.
    fn put(&self, key: CacheKey, vector: Arc<[f32]>);

    /// Whether it keeps vectors at all ([`NoCache`] does not; a layer on disk then keeps none
    /// either).
    fn keeps_vectors(&self) -> bool {
        true
    }

    /// The length of the vectors of the provider whose fingerprint is `fingerprint`: the first
    /// [`VectorCache::settle_vector_size`] recorded; `None` while unknown.
    fn vector_size(&self, fingerprint: &str) -> Option<usize> {
        let _ = fingerprint;
        None
    }

    /// Records `size` as the length of `fingerprint`'s vectors unless one is recorded already;
    /// returns the length recorded. Replies of another length are then refused, not cached.
    fn settle_vector_size(&self, fingerprint: &str, size: usize) -> usize {
        let _ = fingerprint;
        size
    }
}

/// A cache that keeps nothing (`cache_entries: 0`).
#[derive(Debug, Default)]
pub struct NoCache;

impl VectorCache for NoCache {
    fn get(&self, _key: &CacheKey) -> Option<Arc<[f32]>> {
        None
    }

    fn put(&self, _key: CacheKey, _vector: Arc<[f32]>) {}

    fn keeps_vectors(&self) -> bool {
        false
    }
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
    /// The length of each provider's vectors, by fingerprint.
    sizes: HashMap<String, usize>,
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

    fn vector_size(&self, fingerprint: &str) -> Option<usize> {
        self.lock().sizes.get(fingerprint).copied()
    }

    fn settle_vector_size(&self, fingerprint: &str, size: usize) -> usize {
        *self
            .lock()
            .sizes
            .entry(fingerprint.to_owned())
            .or_insert(size)
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

    /// Counts its calls; vector i of a call is `[i, length of text i]`, so a vector that comes
    /// back from the cache shows which call made it.
    struct Counting(std::sync::atomic::AtomicUsize);

    impl Embedder for Counting {
        fn fingerprint(&self) -> String {
            "counting".to_owned()
        }

        fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(texts
                .iter()
                .enumerate()
                .map(|(i, t)| vec![i as f32, t.len() as f32])
                .collect())
        }

        fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
            Ok(vec![0.0, text.len() as f32])
        }
    }

    #[test]
    fn a_call_again_gets_the_vectors_of_that_call_and_no_other() {
        let inner = Arc::new(Counting(Default::default()));
        let cached = CallCache::wrap(inner.clone(), Arc::new(LruCache::new(8)));
        let first = cached.embed_documents(&["a", "bb", "ccc"]).unwrap();
        let again = cached.embed_documents(&["a", "bb", "ccc"]).unwrap();
        assert_eq!(first, again);
        assert_eq!(inner.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Other company, another order or a text split differently: another call.
        assert_eq!(
            cached.embed_documents(&["bb", "a", "ccc"]).unwrap()[1],
            vec![1.0, 1.0]
        );
        cached.embed_documents(&["a", "bbccc"]).unwrap();
        cached.embed_documents(&["ab", "bccc"]).unwrap();
        assert_eq!(inner.0.load(std::sync::atomic::Ordering::SeqCst), 4);
        assert_ne!(CacheKey::of_call("f", &["a"]), CacheKey::new("f", "a"));
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
