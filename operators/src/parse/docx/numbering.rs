//! `word/numbering.xml`: what a list level (numId, ilvl) looks like (numbered or bulleted, its
//! start value, when it restarts) and the numbers Word shows, counted as the document goes.
//!
//! Word counts per abstract numbering: every `w:num` that uses one abstract numbering continues
//! the same sequence, unless the `w:num` overrides a level's start (`w:startOverride`, or a
//! `w:lvl` with `w:start` inside `w:lvlOverride`), which restarts that level where the `w:num`
//! is first used. A level restarts after any use of a level above it, or only of the level its
//! `w:lvlRestart` names (never when that is 0).

use crate::parse::roman::roman;
use std::collections::{HashMap, HashSet};

use quick_xml::Reader;
use quick_xml::events::Event;

use super::styles::Styles;
use super::symbol_fonts::SymbolFont;
use super::xml::{attr, local};

/// Levels of a list (`w:ilvl` 0..=8).
const LEVELS: usize = 9;
/// How many `w:numStyleLink` hops are followed.
const MAX_LINKS: usize = 8;

/// One level's definition; absent fields take Word's defaults.
#[derive(Debug, Default, Clone)]
struct Level {
    /// `w:numFmt`: "decimal", "lowerLetter", "bullet", …
    format: Option<String>,
    /// `w:start` (1 when absent).
    start: Option<u32>,
    /// `w:lvlRestart`: the 1-based level whose use restarts this one; 0 for never.
    restart: Option<u32>,
    /// `w:lvlText`: the label, `%1`…`%9` standing for the levels' numbers ("%1.%2").
    text: Option<String>,
    /// `w:pStyle`: the paragraph style this level is attached to (Heading 2).
    style: Option<String>,
    /// The font of its label (`w:rPr/w:rFonts`): a bullet in Wingdings is a glyph code.
    font: Option<String>,
    /// `w:isLgl`: its label shows every level's number in decimal ("1.1", not "I.1").
    legal: bool,
}

/// An abstract numbering: its levels, or a link to a numbering style that holds them.
#[derive(Debug, Default)]
struct Abstract {
    levels: HashMap<u32, Level>,
    /// `w:numStyleLink`: the numbering style whose list this one is.
    style_link: Option<String>,
}

/// A level override of a `w:num`.
#[derive(Debug, Default)]
struct Override {
    /// `w:startOverride`.
    start: Option<u32>,
    /// A whole `w:lvl` replacing the abstract one.
    level: Option<Level>,
}

/// A `w:num` instance: its abstract numbering and level overrides.
#[derive(Debug, Default)]
struct Num {
    abstract_id: Option<String>,
    overrides: HashMap<u32, Override>,
}

/// The numbering definitions of a document.
#[derive(Debug, Default)]
pub(super) struct Numbering {
    abstracts: HashMap<String, Abstract>,
    nums: HashMap<String, Num>,
}

/// Where the reader is inside numbering.xml.
#[derive(Default)]
struct Cursor {
    abstract_id: Option<String>,
    num_id: Option<String>,
    /// The `w:lvlOverride` being read.
    override_level: Option<u32>,
    /// The `w:lvl` being read and what it says so far.
    level: Option<(u32, Level)>,
}

fn number(value: Option<String>) -> Option<u32> {
    value.and_then(|v| v.trim().parse().ok())
}

