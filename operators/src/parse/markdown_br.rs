//! `<br>` tags in Markdown source, rewritten as the HTML and DOCX parsers render a line break:
//! a Markdown hard break ([`HARD_BREAK`]) inside running text (paragraphs, list items, quotes),
//! a space where a line cannot break (table cells, headings, image text). A run of `<br>`s is
//! one break, and a break with no text before it on its line is none (HTML and DOCX drop blank
//! lines too). Code spans and code blocks hold no HTML events, so their `<br>`s stay as written.

use std::ops::Range;

use super::render::HARD_BREAK;

/// Where an inline `<br>` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Running text that may break lines; `start` is where the block starts in the source.
    Lines { start: usize },
    /// Text that must stay on one line (a table cell, a heading, an image's text).
    OneLine,
}

/// What to write for the `<br>` run starting at `br.start` (its first tag spanning `br`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Rewrite {
    /// The source replaced: the tags of the run and the white space after them.
    pub range: Range<usize>,
    /// What replaces it.
    pub text: String,
    /// Where a backslash must go so that the text after the break stays running text (a
    /// `#`, `>`, list marker … would otherwise start a block on the new line).
    pub escape: Option<usize>,
    /// Where the previous line ends, when the break is at the start of a line of the
    /// block: two spaces there make that line ending the hard break instead.
    pub break_before: Option<usize>,
    /// Whether it starts a new line in the middle of a source line (the next `<br>` on that
    /// line ends the new one).
    pub breaks_line: bool,
}

/// Whether the inline HTML `html` is a `<br>` tag (`<br>`, `<br/>`, `<br />`, any case, with
/// or without attributes).
pub(super) fn is_br(html: &str) -> bool {
    let Some(rest) = html.trim().strip_prefix('<') else {
        return false;
    };
    let Some(name) = rest.get(..2) else {
        return false;
    };
    let after = &rest[2..];
    name.eq_ignore_ascii_case("br")
        && after.ends_with('>')
        && after.starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace())
}

/// The length of the `<br>` tag at the start of `s`, if one is there.
fn br_at(s: &str) -> Option<usize> {
    if !s.starts_with('<') {
        return None;
    }
    let end = s.bytes().take(MAX_TAG).position(|b| b == b'>')? + 1;
    is_br(&s[..end]).then_some(end)
}

/// Longest `<br …>` tag looked for, attributes included.
const MAX_TAG: usize = 256;
/// How far from a `<br>` its line's start and end are looked for: on a longer line it stays as
/// it is (what it costs stays linear in the document).
const LINE_WINDOW: usize = 4096;
/// How much of a line is read to tell whether it starts a block.
const HEAD: usize = 256;

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    &text[..text.floor_char_boundary(max)]
}

/// What the rewriting of a document knows of its lines so far.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Lines {
    /// Where the last run rewritten as a line break ended (where the current line's text
    /// starts, when that is on this line).
    pub head: usize,
    /// Where the last comment removed ended: a line it is on is left as it is (its text is
    /// not what the source shows).
    pub removed: usize,
}

