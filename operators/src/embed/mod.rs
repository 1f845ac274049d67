//! Embedding: turning texts into vectors.
//!
//! Every provider (local ONNX models, OpenAI-compatible HTTP, the built-in hash embedder)
//! implements [`Embedder`]; chunkers that need similarities (semantic chunking) and the `embed`
//! operator use providers only through it.

pub mod hash;

/// Why texts could not be embedded.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct EmbedError {
    /// What went wrong and what to do.
    pub message: String,
}

impl EmbedError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        EmbedError {
            message: message.into(),
        }
    }
}

/// A text embedding provider.
pub trait Embedder: Send + Sync {
    /// Identifies the provider, its model and every setting that changes vectors; two embedders
    /// with equal fingerprints give equal vectors for equal texts (cache keys use it).
    fn fingerprint(&self) -> String;

    /// Embeds texts to be stored and searched (with the document prefix, if any).
    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;

    /// Embeds one search query (with the query prefix, if any).
    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError>;
}