impl Numbering {
    /// Reads numbering.xml; malformed XML yields whatever was read before the fault.
    pub(super) fn parse(xml: &str) -> Self {
        let mut numbering = Numbering::default();
        let mut reader = Reader::from_str(xml);
        let mut at = Cursor::default();
        loop {
            let event = match reader.read_event() {
                Ok(Event::Eof) | Err(_) => break,
                Ok(event) => event,
            };
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Start(e) | Event::Empty(e) => {
                    let val = || attr(&e, "val");
                    match local(&e).as_str() {
                        "abstractNum" => {
                            at = Cursor {
                                abstract_id: attr(&e, "abstractNumId"),
                                ..Cursor::default()
                            };
                            if let Some(id) = &at.abstract_id {
                                numbering.abstracts.entry(id.clone()).or_default();
                            }
                        }
                        "num" => {
                            at = Cursor {
                                num_id: attr(&e, "numId"),
                                ..Cursor::default()
                            };
                            if let Some(id) = &at.num_id {
                                numbering.nums.entry(id.clone()).or_default();
                            }
                        }
                        "abstractNumId" => {
                            if let Some(num) =
                                at.num_id.as_ref().and_then(|n| numbering.nums.get_mut(n))
                            {
                                num.abstract_id = val();
                            }
                        }
                        "numStyleLink" => {
                            if let Some(a) = at
                                .abstract_id
                                .as_ref()
                                .and_then(|a| numbering.abstracts.get_mut(a))
                            {
                                a.style_link = val();
                            }
                        }
                        "lvlOverride" => at.override_level = number(attr(&e, "ilvl")),
                        "startOverride" => {
                            if let (Some(num), Some(ilvl)) = (
                                at.num_id.as_ref().and_then(|n| numbering.nums.get_mut(n)),
                                at.override_level,
                            ) {
                                num.overrides.entry(ilvl).or_default().start = number(val());
                            }
                        }
                        "lvl" => {
                            let ilvl = number(attr(&e, "ilvl")).or(at.override_level);
                            at.level = ilvl.map(|l| (l, Level::default()));
                            // A `<w:lvl/>` without content ends here.
                            if empty {
                                numbering.end_level(&mut at);
                            }
                        }
                        "numFmt" => {
                            if let Some((_, level)) = at.level.as_mut() {
                                level.format = val();
                            }
                        }
                        "start" => {
                            if let Some((_, level)) = at.level.as_mut() {
                                level.start = number(val());
                            }
                        }
                        "lvlText" => {
                            if let Some((_, level)) = at.level.as_mut() {
                                level.text = val();
                            }
                        }
                        "pStyle" => {
                            if let Some((_, level)) = at.level.as_mut() {
                                level.style = val();
                            }
                        }
                        "isLgl" => {
                            if let Some((_, level)) = at.level.as_mut() {
                                level.legal = super::xml::is_on(&e);
                            }
                        }
                        "lvlRestart" => {
                            if let Some((_, level)) = at.level.as_mut() {
                                level.restart = number(val());
                            }
                        }
                        "rFonts" => {
                            if let Some((_, level)) = at.level.as_mut() {
                                let font = attr(&e, "ascii").or_else(|| attr(&e, "hAnsi"));
                                level.font = font.or(level.font.take());
                            }
                        }
                        _ => {}
                    }
                }
                Event::End(e) => match e.local_name().as_ref() {
                    "abstractNum" | "num" => at = Cursor::default(),
                    "lvlOverride" => at.override_level = None,
                    "lvl" => numbering.end_level(&mut at),
                    _ => {}
                },
                _ => {}
            }
        }
        numbering
    }

    /// Files the level just read under its abstract numbering or its `w:num` override.
    fn end_level(&mut self, at: &mut Cursor) {
        let Some((ilvl, level)) = at.level.take() else {
            return;
        };
        if let Some(a) = at
            .abstract_id
            .as_ref()
            .and_then(|a| self.abstracts.get_mut(a))
        {
            a.levels.insert(ilvl, level);
        } else if let Some(num) = at.num_id.as_ref().and_then(|n| self.nums.get_mut(n)) {
            num.overrides.entry(ilvl).or_default().level = Some(level);
        }
    }

    /// Follows `w:numStyleLink`s through the numbering styles of `styles`: a `w:num` whose
    /// abstract numbering only names a numbering style uses (and counts with) the abstract
    /// numbering that style's list has.
    pub(super) fn link_styles(&mut self, styles: &Styles) {
        let mut targets = HashMap::new();
        for (id, a) in &self.abstracts {
            let Some(mut style) = a.style_link.clone().filter(|_| a.levels.is_empty()) else {
                continue;
            };
            for _ in 0..MAX_LINKS {
                let Some(next) = styles
                    .numbering(&style)
                    .and_then(|(num, _)| self.nums.get(&num)?.abstract_id.clone())
                else {
                    break;
                };
                match self.abstracts.get(&next) {
                    Some(b) if b.levels.is_empty() => match &b.style_link {
                        Some(link) => style = link.clone(),
                        None => break,
                    },
                    Some(_) => {
                        targets.insert(id.clone(), next);
                        break;
                    }
                    None => break,
                }
            }
        }
        for num in self.nums.values_mut() {
            if let Some(target) = num.abstract_id.as_ref().and_then(|a| targets.get(a)) {
                num.abstract_id = Some(target.clone());
            }
        }
    }

    /// The abstract numbering list `num_id` uses.
    fn abstract_of(&self, num_id: &str) -> Option<&str> {
        self.nums.get(num_id)?.abstract_id.as_deref()
    }

    /// The definition of level `ilvl` of list `num_id`, overrides applied.
    fn level(&self, num_id: &str, ilvl: u32) -> Level {
        let base = self
            .abstract_of(num_id)
            .and_then(|a| self.abstracts.get(a)?.levels.get(&ilvl))
            .cloned()
            .unwrap_or_default();
        let Some(over) = self.nums.get(num_id).and_then(|n| n.overrides.get(&ilvl)) else {
            return base;
        };
        let mut level = match &over.level {
            Some(l) => Level {
                format: l.format.clone().or(base.format),
                start: l.start.or(base.start),
                restart: l.restart.or(base.restart),
                text: l.text.clone().or(base.text),
                style: l.style.clone().or(base.style),
                font: l.font.clone().or(base.font),
                legal: l.legal || base.legal,
            },
            None => base,
        };
        if over.start.is_some() {
            level.start = over.start;
        }
        level
    }

    /// Whether items of list `num_id` at level `ilvl` are numbered (unknown lists are bullets).
    pub(super) fn ordered(&self, num_id: &str, ilvl: u32) -> bool {
        self.level(num_id, ilvl)
            .format
            .is_some_and(|f| !matches!(f.as_str(), "bullet" | "none" | ""))
    }

    /// The state a bulleted level's check-box bullet shows (pandoc writes task lists as
    /// bullets `☐` and `☒`, Word draws a box in Wingdings, U+F0A8); `None` for other bullets
    /// and numbered levels.
    pub(super) fn check_box(&self, num_id: &str, ilvl: u32) -> Option<bool> {
        if self.ordered(num_id, ilvl) {
            return None;
        }
        let level = self.level(num_id, ilvl);
        let text = level.text?;
        let mut chars = text.trim().chars();
        let bullet = chars.next()?;
        chars.next().is_none().then_some(())?;
        let bullet = match level.font.as_deref().and_then(SymbolFont::named) {
            Some(font) => font.char(u32::from(bullet))?,
            None => bullet,
        };
        check_box_state(bullet)
    }

    /// The level of list `num_id` attached to paragraph style `style` (`w:pStyle` in a
    /// `w:lvl`: Heading 2 is level 1 of a numbered-headings list).
    pub(super) fn level_of_style(&self, num_id: &str, style: &str) -> Option<u32> {
        let levels = &self.abstracts.get(self.abstract_of(num_id)?)?.levels;
        let mut found: Vec<u32> = levels
            .iter()
            .filter(|(_, l)| l.style.as_deref() == Some(style))
            .map(|(ilvl, _)| *ilvl)
            .collect();
        found.sort_unstable();
        found.first().copied()
    }

    /// Whether `num_id` restarts level `ilvl` where it is first used.
    fn restarts(&self, num_id: &str, ilvl: u32) -> bool {
        self.nums
            .get(num_id)
            .and_then(|n| n.overrides.get(&ilvl))
            .is_some_and(|o| {
                o.start.is_some() || o.level.as_ref().is_some_and(|l| l.start.is_some())
            })
    }
}