/// How to rewrite the run of `<br>`s starting at `br` of `source`, inside `place`. The run is
/// left as it is where the lines it would make could start a block (odd text such as `-<br>x`
/// or "```<br>`"), on a line a comment is removed from, and on very long lines.
pub(super) fn rewrite(source: &str, br: Range<usize>, place: Place, lines: Lines) -> Rewrite {
    // The run: this tag, white space and more `<br>`s on the same line.
    let mut end = br.end;
    loop {
        let rest = &source[end..];
        let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        match br_at(&rest[spaces..]) {
            Some(len) => end += spaces + len,
            None => {
                end += spaces;
                break;
            }
        }
    }
    let range = br.start..end;
    let rewrite = |text: &str| Rewrite {
        range: range.clone(),
        text: text.to_owned(),
        escape: None,
        break_before: None,
        breaks_line: false,
    };
    let keep = || rewrite(&source[range.clone()]);
    let window_start = (0..=br.start.saturating_sub(LINE_WINDOW))
        .rev()
        .find(|&at| source.is_char_boundary(at))
        .unwrap_or(0);
    let line_start = match source[window_start..br.start].rfind('\n') {
        Some(at) => window_start + at + 1,
        None if window_start == 0 => 0,
        None => return keep(),
    };
    let line_end = match memchr::memchr(b'\n', &source.as_bytes()[end..]) {
        Some(at) if at <= LINE_WINDOW => end + at,
        None if source.len() - end <= LINE_WINDOW => source.len(),
        _ => return keep(),
    };
    let before = &source[line_start..br.start];
    let after = source[end..line_end].trim_end_matches('\r');
    // A line a comment is removed from, or one before a table's delimiter row (a header row
    // whose cells a change could count anew), is left as it is.
    let before_delimiter =
        matches!(place, Place::Lines { .. }) && next_line_is_table_delimiter(source, line_end);
    if lines.removed > line_start || after.contains("<!--") || before_delimiter {
        return keep();
    }
    let joiner = if before.ends_with([' ', '\t']) {
        ""
    } else {
        " "
    };
    let (prefix, content) = line_prefix(before);
    // The text of the line this one would end: from the last line break made on this line.
    let head = if lines.head > line_start && lines.head <= br.start {
        &source[lines.head..br.start]
    } else {
        content
    };
    // Whether earlier `<br>`s on it stay or go.
    let head = cut(head, HEAD);
    let heads = [head.to_owned(), without_breaks(head)];
    let after_head = cut(after, HEAD);
    // A line starting after it that would be an HTML block, a footnote's definition or a
    // table's header (none of them is kept from being one by a backslash that leaves them as
    // they are).
    let new_block = after.starts_with('<') && starts_html_block(after_head)
        || is_footnote_definition(after_head)
        || is_table_delimiter(after_head);
    let escape = block_marker(after_head).map(|offset| end + offset);
    // Joined by a space, the line must not start a block it did not start with the tag, nor
    // end in what closes a heading (`# a <br>#`).
    let space = || {
        let last = if after.is_empty() { content } else { after };
        let closes = last.trim_end().ends_with('#');
        let starts = heads
            .iter()
            .any(|head| starts_block(&format!("{head}{joiner}{after_head}")))
            || is_table_delimiter(&format!("{}{joiner}{after_head}", cut(before, HEAD)));
        if !closes && (!starts || starts_block(&format!("{head}<br>{after_head}"))) {
            rewrite(joiner)
        } else {
            keep()
        }
    };
    if matches!(head.trim(), "[ ]" | "[x]" | "[X]") {
        // A task's box with nothing after it would be no box.
        return keep();
    }
    if content.trim().is_empty() {
        let block_start = match place {
            Place::Lines { start } => line_start <= start,
            Place::OneLine => line_start == 0,
        };
        if new_block || block_start && after.is_empty() {
            // What would start the line (or the block, left without text on its first line).
            return keep();
        }
        // Nothing before it on its line: what follows starts the line, and the line ending
        // before it is the break, when the running text goes on from an earlier line; alone
        // on its line, the line goes.
        let previous_ending = match place {
            Place::Lines { start } if line_start > start && line_start > 0 => {
                let newline = line_start - 1;
                Some(newline - usize::from(source[..newline].ends_with('\r')))
            }
            _ => None,
        };
        let alone = after.is_empty() && (previous_ending.is_some() || place == Place::OneLine);
        let range = if alone && line_start > 0 {
            line_start..(line_end + 1).min(source.len())
        } else {
            range
        };
        return Rewrite {
            range,
            text: String::new(),
            escape,
            break_before: previous_ending,
            breaks_line: false,
        };
    }
    if place == Place::OneLine {
        if after.is_empty() && content.trim_end().ends_with('|') {
            // A table row's last cell, unclosed: empty, it would be no cell.
            return keep();
        }
        return space();
    }
    if heads.iter().any(|head| starts_block(head)) || is_table_delimiter(cut(before, HEAD)) {
        // The line ending here would start a block (`#`, a fence, a rule, a setext underline,
        // a table's delimiter row).
        return keep();
    }
    if after.is_empty() {
        // The line ends after it: its line ending becomes the break.
        return rewrite("  ");
    }
    if new_block {
        return space();
    }
    Rewrite {
        escape,
        breaks_line: true,
        ..rewrite(&format!("{HARD_BREAK}{prefix}"))
    }
}

