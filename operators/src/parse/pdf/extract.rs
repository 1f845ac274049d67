//! Content extraction: runs pdf-extract's content-stream interpreter over one page and keeps
//! every glyph with its position and size, in top-down page coordinates.

use std::time::Instant;

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

/// One shown glyph (or ligature) on a page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Glyph {
    /// Left edge, in points from the page's left edge.
    pub x: f32,
    /// Baseline, in points from the page's top edge.
    pub y: f32,
    /// Advance width in points.
    pub w: f32,
    /// Font size in points after all transformations.
    pub size: f32,
    /// The Unicode text; empty when the font had no mapping for the code.
    pub text: String,
    /// Whether the font is bold.
    pub bold: bool,
}

/// The glyphs of one page.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageGlyphs {
    /// Page width in points.
    pub width: f32,
    /// Page height in points.
    pub height: f32,
    /// Glyphs in content-stream order.
    pub glyphs: Vec<Glyph>,
    /// Glyphs whose code had no Unicode mapping.
    pub unmapped: usize,
    /// Glyphs dropped because they were not upright (rotated text).
    pub rotated: usize,
    /// Glyphs dropped because they lie outside the page.
    pub off_page: usize,
}

/// Upper bound of glyphs kept on one page; beyond it the page is cut (bounded memory).
pub(crate) const MAX_GLYPHS_PER_PAGE: usize = 400_000;

/// An [`OutputDev`] that collects glyphs and stops when the deadline passes.
pub(crate) struct Collector {
    /// The page being collected.
    pub page: PageGlyphs,
    /// When to give up.
    deadline: Instant,
    /// Whether the deadline stopped the interpretation.
    pub timed_out: bool,
    /// Boldness of each shown string, in order (from flattening).
    bold: Vec<bool>,
    /// Strings shown so far.
    shown: usize,
    /// Flips PDF's bottom-up y axis.
    page_top: f64,
    page_left: f64,
}

impl Collector {
    /// A collector that aborts the page once `deadline` has passed; `bold` tells for each
    /// shown string whether its font is bold.
    pub fn new(deadline: Instant, bold: Vec<bool>) -> Self {
        Collector {
            page: PageGlyphs::default(),
            deadline,
            timed_out: false,
            bold,
            shown: 0,
            page_top: 0.0,
            page_left: 0.0,
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
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.page_top = media_box.ury.max(media_box.lly);
        self.page_left = media_box.llx.min(media_box.urx);
        self.page.width = (media_box.urx - media_box.llx).abs() as f32;
        self.page.height = (media_box.ury - media_box.lly).abs() as f32;
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
        text: &str,
    ) -> Result<(), OutputError> {
        if self.page.glyphs.len() % 256 == 255 && Instant::now() > self.deadline {
            self.timed_out = true;
            return Err(Self::abort());
        }
        if self.page.glyphs.len() >= MAX_GLYPHS_PER_PAGE {
            return Err(Self::abort());
        }
        // The text rendering matrix maps glyph space (scaled by the font size) to the page.
        let (a, b, c, d) = (trm.m11, trm.m12, trm.m21, trm.m22);
        let scale = (a * d - b * c).abs().sqrt();
        let size = (font_size.abs() * scale) as f32;
        let (x, y) = (trm.m31, trm.m32);
        if !(size.is_finite() && x.is_finite() && y.is_finite()) || size <= 0.0 {
            return Ok(());
        }
        if b.abs() > 0.1 * a.abs() || a <= 0.0 {
            self.page.rotated += 1;
            return Ok(());
        }
        let (x, y) = ((x - self.page_left) as f32, (self.page_top - y) as f32);
        // Off the page (a spread drawn shifted onto each half, say): not shown, not text.
        let margin = 0.25 * size;
        if x < -margin || y < -margin || x > self.page.width || y > self.page.height + margin {
            self.page.off_page += 1;
            return Ok(());
        }
        if text.is_empty() {
            self.page.unmapped += 1;
        }
        let w = (width * font_size.abs() * a) as f32;
        self.page.glyphs.push(Glyph {
            x,
            y,
            w: if w.is_finite() { w.max(0.0) } else { 0.0 },
            size,
            text: text.to_string(),
            bold: self
                .shown
                .checked_sub(1)
                .and_then(|i| self.bold.get(i))
                .copied()
                .unwrap_or(false),
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.shown += 1;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}
