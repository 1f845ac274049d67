//! Plain text of a raw HTML fragment embedded in Markdown: tags and comments removed, common
//! entities decoded, whitespace tidied line by line.

/// The text of an HTML fragment: tags and comments dropped, what is never shown (scripts,
/// styles, `<noscript>`, `<template>`, elements hidden by `hidden`, `aria-hidden="true"` or a
/// `display:none` style) dropped with its content, entities decoded, each line's whitespace
/// collapsed and blank lines removed.
pub(super) fn strip_tags(html: &str) -> String {
    super::render::tidy(&raw_text(html, None))
}

/// An `<img>` with alt text, as [`raw_text`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Image {
    /// Its alt text, entities decoded.
    pub alt: String,
    /// Its `src`, entities decoded (empty when it has none).
    pub src: String,
}

/// What [`raw_text`] writes where an image was (U+FFFC, the object replacement character).
pub(super) const IMAGE_MARK: char = '\u{FFFC}';

/// The text of an HTML fragment as [`strip_tags`] reads it, its whitespace as it is. With
/// `images`, each shown `<img>` with alt text is pushed there and marked in the text by an
/// [`IMAGE_MARK`].
pub(super) fn raw_text(html: &str, mut images: Option<&mut Vec<Image>>) -> String {
    let mut raw = String::with_capacity(html.len());
    let mut rest = html;
    // The hidden element being skipped, and how many elements of its name are open in it.
    let mut hiding: Option<(String, usize)> = None;
    while let Some(open) = rest.find('<') {
        if hiding.is_none() {
            raw.push_str(&rest[..open]);
        }
        let after = &rest[open..];
        let close = if after.starts_with("<!--") {
            after.find("-->").map(|i| i + 3)
        } else if hiding.is_none()
            && let Some(name) = raw_text_element(after)
        {
            // A script's or style's content is no text: up to its end tag.
            let closing = format!("</{name}");
            find_ignoring_case(after, &closing)
                .map(|at| at + after[at..].find('>').map_or(after.len() - at, |i| i + 1))
        } else if looks_like_tag(after) {
            let end = tag_end(after);
            let tag = &after[..end.unwrap_or(after.len())];
            if let Some((name, depth)) = &mut hiding {
                let (tag_name, closing) = tag_name(tag);
                if tag_name == *name {
                    if closing {
                        *depth -= 1;
                    } else if !tag.ends_with("/>") {
                        *depth += 1;
                    }
                }
                if *depth == 0 {
                    hiding = None;
                    push_boundary(&mut raw, after);
                }
                rest = end.map_or("", |len| &after[len..]);
                continue;
            }
            if let Some(name) = hides(tag) {
                push_boundary(&mut raw, after);
                hiding = Some((name, 1));
            } else if let Some(images) = images.as_deref_mut()
                && let Some(image) = image(tag)
            {
                images.push(image);
                raw.push(IMAGE_MARK);
            }
            end
        } else {
            if hiding.is_none() {
                raw.push('<');
            }
            rest = &after[1..];
            continue;
        };
        // A block boundary starts a new line and a table cell's a new word, as a browser
        // shows them; inline tags join their neighbours.
        if hiding.is_none() {
            push_boundary(&mut raw, after);
        }
        match close {
            Some(len) => rest = &after[len..],
            // An unterminated tag swallows the rest, as a browser would.
            None => rest = "",
        }
    }
    if hiding.is_none() {
        raw.push_str(rest);
    }
    decode_entities(&raw)
}

/// What the tag at the start of `tag` separates, written to `raw`: a line break for a block,
/// a space for a table cell.
fn push_boundary(raw: &mut String, tag: &str) {
    match boundary(tag) {
        Boundary::Line => raw.push('\n'),
        Boundary::Word => raw.push(' '),
        Boundary::None => {}
    }
}

/// The name of the element at the start of `s` when its content is raw text that is never
/// shown (`<script>`, `<style>`, `<noscript>`, `<iframe>`): it ends at the first end tag of
/// its name, or with the fragment.
fn raw_text_element(s: &str) -> Option<&'static str> {
    RAW_TEXT.into_iter().find(|name| {
        s.get(1..=name.len())
            .is_some_and(|tag| tag.eq_ignore_ascii_case(name))
            && s[name.len() + 1..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c == '/' || c.is_whitespace())
    })
}

/// Elements whose content is raw text, never shown.
const RAW_TEXT: [&str; 4] = ["script", "style", "noscript", "iframe"];

/// Elements whose content is never shown as text, beside those of [`RAW_TEXT`] (as
/// the HTML parser drops them).
const NEVER_SHOWN: &[&str] = &[
    "template", "svg", "canvas", "object", "audio", "video", "select", "textarea", "button", "map",
    "head", "title",
];

/// Elements that have no content (no end tag): hiding one hides nothing after it.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// The lowercase name of the opening tag `tag` (`<span …>`) when its element and everything
/// in it is never shown: one of [`RAW_TEXT`] or [`NEVER_SHOWN`], or one hidden by its attributes (`hidden`,
/// `aria-hidden="true"`, a `display:none` or `visibility:hidden` style).
pub(super) fn hides(tag: &str) -> Option<String> {
    let (name, closing) = tag_name(tag);
    if closing || name.is_empty() || VOID.contains(&name.as_str()) || tag.ends_with("/>") {
        return None;
    }
    let never_shown = NEVER_SHOWN.contains(&name.as_str()) || RAW_TEXT.contains(&name.as_str());
    (never_shown || hidden_by_attributes(tag)).then_some(name)
}

