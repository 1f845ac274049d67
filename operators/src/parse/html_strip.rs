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
        } else if looks_like_tag(after) {
            after.find('>').map(|i| i + 1)
        } else {
            raw.push('<');
            rest = &after[1..];
            continue;
        };
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

    #[test]
    fn decodes_entities() {
        assert_eq!(
            decode_entities("&lt;x&gt; &#65;&#x42; &bogus; &"),
            "<x> AB &bogus; &"
        );
        assert_eq!(decode_entities("&#0; &#xD800;"), "&#0; &#xD800;");
    }
}
