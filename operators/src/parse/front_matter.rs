//! A leading YAML front-matter block (`---` … `---`), read as simple `key: value` lines.
//!
//! There is deliberately no YAML parser: values are kept as strings (quotes stripped), nested
//! or multi-line values are ignored, and inline lists like `[a, b]` stay strings.

use crate::model::Metadata;

/// Splits a leading front-matter block off `text`: returns its `key: value` pairs and the
/// byte offset where the rest of the document starts (0 when there is no front matter).
pub(super) fn split(text: &str) -> (Metadata, usize) {
    let mut metadata = Metadata::new();
    let mut lines = lines_with_ends(text);
    let Some((first, _)) = lines.next() else {
        return (metadata, 0);
    };
    if first.trim_end() != "---" {
        return (metadata, 0);
    }
    let mut recognised = 0;
    let mut other = 0;
    for (line, end) in lines {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return if recognised > 0 || other == 0 {
                (metadata, end)
            } else {
                (Metadata::new(), 0)
            };
        }
        match key_value(line) {
            Some((key, value)) => {
                recognised += 1;
                if !value.is_empty() {
                    metadata.insert(key.to_string(), value.to_string().into());
                }
            }
            None if is_yaml_continuation(line) => {}
            None => other += 1,
        }
    }
    (Metadata::new(), 0)
}

/// Lines of `text` (without their line break) with the byte offset just past their break.
fn lines_with_ends(text: &str) -> impl Iterator<Item = (&str, usize)> {
    text.split_inclusive('\n').scan(0, |offset, line| {
        *offset += line.len();
        Some((line.trim_end_matches(['\n', '\r']), *offset))
    })
}

/// A top-level `key: value` line; the value has surrounding quotes removed.
fn key_value(line: &str) -> Option<(&str, &str)> {
    if line.starts_with(char::is_whitespace) || line.starts_with(['#', '-']) {
        return None;
    }
    let (key, value) = line.split_once(':')?;
    let key = key.trim();
    let key = strip_quotes(key);
    if key.is_empty() || !(value.is_empty() || value.starts_with(char::is_whitespace)) {
        return None;
    }
    let value = strip_quotes(value.trim());
    // Block scalars (`|`, `>`) continue on the following lines, which are not read.
    let value = if matches!(value, "|" | ">" | "|-" | ">-" | "|+" | ">+") {
        ""
    } else {
        value
    };
    Some((key, value))
}

/// Lines that belong to a YAML value above: blank, comments, indented or list entries.
fn is_yaml_continuation(line: &str) -> bool {
    line.trim().is_empty()
        || line.starts_with(char::is_whitespace)
        || line.starts_with('#')
        || line.starts_with("- ")
        || line == "-"
}

/// `value` without one pair of matching surrounding quotes.
fn strip_quotes(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_simple_pairs_and_skips_the_block() {
        let text = "---\ntitle: \"Hello: world\"\nauthor: 'Ann'\ntags: [a, b]\ndate: 2024-01-02\nlist:\n  - x\n# comment\n---\n# Body\n";
        let (meta, rest) = split(text);
        assert_eq!(&text[rest..], "# Body\n");
        assert_eq!(meta["title"], "Hello: world");
        assert_eq!(meta["author"], "Ann");
        assert_eq!(meta["tags"], "[a, b]");
        assert_eq!(meta["date"], "2024-01-02");
        assert!(!meta.contains_key("list"));
    }

    #[test]
    fn crlf_and_dots_terminator() {
        let text = "---\r\ntitle: T\r\n...\r\nbody";
        let (meta, rest) = split(text);
        assert_eq!(&text[rest..], "body");
        assert_eq!(meta["title"], "T");
    }

    #[test]
    fn not_front_matter() {
        for text in [
            "--- \nno closing\ntitle: x\n",
            "# Title\n---\ntitle: x\n---\n",
            "---\nJust a paragraph between rules\n---\n",
            "----\ntitle: x\n----\n",
            "",
        ] {
            let (meta, rest) = split(text);
            assert_eq!(rest, 0, "{text:?}");
            assert!(meta.is_empty(), "{text:?}");
        }
    }

    #[test]
    fn empty_block_is_front_matter() {
        let (meta, rest) = split("---\n---\ntext");
        assert!(meta.is_empty());
        assert_eq!(rest, 8);
    }
}
