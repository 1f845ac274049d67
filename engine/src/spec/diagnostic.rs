//! Problems found in a pipeline file, each with a place, a step, a key and a way out.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The pipeline cannot run.
    Error,
    /// The pipeline runs, but probably not as meant.
    Warning,
}

/// One problem in a pipeline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// The step concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The key concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at a position.
    pub fn error(pos: crate::spec::yaml::Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            line: pos.line,
            column: pos.col,
            step: None,
            key: None,
            message: message.into(),
            hint: None,
        }
    }

    /// A warning at a position.
    pub fn warning(pos: crate::spec::yaml::Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(pos, message)
        }
    }

    /// Names the step concerned.
    pub fn in_step(mut self, step: impl Into<String>) -> Self {
        self.step = Some(step.into());
        self
    }

    /// Names the key concerned.
    pub fn at_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Adds what to do.
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

/// All problems of one pipeline file, printable as `file:line:col: error: …` lines.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The pipeline file.
    pub file: PathBuf,
    /// Problems in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// A report for `file`, sorted by position.
    pub fn new(file: &Path, mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by_key(|d| (d.line, d.column, d.severity));
        diagnostics.dedup();
        Report {
            file: file.to_owned(),
            diagnostics,
        }
    }

    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Most diagnostics of one kind (one message but for the names and values in it) printed; the
/// rest are counted in one line (`--json` gives every one).
pub const MAX_SHOWN_OF_A_KIND: usize = 20;

/// Most characters of a name or value echoed in a printed message; a longer one is cut.
pub const MAX_ECHOED_CHARS: usize = 80;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        // Per kind, in order of appearance: how many there are and the first left out.
        let mut kinds: Vec<(usize, Option<&Diagnostic>)> = Vec::new();
        let mut index_of: HashMap<Kind, usize> = HashMap::new();
        for d in &self.diagnostics {
            let index = *index_of.entry(kind_of(d)).or_insert_with(|| {
                kinds.push((0, None));
                kinds.len() - 1
            });
            let (count, left_out) = &mut kinds[index];
            *count += 1;
            if *count > MAX_SHOWN_OF_A_KIND {
                left_out.get_or_insert(d);
                continue;
            }
            write!(f, "{file}:{}:{}: {}: ", d.line, d.column, severity_word(d))?;
            match (&d.step, &d.key) {
                (Some(step), Some(key)) => {
                    write!(f, "step `{}`, key `{}`: ", shorten(step), shorten(key))?;
                }
                (Some(step), None) => write!(f, "step `{}`: ", shorten(step))?,
                (None, Some(key)) => write!(f, "key `{}`: ", shorten(key))?,
                (None, None) => {}
            }
            writeln!(f, "{}", shorten_echoes(&d.message))?;
            if let Some(hint) = &d.hint {
                writeln!(f, "  help: {}", shorten_echoes(hint))?;
            }
        }
        for (count, left_out) in kinds {
            let Some(example) = left_out else { continue };
            let more = count - MAX_SHOWN_OF_A_KIND;
            writeln!(
                f,
                "{file}: … and {more} more {}(s) of this kind, from line {} (`--json` lists every one): {}",
                severity_word(example),
                example.line,
                shorten_echoes(&example.message)
            )?;
        }
        Ok(())
    }
}

fn severity_word(d: &Diagnostic) -> &'static str {
    match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A severity, a key and a message, but for the names and numbers in them.
type Kind = (Severity, String, String);

/// What makes diagnostics alike: the severity, the key but for list indexes, and the message
/// but for the names, values and numbers in it (`no step named `…``).
fn kind_of(d: &Diagnostic) -> Kind {
    let without_numbers =
        |text: &str| -> String { text.chars().filter(|c| !c.is_ascii_digit()).collect() };
    let message: String = d
        .message
        .split('`')
        .step_by(2)
        .collect::<Vec<_>>()
        .join("``");
    (
        d.severity,
        without_numbers(d.key.as_deref().unwrap_or_default()),
        without_numbers(&message),
    )
}

/// `text`, cut to [`MAX_ECHOED_CHARS`] with `…` and its length when it is longer.
fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    let length = text.chars().count();
    if length <= MAX_ECHOED_CHARS {
        return text.into();
    }
    let start: String = text.chars().take(MAX_ECHOED_CHARS).collect();
    format!("{start}… ({length} characters)").into()
}

