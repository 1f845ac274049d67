//! What a parse produced, recorded in every parsed document's `debug.stats`. How long it took
//! is not: an output depends on its input alone (`engine inspect` tells the time).

use serde_json::{Map, Value, json};

use crate::model::Element;

/// Element counts by kind and the Markdown's size in characters.
pub(super) fn stats(markdown: &str, elements: &[Element]) -> Map<String, Value> {
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
    stats
}
