//! The embedding cache on disk: every vector an `embed` step computed, in the store, under the
//! key of its provider and text, so a text embedded once is never embedded again: not when its
//! document is renamed, copied or moved within a JSONL file, not in a later run.

use std::sync::Arc;

use operators::embed::cache::{CacheKey, VectorCache};

use crate::store::Store;

/// An in-memory cache in front of the store's vectors.
pub struct StoredVectors {
    memory: Arc<dyn VectorCache>,
    store: Arc<Store>,
}

impl StoredVectors {
    /// `memory` in front of `store`, as a cache.
    pub fn cache(memory: Arc<dyn VectorCache>, store: Arc<Store>) -> Arc<dyn VectorCache> {
        Arc::new(StoredVectors { memory, store })
    }
}

impl VectorCache for StoredVectors {
    fn get(&self, key: &CacheKey) -> Option<Arc<[f32]>> {
        if !self.memory.keeps_vectors() {
            return None;
        }
        if let Some(vector) = self.memory.get(key) {
            return Some(vector);
        }
        let vector: Arc<[f32]> = Arc::from(self.store.vector(key.as_bytes())?);
        self.memory.put(*key, vector.clone());
        Some(vector)
    }

    fn put(&self, key: CacheKey, vector: Arc<[f32]>) {
        if !self.memory.keeps_vectors() {
            return;
        }
        // A vector that cannot be written is computed again next time; nothing else depends on it.
        let _ = self.store.put_vector(key.as_bytes(), &vector);
        self.memory.put(key, vector);
    }

    fn keeps_vectors(&self) -> bool {
        self.memory.keeps_vectors()
    }

    fn vector_size(&self, fingerprint: &str) -> Option<usize> {
        self.memory
            .vector_size(fingerprint)
            .or_else(|| self.store.vector_size(fingerprint))
    }

    fn settle_vector_size(&self, fingerprint: &str, size: usize) -> usize {
        // The store's record wins: it outlives this process. One that cannot be written is
        // learnt again next run.
        let settled = match self.store.vector_size(fingerprint) {
            Some(stored) => stored,
            None => {
                let _ = self.store.put_vector_size(fingerprint, size);
                size
            }
        };
        self.memory.settle_vector_size(fingerprint, settled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use operators::embed::cache::LruCache;

    #[test]
    fn vectors_outlive_the_process_that_computed_them() {
        let dir = tempfile::tempdir().unwrap();
        let key = CacheKey::new("provider", "a text");
        {
            let store = Arc::new(Store::open(dir.path()).unwrap());
            let cache = StoredVectors::cache(Arc::new(LruCache::new(4)), store);
            cache.put(key, Arc::from(vec![0.5f32, -1.0]));
        }
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let cache = StoredVectors::cache(Arc::new(LruCache::new(4)), store.clone());
        assert_eq!(cache.get(&key).as_deref(), Some(&[0.5f32, -1.0][..]));
        assert!(
            cache
                .get(&CacheKey::new("other provider", "a text"))
                .is_none()
        );
        assert_eq!(store.retain_vectors(|_| true).unwrap().0, 0);
        assert_eq!(store.retain_vectors(|k| k != key.as_bytes()).unwrap().0, 1);
        let cache = StoredVectors::cache(Arc::new(LruCache::new(4)), store);
        assert!(cache.get(&key).is_none(), "cleared");
    }

    /// The size of a provider's vectors outlives the process that learnt it, and the first
    /// recorded wins; with no cache (`cache_entries: 0`) the size is kept all the same, and no
    /// vector.
    #[test]
    fn the_size_of_a_providers_vectors_is_kept_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Arc::new(Store::open(dir.path()).unwrap());
            let cache = StoredVectors::cache(Arc::new(operators::embed::cache::NoCache), store);
            assert_eq!(cache.settle_vector_size("provider", 8), 8);
            cache.put(CacheKey::new("provider", "t"), Arc::from(vec![1.0f32; 8]));
        }
        let store = Arc::new(Store::open(dir.path()).unwrap());
        assert!(
            store
                .vector(CacheKey::new("provider", "t").as_bytes())
                .is_none()
        );
        let cache = StoredVectors::cache(Arc::new(LruCache::new(4)), store);
        assert_eq!(cache.vector_size("provider"), Some(8));
        assert_eq!(
            cache.settle_vector_size("provider", 16),
            8,
            "the first wins"
        );
        assert_eq!(cache.vector_size("other"), None);
    }
}
