//! `word/styles.xml`: which paragraph styles are headings (by name or outline level), lists
//! (numbering in the style) or quotes, following `basedOn` chains.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::xml::{attr, is_on, local};

/// One paragraph style as declared.
#[derive(Debug, Default, Clone)]
struct Style {
    name: String,
    based_on: Option<String>,
    outline: Option<u8>,
    num_id: Option<String>,
    ilvl: Option<u32>,
    /// The font of its runs (`w:rFonts w:ascii`), when it sets one.
    font: Option<String>,
    /// Whether its runs are hidden (`w:vanish`), when it says.
    vanish: Option<bool>,
}

/// Paragraph styles by id.
#[derive(Debug, Default)]
pub(super) struct Styles {
    styles: HashMap<String, Style>,
}

/// How deep `basedOn` chains are followed.
const MAX_CHAIN: usize = 16;

impl Styles {
    /// Reads styles.xml; malformed XML yields whatever was read before the fault.
    pub(super) fn parse(xml: &str) -> Self {
        let mut styles = HashMap::new();
        let mut reader = Reader::from_str(xml);
        let mut current: Option<(String, Style)> = None;
        // Depth inside tracked formatting changes (`w:rPrChange`, …), which hold the old
        // properties.
        let mut changes = 0usize;
        loop {
            let event = match reader.read_event() {
                Ok(Event::Eof) | Err(_) => break,
                Ok(event) => event,
            };
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Start(e) | Event::Empty(e) if changes > 0 || is_change(&local(&e)) => {
                    changes += usize::from(!empty);
                }
                Event::End(_) if changes > 0 => changes -= 1,
                Event::Start(e) | Event::Empty(e) => {
                    let name = local(&e);
                    match name.as_str() {
                        "style" => {
                            if let Some((id, style)) = current.take() {
                                styles.insert(id, style);
                            }
                            current = attr(&e, "styleId").map(|id| (id, Style::default()));
                        }
                        _ => {
                            if let Some((_, style)) = current.as_mut() {
                                let val = attr(&e, "val");
                                match name.as_str() {
                                    "name" => style.name = val.unwrap_or_default(),
                                    "basedOn" => style.based_on = val,
                                    "outlineLvl" => {
                                        style.outline = val.and_then(|v| v.parse().ok())
                                    }
                                    "numId" => style.num_id = val,
                                    "ilvl" => style.ilvl = val.and_then(|v| v.parse().ok()),
                                    "rFonts" => {
                                        style.font = attr(&e, "ascii").or_else(|| attr(&e, "hAnsi"))
                                    }
                                    "vanish" => style.vanish = Some(is_on(&e)),
                                    _ => {}
                                }
                            }
                        }
                    }
                }
                Event::End(e) if e.local_name().as_ref() == "style" => {
                    if let Some((id, style)) = current.take() {
                        styles.insert(id, style);
                    }
                }
                _ => {}
            }
        }
        if let Some((id, style)) = current.take() {
            styles.insert(id, style);
        }
        Styles { styles }
    }

    /// The heading level (1..=6) a paragraph of style `id` has, if it is a heading.
    /// Only the Title style itself is a title: a style based on it (pandoc's Author,
    /// Subtitle, Date) is not a heading.
    pub(super) fn heading_level(&self, id: &str) -> Option<u8> {
        let mut current = Some(id.to_string());
        for hop in 0..MAX_CHAIN {
            let key = current?;
            let Some(style) = self.styles.get(&key) else {
                return level_from_name(&key).filter(|_| hop == 0 || !is_title(&key));
            };
            if let Some(level) = level_from_name(&style.name) {
                return (hop == 0 || !is_title(&style.name)).then_some(level);
            }
            if let Some(outline) = style.outline {
                return (outline < 9).then(|| outline.saturating_add(1).min(6));
            }
            current = style.based_on.clone();
        }
        None
    }

    /// The numbering (numId, level) a style applies, if any.
    pub(super) fn numbering(&self, id: &str) -> Option<(String, Option<u32>)> {
        let mut current = Some(id.to_string());
        for _ in 0..MAX_CHAIN {
            let style = self.styles.get(&current?)?;
            if let Some(num) = &style.num_id {
                return Some((num.clone(), style.ilvl));
            }
            current = style.based_on.clone();
        }
        None
    }

    /// Whether paragraphs of style `id` are code: a code style by name ("Source Code",
    /// "HTML Preformatted", "Code", "Plain Text", …), or one in a monospace font, itself or
    /// through the styles it is based on.
    pub(super) fn is_code(&self, id: &str) -> bool {
        let mut current = Some(id.to_string());
        for _ in 0..MAX_CHAIN {
            let Some(key) = current else { return false };
            let Some(style) = self.styles.get(&key) else {
                return is_code_name(&key);
            };
            let name = if style.name.is_empty() {
                &key
            } else {
                &style.name
            };
            if is_code_name(name) {
                return true;
            }
            if let Some(font) = &style.font {
                return is_monospace(font);
            }
            current = style.based_on.clone();
        }
        false
    }

    /// The font runs of style `id` are set in (`w:rFonts`), its own or that of the styles it
    /// is based on.
    pub(super) fn font(&self, id: &str) -> Option<&str> {
        let mut current = id;
        for _ in 0..MAX_CHAIN {
            let style = self.styles.get(current)?;
            if let Some(font) = &style.font {
                return Some(font);
            }
            current = style.based_on.as_deref()?;
        }
        None
    }

    /// Whether runs of style `id` are hidden (`w:vanish`), by it or the styles it is based on;
    /// `None` when none of them says.
    pub(super) fn hidden(&self, id: &str) -> Option<bool> {
        let mut current = id;
        for _ in 0..MAX_CHAIN {
            let style = self.styles.get(current)?;
            if let Some(vanish) = style.vanish {
                return Some(vanish);
            }
            current = style.based_on.as_deref()?;
        }
        None
    }

    /// Whether runs of the character style `id` are in a monospace font (pandoc's
    /// `VerbatimChar`, Word's "HTML Code").
    pub(super) fn is_monospace(&self, id: &str) -> bool {
        self.is_code(id)
    }

    /// The style's display name (its id when undeclared), lowercase.
    pub(super) fn name(&self, id: &str) -> String {
        self.styles
            .get(id)
            .map(|s| s.name.as_str())
            .filter(|n| !n.is_empty())
            .unwrap_or(id)
            .to_lowercase()
    }
}