/// `text` without its `<br>` tags.
fn without_breaks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let len = br_at(&rest[at..]).unwrap_or(1);
        if len == 1 {
            out.push('<');
        }
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    out
}

/// Whether `line` (a line of a paragraph) would start a block of its own.
fn starts_block(line: &str) -> bool {
    let line = line.trim();
    block_marker(line).is_some()
        || is_table_delimiter(line)
        || is_footnote_definition(line)
        || line.starts_with('<') && starts_html_block(line)
}

/// The container markers at the start of a line (block quote `>`s and indentation, list
/// markers as spaces) for the new line a break starts, and the rest of `before`.
fn line_prefix(before: &str) -> (String, &str) {
    let mut prefix = String::new();
    let mut rest = before;
    loop {
        let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        prefix.push_str(&rest[..spaces]);
        rest = &rest[spaces..];
        if let Some(after) = rest.strip_prefix('>') {
            prefix.push('>');
            rest = after;
            continue;
        }
        let marker = list_marker(rest);
        if marker > 0 && rest[marker..].starts_with([' ', '\t']) {
            prefix.extend(std::iter::repeat_n(' ', marker));
            rest = &rest[marker..];
            continue;
        }
        return (prefix, rest);
    }
}

/// The length of a list marker (`-`, `+`, `*`, `1.`, `1)`) at the start of `s`, or 0.
fn list_marker(s: &str) -> usize {
    if s.starts_with(['-', '+', '*']) {
        return 1;
    }
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) && s[digits..].starts_with(['.', ')']) {
        digits + 1
    } else {
        0
    }
}

/// Where in `line` (a line of running text that follows a break) a backslash keeps it from
/// starting a block: a heading, a quote, a list item, a rule, a setext underline or a fence.
fn block_marker(line: &str) -> Option<usize> {
    let first = line.chars().next()?;
    let ends_here = |rest: &str| rest.is_empty() || rest.starts_with([' ', '\t']);
    let only = |chars: &[char]| line.trim_end().chars().all(|c| chars.contains(&c));
    match first {
        '>' => Some(0),
        '#' => {
            let hashes = line.bytes().take_while(|&b| b == b'#').count();
            (hashes <= 6 && ends_here(&line[hashes..])).then_some(0)
        }
        '-' | '+' | '*' => (ends_here(&line[1..]) || only(&[first, ' ', '\t'])).then_some(0),
        '_' => (only(&['_', ' ', '\t']) && line.matches('_').count() >= 3).then_some(0),
        '=' => only(&['=']).then_some(0),
        '`' | '~' => {
            let run = line.chars().take_while(|&c| c == first).count();
            // A backtick fence's info string has no backtick: "```x```" is a code span.
            let fence = run >= 3 && (first == '~' || !line[run..].contains('`'));
            fence.then_some(0)
        }
        '0'..='9' => {
            let digits = list_marker(line).checked_sub(1).filter(|&d| d > 0)?;
            ends_here(&line[digits + 1..]).then_some(digits)
        }
        _ => None,
    }
}

/// Whether `line` starts an HTML block that interrupts a paragraph (CommonMark's kinds 1 to 6).
fn starts_html_block(line: &str) -> bool {
    const RAW: [&str; 4] = ["script", "pre", "style", "textarea"];
    const BLOCKS: [&str; 62] = [
        "address",
        "article",
        "aside",
        "base",
        "basefont",
        "blockquote",
        "body",
        "caption",
        "center",
        "col",
        "colgroup",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "frame",
        "frameset",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "iframe",
        "legend",
        "li",
        "link",
        "main",
        "menu",
        "menuitem",
        "nav",
        "noframes",
        "ol",
        "optgroup",
        "option",
        "p",
        "param",
        "search",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "title",
        "tr",
        "track",
        "ul",
    ];
    if line.starts_with("<!") || line.starts_with("<?") {
        return true;
    }
    let closing = line.starts_with("</");
    let name_start = if closing { 2 } else { 1 };
    let rest = &line[name_start..];
    let len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let name = rest[..len].to_ascii_lowercase();
    let after = &rest[len..];
    let ends = after.is_empty() || after.starts_with([' ', '\t', '>']) || after.starts_with("/>");
    ends && (BLOCKS.contains(&name.as_str()) || !closing && RAW.contains(&name.as_str()))
}

