//! Symbol fonts: Symbol, Wingdings and Wingdings 2 draw their own glyphs at byte codes, so
//! text set in them is codes, not letters (`a` is α in Symbol, `þ` a checked box in
//! Wingdings). Word writes a code as the byte itself (0x20–0xFF) or at U+F020–U+F0FF, the
//! private-use area it maps symbol fonts to; `w:sym w:char` gives it in hex.
//!
//! Sources of the tables:
//! - Symbol: Adobe's Symbol encoding (Unicode's `MAPPINGS/VENDORS/ADOBE/symbol.txt`), whole,
//!   except that the corporate private-use code points Adobe gives to the bracket, brace and
//!   integral pieces, the arrow extenders and the serif and sans-serif ©, ®, ™ are the
//!   characters Unicode has since encoded for them (U+239B–U+23AD, U+23AF, U+23D0, ©, ®, ™), and
//!   the radical extender (0x60) is U+203E OVERLINE, a line drawn over the root's digits;
//!   the angle brackets (0xE1, 0xF1) are U+3008 and U+3009, which Adobe's U+2329 and U+232A
//!   normalise to.
//! - Wingdings and Wingdings 2: the Unicode 7.0 correspondences of those fonts (UTC document
//!   L2/12-368), only their check boxes and marks, each read as the plain ballot box, check or
//!   X (☐ ☑ ☒ ✓ ✗) that task lists are recognised by. Wingdings: 0x6F □ and 0xA8 ◻ (white
//!   squares) ☐, 0xFB ✗, 0xFC ✓, 0xFD ☒, 0xFE ☑. Wingdings 2: 0x4F 🗴 (ballot script X) ✗,
//!   0x50 🗸 (light check mark) ✓, 0x51 🗵 (ballot box with script X) ☒, 0x52 ☑, 0x53 ⮽
//!   (ballot box with light X) ☒, 0x54 ☒, 0xA3 □ (white square) ☐. Wingdings' arrows
//!   0xDF–0xF2 (wide-headed and heavy arrows U+1F868–U+1F87F, white arrows ⇦ ⇨ ⇧ ⇩) read as
//!   the plain arrows ← → ↑ ↓ ↖ ↗ ↙ ↘ and ⇦ ⇨ ⇧ ⇩. Their other pictographs have no text.

/// A font whose text is glyph codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SymbolFont {
    Symbol,
    Wingdings,
    Wingdings2,
}

impl SymbolFont {
    /// The symbol font a font name is (`w:rFonts w:ascii`, `w:sym w:font`); `None` for
    /// ordinary fonts ("Segoe UI Symbol" is a Unicode font).
    pub(super) fn named(font: &str) -> Option<Self> {
        let font = font.trim();
        [
            ("Symbol", Self::Symbol),
            ("Wingdings", Self::Wingdings),
            ("Wingdings 2", Self::Wingdings2),
        ]
        .into_iter()
        .find(|(name, _)| font.eq_ignore_ascii_case(name))
        .map(|(_, f)| f)
    }

    /// The character a code draws (0x20–0xFF, or F020–F0FF): `None` where it draws nothing
    /// with a Unicode meaning here. Other characters are kept as they are (text already in
    /// Unicode), but for private-use ones, which have no text.
    pub(super) fn char(self, code: u32) -> Option<char> {
        let byte = match code {
            0xF020..=0xF0FF => code - 0xF000,
            0x20..=0xFF => code,
            _ => return char::from_u32(code).filter(|c| !('\u{E000}'..='\u{F8FF}').contains(c)),
        };
        match self {
            Self::Symbol => SYMBOL
                .get((byte - 0x20) as usize)
                .copied()
                .filter(|c| *c != '\0'),
            Self::Wingdings => wingdings_mark(byte),
            Self::Wingdings2 => wingdings2_mark(byte),
        }
    }

    /// Appends the text that run text set in this font reads as: each code's character, white
    /// space kept.
    pub(super) fn decode_into(self, text: &str, out: &mut String) {
        out.extend(text.chars().filter_map(|c| {
            if c.is_whitespace() {
                Some(c)
            } else {
                self.char(u32::from(c))
            }
        }));
    }
}

/// The characters of the Symbol font by code 0x20..=0xFF (Adobe's Symbol encoding); `\0`
/// where it has none.
const SYMBOL: [char; 224] = [
    ' ', '!', '∀', '#', '∃', '%', '&', '∋', '(', ')', '∗', '+', ',', '−', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '≅', 'Α', 'Β', 'Χ', 'Δ', 'Ε', 'Φ', 'Γ', 'Η', 'Ι', 'ϑ', 'Κ', 'Λ', 'Μ', 'Ν', 'Ο', //
    'Π', 'Θ', 'Ρ', 'Σ', 'Τ', 'Υ', 'ς', 'Ω', 'Ξ', 'Ψ', 'Ζ', '[', '∴', ']', '⊥', '_', //
    '‾', 'α', 'β', 'χ', 'δ', 'ε', 'φ', 'γ', 'η', 'ι', 'ϕ', 'κ', 'λ', 'μ', 'ν', 'ο', //
    'π', 'θ', 'ρ', 'σ', 'τ', 'υ', 'ϖ', 'ω', 'ξ', 'ψ', 'ζ', '{', '|', '}', '∼', '\0', //
    '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0',
    '\0', //
    '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0', '\0',
    '\0', //
    '€', 'ϒ', '′', '≤', '⁄', '∞', 'ƒ', '♣', '♦', '♥', '♠', '↔', '←', '↑', '→', '↓', //
    '°', '±', '″', '≥', '×', '∝', '∂', '•', '÷', '≠', '≡', '≈', '…', '⏐', '⎯', '↵', //
    'ℵ', 'ℑ', 'ℜ', '℘', '⊗', '⊕', '∅', '∩', '∪', '⊃', '⊇', '⊄', '⊂', '⊆', '∈', '∉', //
    '∠', '∇', '®', '©', '™', '∏', '√', '⋅', '¬', '∧', '∨', '⇔', '⇐', '⇑', '⇒', '⇓', //
    '◊', '〈', '®', '©', '™', '∑', '⎛', '⎜', '⎝', '⎡', '⎢', '⎣', '⎧', '⎨', '⎩', '⎪', //
    '\0', '〉', '∫', '⌠', '⎮', '⌡', '⎞', '⎟', '⎠', '⎤', '⎥', '⎦', '⎫', '⎬', '⎭', '\0', //
];

