//! Text set in quarter turns. A landscape page drawn on a portrait media box and turned upright
//! by the page's `/Rotate` (LaTeX's pdflscape, a landscape section printed to PDF), or a table
//! set sideways, draws its text with its baseline running up or down the page. Each glyph is
//! told by the way its baseline runs, and each turn's text is read in the frame of the page
//! turned so that it stands upright, points and rules mapped into that frame ([`sides`]): the
//! page's main turn ([`main_turn`]) first, then any other turn that holds running text or a
//! table. Labels in another turn (axis labels, a stamp up the margin) are left out.

use super::extract::{Frame, PageGlyphs};
use super::grid::PageRules;
use super::lines::{self, Segment};
use super::rules::Rule;

/// How far text is turned counterclockwise from running left to right, in quarter turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Turn {
    Upright,
    /// Running up the page.
    Quarter,
    /// Upside down.
    Half,
    /// Running down the page.
    ThreeQuarters,
}

/// How far a baseline may lean from its axis (rise over run) and still be on it.
const LEAN: f64 = 0.1;

impl Turn {
    /// Every turn, in the order of [`Turn::index`].
    pub const ALL: [Turn; 4] = [
        Turn::Upright,
        Turn::Quarter,
        Turn::Half,
        Turn::ThreeQuarters,
    ];

    /// The turn of a baseline running along `(dx, dy)` in user space (y upwards), or `None`
    /// when it is slanted.
    pub fn of(dx: f64, dy: f64) -> Option<Turn> {
        let along = |run: f64, rise: f64| run > 0.0 && rise.abs() <= LEAN * run;
        if along(dx, dy) {
            Some(Turn::Upright)
        } else if along(dy, dx) {
            Some(Turn::Quarter)
        } else if along(-dx, dy) {
            Some(Turn::Half)
        } else if along(-dy, dx) {
            Some(Turn::ThreeQuarters)
        } else {
            None
        }
    }

    /// How far `(dx, dy)` runs along a baseline of this turn.
    pub fn run(self, dx: f64, dy: f64) -> f64 {
        match self {
            Turn::Upright => dx,
            Turn::Quarter => dy,
            Turn::Half => -dx,
            Turn::ThreeQuarters => -dy,
        }
    }

    /// The turn of text drawn under the matrix `[a b c d]`: its baseline runs along `(a, b)`,
    /// its glyphs stand along `(c, d)`. `None` when it is slanted, or turned and mirrored
    /// (mirrored upright text is read as it stands).
    pub fn of_matrix(a: f64, b: f64, c: f64, d: f64) -> Option<Turn> {
        Turn::of(a, b).filter(|&turn| turn == Turn::Upright || a * d - b * c > 0.0)
    }

    /// The position of this turn in [`Turn::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The page framed by `frame` as seen turned so that text of this turn stands upright.
    pub fn frame(self, frame: &Frame) -> Frame {
        let (width, height) = match self {
            Turn::Upright => return *frame,
            Turn::Half => (frame.width, frame.height),
            Turn::Quarter | Turn::ThreeQuarters => (frame.height, frame.width),
        };
        Frame {
            left: 0.0,
            top: f64::from(height),
            width,
            height,
        }
    }

    /// A point of the page framed by `frame`, in user space, as it lies in [`Turn::frame`].
    pub fn point(self, frame: &Frame, (x, y): (f64, f64)) -> (f64, f64) {
        let (w, h) = (f64::from(frame.width), f64::from(frame.height));
        // From the page's lower left corner.
        let (u, v) = (x - frame.left, y - (frame.top - h));
        match self {
            Turn::Upright => (x, y),
            Turn::Quarter => (v, w - u),
            Turn::Half => (w - u, h - v),
            Turn::ThreeQuarters => (h - v, u),
        }
    }

    /// A rule of the page framed by `frame` as it lies in [`Turn::frame`].
    pub fn rule(self, frame: &Frame, r: &Rule) -> Rule {
        let corner = |x: f32, y: f32| {
            let (x, y) = self.point(frame, (f64::from(x), f64::from(y)));
            (x as f32, y as f32)
        };
        let (a, b) = (corner(r.x0, r.y0), corner(r.x1, r.y1));
        Rule {
            x0: a.0.min(b.0),
            y0: a.1.min(b.1),
            x1: a.0.max(b.0),
            y1: a.1.max(b.1),
        }
    }
}