/// A message with every name or value in it (between backticks, or a word without spaces)
/// longer than [`MAX_ECHOED_CHARS`] cut: a 1 MB path is not echoed in full.
fn shorten_echoes(message: &str) -> std::borrow::Cow<'_, str> {
    let too_long = |text: &str| text.chars().count() > MAX_ECHOED_CHARS;
    if !message
        .split(|c: char| c == '`' || c.is_whitespace())
        .any(too_long)
    {
        return message.into();
    }
    let mut out = String::with_capacity(MAX_ECHOED_CHARS * 4);
    for (index, part) in message.split('`').enumerate() {
        if index > 0 {
            out.push('`');
        }
        if index % 2 == 1 {
            out.push_str(&shorten(part));
            continue;
        }
        for (number, word) in part.split(' ').enumerate() {
            if number > 0 {
                out.push(' ');
            }
            // Brackets and punctuation around a word are kept whole: `(./path…)`.
            let core = word.trim_start_matches(['(', '[', '{', '"', '\'']);
            let core = core.trim_end_matches([')', ']', '}', ',', ';', ':', '.', '"', '\'']);
            let start = word.len() - word.trim_start_matches(['(', '[', '{', '"', '\'']).len();
            out.push_str(&word[..start]);
            out.push_str(&shorten(core));
            out.push_str(&word[start + core.len()..]);
        }
    }
    out.into()
}

/// "did you mean `x`?" for the closest candidate, when one is close enough; for a word that
/// holds an invisible character (`docs\u{200B}`, which prints as `docs`), which one it is.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    if let Some(invisible) = invisible_character(word) {
        let visible: String = word
            .chars()
            .filter(|c| invisible_name(*c).is_none())
            .collect();
        let fix = if candidates.contains(&visible.as_str()) {
            format!("delete it: `{visible}`")
        } else {
            closest(&visible, &candidates).map_or_else(
                || "delete it".to_owned(),
                |c| format!("did you mean `{c}`?"),
            )
        };
        return Some(format!(
            "the name holds an invisible character, {invisible}; {fix}"
        ));
    }
    match meant(word, &candidates).as_slice() {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        several => Some(format!("did you mean one of `{}`?", several.join("`, `"))),
    }
}

/// The candidate closest to `word`, when one is close enough (see [`meant`]).
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    meant(word, candidates).first().copied()
}