/// The check boxes and marks of Wingdings (which Word uses for check-box content controls,
/// typed check lists and box bullets), and its arrows, by byte.
fn wingdings_mark(byte: u32) -> Option<char> {
    match byte {
        0x6F | 0xA8 => Some('☐'),
        0xFE => Some('☑'),
        0xFD => Some('☒'),
        0xFC => Some('✓'),
        0xFB => Some('✗'),
        0xDF..=0xF2 => WINGDINGS_ARROWS.get((byte - 0xDF) as usize).copied(),
        _ => None,
    }
}

/// Wingdings' arrows 0xDF..=0xF2: two sets of left, right, up, down, north-west, north-east,
/// south-west and south-east arrows, then the white arrows.
const WINGDINGS_ARROWS: [char; 20] = [
    '←', '→', '↑', '↓', '↖', '↗', '↙', '↘', //
    '←', '→', '↑', '↓', '↖', '↗', '↙', '↘', //
    '⇦', '⇨', '⇧', '⇩',
];

/// The check boxes and marks of Wingdings 2, by byte.
fn wingdings2_mark(byte: u32) -> Option<char> {
    match byte {
        0xA3 => Some('☐'),
        0x52 => Some('☑'),
        0x51 | 0x53 | 0x54 => Some('☒'),
        0x50 => Some('✓'),
        0x4F => Some('✗'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(font: SymbolFont, text: &str) -> String {
        let mut out = String::new();
        font.decode_into(text, &mut out);
        out
    }

    #[test]
    fn symbol_codes_are_greek_and_math_as_bytes_or_private_use() {
        use SymbolFont::Symbol;
        assert_eq!(decode(Symbol, "abpS"), "αβπΣ");
        assert_eq!(decode(Symbol, "\u{F061}\u{F062}\u{F070}\u{F053}"), "αβπΣ");
        assert_eq!(decode(Symbol, "£³¹®´Î¥±°"), "≤≥≠→×∈∞±°");
        // The Latin-1 × (0xD7) is the dot operator: Symbol's × is at 0xB4.
        assert_eq!(decode(Symbol, "×"), "⋅");
        assert_eq!(decode(Symbol, "\u{F0A3} \u{F0B3}"), "≤ ≥");
        // Codes the font has no character at are dropped; real Unicode text is kept.
        assert_eq!(decode(Symbol, "c\u{F080}\u{F0FF}α∑"), "χα∑");
        assert_eq!(Symbol.char(0xF020), Some(' '));
        assert_eq!(Symbol.char(0xF0E5), Some('∑'));
        assert_eq!(Symbol.char(0xF0FF), None);
        assert_eq!(Symbol.char(0xF100), None);
        assert_eq!(Symbol.char(0xE000), None);
    }

    #[test]
    fn wingdings_fonts_have_their_check_boxes_and_marks() {
        use SymbolFont::{Wingdings, Wingdings2};
        assert_eq!(decode(Wingdings, "o ¨þýüûJ"), "☐ ☐☑☒✓✗");
        assert_eq!(decode(Wingdings2, "£ RSTQPO"), "☐ ☑☒☒☒✓✗");
        assert_eq!(decode(Wingdings2, "\u{F0A3}\u{F052}\u{F054}"), "☐☑☒");
        // Another pictograph (Wingdings 2's pen, Wingdings' small square bullet) has no text.
        assert_eq!(decode(Wingdings2, "!"), "");
        assert_eq!(Wingdings.char(0xF0A7), None);
        assert_eq!(decode(Wingdings, "☐"), "☐");
        // Its arrows are plain arrows (Word's "→" typed as Wingdings 0xE0).
        assert_eq!(Wingdings.char(0xF0E0), Some('→'));
        assert_eq!(
            decode(Wingdings, "\u{F0DF}\u{F0E2}\u{F0E4}\u{F0F0}"),
            "←↓↗⇨"
        );
    }

    #[test]
    fn fonts_are_known_by_their_exact_names() {
        assert_eq!(SymbolFont::named(" symbol"), Some(SymbolFont::Symbol));
        assert_eq!(SymbolFont::named("Wingdings"), Some(SymbolFont::Wingdings));
        assert_eq!(
            SymbolFont::named("Wingdings 2"),
            Some(SymbolFont::Wingdings2)
        );
        for other in ["Segoe UI Symbol", "Wingdings 3", "Symbol MT", "Arial"] {
            assert_eq!(SymbolFont::named(other), None, "{other}");
        }
    }
}