/// The running counters of a document's lists.
#[derive(Debug, Default)]
pub(super) struct Counters {
    /// The current value of each level, by abstract numbering (or numId when it has none);
    /// `None` when the level starts afresh at its next use.
    values: HashMap<String, [Option<u32>; LEVELS]>,
    /// The numIds seen so far (their start overrides have been applied).
    seen: HashSet<String>,
}

impl Counters {
    /// Counts one paragraph of list `num_id` at level `ilvl` and returns the number Word shows
    /// for it, or `None` when the level is not numbered.
    pub(super) fn next(&mut self, numbering: &Numbering, num_id: &str, ilvl: u32) -> Option<u32> {
        let ilvl = ilvl.min(LEVELS as u32 - 1);
        let key = numbering
            .abstract_of(num_id)
            .map_or_else(|| format!("num:{num_id}"), |a| format!("abstract:{a}"));
        let values = self.values.entry(key).or_insert([None; LEVELS]);
        if self.seen.len() < 100_000 && self.seen.insert(num_id.to_string()) {
            for l in 0..LEVELS as u32 {
                if numbering.restarts(num_id, l) {
                    values[l as usize] = None;
                }
            }
        }
        let level = numbering.level(num_id, ilvl);
        let start = level.start.unwrap_or(1);
        let value = values[ilvl as usize].map_or(start, |v| v.saturating_add(1));
        values[ilvl as usize] = Some(value);
        // Deeper levels restart after this one unless their lvlRestart says otherwise.
        for deeper in ilvl + 1..LEVELS as u32 {
            let after = match numbering.level(num_id, deeper).restart {
                Some(0) => continue,
                Some(n) => n - 1,
                None => deeper - 1,
            };
            if ilvl <= after {
                values[deeper as usize] = None;
            }
        }
        numbering.ordered(num_id, ilvl).then_some(value)
    }