/// Whether the tag's attributes hide its element.
fn hidden_by_attributes(tag: &str) -> bool {
    // `hidden="until-found"` is text the browser's find in page reveals.
    let hidden =
        attribute(tag, "hidden").is_some_and(|v| !v.trim().eq_ignore_ascii_case("until-found"));
    if hidden
        || attribute(tag, "aria-hidden").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return true;
    }
    attribute(tag, "style").as_deref().is_some_and(style_hides)
}

/// Whether a `style` attribute hides its element: a declaration `display: none` or
/// `visibility: hidden` (case and `!important` aside), not those words in a comment, a string
/// or a custom property's value.
pub(super) fn style_hides(style: &str) -> bool {
    declarations(style).into_iter().any(|(property, value)| {
        let value = value.trim_end_matches("!important").trim_end();
        (property == "display" && value == "none")
            || (property == "visibility" && value == "hidden")
    })
}

/// The declarations of a `style` attribute as (property, value), both lowercase and trimmed:
/// comments left out, a `;` inside quotes no end of a declaration.
fn declarations(style: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    let mut chars = style.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), '\\') => {
                current.push(c);
                current.extend(chars.next());
                continue;
            }
            (None, '"' | '\'') => quote = Some(c),
            (None, '/') if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                current.push(' ');
                continue;
            }
            (None, ';') => {
                out.extend(declaration(&std::mem::take(&mut current)));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.extend(declaration(&current));
    out
}

/// One `property: value` declaration, lowercase and trimmed; `None` without a `:`.
fn declaration(text: &str) -> Option<(String, String)> {
    let (property, value) = text.split_once(':')?;
    Some((
        property.trim().to_ascii_lowercase(),
        value.trim().to_ascii_lowercase(),
    ))
}

/// The code language a `class` attribute names (`language-x`, `lang-x`, `highlight-x`,
/// `sourcecode-x`; not `default`, `none` or `text`), the first of its words that is `usable`.
pub(super) fn class_language(class: &str, usable: impl Fn(&str) -> bool) -> Option<&str> {
    class.split_whitespace().find_map(|word| {
        ["language-", "lang-", "highlight-", "sourcecode-"]
            .into_iter()
            .find_map(|prefix| word.strip_prefix(prefix))
            .filter(|lang| !lang.is_empty() && !matches!(*lang, "default" | "none" | "text"))
            .filter(|lang| usable(lang))
    })
}

/// The image an `<img>` tag shows, when it has alt text and is not hidden.
pub(super) fn image(tag: &str) -> Option<Image> {
    if tag_name(tag) != ("img".to_owned(), false) || hidden_by_attributes(tag) {
        return None;
    }
    let alt = attribute(tag, "alt")?;
    (!alt.trim().is_empty()).then(|| Image {
        alt,
        src: attribute(tag, "src").unwrap_or_default(),
    })
}

/// The lowercase name of the tag `tag` (`<a …>` or `</a>`), and whether it is an end tag.
pub(super) fn tag_name(tag: &str) -> (String, bool) {
    let (body, closing) = match tag.strip_prefix("</") {
        Some(body) => (body, true),
        None => (tag.strip_prefix('<').unwrap_or(""), false),
    };
    let end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(body.len());
    (body[..end].to_ascii_lowercase(), closing)
}

/// The value of attribute `name` (ASCII, lowercase) of the opening tag `tag`, entities
/// decoded: `Some("")` for one without a value, `None` when it is not there.
pub(super) fn attribute(tag: &str, name: &str) -> Option<String> {
    let body = tag.strip_prefix('<')?;
    let body = body.strip_suffix('>').unwrap_or(body);
    // Past the tag's name.
    let mut at = body
        .find(|c: char| c.is_ascii_whitespace() || c == '/')
        .unwrap_or(body.len());
    let bytes = body.as_bytes();
    while at < bytes.len() {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        let name_start = at;
        while at < bytes.len()
            && !(bytes[at].is_ascii_whitespace() || matches!(bytes[at], b'=' | b'/'))
        {
            at += 1;
        }
        let attr_name = &body[name_start..at];
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let value = if bytes.get(at) == Some(&b'=') {
            at += 1;
            while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            match bytes.get(at) {
                Some(&quote @ (b'"' | b'\'')) => {
                    let start = at + 1;
                    let len = body[start..]
                        .find(quote as char)
                        .unwrap_or(body.len() - start);
                    at = (start + len + 1).min(body.len());
                    &body[start..start + len]
                }
                _ => {
                    let start = at;
                    while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
                        at += 1;
                    }
                    &body[start..at]
                }
            }
        } else {
            ""
        };
        if attr_name.eq_ignore_ascii_case(name) {
            return Some(decode_entities(value));
        }
        if attr_name.is_empty() && at == name_start {
            at += 1;
        }
    }
    None
}

/// Where `needle` (ASCII) first occurs in `haystack`, case ignored.
pub(super) fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
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
pub(super) fn tag_end(s: &str) -> Option<usize> {
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
pub(super) fn decode_entities(text: &str) -> String {
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

    /// Only a declaration hides: `display:none` in a comment, a string or a custom property's
    /// value does not (it did, matched as a substring).
    #[test]
    fn a_style_hides_by_its_declarations() {
        for hides in [
            "display:none",
            "color: red; DISPLAY : None !important",
            "visibility: hidden",
        ] {
            assert!(style_hides(hides), "{hides}");
        }
        for shows in [
            "display: block; /* display:none */",
            "--x: display:none",
            "content:'display:none'",
            "content: \"a;display:none\"",
            "display: inline-none",
        ] {
            assert!(!style_hides(shows), "{shows}");
        }
        assert!(!hidden_by_attributes("<div hidden=\"until-found\">"));
        assert!(hidden_by_attributes("<div hidden>"));
    }

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
