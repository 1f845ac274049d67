//! Settings a chunking step takes from the `embed` step it feeds, unless it names its own:
//! `unit: tokens` counts with the tokenizer of that step's local model, and `chunk.semantic`
//! compares sentences with that step's provider.

use std::collections::{HashMap, HashSet, VecDeque};

use operators::chunk::Unit;
use operators::embed::EmbedConfig;

use super::diagnostic::Diagnostic;
use super::load::{Step, StepOutline};
use super::yaml::LocatedValue;
use crate::registry::{ItemType, OperatorConfig, OperatorInfo};

/// Fills in the inherited settings of every chunking step, reporting the steps that need one
/// and cannot inherit it.
pub fn fill_in(
    steps: &mut [Step],
    doc: &LocatedValue,
    outlines: &[StepOutline],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let embeds = downstream_embeds(steps);
    let typed: HashSet<String> = steps.iter().map(|step| step.name.clone()).collect();
    let pointers: HashMap<&str, &str> = outlines
        .iter()
        .map(|outline| (outline.name.as_str(), outline.pointer.as_str()))
        .collect();
    let mut readers: HashMap<&str, Vec<&StepOutline>> = HashMap::new();
    for outline in outlines {
        for (input, _) in &outline.inputs {
            readers.entry(input.as_str()).or_default().push(outline);
        }
    }
    for step in steps.iter_mut() {
        let Some(found) = embeds.get(&step.name) else {
            continue;
        };
        let pointer = pointers
            .get(step.name.as_str())
            .copied()
            .unwrap_or_default();
        let problem = |key: &str, message: String, hint: &str| {
            Diagnostic::error(doc.value_pos(&format!("{pointer}/{key}")), message)
                .in_step(&step.name)
                .at_key(key)
                .with_hint(Some(hint.to_owned()))
        };
        if let Some((Unit::Tokens, tokenizer @ None)) = step.config.tokenizer_setting() {
            match inherited_tokenizer(found) {
                Ok(path) => *tokenizer = Some(path),
                // An `embed` step downstream has errors of its own (a missing model, say),
                // reported there: the tokenizer it would give is unknown, not missing.
                Err(_) if feeds_an_embed_with_errors(&step.name, &readers, &typed) => {}
                Err(message) => diagnostics.push(problem(
                    "unit",
                    format!("unit `tokens` needs a tokenizer: {message}"),
                    "set `tokenizer` to a tokenizer.json (paths are relative to the pipeline file)",
                )),
            }
        }
        let size = step.config.chunk_size();
        if let (Some(size), Some((Unit::Tokens, Some(tokenizer)))) =
            (size, step.config.tokenizer_setting())
        {
            let pos = doc.value_pos(&format!("{pointer}/size"));
            for (message, hint) in cut_off_warnings(size, tokenizer, found) {
                diagnostics.push(
                    Diagnostic::warning(pos, message)
                        .in_step(&step.name)
                        .at_key("size")
                        .with_hint(Some(hint)),
                );
            }
        }
        if let OperatorConfig::ChunkSemantic(config) = &mut step.config
            && config.embedding.is_none()
        {
            let hashing = |whose: &str| {
                Diagnostic::warning(
                    doc.value_pos(&format!("{pointer}/op")),
                    format!("`chunk.semantic` compares its sentences with {whose} `hash` provider, which sees shared words, not meaning: most neighbouring sentences share none, so its breakpoints fall almost anywhere or nowhere"),
                )
                .in_step(&step.name)
                .at_key("op")
                .with_hint(Some(
                    "set `embedding` to a model (`{ provider: onnx, model: … }`), or feed the chunks into an `embed` step with one; `embedding: { provider: hash }` keeps this choice without the warning".to_owned(),
                ))
            };
            match found.as_slice() {
                [] => diagnostics.push(hashing("the default")),
                [(name, embed)] => {
                    if matches!(embed, EmbedConfig::Hash(_)) {
                        diagnostics.push(hashing(&format!("the `embed` step `{name}`'s")));
                    }
                    config.embedding = Some(embed.clone());
                }
                several => diagnostics.push(problem(
                    "op",
                    format!(
                        "this step feeds several `embed` steps with different settings ({}), so \
                         it cannot tell which provider compares its sentences",
                        names(several)
                    ),
                    "set `embedding` (same keys as an `embed` step)",
                )),
            }
        }
    }
}

