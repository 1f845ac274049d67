//! `docProps/core.xml`: the document's title, author and dates as metadata.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::xml::resolve;
use crate::model::Metadata;

/// Metadata keys for the core properties' elements (by local name).
const KEYS: [(&str, &str); 10] = [
    ("title", "title"),
    ("creator", "author"),
    ("lastModifiedBy", "last_modified_by"),
    ("created", "created"),
    ("modified", "modified"),
    ("subject", "subject"),
    ("description", "description"),
    ("keywords", "keywords"),
    ("language", "language"),
    ("category", "category"),
];

/// Reads the core properties; empty values are left out.
pub(super) fn parse(xml: &str) -> Metadata {
    let mut metadata = Metadata::new();
    let mut reader = Reader::from_str(xml);
    let mut current: Option<(&str, String)> = None;
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        match event {
            Event::Start(e) => {
                let name = e.local_name();
                current = KEYS
                    .iter()
                    .find(|(local, _)| *local == name.as_ref())
                    .map(|(_, key)| (*key, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, value)) = current.as_mut() {
                    value.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let (Some((_, value)), Some(c)) = (current.as_mut(), resolve(&r)) {
                    value.push(c);
                }
            }
            Event::End(_) => {
                if let Some((key, value)) = current.take() {
                    let value = value.trim();
                    if !value.is_empty() {
                        metadata.insert(key.to_string(), value.into());
                    }
                }
            }
            _ => {}
        }
    }
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_core_properties() {
        let xml = r#"<cp:coreProperties xmlns:cp="c" xmlns:dc="d" xmlns:dcterms="t"><dc:title>A &amp; B</dc:title><dc:creator>Ann</dc:creator><dc:subject></dc:subject><dcterms:created>2020-01-01T00:00:00Z</dcterms:created></cp:coreProperties>"#;
        let m = parse(xml);
        assert_eq!(m["title"], "A & B");
        assert_eq!(m["author"], "Ann");
        assert_eq!(m["created"], "2020-01-01T00:00:00Z");
        assert!(!m.contains_key("subject"));
    }
}
