//! Fast forward scanning of text by character class, with an ASCII shortcut.

/// Whether the char starting at byte `i` of `text` is whitespace, and its length in bytes.
/// `i` must be a char boundary; otherwise the byte counts as a 1-byte non-whitespace char.
#[inline]
pub(super) fn char_at(text: &str, i: usize) -> (bool, usize) {
    match text.as_bytes().get(i) {
        Some(&byte) if byte.is_ascii() => (
            matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C),
            1,
        ),
        Some(_) => match text.get(i..).and_then(|rest| rest.chars().next()) {
            Some(c) => (c.is_whitespace(), c.len_utf8()),
            None => (false, 1),
        },
        None => (false, 1),
    }
}

/// The char boundary before `at` (0 at the start).
pub(super) fn before(text: &str, at: usize) -> usize {
    text.get(..at)
        .and_then(|head| head.chars().next_back())
        .map_or(0, |c| at - c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_char_is_whitespace() {
        let text = "a \t\n\r\u{b}\u{c}\u{85}\u{a0}\u{3000}é日🎉\u{1f}x";
        for (i, c) in text.char_indices() {
            assert_eq!(char_at(text, i), (c.is_whitespace(), c.len_utf8()), "{c:?}");
        }
        for b in 0u8..128 {
            let s = (b as char).to_string();
            assert_eq!(char_at(&s, 0).0, (b as char).is_whitespace(), "{b}");
        }
    }
}