    /// The label Word shows before the paragraph just counted at level `ilvl` of `num_id`:
    /// its `w:lvlText` with each `%N` replaced by level N's current number in level N's
    /// format ("2.1"); `None` for a bullet or an empty label.
    pub(super) fn label(&self, numbering: &Numbering, num_id: &str, ilvl: u32) -> Option<String> {
        let ilvl = ilvl.min(LEVELS as u32 - 1);
        if !numbering.ordered(num_id, ilvl) {
            return None;
        }
        let key = numbering
            .abstract_of(num_id)
            .map_or_else(|| format!("num:{num_id}"), |a| format!("abstract:{a}"));
        let values = self.values.get(&key)?;
        let own = numbering.level(num_id, ilvl);
        let text = own.text.unwrap_or_else(|| format!("%{}", ilvl + 1));
        let mut label = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let digit = chars.peek().and_then(|d| d.to_digit(10));
            match (c, digit) {
                ('%', Some(n @ 1..=9)) => {
                    chars.next();
                    let level = numbering.level(num_id, n - 1);
                    let value = values[(n - 1) as usize].unwrap_or(level.start.unwrap_or(1));
                    let format = if own.legal {
                        None
                    } else {
                        level.format.as_deref()
                    };
                    label.push_str(&format_number(value, format));
                }
                _ => label.push(c),
            }
        }
        let label = label.trim().to_string();
        (!label.is_empty()).then_some(label)
    }
}

/// A list number in a `w:numFmt`: decimal, letters, roman numerals (others as decimal).
fn format_number(value: u32, format: Option<&str>) -> String {
    match format.unwrap_or("decimal") {
        "lowerLetter" | "upperLetter" => {
            // a..z, then aa, bb, … as Word counts.
            let n = value.max(1) - 1;
            let letter = char::from(b'a' + (n % 26) as u8);
            let text = letter.to_string().repeat((n / 26 + 1).min(100) as usize);
            if format == Some("upperLetter") {
                text.to_uppercase()
            } else {
                text
            }
        }
        "lowerRoman" | "upperRoman" => {
            let text = roman(value);
            if format == Some("upperRoman") {
                text.to_uppercase()
            } else {
                text
            }
        }
        "decimalZero" if value < 10 => format!("0{value}"),
        _ => value.to_string(),
    }
}

