//! One index, one vector space: the `embed` steps that feed an `index.hybrid` step must embed
//! alike, or its vectors are not comparable with each other nor with the query.

use std::collections::HashMap;
use std::path::Path;

use operators::embed::EmbedConfig;
use serde_json::{Map, Value};

use super::diagnostic::Diagnostic;
use super::load::{Step, StepOutline};
use super::paths::identity;
use super::yaml::LocatedValue;
use crate::registry::OperatorConfig;

/// Settings of an `embed` step that change no document's vector: the query prefix (told
/// apart, see [`query_prefixes`]), how texts are batched across a call (one ONNX batch size
/// for another; a model's identity leaves it out) and which onnxruntime library runs it.
const NOT_OF_THE_SPACE: [&str; 3] = ["query_prefix", "batch_size", "runtime"];

/// Index steps fed by `embed` steps whose vectors differ (another provider, model, pooling,
/// `dim`, `document_prefix`, `normalize`…): an error naming both steps and the settings that
/// differ; `embed` steps that differ only in `query_prefix` get a warning, since a query is
/// embedded with the first one's.
pub fn check(
    doc: &LocatedValue,
    steps: &[Step],
    outlines: &[StepOutline],
    base: &Path,
) -> Vec<Diagnostic> {
    let by_name: HashMap<&str, &Step> = steps.iter().map(|s| (s.name.as_str(), s)).collect();
    let pointers: HashMap<&str, &str> = (outlines.iter())
        .map(|o| (o.name.as_str(), o.pointer.as_str()))
        .collect();
    let mut diagnostics = Vec::new();
    for step in steps {
        if !matches!(step.config, OperatorConfig::IndexHybrid(_)) {
            continue;
        }
        let embeds: Vec<(&str, &EmbedConfig)> = (step.inputs.iter())
            .filter_map(|input| match &by_name.get(input.as_str())?.config {
                OperatorConfig::Embed(config) => Some((input.as_str(), config)),
                _ => None,
            })
            .collect();
        let pointer = format!("{}/input", pointers.get(step.name.as_str()).unwrap_or(&""));
        let at = doc.key_pos(&pointer);
        let diagnostic = mixed_spaces(&embeds, base)
            .map(|message| Diagnostic::error(at, message.0).with_hint(Some(message.1)))
            .or_else(|| {
                query_prefixes(&embeds)
                    .map(|message| Diagnostic::warning(at, message.0).with_hint(Some(message.1)))
            });
        diagnostics.extend(diagnostic.map(|d| d.in_step(&step.name).at_key("input")));
    }
    diagnostics
}

/// The first `embed` step whose vectors differ from the first one's, as (message, hint).
fn mixed_spaces(embeds: &[(&str, &EmbedConfig)], base: &Path) -> Option<(String, String)> {
    let ((first, config), rest) = embeds.split_first()?;
    let space = vector_settings(config, base);
    rest.iter().find_map(|(other, other_config)| {
        let differ = differences(&space, &vector_settings(other_config, base));
        let (first_differ, _) = differ.first()?;
        let said: Vec<String> = (differ.iter())
            .map(|(key, values)| format!("`{key}` {values}"))
            .collect();
        let keys: Vec<String> = differ.iter().map(|(key, _)| format!("`{key}`")).collect();
        Some((
            format!(
                "`{first}` and `{other}` embed differently ({}): one index holds vectors of one model and settings, and a query, embedded as `{first}` embeds, would rank the chunks of `{other}` by noise",
                said.join(", ")
            ),
            format!(
                "give each `embed` step its own index.hybrid step, or make their {} equal{}",
                keys.join(", "),
                match *first_differ == "provider" {
                    true => " (and so their other settings)",
                    false => "",
                }
            ),
        ))
    })
}

/// `embed` steps of one vector space whose `query_prefix` differs, as (message, hint): a query
/// is embedded with the first step's prefix, so the others' are never used.
fn query_prefixes(embeds: &[(&str, &EmbedConfig)]) -> Option<(String, String)> {
    let ((first, config), rest) = embeds.split_first()?;
    let prefix = query_prefix(config);
    let (other, other_prefix) = rest
        .iter()
        .map(|(other, config)| (other, query_prefix(config)))
        .find(|(_, other_prefix)| *other_prefix != prefix)?;
    Some((
        format!(
            "`{first}` and `{other}` set different `query_prefix` values ({} and {}): a query of this index is embedded with the one of `{first}`, the first input, and the one of `{other}` is never used",
            Value::from(prefix),
            Value::from(other_prefix)
        ),
        "give both `embed` steps the same `query_prefix` (it changes no document's vector, so nothing is embedded again)".to_owned(),
    ))
}

fn query_prefix(config: &EmbedConfig) -> &str {
    match config {
        EmbedConfig::Onnx(onnx) => &onnx.query_prefix,
        EmbedConfig::Http(http) => &http.query_prefix,
        EmbedConfig::Hash(_) => "",
    }
}

/// The settings that shape a document's vector, as written (`shown`) and as compared: an
/// ONNX model's `model` and `file` as the files they name (`./models/m` is `models/m`).
struct VectorSettings {
    shown: Map<String, Value>,
    compared: Map<String, Value>,
}

fn vector_settings(config: &EmbedConfig, base: &Path) -> VectorSettings {
    let Ok(Value::Object(mut shown)) = serde_json::to_value(config.output_settings()) else {
        return VectorSettings {
            shown: Map::new(),
            compared: Map::new(),
        };
    };
    for key in NOT_OF_THE_SPACE {
        shown.remove(key);
    }
    let mut compared = shown.clone();
    if let EmbedConfig::Onnx(onnx) = config {
        let folder = base.join(&onnx.model);
        let file = onnx.file.as_ref().map(|file| folder.join(file));
        for (key, path) in [("model", Some(folder.clone())), ("file", file)] {
            if let Some(path) = path {
                let real = identity(&path).to_string_lossy().into_owned();
                compared.insert(key.to_owned(), Value::from(real));
            }
        }
    }
    VectorSettings { shown, compared }
}