/// Whether an element is a tracked formatting change (`w:pPrChange`, `w:rPrChange`, …),
/// which holds the properties as they were before.
pub(super) fn is_change(name: &str) -> bool {
    name.ends_with("PrChange")
}

/// Whether a style's name says it is code.
fn is_code_name(name: &str) -> bool {
    let name = name.to_lowercase();
    let words: String = name.chars().filter(|c| c.is_alphanumeric()).collect();
    [
        "sourcecode",
        "preformatted",
        "verbatim",
        "plaintext",
        "macrotext",
        "codeblock",
    ]
    .iter()
    .any(|w| words.contains(w))
        || matches!(words.as_str(), "code" | "htmlcode" | "codechar" | "listing")
}

/// Whether a font is monospace (Consolas, Courier New, Menlo, Source Code Pro, … Mono).
pub(super) fn is_monospace(font: &str) -> bool {
    let font = font.to_lowercase();
    [
        "mono",
        "courier",
        "consolas",
        "menlo",
        "monaco",
        "lucida console",
        "lucida sans typewriter",
        "source code",
        "fira code",
        "inconsolata",
        "cascadia",
        "fixedsys",
        "andale",
        "ocr a",
    ]
    .iter()
    .any(|m| font.contains(m))
}

/// Whether a style name is the Title style's.
fn is_title(name: &str) -> bool {
    name.eq_ignore_ascii_case("title")
}

/// The level a style name stands for: "heading N" / "HeadingN" → N, "Title" → 1.
fn level_from_name(name: &str) -> Option<u8> {
    let lower = name.to_lowercase();
    if lower == "title" {
        return Some(1);
    }
    let rest = lower.strip_prefix("heading")?.trim();
    let level: u8 = rest.parse().ok()?;
    (1..=9).contains(&level).then(|| level.min(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_from_names_outlines_and_chains() {
        let xml = r#"<w:styles xmlns:w="x">
          <w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style>
          <w:style w:type="paragraph" w:styleId="Custom"><w:name w:val="My Head"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>
          <w:style w:type="paragraph" w:styleId="Derived"><w:name w:val="Derived"/><w:basedOn w:val="Heading2"/></w:style>
          <w:style w:type="paragraph" w:styleId="Body"><w:name w:val="Body"/><w:pPr><w:outlineLvl w:val="9"/></w:pPr></w:style>
          <w:style w:type="paragraph" w:styleId="Bullet"><w:name w:val="List Bullet"/><w:pPr><w:numPr><w:numId w:val="3"/></w:numPr></w:pPr></w:style>
          <w:style w:type="paragraph" w:styleId="Loop"><w:basedOn w:val="Loop"/></w:style>
        </w:styles>"#;
        let styles = Styles::parse(xml);
        assert_eq!(styles.heading_level("Heading2"), Some(2));
        assert_eq!(styles.heading_level("Custom"), Some(1));
        assert_eq!(styles.heading_level("Derived"), Some(2));
        assert_eq!(styles.heading_level("Body"), None);
        assert_eq!(styles.heading_level("Loop"), None);
        assert_eq!(styles.heading_level("Heading3"), Some(3));
        assert_eq!(styles.heading_level("Title"), Some(1));
        let titles = r#"<w:styles xmlns:w="x">
          <w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style>
          <w:style w:type="paragraph" w:styleId="Author"><w:name w:val="Author"/><w:basedOn w:val="Title"/></w:style>
          <w:style w:type="paragraph" w:styleId="Subtitle"><w:name w:val="Subtitle"/><w:basedOn w:val="Title"/></w:style>
          <w:style w:type="paragraph" w:styleId="Chapter"><w:name w:val="Chapter"/><w:basedOn w:val="Heading1"/></w:style>
          <w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style>
        </w:styles>"#;
        let titled = Styles::parse(titles);
        assert_eq!(titled.heading_level("Title"), Some(1));
        assert_eq!(titled.heading_level("Author"), None);
        assert_eq!(titled.heading_level("Subtitle"), None);
        assert_eq!(titled.heading_level("Chapter"), Some(1));
        assert_eq!(styles.numbering("Bullet"), Some(("3".into(), None)));
        assert_eq!(styles.name("Bullet"), "list bullet");
    }
}
