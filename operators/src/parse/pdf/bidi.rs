//! Right-to-left lines: glyphs arrive in visual order (left to right on the page), so a line
//! whose letters are mostly Hebrew or Arabic is reversed into logical order, keeping runs of
//! left-to-right text (numbers, Latin words) in their own order and mirroring brackets.

use std::borrow::Cow;

/// Whether `c` is a strong right-to-left character (Hebrew, Arabic and their forms).
fn is_rtl(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
}

/// Whether `c` is a strong left-to-right character.
fn is_ltr(c: char) -> bool {
    c.is_alphanumeric() && !is_rtl(c)
}

fn mirror(c: char) -> char {
    match c {
        '(' => ')',
        ')' => '(',
        '[' => ']',
        ']' => '[',
        '{' => '}',
        '}' => '{',
        '<' => '>',
        '>' => '<',
        '«' => '»',
        '»' => '«',
        other => other,
    }
}

/// Whether most strong characters of these texts are right-to-left (the page reads from the
/// right).
pub(crate) fn mostly_rtl<'a>(texts: impl Iterator<Item = &'a str>) -> bool {
    let (mut rtl, mut ltr) = (0usize, 0usize);
    for c in texts.flat_map(str::chars) {
        if is_rtl(c) {
            rtl += 1;
        } else if is_ltr(c) {
            ltr += 1;
        }
    }
    rtl > ltr
}

/// The text of one glyph as it reads left to right on the page. A glyph that stands for
/// several right-to-left characters (a lam-alef ligature, `لا`; a letter with its vowel mark)
/// shows them from right to left, so they are reversed here: reversing the line then brings
/// them back in order, where reversing the glyph's own text in logical order swapped them
/// (`الأولى` read `األولى`).
pub(crate) fn visual(glyph: &str) -> Cow<'_, str> {
    let mut chars = glyph.chars();
    let several = chars.next().is_some() && chars.next().is_some();
    if several && glyph.chars().any(is_rtl) && !glyph.chars().any(is_ltr) {
        Cow::Owned(glyph.chars().rev().collect())
    } else {
        Cow::Borrowed(glyph)
    }
}

/// Puts a visually ordered line into logical order when it is mostly right-to-left.
pub(crate) fn logical_order(text: &str) -> Option<String> {
    let rtl = text.chars().filter(|&c| is_rtl(c)).count();
    let ltr = text.chars().filter(|&c| is_ltr(c)).count();
    if rtl == 0 || rtl <= ltr {
        return None;
    }
    let reversed: Vec<char> = text.chars().rev().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < reversed.len() {
        if is_ltr(reversed[i]) {
            // A left-to-right run: strong LTR characters and the neutrals between them.
            let mut end = i;
            let mut j = i;
            while j < reversed.len() && !is_rtl(reversed[j]) {
                if is_ltr(reversed[j]) {
                    end = j;
                }
                j += 1;
            }
            out.extend(reversed[i..=end].iter().rev());
            i = end + 1;
        } else {
            out.push(mirror(reversed[i]));
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visual_rtl_becomes_logical() {
        // "שלום עולם 2024" drawn left to right on the page.
        let visual: String = "שלום עולם".chars().rev().collect();
        let visual = format!("2024 {visual}");
        assert_eq!(logical_order(&visual).as_deref(), Some("שלום עולם 2024"));
        assert_eq!(logical_order("plain English"), None);
        // Brackets are drawn in their visual shape: "(" on the left.
        let visual = format!("({})", "מחיר".chars().rev().collect::<String>());
        assert_eq!(logical_order(&visual).as_deref(), Some("(מחיר)"));
    }

    #[test]
    fn a_glyph_of_several_letters_keeps_their_order() {
        // `الأولى` drawn as ى ل و لأ ا from the left: `لأ` is one glyph, its text in logical
        // order. Reversing characters alone swapped its letters (`األولى`).
        let glyphs = ["ى", "ل", "و", "لأ", "ا"];
        let visual_line: String = glyphs.iter().map(|g| visual(g)).collect();
        assert_eq!(logical_order(&visual_line).as_deref(), Some("الأولى"));
        // A letter with its vowel mark, one glyph: the mark stays after its letter.
        let visual_line: String = ["ب", "بَ"].iter().map(|g| visual(g)).collect();
        assert_eq!(logical_order(&visual_line).as_deref(), Some("بَب"));
        // Left-to-right glyphs of several letters are left alone.
        assert_eq!(visual("ﬁ"), "ﬁ");
        assert_eq!(visual("fi"), "fi");
        assert_eq!(visual("ل"), "ل");
    }
}