/// Text of a page read in one turn: its line segments, rules and page height in the frame of
/// the page turned so that the text stands upright.
#[derive(Debug)]
pub(crate) struct Side {
    pub segments: Vec<Segment>,
    pub rules: PageRules,
    pub height: f32,
}

impl Side {
    /// Whether the text runs over [`MIN_TEXT_LINES`] lines of two words or more.
    fn is_text(&self) -> bool {
        lines_of_words(&self.segments) >= MIN_TEXT_LINES
    }
}

/// A page's text read upright.
#[derive(Debug)]
pub(crate) struct Sides {
    /// The text of the page's main turn ([`main_turn`]).
    pub main: Side,
    /// The text of other turns that runs over [`MIN_TEXT_LINES`] lines.
    pub asides: Vec<Side>,
    /// Glyphs of other turns left out.
    pub left_out: usize,
}

/// Fewest lines of two words or more that make the text of one turn running text or a table,
/// not labels: axis labels, the ticks of a chart, a stamp up the margin (arXiv's identifier).
const MIN_TEXT_LINES: usize = 3;

/// The text of a page framed by `frame` that draws `rules`, read in its main turn, and in any
/// other turn whose text runs over [`MIN_TEXT_LINES`] lines; the labels of other turns are
/// left out.
pub(crate) fn sides(page: &PageGlyphs, frame: &Frame, rules: &[Rule]) -> Sides {
    let read_in = |turn: Turn| {
        let glyphs = &page.by_turn[turn.index()];
        let seen = turn.frame(frame);
        let turned: Vec<Rule> = rules.iter().map(|r| turn.rule(frame, r)).collect();
        let rules = PageRules::new(&turned, &seen, glyphs);
        let side = Side {
            segments: lines::segments(glyphs, &rules),
            rules,
            height: seen.height,
        };
        let shown = glyphs.iter().filter(|g| !g.text.trim().is_empty()).count();
        (turn, side.is_text(), shown, side)
    };
    let mut read: Vec<(Turn, bool, usize, Side)> = Turn::ALL
        .into_iter()
        .filter(|&turn| turn == Turn::Upright || !page.by_turn[turn.index()].is_empty())
        .map(read_in)
        .collect();
    let summary: Vec<(Turn, bool, usize)> = read.iter().map(|r| (r.0, r.1, r.2)).collect();
    let main = main_turn(&summary);
    let at = read.iter().position(|r| r.0 == main).unwrap_or(0);
    let mut sides = Sides {
        main: read.remove(at).3,
        asides: Vec::new(),
        left_out: 0,
    };
    for (turn, text, _, side) in read {
        if text {
            sides.asides.push(side);
        } else {
            sides.left_out += page.by_turn[turn.index()].len();
        }
    }
    sides
}

/// Lines of `segments` (as [`lines::segments`] sorts them) that hold two words or more.
fn lines_of_words(segments: &[Segment]) -> usize {
    let words = |row: &Vec<usize>| -> usize {
        row.iter()
            .map(|&i| segments[i].text.split_whitespace().count())
            .sum()
    };
    lines::rows(segments)
        .iter()
        .filter(|row| words(row) >= 2)
        .count()
}

