//! Plain text of a raw HTML fragment embedded in Markdown: tags and comments removed, common
//! entities decoded, whitespace tidied line by line.

/// The text of an HTML fragment: tags and comments dropped, entities decoded, each line's
/// whitespace collapsed and blank lines removed.
pub(super) fn strip_tags(html: &str) -> String {
    let mut raw = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        raw.push_str(&rest[..open]);
        let after = &rest[open..];
        let close = if after.starts_with("<!--") {
            after.find("-->").map(|i| i + 3)
        } else if let Some(name) = hidden_element(after) {
            // A script's or style's content is no text: up to its end tag.
            let closing = format!("</{name}");
            find_ignoring_case(after, &closing)
                .map(|at| at + after[at..].find('>').map_or(after.len() - at, |i| i + 1))
        } else if looks_like_tag(after) {
            tag_end(after)
        } else {
            raw.push('<');
            rest = &after[1..];
            continue;
        };
        // A block boundary starts a new line and a table cell's a new word, as a browser
        // shows them; inline tags join their neighbours.
        match boundary(after) {
            Boundary::Line => raw.push('\n'),
            Boundary::Word => raw.push(' '),
            Boundary::None => {}
        }
        match close {
            Some(len) => rest = &after[len..],
            // An unterminated tag swallows the rest, as a browser would.
            None => rest = "",
        }
    }
    raw.push_str(rest);
    let decoded = decode_entities(&raw);
    decoded
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The name of the element at the start of `s` when its content is never text (`<script>`,
/// `<style>`).
fn hidden_element(s: &str) -> Option<&'static str> {
    ["script", "style"].into_iter().find(|name| {
        s.get(1..=name.len())
            .is_some_and(|tag| tag.eq_ignore_ascii_case(name))
            && s[name.len() + 1..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c == '/' || c.is_whitespace())
    })
}

/// Where `needle` (ASCII) first occurs in `haystack`, case ignored.
fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The level and text of an HTML block that is one heading element (`<h1 align="center">` with
/// a logo and the title, as READMEs start), if it is one and has text.
pub(super) fn heading(html: &str) -> Option<(usize, String)> {
    let html = html.trim();
    let lower = html.to_ascii_lowercase();
    let level = lower.strip_prefix("<h")?.chars().next()?.to_digit(10)? as usize;
    let after = lower.as_bytes().get(3).copied()?;
    if !(1..=6).contains(&level) || !(after == b'>' || after.is_ascii_whitespace()) {
        return None;
    }
    let open_end = tag_end(&lower)?;
    let inner = lower
        .strip_suffix(&format!("</h{level}>"))?
        .get(open_end..)?;
    // One heading: no other heading or block inside.
    let blocks = [
        "<h1", "<h2", "<h3", "<h4", "<h5", "<h6", "<p", "<div", "<table", "<ul", "<ol",
    ];
    if blocks.iter().any(|tag| inner.contains(tag)) {
        return None;
    }
    let text = strip_tags(&html[open_end..open_end + inner.len()]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some((level, text))
}

/// What a tag separates in the text around it.
#[derive(Debug, PartialEq)]
pub(super) enum Boundary {
    /// A block: what follows starts a new line.
    Line,
    /// A table cell: what follows is another word.
    Word,
    /// An inline tag, comment or declaration: nothing.
    None,
}

/// What the tag at the start of `s` (`<name …>` or `</name>`) separates.
pub(super) fn boundary(s: &str) -> Boundary {
    let name = s
        .strip_prefix("</")
        .or_else(|| s.strip_prefix('<'))
        .unwrap_or("");
    let end = name
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name.len());
    let name = name[..end].to_ascii_lowercase();
    if matches!(name.as_str(), "td" | "th") {
        Boundary::Word
    } else if name == "br" || super::html::is_block(&name) {
        Boundary::Line
    } else {
        Boundary::None
    }
}

/// The length of the tag at the start of `s`, through its `>`: a `>` in a quoted attribute
/// value (`caption="a `Vec<T>`"`) is the value's, as a browser reads it. An unclosed quote
/// ends at the next `>`, which loses less text than swallowing the rest as a browser would.
fn tag_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut at = 1;
    let mut after_equals = false;
    while at < bytes.len() {
        match bytes[at] {
            b'>' => return Some(at + 1),
            b'=' => after_equals = true,
            quote @ (b'"' | b'\'') if after_equals => {
                match s[at + 1..].find(quote as char) {
                    Some(close) => at += close + 1,
                    None => return s[at..].find('>').map(|i| at + i + 1),
                }
                after_equals = false;
            }
            c if c.is_ascii_whitespace() => {}
            _ => after_equals = false,
        }
        at += 1;
    }
    None
}

