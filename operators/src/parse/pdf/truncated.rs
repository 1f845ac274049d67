//! Content cut short (its stream ran past the end of a truncated file, or its deflate data stop
//! early): only its complete operations are read, so that a token the cut split (the `T` of
//! `Tj`, half a number) is not read as another, and an open string, array or inline image does
//! not swallow the content drawn after it.

use super::preload::{is_regular, is_white, skip_space, string_end};

/// `content` up to the end of its last complete operation: an operator outside any array or
/// dictionary, followed by white space or a delimiter (an inline image: up to its `EI`).
pub(crate) fn complete_operations(content: &[u8]) -> &[u8] {
    let mut end = 0;
    let mut depth = 0usize;
    let mut i = 0;
    while i < content.len() {
        match content[i] {
            b'%' => skip_space(content, &mut i),
            b'(' => match string_end(content, i) {
                Some(next) => i = next,
                None => break,
            },
            b'<' if content.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 2;
            }
            b'>' if content.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 2;
            }
            b'<' => match content[i..].iter().position(|&c| c == b'>') {
                Some(at) => i += at + 1,
                None => break,
            },
            b'[' => {
                depth += 1;
                i += 1;
            }
            b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'/' => i = run_end(content, i + 1),
            c if is_regular(c) => {
                let start = i;
                i = run_end(content, i);
                let token = &content[start..i];
                if depth > 0 || i == content.len() || !is_operator(token) {
                    continue;
                }
                if token == b"BI" {
                    match image_end(content, i) {
                        Some(next) => i = next,
                        None => break,
                    }
                }
                end = i;
            }
            _ => i += 1,
        }
    }
    &content[..end]
}

/// Past the run of regular characters at `i`.
fn run_end(content: &[u8], mut i: usize) -> usize {
    while content.get(i).is_some_and(|&c| is_regular(c)) {
        i += 1;
    }
    i
}

/// Whether a token is an operator (not a number, name or keyword operand).
fn is_operator(token: &[u8]) -> bool {
    token
        .iter()
        .all(|c| c.is_ascii_alphabetic() || b"*'\"".contains(c))
        && !matches!(token, b"true" | b"false" | b"null")
}

/// Past the `EI` that ends the inline image whose dictionary starts at `at`, when white space
/// comes before it and something after it.
fn image_end(content: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    loop {
        let found = i + memchr::memmem::find(&content[i..], b"EI")?;
        let next = found + 2;
        let before = found > at && is_white(content[found - 1]);
        match content.get(next) {
            Some(&c) if before && !is_regular(c) => return Some(next),
            Some(_) => i = next,
            None => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_the_cut_split_is_left_out() {
        let read = |content: &'static [u8]| {
            String::from_utf8_lossy(complete_operations(content)).into_owned()
        };
        assert_eq!(
            read(b"BT /F1 12 Tf 72 700 Td (Kept) Tj 0 -14 Td (Lo"),
            "BT /F1 12 Tf 72 700 Td (Kept) Tj 0 -14 Td"
        );
        assert_eq!(read(b"(Kept) Tj (Half) T"), "(Kept) Tj");
        assert_eq!(
            read(b"(Kept) Tj\n[(A) -20 (B)] TJ [(C) 1"),
            "(Kept) Tj\n[(A) -20 (B)] TJ"
        );
        assert_eq!(
            read(b"(a) Tj << /MCID 0 >> BDC (b) Tj 1 0 0 1 7"),
            "(a) Tj << /MCID 0 >> BDC (b) Tj"
        );
        assert_eq!(read(b"(a) Tj true null 12"), "(a) Tj");
        assert_eq!(
            read(b"q BI /W 2 /H 1 ID \x00EI\x01 EI Q (x) Tj"),
            "q BI /W 2 /H 1 ID \x00EI\x01 EI Q"
        );
        assert_eq!(read(b"q BI /W 2 /H 1 ID \x00\x01"), "q");
        assert_eq!(read(b"(a) Tj % a comment Tj"), "(a) Tj");
        assert_eq!(read(b"no"), "");
    }
}
