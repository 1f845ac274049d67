//! What a parse produced and how long it took, recorded in every parsed document's
//! `debug.stats`.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::model::Element;

/// Element counts by kind, the Markdown's size in characters and the parse time in
/// milliseconds.
pub(super) fn stats(markdown: &str, elements: &[Element], elapsed: Duration) -> Map<String, Value> {
    let mut counts = Map::new();
    for element in elements {
        let count = counts
            .entry(element.kind.name())
            .or_insert_with(|| Value::from(0u64));
        *count = Value::from(count.as_u64().unwrap_or(0) + 1);
    }
    let mut stats = Map::new();
    stats.insert("elements".into(), Value::Object(counts));
    stats.insert("element_total".into(), json!(elements.len()));
    stats.insert("chars".into(), json!(markdown.chars().count()));
    stats.insert(
        "ms".into(),
        json!((elapsed.as_secs_f64() * 1e6).round() / 1e3),
    );
    stats
}