/// The keys whose values differ, with both values as written (`"hash" and "onnx"`), in `a`'s
/// key order then `b`'s; only `provider` when that differs (the other keys are another
/// provider's).
fn differences(a: &VectorSettings, b: &VectorSettings) -> Vec<(String, String)> {
    let both = |key: &str| {
        let shown = |map: &Map<String, Value>| {
            map.get(key)
                .map_or_else(|| "unset".to_owned(), Value::to_string)
        };
        format!("{} and {}", shown(&a.shown), shown(&b.shown))
    };
    if a.compared.get("provider") != b.compared.get("provider") {
        return vec![("provider".to_owned(), both("provider"))];
    }
    let (a, b) = (&a.compared, &b.compared);
    (a.keys().chain(b.keys().filter(|key| !a.contains_key(*key))))
        .filter(|key| a.get(*key) != b.get(*key))
        .map(|key| (key.clone(), both(key)))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::spec::diagnostic::Severity;
    use crate::spec::load::{Purpose, load_str_for};

    /// The diagnostics at the index of two branches embedded by `a` and `b` (their settings
    /// after `provider: `), as (is an error, message, hint).
    fn told(a: &str, b: &str) -> Vec<(bool, String, String)> {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "version: 1\nname: t\nsteps:\n  d1: {{ op: source.files, path: d1 }}\n  d2: {{ op: source.files, path: d2 }}\n  p1: {{ op: parse, input: d1 }}\n  p2: {{ op: parse, input: d2 }}\n  c1: {{ op: chunk.recursive, input: p1, size: 100 }}\n  c2: {{ op: chunk.recursive, input: p2, size: 100 }}\n  e1: {{ op: embed, input: c1, provider: {a} }}\n  e2: {{ op: embed, input: c2, provider: {b} }}\n  i: {{ op: index.hybrid, input: [e1, e2] }}\n"
        );
        let report = match load_str_for(&dir.path().join("p.yaml"), &text, Purpose::Read) {
            Ok((_, report)) | Err(report) => report,
        };
        (report.diagnostics.into_iter())
            .map(|d| {
                assert_eq!((d.line, d.step.as_deref()), (12, Some("i")), "{d:?}");
                let error = d.severity == Severity::Error;
                (error, d.message, d.hint.unwrap_or_default())
            })
            .collect()
    }

    const HTTP: &str = "http, base_url: \"http://127.0.0.1:9/v1\", model: m";

    /// An index fed by two `embed` steps of other models or settings held vectors of two
    /// spaces (a query scored one branch's chunks by noise) and validated; it is refused,
    /// naming both steps and what differs.
    #[test]
    fn embed_steps_that_embed_differently_cannot_share_an_index() {
        let [(true, message, hint)] = &told("hash, dim: 384", "onnx, model: models/bge")[..] else {
            panic!()
        };
        assert!(
            message
                .starts_with("`e1` and `e2` embed differently (`provider` \"hash\" and \"onnx\")"),
            "{message}"
        );
        assert!(hint.contains("its own index.hybrid step") && hint.contains("`provider` equal"));
        let [(true, message, _)] = &told("hash, dim: 64", "hash, dim: 32")[..] else {
            panic!()
        };
        assert!(message.contains("(`dim` 64 and 32)"), "{message}");
        let onnx = "onnx, model: models/bge";
        let [(true, message, hint)] =
            &told(onnx, &format!("{onnx}, pooling: mean, normalize: false"))[..]
        else {
            panic!()
        };
        assert!(
            message.contains("(`pooling` \"cls\" and \"mean\", `normalize` true and false)"),
            "{message}"
        );
        assert!(
            hint.contains("make their `pooling`, `normalize` equal"),
            "{hint}"
        );
        let prefixed = format!("{HTTP}, document_prefix: \"passage: \"");
        let [(true, message, _)] = &told(HTTP, &prefixed)[..] else {
            panic!()
        };
        assert!(
            message.contains("`document_prefix` \"\" and \"passage: \""),
            "{message}"
        );
    }

    /// Two sources embedded alike fill one index, however the steps are tuned (batches,
    /// retries, threads) or the model folder is written.
    #[test]
    fn embed_steps_that_embed_alike_share_an_index() {
        assert_eq!(told("hash, dim: 64", "hash, dim: 64"), []);
        let tuned = format!("{HTTP}, batch_size: 8, retries: 1, timeout: 5, concurrency: 2");
        assert_eq!(told(HTTP, &tuned), []);
        let onnx = "onnx, model: models/bge";
        let tuned = "onnx, model: ./models/bge/, batch_size: 1, threads: 2";
        assert_eq!(told(onnx, tuned), []);
    }

    /// A query is embedded with the first `embed` step's `query_prefix`: another one on the
    /// second is never used, a warning (the vectors are of one space).
    #[test]
    fn a_query_prefix_that_differs_is_a_warning() {
        let [(false, message, hint)] =
            &told(&format!("{HTTP}, query_prefix: \"query: \""), HTTP)[..]
        else {
            panic!()
        };
        assert!(
            message.contains("(\"query: \" and \"\")") && message.contains("the one of `e1`"),
            "{message}"
        );
        assert!(hint.contains("same `query_prefix`"), "{hint}");
    }
}
