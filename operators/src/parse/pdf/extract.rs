//! Content extraction: runs pdf-extract's content-stream interpreter over one page and keeps
//! every glyph with its position and size, in top-down coordinates of the page turned so that
//! the glyph stands upright (see [`super::turn`]).

use std::time::Instant;

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

use super::flatten::Face;
use super::turn::Turn;

/// One shown glyph (or ligature) on a page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Glyph {
    /// Left edge, in points from the page's left edge (of the page turned so that the glyph
    /// stands upright).
    pub x: f32,
    /// Baseline, in points from the page's top edge (of the page so turned).
    pub y: f32,
    /// Advance width in points.
    pub w: f32,
    /// Font size in points after all transformations.
    pub size: f32,
    /// The Unicode text; empty when the font had no mapping for the code.
    pub text: String,
    /// Whether the font is bold.
    pub bold: bool,
    /// Whether the font is monospaced.
    pub mono: bool,
}

/// The glyphs of one page.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageGlyphs {
    /// Glyphs in content-stream order by the way their baseline runs ([`Turn::index`]), each
    /// in the frame of the page turned so that it stands upright ([`Turn::frame`]).
    pub by_turn: [Vec<Glyph>; 4],
    /// Glyphs whose code had no Unicode mapping.
    pub unmapped: usize,
    /// Glyphs dropped because their baseline is slanted (or turned, and mirrored).
    pub rotated: usize,
    /// Glyphs dropped because they lie outside the page.
    pub off_page: usize,
    /// Glyphs dropped because the document had kept as many as it may.
    pub past_limit: usize,
    /// Glyphs dropped because the page had kept as many as it may.
    pub past_page_limit: usize,
}

/// Glyphs of `s` from `x` on baseline `y` in 10-point type, 5 points a character (spaces
/// drawn as glyphs), for tests that lay out glyphs by hand.
#[cfg(test)]
pub(crate) fn test_glyphs(glyphs: &mut Vec<Glyph>, s: &str, x: f32, y: f32, mono: bool) {
    for (i, c) in s.chars().enumerate() {
        glyphs.push(Glyph {
            x: x + 5.0 * i as f32,
            y,
            w: 5.0,
            size: 10.0,
            text: c.to_string(),
            bold: false,
            mono,
        });
    }
}

impl PageGlyphs {
    /// Glyphs kept, in every turn.
    pub fn len(&self) -> usize {
        self.by_turn.iter().map(Vec::len).sum()
    }
}

/// What a dingbat glyph without a Unicode meaning reads as: U+F0A7, where Wingdings puts its
/// square bullet in the private use area, which list detection takes for a bullet.
pub(crate) const DINGBAT: char = '\u{f0a7}';

/// Upper bound of glyphs kept on one page; beyond it the page is cut (bounded memory), with a
/// warning that says how many glyphs were left out.
pub(crate) const MAX_GLYPHS_PER_PAGE: usize = 400_000;
/// Upper bound of glyphs kept in one document (some 1,000 dense pages; about 80 bytes each
/// here and as much again in lines): beyond it the document is cut.
pub(crate) const MAX_GLYPHS_PER_DOCUMENT: usize = 3_000_000;

/// Where a page sits in PDF user space: its media box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Frame {
    /// Left edge.
    pub left: f64,
    /// Top edge.
    pub top: f64,
    /// Width in points.
    pub width: f32,
    /// Height in points.
    pub height: f32,
}

/// An [`OutputDev`] that collects the glyphs of several pages drawn as one content stream and
/// stops when the deadline passes. Glyphs are told apart by page through the count of shown
/// strings (pdf-extract calls `begin_word` once per string): page `i` ends after `ends[i]`.
pub(crate) struct Collector {
    /// The glyphs of each page.
    pub pages: Vec<PageGlyphs>,
    frames: Vec<Frame>,
    ends: Vec<usize>,
    /// Index of the page being drawn.
    pub current: usize,
    /// When to give up.
    deadline: Instant,
    /// Whether the deadline stopped the interpretation.
    pub timed_out: bool,
    /// The face of each shown string, in order (from flattening).
    faces: Vec<Face>,
    /// Strings shown so far.
    shown: usize,
    /// Glyphs shown so far.
    total: usize,
    /// Glyphs this collector may still keep.
    left: usize,
    /// Glyphs one page may keep.
    page_limit: usize,
}

impl Collector {
    /// A collector for pages in `frames`, page `i` ending after `ends[i]` shown strings whose
    /// faces `faces` tells, keeping no more than `left` glyphs in all and `page_limit` on a
    /// page; it aborts once `deadline` has passed.
    pub fn new(
        deadline: Instant,
        frames: Vec<Frame>,
        ends: Vec<usize>,
        faces: Vec<Face>,
        left: usize,
        page_limit: usize,
    ) -> Self {
        let pages = frames.iter().map(|_| PageGlyphs::default()).collect();
        Collector {
            pages,
            frames,
            ends,
            current: 0,
            deadline,
            timed_out: false,
            faces,
            shown: 0,
            total: 0,
            left,
            page_limit,
        }
    }

