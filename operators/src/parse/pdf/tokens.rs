//! An upper bound of what lopdf's content parser builds from a content stream, counted without
//! allocating. `Content::decode` costs some 600 bytes per operation (and over 100 per operand),
//! so a few kilobytes of compressed `q q q …` become gigabytes; counting first lets a page be
//! refused before that.
//!
//! [`count`] is purely lexical and never loses its place, so no content can hide tokens from
//! it: every place where lopdf could start an object or an operator counts one, whether lopdf
//! reads it as such or not (inside a string, a comment or inline image data it does not). That
//! is each delimiter (`( ) < > [ ] { } / %`), each run of regular characters and, inside a run,
//! each change between letters and digits, each sign and each second point in a number (`1.5.5` is
//! two numbers, `1-1` too) and each `null`, `true` or `false` (lopdf reads `nullq` as `null` and `q`).
//!
//! [`count_content`] counts a content stream so, except that it follows lopdf's content parser
//! through literal strings, hex strings and comments, as [`blank_bad_hex_strings`] does: a
//! string is one object whatever it holds (a line of text shown with one `Tj` was hundreds of
//! tokens, and a page of 4,000 operators was refused), a comment none. Those are the only
//! places where the parser reads bytes otherwise than as objects and operators, and it reads
//! them as they are read here (or stops, and builds nothing more), but for the data of an
//! inline image, which it takes by its length: from an `ID` on, the rest is counted as
//! [`count`] counts it.

use super::preload::{is_white, skip_space, string_end};

/// Tokens of `content` lopdf could build: objects and operators, counted generously.
pub(crate) fn count(content: &[u8]) -> usize {
    count_with(content, false)
}

/// Tokens of the content stream `content` (with [`blank_bad_hex_strings`] done, as lopdf's
/// content parser is given it) the parser could build: objects and operators, a string one
/// (see the module).
pub(crate) fn count_content(content: &[u8]) -> usize {
    count_with(content, true)
}

/// Tokens of `content`, its strings one each and its comments none when `strings` is set
/// (until an `ID`).
fn count_with(content: &[u8], strings: bool) -> usize {
    let mut tokens = 0usize;
    // The class of the byte before: a run of regular characters starts after white space or a
    // delimiter.
    let mut previous = WHITE;
    // Whether the number being read has its point: a second one starts another number.
    let mut point = false;
    // Where the last `null`, `true` or `false` ended.
    let mut after_keyword = usize::MAX;
    let mut i = 0;
    while i < content.len() {
        let c = content[i];
        let class = CLASSES[usize::from(c)];
        if strings && class == DELIMITER {
            // Where the parser goes on after the delimiter, as `blank_bad_hex_strings` goes.
            tokens += 1;
            i = match c {
                b'(' => string_end(content, i).unwrap_or(content.len()),
                b'%' => {
                    tokens -= 1;
                    let mut end = i;
                    skip_space(content, &mut end);
                    end
                }
                b'<' if content.get(i + 1) == Some(&b'<') => {
                    tokens += 1;
                    i + 2
                }
                b'<' => hex_string_end(content, i + 1) + 1,
                _ => i + 1,
            };
            previous = DELIMITER;
            continue;
        } else if class == DELIMITER {
            tokens += 1;
        } else if class != WHITE {
            let starts = if previous != class {
                true
            } else if class == NUMBER {
                c == b'+' || c == b'-' || (c == b'.' && point)
            } else if class == LETTER {
                i == after_keyword
            } else {
                true
            };
            if class == LETTER && (c == b'n' || c == b't' || c == b'f') {
                let rest = &content[i..];
                let keyword = if rest.starts_with(b"null") || rest.starts_with(b"true") {
                    4
                } else if rest.starts_with(b"false") {
                    5
                } else {
                    0
                };
                if keyword > 0 {
                    // A keyword is a token, and so is what follows it.
                    after_keyword = i + keyword;
                    tokens += usize::from(!starts);
                }
            }
            if starts {
                if strings && class == LETTER && content[i..].starts_with(b"ID") {
                    // Inline image data, which the parser takes by length, not as strings.
                    return tokens + count_with(&content[i..], false);
                }
                point = false;
                tokens += 1;
            }
            point |= c == b'.';
        }
        previous = class;
        i += 1;
    }
    tokens
}

