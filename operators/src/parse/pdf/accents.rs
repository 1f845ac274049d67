//! Accents TeX draws apart from their letters. `\'e` is typeset as the spacing acute `´` shown
//! over an `e` (the two glyphs overlap), which reads `num´erique` and `O˘guz`: an accent that
//! stands over (or, a cedilla, under) a letter on its line becomes that letter's combining
//! mark, composed where Unicode has the letter (`numérique`, `Oğuz`).

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

use super::extract::Glyph;

/// A spacing accent's combining mark.
fn combining(accent: &str) -> Option<char> {
    let mut chars = accent.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    Some(match c {
        '\u{B4}' => '\u{301}',
        '`' => '\u{300}',
        '\u{2C6}' => '\u{302}',
        '\u{2DC}' => '\u{303}',
        '\u{AF}' => '\u{304}',
        '\u{2D8}' => '\u{306}',
        '\u{2D9}' => '\u{307}',
        '\u{A8}' => '\u{308}',
        '\u{2DA}' => '\u{30A}',
        '\u{2DD}' => '\u{30B}',
        '\u{2C7}' => '\u{30C}',
        '\u{B8}' => '\u{327}',
        '\u{2DB}' => '\u{328}',
        _ => return None,
    })
}

/// Whether `accent` stands over (or under) `letter`: its middle within the letter's width, on
/// about its line.
fn over(accent: &Glyph, letter: &Glyph) -> bool {
    let middle = accent.x + accent.w / 2.0;
    let slack = 0.1 * letter.size;
    let mut chars = letter.text.chars();
    chars.next().is_some_and(char::is_alphabetic)
        && chars.next().is_none()
        && letter.w > 0.0
        && (letter.x - slack..=letter.x + letter.w + slack).contains(&middle)
        && (accent.y - letter.y).abs() < letter.size
}

/// Whether `text` is a circle drawn round a letter: TeX's `\textcircled` (`\copyright` is
/// `\textcircled{c}`) draws the letter and a large circle over it, which fonts map to the
/// combining enclosing circle U+20DD or to U+25EF.
fn enclosing_circle(text: &str) -> bool {
    matches!(text, "\u{20DD}" | "\u{25EF}")
}

/// `letter` with a circle drawn round it: the sign Unicode has for it (`©`, `®`, `℗`), else
/// the letter and the combining enclosing circle.
fn circled(letter: &Glyph) -> Glyph {
    let text = match letter.text.as_str() {
        "c" | "C" => "\u{A9}".to_owned(),
        "r" | "R" => "\u{AE}".to_owned(),
        "p" | "P" => "\u{2117}".to_owned(),
        other => format!("{other}\u{20DD}"),
    };
    Glyph {
        text,
        ..letter.clone()
    }
}

/// `glyphs` with every spacing accent that stands over a letter next to it (before or after,
/// in content order) made that letter's combining mark, and every circle drawn round a letter
/// made the sign it makes with it (`c` in a circle: `©`).
pub(crate) fn combine(glyphs: &[Glyph]) -> Cow<'_, [Glyph]> {
    let accented =
        |i: usize| combining(&glyphs[i].text).is_some() || enclosing_circle(&glyphs[i].text);
    if !(0..glyphs.len()).any(accented) {
        return Cow::Borrowed(glyphs);
    }
    let mut out: Vec<Glyph> = Vec::with_capacity(glyphs.len());
    let mut i = 0;
    while i < glyphs.len() {
        let glyph = &glyphs[i];
        // What the glyph makes of the letter it stands over: a mark, or a circle round it.
        let apply = |letter: &Glyph| match combining(&glyph.text) {
            Some(mark) => marked(letter, mark),
            None => circled(letter),
        };
        // The letter after it (TeX's order for accents), else the one before (its order for
        // a circle).
        if !accented(i) {
            out.push(glyph.clone());
            i += 1;
        } else if let Some(letter) = glyphs.get(i + 1).filter(|l| over(glyph, l)) {
            out.push(apply(letter));
            i += 2;
        } else if let Some(letter) = out.last_mut().filter(|l| over(glyph, l)) {
            *letter = apply(letter);
            i += 1;
        } else {
            out.push(glyph.clone());
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// `letter` with `mark`, composed (a dotless `ı` under an accent is an `i`).
fn marked(letter: &Glyph, mark: char) -> Glyph {
    let base = match letter.text.as_str() {
        "ı" => "i",
        "ȷ" => "j",
        text => text,
    };
    Glyph {
        text: format!("{base}{mark}").nfc().collect(),
        ..letter.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyph(text: &str, x: f32, w: f32) -> Glyph {
        Glyph {
            x,
            y: 100.0,
            w,
            size: 10.0,
            text: text.to_owned(),
            bold: false,
            mono: false,
        }
    }

    fn text(glyphs: &[Glyph]) -> String {
        combine(glyphs).iter().map(|g| g.text.as_str()).collect()
    }

    #[test]
    fn an_accent_over_a_letter_is_its_mark() {
        // `num\'erique`: the acute over the `e`, drawn first.
        let glyphs = [
            glyph("m", 0.0, 8.0),
            glyph("\u{B4}", 9.0, 5.0),
            glyph("e", 8.0, 4.5),
            glyph("r", 12.5, 4.0),
        ];
        assert_eq!(text(&glyphs), "mér");
        // `O\u{g}uz`, and `\'{\i}`.
        let glyphs = [glyph("\u{2D8}", 8.5, 5.0), glyph("g", 8.0, 5.0)];
        assert_eq!(text(&glyphs), "ğ");
        let glyphs = [glyph("\u{B4}", 0.5, 3.0), glyph("ı", 0.0, 3.0)];
        assert_eq!(text(&glyphs), "í");
        // A cedilla drawn after its letter.
        let glyphs = [glyph("c", 0.0, 4.5), glyph("\u{B8}", 1.0, 3.0)];
        assert_eq!(text(&glyphs), "ç");
        // Beside a letter, not over it, an accent is a character of its own (a backquote).
        let glyphs = [glyph("`", 0.0, 5.0), glyph("a", 6.0, 5.0)];
        assert_eq!(text(&glyphs), "`a");
    }

    /// TeX's `\copyright`: a `c` with a large circle drawn over it (R-data's `Copyright c⃝
    /// 2000–2022`, where pdftotext drops the circle) is `©`; an `R` in one is `®`; another
    /// letter keeps the combining circle, and a circle over no letter stays what it is.
    #[test]
    fn a_letter_in_a_circle_is_the_sign_it_makes() {
        let copyright = [
            glyph("c", 1.9, 4.4),
            glyph("\u{20DD}", 0.0, 8.0),
            glyph("2", 10.0, 5.0),
        ];
        assert_eq!(text(&copyright), "\u{A9}2");
        let registered = [glyph("\u{25EF}", 0.0, 8.0), glyph("R", 1.5, 5.0)];
        assert_eq!(text(&registered), "\u{AE}");
        let other = [glyph("a", 1.9, 4.4), glyph("\u{20DD}", 0.0, 8.0)];
        assert_eq!(text(&other), "a\u{20DD}");
        let alone = [glyph("x", 0.0, 4.0), glyph("\u{25EF}", 20.0, 8.0)];
        assert_eq!(text(&alone), "x\u{25EF}");
    }
}