/// Whether `s` (starting with `<`) opens a tag, declaration or processing instruction.
fn looks_like_tag(s: &str) -> bool {
    s[1..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
}

/// `text` with the common named entities and numeric character references decoded.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        match after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| entity(&after[1..semi]).map(|c| (c, semi)))
        {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an entity name (between `&` and `;`) stands for.
fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|&c| c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "copy" => '©',
        "reg" => '®',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_comments() {
        let html = "<div align=\"center\">\n  <img src=x>\n  <b>Bold</b>   text <!-- a > b -->\n\n</div>\n";
        assert_eq!(strip_tags(html), "Bold text");
        assert_eq!(strip_tags("<p>a < b &amp; c</p>"), "a < b & c");
        assert_eq!(strip_tags("<!-- only a comment -->"), "");
        assert_eq!(strip_tags("<p>unterminated <a href=\"x"), "unterminated");
    }

    /// The Rust book's `<Listing caption="Saving a `JoinHandle<T>` from …">` left
    /// `` ` from `thread::spawn` … "> `` as a paragraph: the tag was taken to end at `<T>`'s `>`.
    #[test]
    fn a_greater_than_sign_in_a_quoted_attribute_value_does_not_end_the_tag() {
        let html = "<Listing number=\"16-2\" caption=\"Saving a `JoinHandle<T>` from `spawn`\">\nText\n</Listing>";
        assert_eq!(strip_tags(html), "Text");
        assert_eq!(
            strip_tags("<a title='x > y' href=x>link</a> after"),
            "link after"
        );
        assert_eq!(strip_tags("<a title = \"1>0\">one</a>"), "one");
        // A quote that is no attribute value's start is an ordinary character.
        assert_eq!(strip_tags("<a b\"c>text</a>"), "text");
        // An unclosed quote: the tag ends at the next `>`, the text after it stays.
        assert_eq!(strip_tags("<a href=\"x>text</a>"), "text");
        assert_eq!(
            heading("<h2 title=\"a > b\">Title</h2>"),
            Some((2, "Title".to_string()))
        );
    }

    #[test]
    fn an_html_heading_block_is_a_heading() {
        let block = "<h1 align=\"center\">\n  <img src=\"logo.png\" alt=\"Logo\"><br>\n  Awesome <b>Tool</b>\n</h1>\n";
        assert_eq!(heading(block), Some((1, "Awesome Tool".to_owned())));
        assert_eq!(
            heading("<H2 id=x>Install</H2>"),
            Some((2, "Install".to_owned()))
        );
        assert_eq!(heading("<h2>a</h2><p>b</p>"), None);
        assert_eq!(heading("<h1><img src=x></h1>"), None);
        assert_eq!(heading("<hr>"), None);
        assert_eq!(heading("<header>x</header>"), None);
    }

    /// A script's or style's content is no text (it came through as paragraphs).
    #[test]
    fn scripts_and_styles_are_no_text() {
        assert_eq!(
            strip_tags("<script>\nvar secret = \"x\";\n</script>\n<p>kept</p>"),
            "kept"
        );
        assert_eq!(
            strip_tags("<STYLE type=\"text/css\">.x { color: red }</Style>after"),
            "after"
        );
        assert_eq!(strip_tags("<scripted>text</scripted>"), "text");
        assert_eq!(strip_tags("<script>never closed"), "");
    }

    #[test]
    fn blocks_and_cells_separate_words() {
        assert_eq!(
            strip_tags(
                "<table><tr><th>Name</th><th>Age</th></tr><tr><td>Alice</td><td>30</td></tr></table>"
            ),
            "Name Age\nAlice 30"
        );
        assert_eq!(strip_tags("<ul><li>one</li><li>two</li></ul>"), "one\ntwo");
        assert_eq!(
            strip_tags("<p>First para.</p><P>Second para.</P>"),
            "First para.\nSecond para."
        );
        assert_eq!(strip_tags("a<br>b<BR/>c"), "a\nb\nc");
        assert_eq!(
            strip_tags("<div>in<b>line</b><span>s</span></div>"),
            "inlines"
        );
        assert_eq!(boundary("<!-- p -->"), Boundary::None);
        assert_eq!(boundary("<pre class=x>"), Boundary::Line);
        assert_eq!(boundary("<picture>"), Boundary::None);
    }

    #[test]
    fn decodes_entities() {
        assert_eq!(
            decode_entities("&lt;x&gt; &#65;&#x42; &bogus; &"),
            "<x> AB &bogus; &"
        );
        assert_eq!(decode_entities("&#0; &#xD800;"), "&#0; &#xD800;");
    }
}