/// `content` with the bytes of malformed hex strings (`<zz>`) blanked, so that such a string
/// reads as empty: lopdf's content parser stops at one, and the rest of the page is lost.
/// Literal strings and comments are skipped as the parser skips them (with the load
/// pre-check's lexing).
pub(crate) fn blank_bad_hex_strings(content: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut fixed: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < content.len() {
        match content[i] {
            b'%' => skip_space(content, &mut i),
            b'(' => i = string_end(content, i).unwrap_or(content.len()),
            b'<' if content.get(i + 1) == Some(&b'<') => i += 2,
            b'<' => {
                let start = i + 1;
                let end = hex_string_end(content, start);
                let bad = |c: &u8| !c.is_ascii_hexdigit() && !is_white(*c);
                if content[start..end].iter().any(bad) {
                    let bytes = fixed.get_or_insert_with(|| content.to_vec());
                    for c in &mut bytes[start..end] {
                        if bad(c) {
                            *c = b' ';
                        }
                    }
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    match fixed {
        Some(bytes) => std::borrow::Cow::Owned(bytes),
        None => std::borrow::Cow::Borrowed(content),
    }
}

/// Where the hex string whose digits start at `start` ends: its `>`, or the end of `content`.
fn hex_string_end(content: &[u8], start: usize) -> usize {
    (content[start..].iter())
        .position(|&c| c == b'>')
        .map_or(content.len(), |at| start + at)
}

/// Byte classes: white space, delimiters, letters (and `*'"`: operators, `null`, `true`,
/// `false`), digits (and signs and points), anything else (lopdf stops there, or it is part of
/// a name).
const WHITE: u8 = 0;
const DELIMITER: u8 = 1;
const LETTER: u8 = 2;
const NUMBER: u8 = 3;
const OTHER: u8 = 4;

/// The class of each byte.
static CLASSES: [u8; 256] = {
    let mut classes = [OTHER; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        classes[c] = match b {
            b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0' => WHITE,
            b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%' => DELIMITER,
            b'a'..=b'z' | b'A'..=b'Z' | b'*' | b'\'' | b'"' => LETTER,
            b'0'..=b'9' | b'+' | b'-' | b'.' => NUMBER,
            _ => OTHER,
        };
        c += 1;
    }
    classes
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_hex_strings_are_blanked_and_nothing_else_changes() {
        let good: &[u8] = b"<< /A 1 >> BD <48656c6c6f> Tj (a <zz> in a string) Tj % <zz> comment\n";
        assert!(matches!(
            blank_bad_hex_strings(good),
            std::borrow::Cow::Borrowed(_)
        ));
        let bad: &[u8] = b"(ok) Tj <4zz8> Tj (b) Tj";
        assert_eq!(&*blank_bad_hex_strings(bad), b"(ok) Tj <4  8> Tj (b) Tj");
    }
    use lopdf::Object;
    use lopdf::content::Content;

    /// The first, plainer form of [`count`].
    fn reference_count(content: &[u8]) -> usize {
        let mut tokens = 0usize;
        let mut i = 0;
        while i < content.len() {
            let c = content[i];
            if is_white(c) {
                i += 1;
            } else if is_delimiter(c) {
                tokens += 1;
                i += 1;
            } else {
                let end = content[i..]
                    .iter()
                    .position(|&c| is_white(c) || is_delimiter(c))
                    .map_or(content.len(), |p| i + p);
                tokens += reference_in_run(&content[i..end]);
                i = end;
            }
        }
        tokens
    }

    /// Tokens in one run of regular characters.
    fn reference_in_run(run: &[u8]) -> usize {
        let mut tokens = 0;
        let mut previous: Option<Class> = None;
        // Whether the number being read has its point: a second one starts another number.
        let mut point = false;
        // Where the last `null`, `true` or `false` ended.
        let mut after_keyword = usize::MAX;
        for (i, &c) in run.iter().enumerate() {
            let class = reference_class(c);
            let starts = match (previous, class) {
                (None, _) => true,
                (Some(p), _) if p != class => true,
                (_, Class::Number) => matches!(c, b'+' | b'-') || (c == b'.' && point),

                (_, Class::Letter) => i == after_keyword,
                (_, Class::Other) => true,
            };
            if class == Class::Letter {
                let rest = &run[i..];
                if let Some(k) = [&b"null"[..], b"true", b"false"]
                    .iter()
                    .find(|k| rest.starts_with(k))
                {
                    // A keyword is a token, and so is what follows it.
                    after_keyword = i + k.len();
                    tokens += usize::from(!starts);
                }
            }
            if starts {
                point = false;
            }
            point |= c == b'.';
            tokens += usize::from(starts);
            previous = Some(class);
        }
        tokens
    }

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Class {
        /// Letters and `*'"`: operators, `null`, `true`, `false`.
        Letter,
        /// Digits, signs and points.
        Number,
        /// Anything else (lopdf stops there, or it is part of a name).
        Other,
    }

    fn reference_class(c: u8) -> Class {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'*' | b'\'' | b'"' => Class::Letter,
            b'0'..=b'9' | b'+' | b'-' | b'.' => Class::Number,
            _ => Class::Other,
        }
    }

    fn is_white(c: u8) -> bool {
        matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
    }

    fn is_delimiter(c: u8) -> bool {
        matches!(
            c,
            b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
        )
    }

    /// Objects and operators lopdf builds from `content`.
    fn built(content: &[u8]) -> usize {
        fn objects(o: &Object) -> usize {
            1 + match o {
                Object::Array(a) => a.iter().map(objects).sum(),
                Object::Dictionary(d) => d.iter().map(|(_, v)| 1 + objects(v)).sum(),
                Object::Stream(s) => s.dict.iter().map(|(_, v)| 1 + objects(v)).sum(),
                _ => 0,
            }
        }
        Content::decode(content).map_or(0, |c| {
            c.operations
                .iter()
                .map(|o| 1 + o.operands.iter().map(objects).sum::<usize>())
                .sum()
        })
    }

    #[test]
    fn counts_at_least_what_lopdf_builds() {
        let cases: &[&[u8]] = &[
            b"BT /F1 12 Tf 72 700 Td (Hello (nested) \\) world) Tj ET",
            b"[(A)-20(B)1.5(C)]TJ <414243> Tj",
            b"q Q q\nQ",
            b"1a1a1a1a1a1a",
            b"nullnullnullq truefalseq",
            b"1.2.3.4 5-5+5 Td",
            b"/a/b/c<</d 1/e[1 2 3]>>BDC EMC",
            b"% a comment\nq Q %another\nBT ET",
            b"BI /W 1 /H 1 /BPC 8 /CS /G ID xEI q q q q q q Q Q",
            b"BI /W 2 /H 1 /BPC 8 /CS /G ID (EI q q q q q q )\nEI\nq",
            b"0 0 1 rg 0 0 m 10 10 l S",
            b"[1 0 R 2 0 R] TJ",
        ];
        for content in cases {
            let (ours, theirs) = (count(content), built(content));
            assert!(
                ours >= theirs,
                "{}: {ours} < {theirs}",
                String::from_utf8_lossy(content)
            );
        }
    }

    #[test]
    fn counts_close_to_what_real_content_builds() {
        let content = b"BT /F1 12 Tf 72 700 Td [(Hello)-250(world)]TJ 0 -14 Td (Again) Tj ET";
        let (ours, theirs) = (count(content), built(content));
        assert!(ours >= theirs && ours <= 3 * theirs, "{ours} vs {theirs}");
    }

    /// Objects and operators lopdf builds from `content` as the page reader hands it over.
    fn built_blanked(content: &[u8]) -> usize {
        built(&blank_bad_hex_strings(content))
    }

    /// A line of text shown with one `Tj` is a few tokens, not one for each word and number in
    /// it (a page of 400 such lines, 4,400 operators, counted 1.6 million and was refused).
    #[test]
    fn a_string_in_content_is_one_object() {
        let line: String = (0..400).map(|k| format!("r0c{k} ")).collect();
        let content = format!("BT /F1 8 Tf 20 700 Td ({line}) Tj ET");
        let content = content.as_bytes();
        assert!(count(content) > 1200, "{}", count(content));
        // BT / F 1 8 Tf 20 700 Td (…) Tj ET
        assert_eq!(count_content(content), 12);
        assert!(count_content(content) >= built(content));
        // Nested and escaped parentheses, hex strings, dictionaries and comments.
        let content = b"(a (b) \\( c) Tj <00410042 0043> Tj % (q q q\nq Q\n<<\n/a 1 >> BDC EMC";
        assert_eq!(count_content(content), 15);
        assert!(count_content(content) >= built(content));
    }

    /// Inline image data is not read as strings: lopdf takes it by its length, and what follows
    /// its end counts, whatever the data holds.
    #[test]
    fn inline_image_data_is_counted_as_it_is() {
        let content = b"BI /W 2 /H 1 /BPC 8 /CS /G ID ((\nEI q q q q q q q q )";
        assert!(built(content) >= 9, "{}", built(content));
        assert!(count_content(content) >= built(content));
    }

    proptest::proptest! {
        /// Random content made of the pieces lopdf's content grammar turns on, strings,
        /// comments and inline images among them.
        #[test]
        fn content_counts_never_fewer_than_lopdf_builds(pieces in proptest::collection::vec(0usize..32, 0..60)) {
            const PIECES: [&[u8]; 32] = [
                b" ", b"\n", b"q", b"Q", b"1", b"-", b"(", b")", b"\\", b"<", b">", b"<<", b">>",
                b"[", b"]", b"/a", b"%", b"\r", b"Tj", b"0a", b"z", b"null", b"BI ",
                b"BI /W 1 /H 1 /BPC 8 /CS /G ", b"ID", b"ID ", b"EI", b" EI ", b"(x) Tj ",
                b"<41> Tj ", b"\t", b"\\(",
            ];
            let content: Vec<u8> = pieces.iter().flat_map(|&p| PIECES[p].iter().copied()).collect();
            let blanked = blank_bad_hex_strings(&content);
            proptest::prop_assert!(count_content(&blanked) >= built_blanked(&content));
            proptest::prop_assert!(count_content(&blanked) <= count(&blanked));
        }
    }

    proptest::proptest! {
        /// Random content made of the pieces lopdf's grammar turns on.
        #[test]
        fn never_counts_fewer_than_lopdf_builds(pieces in proptest::collection::vec(0usize..27, 0..60)) {
            const PIECES: [&[u8]; 27] = [
                b" ", b"\n", b"q", b"Q", b"1", b".", b"-", b"+", b"null", b"true", b"false", b"(",
                b")", b"\\", b"<", b">", b"[", b"]", b"/", b"%", b"BI", b"ID", b"EI", b"a", b"#", b"\xe9", b"\t",
            ];
            let content: Vec<u8> = pieces.iter().flat_map(|&p| PIECES[p].iter().copied()).collect();
            proptest::prop_assert!(count(&content) >= built(&content));
            proptest::prop_assert_eq!(count(&content), reference_count(&content));
        }
    }
}