/// Whether a check-box character is checked: `☐` no; `☑`, `☒` yes; `None` for others.
pub(super) fn check_box_state(c: char) -> Option<bool> {
    match c {
        '☐' => Some(false),
        '☑' | '☒' => Some(true),
        _ => None,
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

    const LISTS: &str = r#"<w:numbering xmlns:w="x">
      <w:abstractNum w:abstractNumId="0">
        <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/></w:lvl>
        <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/></w:lvl>
        <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlRestart w:val="0"/></w:lvl>
      </w:abstractNum>
      <w:abstractNum w:abstractNumId="1">
        <w:lvl w:ilvl="0"><w:start w:val="10"/><w:numFmt w:val="decimal"/></w:lvl>
      </w:abstractNum>
      <w:abstractNum w:abstractNumId="2">
        <w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl>
      </w:abstractNum>
      <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
      <w:num w:numId="2"><w:abstractNumId w:val="0"/></w:num>
      <w:num w:numId="3"><w:abstractNumId w:val="0"/>
        <w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride>
      </w:num>
      <w:num w:numId="4"><w:abstractNumId w:val="1"/></w:num>
      <w:num w:numId="5"><w:abstractNumId w:val="2"/></w:num>
      <w:num w:numId="6"><w:abstractNumId w:val="0"/>
        <w:lvlOverride w:ilvl="0"><w:lvl w:ilvl="0"><w:start w:val="3"/><w:numFmt w:val="decimal"/></w:lvl></w:lvlOverride>
      </w:num>
    </w:numbering>"#;

    fn count(items: &[(&str, u32)]) -> Vec<Option<u32>> {
        let n = Numbering::parse(LISTS);
        let mut c = Counters::default();
        items.iter().map(|&(id, l)| c.next(&n, id, l)).collect()
    }

    #[test]
    fn numbers_continue_across_nums_of_one_abstract_and_restart_on_overrides() {
        let got = count(&[
            ("1", 0),
            ("1", 0),
            ("2", 0), // same abstract: continues
            ("3", 0), // startOverride 5: restarts there
            ("3", 0),
            ("1", 0), // back to numId 1: still the shared sequence
            ("4", 0), // another abstract starting at 10
            ("4", 0),
            ("5", 0), // bullets have no number
            ("6", 0), // an overriding lvl with its own start
        ]);
        let want = [1, 2, 3, 5, 6, 7, 10, 11, 0, 3].map(|n| (n > 0).then_some(n));
        assert_eq!(got, want);
    }

    #[test]
    fn deeper_levels_restart_after_a_higher_one_unless_told_not_to() {
        let got = count(&[
            ("1", 0),
            ("1", 1),
            ("1", 1),
            ("1", 2),
            ("1", 0),
            ("1", 1), // restarted by the level-0 item
            ("1", 2), // lvlRestart 0: never restarts
        ]);
        let want = [1, 1, 2, 1, 2, 1, 2].map(Some);
        assert_eq!(got, want);
    }

    #[test]
    fn numbering_styles_lend_their_levels() {
        let xml = r#"<w:numbering xmlns:w="x">
          <w:abstractNum w:abstractNumId="0"><w:styleLink w:val="Legal"/>
            <w:lvl w:ilvl="0"><w:start w:val="4"/><w:numFmt w:val="decimal"/></w:lvl>
          </w:abstractNum>
          <w:abstractNum w:abstractNumId="1"><w:numStyleLink w:val="Legal"/></w:abstractNum>
          <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
          <w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
        </w:numbering>"#;
        let styles = Styles::parse(
            r#"<w:styles xmlns:w="x"><w:style w:type="numbering" w:styleId="Legal"><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style></w:styles>"#,
        );
        let mut n = Numbering::parse(xml);
        assert!(!n.ordered("2", 0));
        n.link_styles(&styles);
        assert!(n.ordered("2", 0));
        let mut c = Counters::default();
        assert_eq!(c.next(&n, "2", 0), Some(4));
    }
}
