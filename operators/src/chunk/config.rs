//! Settings of the chunking operators. Every operator shares the keys of [`Settings`]
//! (`size`, `overlap`, `unit`, `tokenizer`, `min_size`, `tables`, `context_header`) and adds
//! its own; the structs are spelled out (through a macro) rather than flattened, because serde
//! cannot combine `flatten` with `deny_unknown_fields`.

use crate::embed::EmbedConfig;

/// The unit chunk sizes are measured in.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Unicode scalar values.
    #[default]
    Chars,
    /// Whitespace-separated words.
    Words,
    /// Model tokens, counted with the `tokenizer` (a Hugging Face tokenizer.json).
    Tokens,
}

impl Unit {
    /// The lowercase name used in YAML and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Chars => "chars",
            Unit::Words => "words",
            Unit::Tokens => "tokens",
        }
    }
}

/// What happens to tables.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tables {
    /// Each table is a chunk of its own; a table larger than `size` is split between rows, and
    /// every part after the first gets the header row repeated in its `embed_text`.
    #[default]
    OwnChunk,
    /// Tables are chunked like any other text.
    Inline,
}

/// The settings every chunking operator shares, as the chunker uses them.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Largest chunk, in `unit`s.
    pub size: usize,
    /// Units the next chunk repeats from the end of the previous one.
    pub overlap: usize,
    /// What sizes count.
    pub unit: Unit,
    /// Path of the tokenizer.json (relative to the pipeline file) for `unit: tokens`.
    pub tokenizer: Option<String>,
    /// Chunks smaller than this merge with a neighbour when the result fits in `size`.
    pub min_size: usize,
    /// What happens to tables.
    pub tables: Tables,
    /// Whether `embed_text` starts with the document title and section path.
    pub context_header: bool,
}

impl Settings {
    /// Settings of `size` chars and nothing else.
    pub fn chars(size: usize) -> Self {
        Settings {
            size,
            overlap: 0,
            unit: Unit::Chars,
            tokenizer: None,
            min_size: 0,
            tables: Tables::OwnChunk,
            context_header: false,
        }
    }

    /// These settings with `room` units of `size` kept for something put before each chunk's
    /// text (its context header): chunks are cut to the rest, overlap and `min_size` within it.
    pub(super) fn less(&self, room: usize) -> Settings {
        let size = self.size.saturating_sub(room).max(1);
        Settings {
            size,
            overlap: self.overlap.min(size - 1),
            min_size: self.min_size.min(size),
            ..self.clone()
        }
    }

    /// Problems with the settings as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.size == 0 {
            problems.push(("size", "size must be at least 1".to_string()));
        }
        if self.size > 0 && self.overlap >= self.size {
            problems.push((
                "overlap",
                format!(
                    "overlap ({}) must be smaller than size ({})",
                    self.overlap, self.size
                ),
            ));
        }
        if self.min_size > self.size {
            problems.push((
                "min_size",
                format!(
                    "min_size ({}) must not exceed size ({})",
                    self.min_size, self.size
                ),
            ));
        }
        // `unit: tokens` without `tokenizer` is for the pipeline to settle: it takes the
        // tokenizer of the model the step feeds.
        if self.unit != Unit::Tokens && self.tokenizer.is_some() {
            problems.push((
                "tokenizer",
                format!(
                    "`tokenizer` is only used with `unit: tokens` (unit is {})",
                    self.unit.name()
                ),
            ));
        }
        problems
    }
}

macro_rules! chunk_config {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
        )]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Largest chunk, in `unit`s. Only a single char worth more than `size` tokens can
            /// exceed it (reported as oversized in the debug record).
            #[schemars(range(min = 1))]
            pub size: usize,
            /// How much of the previous chunk's end the next chunk repeats, in `unit`s (less
            /// than `size`); never cuts a word. Applies where text is split by size, not across
            /// section, page or table boundaries.
            #[serde(default)]
            pub overlap: usize,
            /// What `size`, `overlap` and `min_size` count.
            #[serde(default)]
            pub unit: Unit,
            /// Path of a Hugging Face tokenizer.json, relative to the pipeline file, for
            /// `unit: tokens`; by default the `tokenizer.json` of the `onnx` model of the
            /// `embed` step the chunks go to.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub tokenizer: Option<String>,
            /// Chunks smaller than this (in `unit`s) merge with a neighbour when the result
            /// still fits in `size`; tables never merge. 0 turns merging off.
            #[serde(default)]
            pub min_size: usize,
            /// Whether tables become chunks of their own (`own_chunk`) or are chunked like
            /// text (`inline`).
            #[serde(default)]
            pub tables: Tables,
            /// Start each chunk's `embed_text` with the document title and section path
            /// (`text`, shown to users, stays `markdown[span]`).
            #[serde(default)]
            pub context_header: bool,
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $name {
            /// The shared settings.
            pub fn settings(&self) -> Settings {
                Settings {
                    size: self.size,
                    overlap: self.overlap,
                    unit: self.unit,
                    tokenizer: self.tokenizer.clone(),
                    min_size: self.min_size,
                    tables: self.tables,
                    context_header: self.context_header,
                }
            }
        }
    };
}

chunk_config! {
    /// Settings of `chunk.recursive`.
    RecursiveConfig {}
}

chunk_config! {
    /// Settings of `chunk.by_heading`.
    ByHeadingConfig {
        /// Headings of this level and above (1 = `#`) start a new chunk; deeper headings stay
        /// inside their section's chunk.
        #[serde(default = "default_level")]
        #[schemars(range(min = 1, max = 6))]
        level: u8,
    }
}

chunk_config! {
    /// Settings of `chunk.by_page`.
    ByPageConfig {}
}

chunk_config! {
    /// Settings of `chunk.semantic`.
    SemanticConfig {
        /// Split where the distance between adjacent sentences is above this percentile of
        /// all the document's adjacent-sentence distances (higher: fewer, larger chunks).
        #[serde(default = "default_percentile")]
        #[schemars(range(min = 0, max = 100))]
        breakpoint_percentile: f64,
        /// The embedding provider that compares sentences, with the keys of the `embed` step
        /// (`provider: onnx | http | hash`, …). Default: the provider of the `embed` step this
        /// step feeds, else the built-in `hash` embedder.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        embedding: Option<EmbedConfig>,
    }
}

chunk_config! {
    /// Settings of `chunk.smart`.
    SmartConfig {}
}

fn default_level() -> u8 {
    2
}

fn default_percentile() -> f64 {
    95.0
}

impl ByHeadingConfig {
    /// Problems with the settings as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = self.settings().problems();
        if !(1..=6).contains(&self.level) {
            problems.push(("level", "level must be between 1 and 6".to_string()));
        }
        problems
    }
}

impl SemanticConfig {
    /// Problems with the settings as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = self.settings().problems();
        if !(0.0..=100.0).contains(&self.breakpoint_percentile) {
            problems.push((
                "breakpoint_percentile",
                "breakpoint_percentile must be between 0 and 100".to_string(),
            ));
        }
        if let Some(EmbedConfig::Hash(hash)) = &self.embedding {
            for (_, message) in hash.problems() {
                problems.push(("embedding", message));
            }
        }
        problems
    }
}

impl RecursiveConfig {
    /// Problems with the settings as (key, message) pairs, e.g. ("overlap", "overlap (300) must
    /// be smaller than size (200)"); size 0 is one too.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        self.settings().problems()
    }
}

impl ByPageConfig {
    /// Problems with the settings as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        self.settings().problems()
    }
}

impl SmartConfig {
    /// Problems with the settings as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        self.settings().problems()
    }
}