    fn abort() -> OutputError {
        OutputError::FormatError(std::fmt::Error)
    }
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        _page_num: u32,
        _media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text_in: &str,
    ) -> Result<(), OutputError> {
        self.total += 1;
        if self.total % 256 == 255 && Instant::now() > self.deadline {
            self.timed_out = true;
            return Err(Self::abort());
        }
        let (Some(frame), Some(page)) = (
            self.frames.get(self.current).copied(),
            self.pages.get_mut(self.current),
        ) else {
            return Ok(());
        };
        if page.len() >= self.page_limit {
            page.past_page_limit += 1;
            return Ok(());
        }
        if self.left == 0 {
            page.past_limit += 1;
            return Ok(());
        }
        // The text rendering matrix maps glyph space (scaled by the font size) to the page.
        let (a, b, c, d) = (trm.m11, trm.m12, trm.m21, trm.m22);
        let scale = (a * d - b * c).abs().sqrt();
        let size = (font_size.abs() * scale) as f32;
        let (x, y) = (trm.m31, trm.m32);
        if !(size.is_finite() && x.is_finite() && y.is_finite()) || size <= 0.0 {
            return Ok(());
        }
        // The glyph is placed on the page turned so that it stands upright.
        let Some(turn) = Turn::of_matrix(a, b, c, d) else {
            page.rotated += 1;
            return Ok(());
        };
        let seen = turn.frame(&frame);
        let (x, y) = turn.point(&frame, (x, y));
        let (x, y) = ((x - seen.left) as f32, (seen.top - y) as f32);
        // Off the page (a spread drawn shifted onto each half, say): not shown, not text.
        let margin = 0.25 * size;
        if x < -margin || y < -margin || x > seen.width || y > seen.height + margin {
            page.off_page += 1;
            return Ok(());
        }
        let face = self
            .shown
            .checked_sub(1)
            .and_then(|i| self.faces.get(i))
            .copied()
            .unwrap_or_default();
        // Codes a font maps to nothing, or to control characters (NUL from a symbol font
        // without an encoding, say), are not text; in a dingbat font they are a symbol, which
        // marks a list item when it starts a line (check boxes on forms, Word's bullets).
        // Ligatures (U+FB00 `ﬀ` to U+FB06 `ﬆ`) read as their letters, so that `ﬁrst` is
        // found as `first`; so do Arabic presentation forms (`ﻻ` as `لا`).
        let mut text = String::with_capacity(text_in.len());
        for c in text_in.chars() {
            match ligature(c) {
                Some(letters) => text.push_str(letters),
                // Unicode's noncharacters (U+FFFF, U+FDD0…) are no text either.
                None if is_noncharacter(c) => {}
                None if is_arabic_presentation_form(c) => text.push_str(&arabic_letters(c)),
                None if c.is_whitespace() => text.push(' '),
                None if c.is_control() => {}
                None => text.push(c),
            }
        }
        if text.is_empty() && face.dingbats && width > 0.0 {
            text.push(DINGBAT);
        }
        if text.is_empty() {
            page.unmapped += 1;
        }
        let w = (width * font_size.abs() * turn.run(a, b)) as f32;
        self.left -= 1;
        page.by_turn[turn.index()].push(Glyph {
            x,
            y,
            w: if w.is_finite() { w.max(0.0) } else { 0.0 },
            size,
            text,
            bold: face.bold,
            mono: face.mono,
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.shown += 1;
        while self
            .ends
            .get(self.current)
            .is_some_and(|&end| self.shown > end)
        {
            self.current += 1;
        }
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// The letters of a Latin ligature code point (U+FB00 to U+FB06), as NFKC has them.
pub(crate) fn ligature(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{fb00}' => "ff",
        '\u{fb01}' => "fi",
        '\u{fb02}' => "fl",
        '\u{fb03}' => "ffi",
        '\u{fb04}' => "ffl",
        '\u{fb05}' | '\u{fb06}' => "st",
        _ => return None,
    })
}

/// Whether `c` is one of Unicode's noncharacters (U+FDD0 to U+FDEF, and the last two code
/// points of every plane, U+FFFE and U+FFFF among them), which no text holds.
fn is_noncharacter(c: char) -> bool {
    let code = c as u32;
    (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

/// Whether `c` is an Arabic presentation form (U+FB50 to U+FDFF, U+FE70 to U+FEFF): a letter
/// in one of its joining shapes, a ligature of letters, or a word ligature.
fn is_arabic_presentation_form(c: char) -> bool {
    matches!(c as u32, 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

/// The standard letters of an Arabic presentation form, as NFKC has them (`ﻻ` reads `لا`,
/// `ﺑ` reads `ب`), search tokenising on those. The spacing form of a vowel mark (`ﹰ`, NFKC
/// `\u{20}\u{64b}`) loses its space, which would split the word it is drawn in.
fn arabic_letters(c: char) -> String {
    use unicode_normalization::UnicodeNormalization;

    let letters: String = std::iter::once(c).nfkc().collect();
    match letters.trim_start() {
        "" => c.to_string(),
        trimmed => trimmed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_presentation_forms_read_as_standard_letters() {
        assert_eq!(arabic_letters('\u{fefb}'), "\u{644}\u{627}"); // ﻻ: lam, alef
        assert_eq!(arabic_letters('\u{fef7}'), "\u{644}\u{623}"); // ﻷ: lam, alef with hamza
        assert_eq!(arabic_letters('\u{fe91}'), "\u{628}"); // ﺑ: beh
        assert_eq!(arabic_letters('\u{fe82}'), "\u{622}"); // ﺂ: alef with madda, composed
        assert_eq!(arabic_letters('\u{fb8f}'), "\u{6a9}"); // ﮏ: keheh (Persian kaf)
        assert_eq!(arabic_letters('\u{fe70}'), "\u{64b}"); // ﹰ: fathatan, no space
        assert_eq!(arabic_letters('\u{fdf2}'), "\u{627}\u{644}\u{644}\u{647}"); // ﷲ
        assert!(is_arabic_presentation_form('\u{fefc}'));
        assert!(!is_arabic_presentation_form('\u{644}'));
        assert!(!is_arabic_presentation_form('\u{fb01}'));
    }
}
