//! Where a package keeps its parts: the main document is the target of the package's
//! `officeDocument` relationship (`_rels/.rels`), and its styles, numbering and notes are the
//! targets of the main part's own relationships. Packages without relationships, or with
//! relationships that name no part, fall back to the usual names (`word/document.xml`, …).

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::archive::Archive;
use super::xml::{attr, local};
use crate::parse::ParseError;

/// The main document's usual part name.
pub(super) const USUAL_MAIN: &str = "word/document.xml";

/// The part names a document is read from.
#[derive(Debug, PartialEq)]
pub(super) struct Parts {
    pub main: String,
    pub styles: String,
    pub numbering: String,
    pub footnotes: String,
    pub endnotes: String,
    pub core: String,
    /// Imported content of the main part (`w:altChunk`): part names by relationship id.
    pub imports: HashMap<String, String>,
}

impl Parts {
    /// The usual part names of a Word document.
    pub(super) fn usual() -> Self {
        Parts {
            main: USUAL_MAIN.into(),
            styles: "word/styles.xml".into(),
            numbering: "word/numbering.xml".into(),
            footnotes: "word/footnotes.xml".into(),
            endnotes: "word/endnotes.xml".into(),
            core: "docProps/core.xml".into(),
            imports: HashMap::new(),
        }
    }

    /// Finds the parts through the package's relationships.
    pub(super) fn find(archive: &mut Archive<'_>) -> Result<Self, ParseError> {
        let package = match archive.read("_rels/.rels")? {
            Some(xml) => relationships(&xml, ""),
            None => Vec::new(),
        };
        let target = |rels: &[Relationship], kind: &str| {
            rels.iter()
                .find(|r| r.kind.rsplit('/').next() == Some(kind))
                .map(|r| r.target.clone())
        };
        let main = target(&package, "officeDocument").unwrap_or_else(|| USUAL_MAIN.to_string());
        let (dir, file) = match main.rsplit_once('/') {
            Some((dir, file)) => (format!("{dir}/"), file),
            None => (String::new(), main.as_str()),
        };
        let own = match archive.read(&format!("{dir}_rels/{file}.rels"))? {
            Some(xml) => relationships(&xml, &dir),
            None => Vec::new(),
        };
        let part =
            |kind: &str, usual: &str| target(&own, kind).unwrap_or_else(|| format!("{dir}{usual}"));
        Ok(Parts {
            styles: part("styles", "styles.xml"),
            numbering: part("numbering", "numbering.xml"),
            footnotes: part("footnotes", "footnotes.xml"),
            endnotes: part("endnotes", "endnotes.xml"),
            core: target(&package, "core-properties")
                .unwrap_or_else(|| "docProps/core.xml".to_string()),
            imports: own
                .iter()
                .filter(|r| r.kind.rsplit('/').next() == Some("aFChunk"))
                .map(|r| (r.id.clone(), r.target.clone()))
                .collect(),
            main,
        })
    }
}

/// One internal relationship of a part.
struct Relationship {
    id: String,
    /// Its type (a URI ending in `/styles`, `/footnotes`, …).
    kind: String,
    /// The part it names.
    target: String,
}

/// The internal relationships of a `.rels` part, targets as part names resolved against `base`
/// (the directory of the source part, with a trailing `/`).
fn relationships(xml: &str, base: &str) -> Vec<Relationship> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if local(&e) == "Relationship" => {
                if attr(&e, "TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("external")) {
                    continue;
                }
                if let (Some(kind), Some(target)) = (attr(&e, "Type"), attr(&e, "Target"))
                    && let Some(target) = resolve(base, &target)
                {
                    let id = attr(&e, "Id").unwrap_or_default();
                    out.push(Relationship { id, kind, target });
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// A relationship target as a part name: absolute (`/word/x.xml`) or relative to `base`,
/// with `.` and `..` segments resolved; `None` when it climbs above the package root.
fn resolve(base: &str, target: &str) -> Option<String> {
    let path = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("{base}{target}"),
    };
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop()?;
            }
            s => segments.push(s),
        }
    }
    (!segments.is_empty()).then(|| segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_against_their_part() {
        assert_eq!(
            resolve("", "word/document.xml").unwrap(),
            "word/document.xml"
        );
        assert_eq!(
            resolve("", "/Word/Document.xml").unwrap(),
            "Word/Document.xml"
        );
        assert_eq!(resolve("other/", "styles.xml").unwrap(), "other/styles.xml");
        assert_eq!(resolve("a/b/", "../c.xml").unwrap(), "a/c.xml");
        assert_eq!(resolve("a/", "./x/./y.xml").unwrap(), "a/x/y.xml");
        assert_eq!(resolve("", "../escape.xml"), None);
    }

    #[test]
    fn relationships_skip_external_targets() {
        let xml = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="r2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="http://example.com/" TargetMode="External"/></Relationships>"#;
        let rels = relationships(xml, "other/");
        assert_eq!(rels.len(), 1);
        assert_eq!(
            (rels[0].id.as_str(), rels[0].target.as_str()),
            ("r1", "other/styles.xml")
        );
    }
}
