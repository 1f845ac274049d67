//! `word/numbering.xml`: whether a list level (numId, ilvl) is numbered or bulleted.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::xml::{attr, local};

/// Number formats by abstract numbering and level, and which abstract numbering each numId uses.
#[derive(Debug, Default)]
pub(super) struct Numbering {
    /// abstractNumId → ilvl → numFmt.
    formats: HashMap<String, HashMap<u32, String>>,
    /// numId → abstractNumId.
    nums: HashMap<String, String>,
    /// numId → ilvl → numFmt from level overrides.
    overrides: HashMap<String, HashMap<u32, String>>,
}

impl Numbering {
    /// Reads numbering.xml; malformed XML yields whatever was read before the fault.
    pub(super) fn parse(xml: &str) -> Self {
        let mut numbering = Numbering::default();
        let mut reader = Reader::from_str(xml);
        let mut abstract_id: Option<String> = None;
        let mut num_id: Option<String> = None;
        let mut level: Option<u32> = None;
        loop {
            let event = match reader.read_event() {
                Ok(Event::Eof) | Err(_) => break,
                Ok(event) => event,
            };
            match event {
                Event::Start(e) | Event::Empty(e) => match local(&e).as_str() {
                    "abstractNum" => {
                        abstract_id = attr(&e, "abstractNumId");
                        num_id = None;
                    }
                    "num" => {
                        num_id = attr(&e, "numId");
                        abstract_id = None;
                    }
                    "abstractNumId" => {
                        if let (Some(num), Some(val)) = (&num_id, attr(&e, "val")) {
                            numbering.nums.insert(num.clone(), val);
                        }
                    }
                    "lvl" | "lvlOverride" => {
                        level = attr(&e, "ilvl").and_then(|v| v.parse().ok());
                    }
                    "numFmt" => {
                        let (Some(ilvl), Some(fmt)) = (level, attr(&e, "val")) else {
                            continue;
                        };
                        if let Some(id) = &abstract_id {
                            numbering
                                .formats
                                .entry(id.clone())
                                .or_default()
                                .insert(ilvl, fmt);
                        } else if let Some(id) = &num_id {
                            numbering
                                .overrides
                                .entry(id.clone())
                                .or_default()
                                .insert(ilvl, fmt);
                        }
                    }
                    _ => {}
                },
                Event::End(e) => match e.local_name().as_ref() {
                    "abstractNum" => abstract_id = None,
                    "num" => num_id = None,
                    "lvl" | "lvlOverride" => level = None,
                    _ => {}
                },
                _ => {}
            }
        }
        numbering
    }

    /// Whether items of list `num_id` at level `ilvl` are numbered (unknown lists are bullets).
    pub(super) fn ordered(&self, num_id: &str, ilvl: u32) -> bool {
        let format = self
            .overrides
            .get(num_id)
            .and_then(|levels| levels.get(&ilvl))
            .or_else(|| {
                let abstract_id = self.nums.get(num_id)?;
                self.formats.get(abstract_id)?.get(&ilvl)
            });
        format.is_some_and(|f| !matches!(f.as_str(), "bullet" | "none" | ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bullets_and_numbers_by_level() {
        let xml = r#"<w:numbering xmlns:w="x">
          <w:abstractNum w:abstractNumId="0">
            <w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/></w:lvl>
            <w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/></w:lvl>
          </w:abstractNum>
          <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
          <w:num w:numId="2"><w:abstractNumId w:val="0"/>
            <w:lvlOverride w:ilvl="0"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl></w:lvlOverride>
          </w:num>
        </w:numbering>"#;
        let n = Numbering::parse(xml);
        assert!(n.ordered("1", 0));
        assert!(!n.ordered("1", 1));
        assert!(!n.ordered("2", 0));
        assert!(!n.ordered("9", 0));
    }
}