/// Whether step `name` feeds, directly or through steps that pass chunks on, an `embed` step
/// that is not among the `typed` steps because its settings have errors.
fn feeds_an_embed_with_errors(
    name: &str,
    readers: &HashMap<&str, Vec<&StepOutline>>,
    typed: &HashSet<String>,
) -> bool {
    let mut seen = HashSet::from([name]);
    let mut queue = VecDeque::from([name]);
    while let Some(current) = queue.pop_front() {
        for outline in readers.get(current).into_iter().flatten() {
            if !seen.insert(outline.name.as_str()) {
                continue;
            }
            let Some(op) = outline.op else {
                continue;
            };
            if op.name == "embed" && !typed.contains(&outline.name) {
                return true;
            }
            if passes_chunks_on(op) {
                queue.push_back(&outline.name);
            }
        }
    }
    false
}

/// Whether an operator takes chunks and emits chunks, so that a chunking step reaches the
/// `embed` steps after it. Any other step between them is a type error, reported as such.
fn passes_chunks_on(op: &OperatorInfo) -> bool {
    op.accepts.admits(ItemType::Chunks) && op.emits == Some(ItemType::Chunks)
}

/// The tokenizer path of the one local model downstream, or why there is none.
fn inherited_tokenizer(found: &[(String, EmbedConfig)]) -> Result<String, String> {
    match found {
        [] => Err("set `tokenizer`, or feed this step into an `embed` step with \
                   `provider: onnx` to count with its model's tokenizer"
            .to_owned()),
        [(name, embed)] => embed.tokenizer().ok_or_else(|| {
            format!("the `embed` step `{name}` it feeds has no local tokenizer (only `provider: onnx` has one)")
        }),
        several => {
            // Several settings of one model (a `batch_size: 1` branch beside a batched one)
            // count with one tokenizer.
            let tokenizers: Vec<Option<String>> =
                several.iter().map(|(_, embed)| embed.tokenizer()).collect();
            match &tokenizers[0] {
                Some(first) if tokenizers.iter().all(|t| t.as_ref() == Some(first)) => {
                    Ok(first.clone())
                }
                _ => Err(format!(
                    "it feeds several `embed` steps with different models ({})",
                    names(several)
                )),
            }
        }
    }
}

/// Tokens a BERT-style model adds to every text it embeds (`[CLS]` and `[SEP]`), which count
/// against its `max_tokens` beside a chunk's own.
const SPECIAL_TOKENS: usize = 2;

/// A warning for each local model among `found` that counts with `tokenizer` and embeds fewer
/// tokens than the chunks may hold, with the model's special tokens: the rest of a long chunk
/// is cut off before embedding.
fn cut_off_warnings(
    size: usize,
    tokenizer: &str,
    found: &[(String, EmbedConfig)],
) -> Vec<(String, String)> {
    found
        .iter()
        .filter_map(|(name, embed)| match embed {
            EmbedConfig::Onnx(onnx)
                if embed.tokenizer().as_deref() == Some(tokenizer)
                    && size + SPECIAL_TOKENS > onnx.max_tokens =>
            {
                let room = onnx.max_tokens.saturating_sub(SPECIAL_TOKENS);
                Some((
                    format!(
                        "chunks of up to {size} tokens, with the model's {SPECIAL_TOKENS} special tokens, are longer than the {} tokens `{name}` embeds: the rest of a long chunk is cut off before embedding, and vector search never sees it",
                        onnx.max_tokens
                    ),
                    format!(
                        "set `size` to {room} or less, less still with a `document_prefix` or `context_header` (or raise `max_tokens` on `{name}`, if the model takes more)"
                    ),
                ))
            }
            _ => None,
        })
        .collect()
}