/// The candidates `word` was likely meant for: the one it spells but for case (`PARSE`);
/// else those it is a part of, between `.` and `_` (`chunk` is `chunk.recursive`,
/// `chunk.by_heading`…, in candidate order); else the closest one by Jaro-Winkler, in any case.
fn meant<'a>(word: &str, candidates: &[&'a str]) -> Vec<&'a str> {
    if let Some(same) = (candidates.iter()).find(|candidate| candidate.eq_ignore_ascii_case(word)) {
        return vec![same];
    }
    let parted: Vec<&str> = (candidates.iter())
        .filter(|candidate| {
            word.chars().count() >= 3
                && (candidate.split(['.', '_'])).any(|part| part.eq_ignore_ascii_case(word))
        })
        .copied()
        .collect();
    if !parted.is_empty() {
        return parted;
    }
    let word = word.to_lowercase();
    (candidates.iter())
        .map(|candidate| {
            let score = strsim::jaro_winkler(&word, &candidate.to_lowercase());
            (score, *candidate)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
        .into_iter()
        .collect()
}

/// The first character of `text` that prints as nothing or as a plain space, said as
/// `U+200B (zero width space)`.
pub fn invisible_character(text: &str) -> Option<String> {
    text.chars()
        .find_map(|c| invisible_name(c).map(|name| format!("U+{:04X} ({name})", u32::from(c))))
}

/// The name of a character that prints as nothing or as a plain space (but is none), if it is
/// one.
fn invisible_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{00A0}' => "no-break space",
        '\u{00AD}' => "soft hyphen",
        '\u{034F}' => "combining grapheme joiner",
        '\u{061C}' => "arabic letter mark",
        '\u{180E}' => "mongolian vowel separator",
        '\u{2000}'..='\u{200A}' => "a typographic space",
        '\u{200B}' => "zero width space",
        '\u{200C}' => "zero width non-joiner",
        '\u{200D}' => "zero width joiner",
        '\u{200E}' => "left-to-right mark",
        '\u{200F}' => "right-to-left mark",
        '\u{2028}' => "line separator",
        '\u{2029}' => "paragraph separator",
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "a bidirectional control",
        '\u{202F}' => "narrow no-break space",
        '\u{2060}' => "word joiner",
        '\u{2061}'..='\u{2064}' => "an invisible operator",
        '\u{3000}' => "ideographic space",
        '\u{FEFF}' => "zero width no-break space, a byte order mark",
        c if c.is_control() => "a control character",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(line: usize, step: &str, message: &str) -> Diagnostic {
        Diagnostic::error(crate::spec::yaml::Pos { line, col: 3 }, message)
            .in_step(step)
            .at_key("input")
    }

    /// A 1 MB path was echoed in full, twice: 2 MB of output for one error.
    #[test]
    fn long_names_and_values_are_cut_when_printed() {
        let long = "x".repeat(1_000_000);
        let report = Report::new(
            Path::new("p.yaml"),
            vec![
                error(4, &long, &format!("`{long}` does not exist (./{long})"))
                    .with_hint(Some(format!("a path: {long}"))),
            ],
        );
        let printed = report.to_string();
        assert!(printed.len() < 1000, "{} bytes", printed.len());
        let cut = format!("{}… (1000000 characters)", "x".repeat(80));
        assert!(
            printed.contains(&format!(
                "step `{cut}`, key `input`: `{cut}` does not exist"
            )),
            "{printed}"
        );
        assert!(
            printed.contains(&format!("(./{}… (1000002 characters))", "x".repeat(78))),
            "{printed}"
        );
        assert!(
            printed.contains(&format!("help: a path: {cut}")),
            "{printed}"
        );
        // The JSON keeps them whole.
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.len() > 3_000_000);
    }

    /// 5,000 steps with one mistake each printed 10,000 lines: past 20 of one kind, one line
    /// counts the rest.
    #[test]
    fn many_problems_of_one_kind_are_counted_past_twenty() {
        let mut diagnostics: Vec<Diagnostic> = (0..5000)
            .map(|i| error(i + 4, &format!("s{i}"), &format!("no step named `t{i}`")))
            .collect();
        diagnostics.push(error(6000, "other", "a problem of its own"));
        let report = Report::new(Path::new("p.yaml"), diagnostics);
        let printed = report.to_string();
        assert_eq!(printed.lines().count(), 22, "{printed}");
        assert!(
            printed.contains("p.yaml:23:3: error: step `s19`, key `input`: no step named `t19`")
        );
        assert!(!printed.contains("`s20`"), "{printed}");
        assert!(printed.contains("a problem of its own"), "{printed}");
        assert!(
            printed.ends_with(
                "p.yaml: … and 4980 more error(s) of this kind, from line 24 (`--json` lists every one): no step named `t20`\n"
            ),
            "{printed}"
        );
        assert_eq!(report.errors(), 5001);
        assert_eq!(report.diagnostics.len(), 5001);
    }

    #[test]
    fn suggests_the_closest_name_only_when_close() {
        assert_eq!(
            did_you_mean("chunk.recursiv", ["parse", "chunk.recursive", "sink.jsonl"]),
            Some("did you mean `chunk.recursive`?".to_owned())
        );
        assert_eq!(did_you_mean("zzz", ["parse", "chunk.recursive"]), None);
    }

    /// A name with a zero width space printed as the name without it: "no step named `docs`;
    /// did you mean `docs`?". The character is now named.
    #[test]
    fn names_an_invisible_character() {
        assert_eq!(
            did_you_mean("docs\u{200B}", ["docs", "parse"]).as_deref(),
            Some(
                "the name holds an invisible character, U+200B (zero width space); delete it: `docs`"
            )
        );
        assert_eq!(
            did_you_mean("\u{FEFF}pars", ["docs", "parse"]).as_deref(),
            Some(
                "the name holds an invisible character, U+FEFF (zero width no-break space, a byte order mark); did you mean `parse`?"
            )
        );
        let hint = did_you_mean("do\u{00A0}cs", ["docs"]).unwrap();
        assert!(hint.contains("U+00A0 (no-break space)"), "{hint}");
    }
}
