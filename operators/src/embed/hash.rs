//! The built-in model-free embedding provider: signed feature hashing.
//!
//! A text's features are its lowercased words (maximal runs of alphanumeric chars) and the
//! pairs of adjacent words. Each feature is hashed with a fixed 64-bit hash (FNV-1a, then the
//! splitmix64 finaliser; never std's randomised hasher), which picks a dimension (`hash % dim`)
//! and a sign (the top bit); the vector of signed counts is L2-normalised. The same text gives
//! the same vector on every machine and run. It knows nothing of meaning, only of shared
//! words, which is what semantic chunking needs to see topic shifts without a model.

use super::{EmbedError, Embedder};

/// Settings of the hash provider (`provider: hash`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HashConfig {
    /// Dimensions of the vectors.
    #[serde(default = "default_dim")]
    #[schemars(range(min = 1, max = 65536))]
    pub dim: usize,
}

fn default_dim() -> usize {
    256
}

impl Default for HashConfig {
    fn default() -> Self {
        HashConfig { dim: default_dim() }
    }
}

impl HashConfig {
    /// Problems with the settings as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        if self.dim == 0 {
            vec![("dim", "dim must be at least 1".to_owned())]
        } else {
            Vec::new()
        }
    }
}

/// Embeds texts by signed feature hashing of word unigrams and bigrams.
#[derive(Debug, Clone)]
pub struct HashEmbedder {
    dim: usize,
}

impl HashEmbedder {
    /// An embedder with `dim` dimensions (at least 1).
    pub fn new(dim: usize) -> Self {
        HashEmbedder { dim: dim.max(1) }
    }

    /// The embedder the settings describe.
    pub fn from_config(config: &HashConfig) -> Self {
        HashEmbedder::new(config.dim)
    }

    /// The vector of one text: its words found in its NFKC form, lower-cased, so that a text
    /// composed or decomposed (`café`, `cafe\u{301}`), or in full-width letters, embeds alike.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        use unicode_normalization::UnicodeNormalization;
        let mut vector = vec![0f32; self.dim];
        let lower = match text.is_ascii() {
            true => text.to_lowercase(),
            false => text.nfkc().collect::<String>().to_lowercase(),
        };
        let mut previous: Option<&str> = None;
        for word in lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            self.add(&mut vector, fnv1a(FNV_OFFSET, word.as_bytes()));
            if let Some(prev) = previous {
                let h = fnv1a(fnv1a(FNV_OFFSET, prev.as_bytes()), b" ");
                self.add(&mut vector, fnv1a(h, word.as_bytes()));
            }
            previous = Some(word);
        }
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            vector.iter_mut().for_each(|x| *x /= norm);
        }
        vector
    }

    fn add(&self, vector: &mut [f32], hash: u64) {
        let mixed = splitmix64(hash);
        let index = (mixed % self.dim as u64) as usize;
        let sign = if mixed >> 63 == 1 { -1.0 } else { 1.0 };
        if let Some(slot) = vector.get_mut(index) {
            *slot += sign;
        }
    }
}

impl Embedder for HashEmbedder {
    fn fingerprint(&self) -> String {
        format!("hash:v2:dim={}", self.dim)
    }

    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|text| self.embed(text)).collect())
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Ok(self.embed(text))
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over `bytes`, continuing from `state`.
fn fnv1a(mut state: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        state ^= u64::from(b);
        state = state.wrapping_mul(FNV_PRIME);
    }
    state
}

/// The splitmix64 finaliser: spreads FNV's weak low bits over the whole word.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn deterministic_normalised_and_sized() {
        let e = HashEmbedder::new(256);
        let v = e.embed("The quick brown fox jumps over the lazy dog.");
        assert_eq!(v.len(), 256);
        assert_eq!(v, e.embed("The quick brown fox jumps over the lazy dog."));
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        // Fixed hash: the same vector on every run and machine.
        let nonzero: Vec<usize> = e
            .embed("hello world")
            .iter()
            .enumerate()
            .filter(|(_, x)| **x != 0.0)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(nonzero.len(), 3, "two unigrams and one bigram");
        assert_eq!(e.embed(""), vec![0.0; 256]);
        assert_eq!(e.embed("  ,.; "), vec![0.0; 256]);
        assert_eq!(HashEmbedder::new(0).embed("x").len(), 1);
    }

    #[test]
    fn case_and_punctuation_do_not_matter_but_words_do() {
        let e = HashEmbedder::new(256);
        let a = e.embed("Rust ownership and borrowing rules");
        let b = e.embed("rust OWNERSHIP, and borrowing... rules!");
        assert!((cosine(&a, &b) - 1.0).abs() < 1e-5);
        let related = e.embed("borrowing rules in rust ownership");
        let unrelated = e.embed("a recipe for tomato soup with basil");
        assert!(cosine(&a, &related) > 0.5);
        assert!(cosine(&a, &unrelated) < cosine(&a, &related));
    }

    /// A text composed or decomposed, or in full-width letters, embeds alike: the vector
    /// search finds what BM25 finds.
    #[test]
    fn normalisation_forms_embed_alike() {
        let e = HashEmbedder::new(256);
        let same =
            |a: &str, b: &str| assert!((cosine(&e.embed(a), &e.embed(b)) - 1.0).abs() < 1e-5);
        same("Crème brûlée", "Cre\u{300}me bru\u{302}le\u{301}e");
        same("Αθήνα", "Αθη\u{301}να");
        same("ＡＢＣ１２３", "abc123");
    }

    #[test]
    fn embedder_trait() {
        let e = HashEmbedder::from_config(&HashConfig::default());
        assert_eq!(e.fingerprint(), "hash:v2:dim=256");
        let docs = e.embed_documents(&["a b", "c"]).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(e.embed_query("a b").unwrap(), docs[0]);
        assert!(HashConfig { dim: 0 }.problems()[0].0 == "dim");
        let c: HashConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c.dim, 256);
        assert!(serde_json::from_str::<HashConfig>(r#"{"dims": 3}"#).is_err());
    }
}