fn names(found: &[(String, EmbedConfig)]) -> String {
    found
        .iter()
        .map(|(name, _)| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// For every chunking step, the distinct settings of the `embed` steps it feeds (directly or
/// through steps that pass chunks on), each with the name of the first step that has them.
fn downstream_embeds(steps: &[Step]) -> HashMap<String, Vec<(String, EmbedConfig)>> {
    let mut consumers: HashMap<&str, Vec<&Step>> = HashMap::new();
    for step in steps {
        for input in &step.inputs {
            consumers.entry(input.as_str()).or_default().push(step);
        }
    }
    let mut result = HashMap::new();
    for start in steps {
        if !start.config.info().name.starts_with("chunk.") {
            continue;
        }
        let mut found: Vec<(String, EmbedConfig)> = Vec::new();
        let mut seen = HashSet::from([start.name.as_str()]);
        let mut queue = VecDeque::from([start.name.as_str()]);
        while let Some(name) = queue.pop_front() {
            for consumer in consumers.get(name).into_iter().flatten() {
                if !seen.insert(consumer.name.as_str()) {
                    continue;
                }
                if let OperatorConfig::Embed(config) = &consumer.config {
                    if !found.iter().any(|(_, known)| known == config) {
                        found.push((consumer.name.clone(), config.clone()));
                    }
                } else if passes_chunks_on(consumer.config.info()) {
                    queue.push_back(&consumer.name);
                }
            }
        }
        result.insert(start.name.clone(), found);
    }
    result
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::spec::load::{Pipeline, load_str};

    /// A pipeline in `dir`: docs → parse → `chunk` (with `chunk_settings`), then `rest`.
    fn load(dir: &Path, chunk_settings: &str, rest: &str) -> Result<Pipeline, String> {
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        let text = format!(
            "version: 1\nname: t\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: {chunk_settings}, input: parse }}\n{rest}"
        );
        let file = dir.join("p.yaml");
        load_str(&file, &text)
            .map(|(pipeline, _)| pipeline)
            .map_err(|report| report.to_string())
    }

    /// A model folder with a tokenizer and an (empty) ONNX file, as the embed step checks.
    fn model(dir: &Path, name: &str) {
        let model = dir.join(name);
        std::fs::create_dir_all(&model).unwrap();
        std::fs::write(model.join("model.onnx"), b"").unwrap();
        std::fs::write(model.join("tokenizer.json"), b"{}").unwrap();
    }

    fn chunk(pipeline: &Pipeline) -> &OperatorConfig {
        &pipeline
            .steps
            .iter()
            .find(|s| s.name == "chunk")
            .unwrap()
            .config
    }

    #[test]
    fn token_chunking_uses_the_tokenizer_of_the_model_it_feeds() {
        let dir = tempfile::tempdir().unwrap();
        model(dir.path(), "m");
        let pipeline = load(
            dir.path(),
            "chunk.recursive, size: 100, unit: tokens",
            "  embed: { op: embed, input: chunk, provider: onnx, model: m, runtime: m/model.onnx }\n",
        );
        let mut config = chunk(&pipeline.unwrap()).clone();
        let (_, tokenizer) = config.tokenizer_setting().unwrap();
        assert_eq!(tokenizer.as_deref(), Some("m/tokenizer.json"));
    }

    /// Two `embed` steps of one model with other settings (a `batch_size: 1` branch beside a
    /// batched one) give one tokenizer to count with.
    #[test]
    fn embed_steps_of_one_model_give_their_tokenizer() {
        let dir = tempfile::tempdir().unwrap();
        model(dir.path(), "m");
        let pipeline = load(
            dir.path(),
            "chunk.recursive, size: 100, unit: tokens",
            "  one: { op: embed, input: chunk, provider: onnx, model: m, runtime: m/model.onnx, batch_size: 1 }\n  \
             many: { op: embed, input: chunk, provider: onnx, model: m, runtime: m/model.onnx, batch_size: 16 }\n",
        );
        let mut config = chunk(&pipeline.unwrap()).clone();
        let (_, tokenizer) = config.tokenizer_setting().unwrap();
        assert_eq!(tokenizer.as_deref(), Some("m/tokenizer.json"));
    }

    /// Chunks counted in a model's tokens but larger than it embeds are cut off before
    /// embedding: `validate` warns at `size`, with the number to set.
    #[test]
    fn chunks_larger_than_the_model_embeds_are_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        model(dir.path(), "m");
        let warnings = |size: usize| {
            std::fs::create_dir_all(dir.path().join("docs")).unwrap();
            let text = format!(
                "version: 1\nname: t\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.recursive, input: parse, size: {size}, unit: tokens }}\n  embed: {{ op: embed, input: chunk, provider: onnx, model: m, runtime: m/model.onnx }}\n  index: {{ op: index.hybrid, input: embed }}\n"
            );
            let (_, report) = load_str(&dir.path().join("p.yaml"), &text).unwrap();
            report.to_string()
        };
        let report = warnings(512);
        assert!(
            report.contains(
                "chunks of up to 512 tokens, with the model's 2 special tokens, are longer than the 512 tokens `embed` embeds"
            ) && report.contains("set `size` to 510 or less"),
            "{report}"
        );
        assert!(!warnings(510).contains("longer than"));
    }

    #[test]
    fn token_chunking_without_a_model_to_follow_names_the_key_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let report = load(
            dir.path(),
            "chunk.recursive, size: 100, unit: tokens",
            "  out: { op: sink.jsonl, input: chunk, path: out.jsonl }\n",
        )
        .unwrap_err();
        assert!(
            report.contains("unit `tokens` needs a tokenizer"),
            "{report}"
        );
        assert!(report.contains("set `tokenizer`"), "{report}");
        assert!(report.contains("unit"), "{report}");
        let report = load(
            dir.path(),
            "chunk.recursive, size: 100, unit: tokens",
            "  embed: { op: embed, input: chunk, provider: hash }\n",
        )
        .unwrap_err();
        assert!(report.contains("no local tokenizer"), "{report}");
    }

    /// An `embed` step with errors of its own (here, no onnxruntime beside the model) is
    /// reported once, there: not also as a missing tokenizer on the chunking step it follows.
    #[test]
    fn an_embed_step_with_errors_is_reported_there_only() {
        let dir = tempfile::tempdir().unwrap();
        model(dir.path(), "m");
        let report = load(
            dir.path(),
            "chunk.recursive, size: 100, unit: tokens",
            "  embed: { op: embed, input: chunk, provider: onnx, model: m, runtime: m/missing.so }\n",
        )
        .unwrap_err();
        assert!(report.contains("onnxruntime library"), "{report}");
        assert!(!report.contains("needs a tokenizer"), "{report}");
    }

    /// `chunk.semantic` left with the default `hash` provider (no `embedding`, no `embed`
    /// step to follow) is a warning; naming `hash` is a choice, and no warning.
    #[test]
    fn semantic_chunking_by_default_hashes_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let warned = |settings: &str| {
            std::fs::create_dir_all(dir.path().join("docs")).unwrap();
            let text = format!(
                "version: 1\nname: t\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs }}\n  chunk: {{ op: chunk.semantic, input: parse, size: 100{settings} }}\n  out: {{ op: sink.jsonl, input: chunk, path: out.jsonl }}\n"
            );
            let (_, report) = load_str(&dir.path().join("p.yaml"), &text).unwrap();
            report.to_string().contains("default `hash` provider")
        };
        assert!(warned(""));
        assert!(!warned(", embedding: { provider: hash }"));
        // Taking `hash` from the embed step it feeds is no better, and said too.
        let (_, report) = load_str(
            &dir.path().join("p.yaml"),
            "version: 1\nname: t\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.semantic, input: parse, size: 100 }\n  embed: { op: embed, input: chunk, provider: hash }\n  index: { op: index.hybrid, input: embed }\n",
        )
        .unwrap();
        let report = report.to_string();
        assert!(
            report.contains("with the `embed` step `embed`'s `hash` provider"),
            "{report}"
        );
        // Its own `embedding: { provider: hash }` is a choice, even with an embed step.
        let (_, report) = load_str(
            &dir.path().join("p.yaml"),
            "version: 1\nname: t\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  chunk: { op: chunk.semantic, input: parse, size: 100, embedding: { provider: hash } }\n  embed: { op: embed, input: chunk, provider: hash }\n  index: { op: index.hybrid, input: embed }\n",
        )
        .unwrap();
        assert!(!report.to_string().contains("`hash` provider"), "{report}");
    }

    #[test]
    fn semantic_chunking_compares_sentences_with_the_provider_it_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let pipeline = load(
            dir.path(),
            "chunk.semantic, size: 100",
            "  embed: { op: embed, input: chunk, provider: hash, dim: 32 }\n",
        )
        .unwrap();
        let OperatorConfig::ChunkSemantic(config) = chunk(&pipeline) else {
            panic!("not semantic");
        };
        assert!(matches!(&config.embedding, Some(EmbedConfig::Hash(h)) if h.dim == 32));
        // Its own setting wins; two different providers downstream are ambiguous.
        let pipeline = load(
            dir.path(),
            "chunk.semantic, size: 100, embedding: { provider: hash, dim: 16 }",
            "  embed: { op: embed, input: chunk, provider: hash, dim: 32 }\n",
        )
        .unwrap();
        let OperatorConfig::ChunkSemantic(config) = chunk(&pipeline) else {
            panic!("not semantic");
        };
        assert!(matches!(&config.embedding, Some(EmbedConfig::Hash(h)) if h.dim == 16));
        let report = load(
            dir.path(),
            "chunk.semantic, size: 100",
            "  a: { op: embed, input: chunk, provider: hash, dim: 32 }\n  b: { op: embed, input: chunk, provider: hash, dim: 64 }\n",
        )
        .unwrap_err();
        assert!(report.contains("several `embed` steps"), "{report}");
    }
}