/// The turn a page is read in, given each turn it draws in, whether its text is running text
/// or a table ([`MIN_TEXT_LINES`]), and how many glyphs it shows. Upright text comes first: it
/// is the page's when it is running text, or when no turn's text is and it has glyphs (a chart
/// with labels up its axis). Otherwise, the page is read in the turn with the most glyphs,
/// among those whose text is running text when there are any (a landscape page turned upright
/// by `/Rotate`, with its page number upright at the foot).
pub(crate) fn main_turn(turns: &[(Turn, bool, usize)]) -> Turn {
    let upright = turns.iter().find(|(turn, _, _)| *turn == Turn::Upright);
    let any_text = turns.iter().any(|(_, text, _)| *text);
    match upright {
        Some((_, true, _)) => return Turn::Upright,
        Some((_, false, glyphs)) if !any_text && *glyphs > 0 => return Turn::Upright,
        _ => {}
    }
    let mut best = (Turn::Upright, 0);
    for &(turn, text, glyphs) in turns {
        if (text || !any_text) && glyphs > best.1 {
            best = (turn, glyphs);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A portrait US Letter page whose media box starts at (10, 20).
    const PAGE: Frame = Frame {
        left: 10.0,
        top: 812.0,
        width: 612.0,
        height: 792.0,
    };

    #[test]
    fn baselines_are_told_by_the_way_they_run() {
        assert_eq!(Turn::of(12.0, 0.5), Some(Turn::Upright));
        assert_eq!(Turn::of(0.0, 12.0), Some(Turn::Quarter));
        assert_eq!(Turn::of(-12.0, 0.0), Some(Turn::Half));
        assert_eq!(Turn::of(0.3, -12.0), Some(Turn::ThreeQuarters));
        assert_eq!(Turn::of(10.0, 6.0), None, "30 degrees is slanted");
        assert_eq!(Turn::of(0.0, 0.0), None);
        assert_eq!(Turn::of_matrix(0.0, 1.0, -1.0, 0.0), Some(Turn::Quarter));
        assert_eq!(Turn::of_matrix(0.0, 1.0, 1.0, 0.0), None, "mirrored");
        assert_eq!(Turn::of_matrix(1.0, 0.0, 0.0, -1.0), Some(Turn::Upright));
    }

    /// Text that starts at the page's corner where a reader turning the page starts reading
    /// lands at the turned page's top left, and runs to the right.
    #[test]
    fn points_land_where_a_reader_of_the_turned_page_sees_them() {
        // Frame: 612 wide, 792 high, lower left (10, 20).
        let cases = [
            // Running up: read from the lower left corner, the page turned clockwise.
            (Turn::Quarter, (10.0, 20.0), (10.0, 120.0)),
            // Upside down: read from the lower right corner.
            (Turn::Half, (622.0, 20.0), (522.0, 20.0)),
            // Running down: read from the upper right corner, the page turned the other way.
            (Turn::ThreeQuarters, (622.0, 812.0), (622.0, 712.0)),
        ];
        for (turn, start, along) in cases {
            let frame = turn.frame(&PAGE);
            let (x, y) = turn.point(&PAGE, start);
            assert!(x.abs() < 1e-9 && (y - frame.top).abs() < 1e-9, "{turn:?}");
            let (x2, y2) = turn.point(&PAGE, along);
            assert!(
                (x2 - 100.0).abs() < 1e-9 && (y2 - y).abs() < 1e-9,
                "{turn:?}"
            );
        }
        assert_eq!(Turn::Quarter.frame(&PAGE).width, 792.0);
        assert_eq!(Turn::Upright.point(&PAGE, (50.0, 60.0)), (50.0, 60.0));
    }

    #[test]
    fn a_rule_turns_with_the_page() {
        let r = Rule {
            x0: 110.0,
            y0: 100.0,
            x1: 111.0,
            y1: 300.0,
        };
        // A vertical line on the page is horizontal on the page turned a quarter.
        let turned = Turn::Quarter.rule(&PAGE, &r);
        assert_eq!((turned.x0, turned.x1), (80.0, 280.0));
        assert_eq!((turned.y0, turned.y1), (511.0, 512.0));
    }

    #[test]
    fn upright_text_is_the_pages_unless_text_in_another_turn_is_and_labels_are_not() {
        use Turn::{Half, Quarter, Upright};
        // A page of running text with a stamp up its margin.
        assert_eq!(
            main_turn(&[(Upright, true, 5000), (Quarter, false, 40)]),
            Upright
        );
        // A table set sideways on a page with running text around it.
        assert_eq!(
            main_turn(&[(Upright, true, 500), (Quarter, true, 900)]),
            Upright
        );
        // A landscape page turned upright, with its page number upright.
        assert_eq!(
            main_turn(&[(Upright, false, 2), (Quarter, true, 900)]),
            Quarter
        );
        // A chart: a title and numbers upright, more glyphs in month names up the page.
        assert_eq!(
            main_turn(&[(Upright, false, 40), (Quarter, false, 60)]),
            Upright
        );
        // Nothing upright: the turn with the most glyphs.
        assert_eq!(
            main_turn(&[(Upright, false, 0), (Quarter, false, 6), (Half, false, 9)]),
            Half
        );
        assert_eq!(main_turn(&[(Upright, false, 0)]), Upright);
    }
}
