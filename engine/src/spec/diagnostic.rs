//! Problems found in a pipeline file, each with a place, a step, a key and a way out.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        for d in &self.diagnostics {
            let severity = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            write!(f, "{file}:{}:{}: {severity}: ", d.line, d.column)?;
            match (&d.step, &d.key) {
                (Some(step), Some(key)) => write!(f, "step `{step}`, key `{key}`: ")?,
                (Some(step), None) => write!(f, "step `{step}`: ")?,
                (None, Some(key)) => write!(f, "key `{key}`: ")?,
                (None, None) => {}
            }
            writeln!(f, "{}", d.message)?;
            if let Some(hint) = &d.hint {
                writeln!(f, "  help: {hint}")?;
            }
        }
        Ok(())
    }
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
    closest(word, &candidates).map(|candidate| format!("did you mean `{candidate}`?"))
}

/// The candidate closest to `word`, when it is close enough.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    (candidates.iter())
        .map(|candidate| (strsim::jaro_winkler(word, candidate), *candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
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