/// Whether `line` starts with a footnote's label and a colon (`[^1]: …`).
fn is_footnote_definition(line: &str) -> bool {
    line.strip_prefix("[^")
        .and_then(|rest| rest.find(']').map(|close| &rest[close + 1..]))
        .is_some_and(|rest| rest.starts_with(':'))
}

/// Whether the line after the one ending at `line_end` is a table's delimiter row
/// (`| --- | :-: |`), which would make a new line before it a table's header.
fn next_line_is_table_delimiter(source: &str, line_end: usize) -> bool {
    let Some(next) = source.get(line_end + 1..) else {
        return false;
    };
    let line = cut(next, LINE_WINDOW).split('\n').next().unwrap_or("");
    // Inside containers, and as it is (`- |` is a delimiter row too).
    is_table_delimiter(line) || is_table_delimiter(line_prefix(line).1)
}

/// Whether `row` is a table's delimiter row (`| --- | :-: |`).
fn is_table_delimiter(row: &str) -> bool {
    let row = row.trim();
    row.contains('-')
        && row.contains(['|', ':'])
        && row
            .chars()
            .all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t' | '>'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `source` with the `<br>` at its first `<` rewritten in `place`.
    fn one(source: &str, place: Place) -> String {
        let start = source.find('<').unwrap();
        let end = start + source[start..].find('>').unwrap() + 1;
        let rewrite = rewrite(source, start..end, place, Lines::default());
        let mut out = source.to_owned();
        if let Some(at) = rewrite.escape {
            out.insert(at, '\\');
        }
        out.replace_range(rewrite.range.clone(), &rewrite.text);
        if let Some(at) = rewrite.break_before {
            out.insert_str(at, "  ");
        }
        out
    }

    const TOP: Place = Place::Lines { start: 0 };

    #[test]
    fn br_tags_are_recognised_in_every_spelling() {
        for tag in [
            "<br>",
            "<BR>",
            "<br/>",
            "<br />",
            "<Br\t/>",
            "<br class=\"x\">",
        ] {
            assert!(is_br(tag), "{tag}");
        }
        for tag in ["<b>", "<brr>", "<bra>", "</br>", "<br", "br>", "<p>"] {
            assert!(!is_br(tag), "{tag}");
        }
    }

    #[test]
    fn a_break_in_running_text_is_a_hard_break() {
        assert_eq!(one("a<br>b", TOP), "a  \nb");
        assert_eq!(one("a <br/> b", TOP), "a   \nb");
        // A run of breaks is one.
        assert_eq!(one("a<br><BR />  <br>b", TOP), "a  \nb");
        // At the end of a line, the line ending is the break.
        assert_eq!(one("a<br>\nb", TOP), "a  \nb");
        assert_eq!(one("a<br> \r\nb", TOP), "a  \r\nb");
        // With nothing before it on its line, the line ending before it is.
        assert_eq!(one("a\n<br>b", TOP), "a  \nb");
        assert_eq!(one("a\r\n<br>b", TOP), "a  \r\nb");
        assert_eq!(one("<br>b", TOP), "b");
        // Alone on its line, the line goes.
        assert_eq!(one("a\n<br>\nb", TOP), "a  \nb");
        assert_eq!(
            one("> a\n> <br>\n> b", Place::Lines { start: 2 }),
            "> a  \n> b"
        );
        // What follows stays running text.
        assert_eq!(one("<br>> b", TOP), "\\> b");
        assert_eq!(one("a\n<br># b", TOP), "a  \n\\# b");
        assert_eq!(one("a\n<br><div>", TOP), "a\n<br><div>");
    }

    #[test]
    fn the_new_line_keeps_its_containers_and_stays_running_text() {
        let item = |s: &str| one(s, Place::Lines { start: 2 });
        assert_eq!(item("- a<br>b"), "- a  \n  b");
        assert_eq!(item("> a<br>b"), "> a  \n> b");
        assert_eq!(
            one("> 10. a<br>b", Place::Lines { start: 6 }),
            "> 10. a  \n>     b"
        );
        assert_eq!(item("- a\n  c<br>b"), "- a\n  c  \n  b");
        for (after, escaped) in [
            ("# b", "\\# b"),
            ("> b", "\\> b"),
            ("- b", "\\- b"),
            ("* b", "\\* b"),
            ("+ b", "\\+ b"),
            ("1. b", "1\\. b"),
            ("12) b", "12\\) b"),
            ("---", "\\---"),
            ("***", "\\***"),
            ("___", "\\___"),
            ("_", "_"),
            ("===", "\\==="),
            ("```rust", "\\```rust"),
            ("~~~", "\\~~~"),
            // Running text as it is.
            ("#tag", "#tag"),
            ("*emphasis*", "*emphasis*"),
            ("-1 degrees", "-1 degrees"),
            ("```code``` span", "```code``` span"),
            ("1.5 m", "1.5 m"),
            ("<b>bold</b>", "<b>bold</b>"),
        ] {
            assert_eq!(
                one(&format!("a<br>{after}"), TOP),
                format!("a  \n{escaped}")
            );
        }
    }

    #[test]
    fn where_a_line_cannot_break_it_is_a_space() {
        assert_eq!(one("| a<br>b |", Place::OneLine), "| a b |");
        assert_eq!(one("| a <br> b |", Place::OneLine), "| a b |");
        assert_eq!(one("| a<br> |", Place::OneLine), "| a |");
        assert_eq!(one("# a<br>b", Place::OneLine), "# a b");
        assert_eq!(one("<br># a\n---", Place::OneLine), "\\# a\n---");
        assert_eq!(one("a\n<br>\r\n---", Place::OneLine), "a\n---");
        assert_eq!(one("# # <br>", Place::OneLine), "# # <br>");
        assert_eq!(one("a |<br>\n|-|-|", Place::OneLine), "a |<br>\n|-|-|");
        // A new line that would be an HTML block or a table header.
        assert_eq!(one("a<br><div>b</div>", TOP), "a <div>b</div>");
        // A comment after it (removed) would change the line.
        assert_eq!(one("a<br><!-- c -->", TOP), "a<br><!-- c -->");
        // A list item's `|` alone would be a table's delimiter row.
        assert_eq!(one("- |<br>", Place::Lines { start: 0 }), "- |<br>");
        assert_eq!(one("a<br>[^1]: b", TOP), "a [^1]: b");
        assert_eq!(
            one("a<br>b | c\n| - | - |\n", TOP),
            "a<br>b | c\n| - | - |\n"
        );
        assert_eq!(one("<br>|===\n- |\n", TOP), "<br>|===\n- |\n");
        // Lines that would start a block: as it is.
        for text in [
            "```<br>`",
            "a\n#<br>b",
            "a\n---<br>b",
            "a\n|-|-|<br>b",
            "-<br>x\n---",
        ] {
            assert_eq!(one(text, TOP), text);
        }
        // The whole run.
        assert_eq!(one("```<br><br>`", TOP), "```<br><br>`");
        let second = "```<br>x<br>`";
        let at = second.rfind("<br>").unwrap();
        let first = rewrite(second, 3..7, TOP, Lines::default());
        assert_eq!(first.text, "<br>");
        assert_eq!(
            rewrite(second, at..at + 4, TOP, Lines::default()).text,
            "<br>"
        );
        // Where an earlier break ends the line, the line from there.
        let text = "a<br>```<br>x<br>`";
        let at = text.rfind("<br>").unwrap();
        let lines = Lines {
            head: 5,
            removed: 0,
        };
        assert_eq!(rewrite(text, at..at + 4, TOP, lines).text, "<br>");
        // A line a comment is removed from stays as it is.
        let text = "- [ ] <!--\n--><br>x";
        let at = text.find("<br>").unwrap();
        let lines = Lines {
            head: 0,
            removed: at,
        };
        assert_eq!(rewrite(text, at..at + 4, TOP, lines).text, "<br>");
        // Very long lines stay as they are.
        let long = format!("{}<br>b", "a".repeat(LINE_WINDOW + 1));
        assert_eq!(one(&long, TOP), long);
        assert_eq!(one("-<br>x\n---", Place::OneLine), "-<br>x\n---");
        assert_eq!(
            one("- [ ] <br>\nb", Place::Lines { start: 0 }),
            "- [ ] <br>\nb"
        );
        assert_eq!(
            one("- <br><br>\na", Place::Lines { start: 0 }),
            "- <br><br>\na"
        );
    }
}
