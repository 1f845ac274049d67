//! Drawn rules: while a page is flattened, its path operators (`m l h re`, painted by `S s f F
//! f* B B* b b*`, dropped by `n`) are followed under the current transformation (`cm`, saved
//! and restored by `q`/`Q`), and the thin straight lines they paint are kept as [`Rule`]s:
//! stroked horizontal and vertical segments, thin filled rectangles, and the edges of a frame
//! filled as two nested rectangles (how WeasyPrint draws a separated cell border). Table
//! detection takes a grid of them for a table's cells (see [`super::grid`]).
//!
//! Curves, slanted lines, clipping paths, white paint, wide strokes and large fills (page and
//! cell backgrounds) give no rules. What one page may collect is bounded.

use lopdf::Object;

/// A thin axis-aligned box of paint, in default user space (PDF units, y upwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rule {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

/// Widest stroke, or thickest filled rectangle, taken for a rule, in points.
const MAX_THICKNESS: f64 = 4.0;
/// Shortest rule, in points.
const MIN_LENGTH: f64 = 2.0;
/// How many times its thickness a rule is long at least.
const MIN_ASPECT: f64 = 3.0;
/// How far from axis-aligned (in points over the segment) a line may lean.
const LEAN: f64 = 0.5;
/// Most rules kept from one page.
pub(crate) const MAX_RULES: usize = 20_000;
/// Most points of one path followed (a map or a chart of thousands of points is not a grid
/// of rules).
const MAX_PATH_POINTS: usize = 4_096;
/// A colour component at or past this is white (paint that does not show on a white page).
const WHITE: f64 = 0.98;

/// The parts of the graphics state that rules depend on: saved by `q`, restored by `Q`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Gfx {
    /// The current transformation matrix `[a b c d e f]`.
    ctm: [f64; 6],
    /// Line width in user space (before the matrix).
    line_width: f64,
    /// Whether stroking and filling paint shows (is not white).
    stroke_shows: bool,
    fill_shows: bool,
}

impl Default for Gfx {
    fn default() -> Self {
        Gfx {
            ctm: [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
            line_width: 1.0,
            stroke_shows: true,
            fill_shows: true,
        }
    }
}

/// One subpath: its points in device space (transformed when added), whether it is closed,
/// and, for each point, whether a curve leads to it.
#[derive(Debug, Default, Clone)]
struct Subpath {
    points: Vec<(f64, f64)>,
    curved: Vec<bool>,
    closed: bool,
}

impl Subpath {
    fn push(&mut self, point: (f64, f64)) {
        self.points.push(point);
        self.curved.push(false);
    }
}

/// Follows path construction and painting on one page.
#[derive(Debug, Default)]
pub(crate) struct Painter {
    pub gfx: Gfx,
    path: Vec<Subpath>,
    /// Points of the current path.
    points: usize,
    /// The current path grew past [`MAX_PATH_POINTS`]: it gives no rules.
    overflowed: bool,
    pub rules: Vec<Rule>,
}

fn number(o: &Object) -> Option<f64> {
    match o {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

/// The operands as `N` numbers, or `None`.
fn numbers<const N: usize>(operands: &[Object]) -> Option<[f64; N]> {
    if operands.len() != N {
        return None;
    }
    let mut out = [0.0; N];
    for (slot, o) in out.iter_mut().zip(operands) {
        *slot = number(o)?;
    }
    Some(out)
}

/// `m × n`: a matrix `m` applied after the current one `n` (`cm` prepends its operand).
fn multiply(m: [f64; 6], n: [f64; 6]) -> [f64; 6] {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

/// Whether a colour given by `components` (gray, RGB or CMYK by their count) shows on white.
fn shows(components: &[f64]) -> bool {
    match components {
        [gray] => *gray < WHITE,
        [r, g, b] => [r, g, b].iter().any(|c| **c < WHITE),
        [c, m, y, k] => [c, m, y, k].iter().any(|v| **v > 1.0 - WHITE),
        // A pattern, a separation of unknown tint, …: taken to show.
        _ => true,
    }
}

impl Painter {
    /// Applies matrix `m` (`cm`, a form's `Matrix`).
    pub fn concat(&mut self, m: [f64; 6]) {
        let ctm = multiply(m, self.gfx.ctm);
        if ctm.iter().all(|v| v.is_finite()) {
            self.gfx.ctm = ctm;
        }
    }

    fn device(&self, (x, y): (f64, f64)) -> (f64, f64) {
        let m = &self.gfx.ctm;
        (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
    }

    /// Follows one operation; operators that are not about paths, their paint or their
    /// colour are ignored.
    pub fn op(&mut self, operator: &str, operands: &[Object]) {
        match operator {
            "cm" => {
                if let Some(m) = numbers::<6>(operands) {
                    self.concat(m);
                }
            }
            "w" => {
                if let Some([w]) = numbers::<1>(operands) {
                    self.gfx.line_width = w.abs();
                }
            }
            "G" | "RG" | "K" | "SC" | "SCN" => self.gfx.stroke_shows = Self::colour(operands),
            "g" | "rg" | "k" | "sc" | "scn" => self.gfx.fill_shows = Self::colour(operands),
            // A new colour space starts at its initial colour: black, or a full tint.
            "CS" => self.gfx.stroke_shows = true,
            "cs" => self.gfx.fill_shows = true,
            "m" => {
                if let Some([x, y]) = numbers::<2>(operands) {
                    self.path.push(Subpath::default());
                    self.add_point((x, y));
                }
            }
            "l" => {
                if let Some([x, y]) = numbers::<2>(operands) {
                    self.line_to((x, y));
                }
            }
            "c" => {
                if let Some([_, _, _, _, x, y]) = numbers::<6>(operands) {
                    self.curve_to((x, y));
                }
            }
            "v" | "y" => {
                if let Some([_, _, x, y]) = numbers::<4>(operands) {
                    self.curve_to((x, y));
                }
            }
            "h" => {
                if let Some(sub) = self.path.last_mut() {
                    sub.closed = true;
                }
            }
            "re" => {
                if let Some([x, y, w, h]) = numbers::<4>(operands) {
                    self.path.push(Subpath::default());
                    for p in [(x, y), (x + w, y), (x + w, y + h), (x, y + h)] {
                        self.add_point(p);
                    }
                    if let Some(sub) = self.path.last_mut() {
                        sub.closed = true;
                    }
                }
            }
            "S" => self.paint(true, false, false, false),
            "s" => self.paint(true, true, false, false),
            "f" | "F" => self.paint(false, false, true, false),
            "f*" => self.paint(false, false, true, true),
            "B" => self.paint(true, false, true, false),
            "B*" => self.paint(true, false, true, true),
            "b" => self.paint(true, true, true, false),
            "b*" => self.paint(true, true, true, true),
            "n" => self.clear(),
            _ => {}
        }
    }

    fn colour(operands: &[Object]) -> bool {
        let components: Vec<f64> = operands.iter().filter_map(number).collect();
        if components.len() != operands.len() {
            // A pattern name (with or without components) shows.
            return true;
        }
        shows(&components)
    }

    fn add_point(&mut self, p: (f64, f64)) {
        if self.points >= MAX_PATH_POINTS {
            self.overflowed = true;
            return;
        }
        self.points += 1;
        let d = self.device(p);
        if let Some(sub) = self.path.last_mut() {
            sub.push(d);
        }
    }

    fn line_to(&mut self, p: (f64, f64)) {
        if self.path.last().is_none_or(|s| s.closed) {
            // After `h` a line starts at the subpath's start; without a current point the
            // operator is an error, and draws from where it ends.
            let start = self.path.last().and_then(|s| s.points.first().copied());
            self.path.push(Subpath::default());
            match start {
                Some(d) => {
                    if let Some(sub) = self.path.last_mut() {
                        sub.push(d);
                    }
                }
                None => self.add_point(p),
            }
        }
        self.add_point(p);
    }

    fn curve_to(&mut self, p: (f64, f64)) {
        self.line_to(p);
        if let Some(last) = self.path.last_mut().and_then(|s| s.curved.last_mut()) {
            *last = true;
        }
    }

    fn clear(&mut self) {
        self.path.clear();
        self.points = 0;
        self.overflowed = false;
    }

    /// Paints the current path: strokes it (closing each subpath when `close`) and fills it
    /// (by the even-odd rule when `even_odd`), keeping the rules that come out; ends the path.
    fn paint(&mut self, stroke: bool, close: bool, fill: bool, even_odd: bool) {
        if !self.overflowed && self.rules.len() < MAX_RULES {
            if stroke && self.gfx.stroke_shows {
                self.stroke_rules(close);
            }
            if fill && self.gfx.fill_shows {
                self.fill_rules(even_odd);
            }
            self.rules.truncate(MAX_RULES);
        }
        self.clear();
    }

    fn stroke_rules(&mut self, close: bool) {
        let m = &self.gfx.ctm;
        let scale = (m[0] * m[3] - m[1] * m[2]).abs().sqrt();
        let width = self.gfx.line_width * scale;
        if width.is_nan() || width > MAX_THICKNESS {
            return;
        }
        // A zero width is the thinnest line the device draws.
        let half = width.max(0.1) / 2.0;
        for sub in &self.path {
            let n = sub.points.len();
            let closing = (sub.closed || close) && n > 2;
            let edges = n.saturating_sub(1) + usize::from(closing);
            for i in 0..edges {
                if sub.curved.get(i + 1).copied().unwrap_or(false) {
                    continue;
                }
                let (a, b) = (sub.points[i], sub.points[(i + 1) % n]);
                let (dx, dy) = ((b.0 - a.0).abs(), (b.1 - a.1).abs());
                let rule = if dy <= LEAN && dx >= MIN_LENGTH {
                    let y = (a.1 + b.1) / 2.0;
                    (a.0.min(b.0), y - half, a.0.max(b.0), y + half)
                } else if dx <= LEAN && dy >= MIN_LENGTH {
                    let x = (a.0 + b.0) / 2.0;
                    (x - half, a.1.min(b.1), x + half, a.1.max(b.1))
                } else {
                    continue;
                };
                self.rules.push(Rule {
                    x0: rule.0 as f32,
                    y0: rule.1 as f32,
                    x1: rule.2 as f32,
                    y1: rule.3 as f32,
                });
            }
        }
    }

    fn fill_rules(&mut self, even_odd: bool) {
        let boxes: Vec<Option<[f64; 4]>> = self.path.iter().map(rectangle).collect();
        // A frame: a rectangle inside another, filled even-odd, the band between them thin.
        let inside = |i: &[f64; 4], o: &[f64; 4]| {
            i[0] >= o[0] && i[1] >= o[1] && i[2] <= o[2] && i[3] <= o[3] && i != o
        };
        let frame = match boxes[..] {
            [Some(a), Some(b)] if even_odd && inside(&b, &a) => Some((a, b)),
            [Some(a), Some(b)] if even_odd && inside(&a, &b) => Some((b, a)),
            _ => None,
        };
        if let Some((outer, inner)) = frame {
            let bands = [
                [outer[0], outer[1], outer[2], inner[1]],
                [outer[0], inner[3], outer[2], outer[3]],
                [outer[0], outer[1], inner[0], outer[3]],
                [inner[2], outer[1], outer[2], outer[3]],
            ];
            if bands
                .iter()
                .all(|b| (b[2] - b[0]).min(b[3] - b[1]) <= MAX_THICKNESS)
            {
                for band in bands {
                    self.thin_box(band);
                }
                return;
            }
        }
        for b in boxes.into_iter().flatten() {
            self.thin_box(b);
        }
    }

    /// Keeps box `[x0 y0 x1 y1]` (device space) as a rule when it is thin and long.
    fn thin_box(&mut self, b: [f64; 4]) {
        let (w, h) = (b[2] - b[0], b[3] - b[1]);
        let (long, thick) = (w.max(h), w.min(h));
        if thick <= MAX_THICKNESS && long >= MIN_LENGTH && long >= MIN_ASPECT * thick {
            self.rules.push(Rule {
                x0: b[0] as f32,
                y0: b[1] as f32,
                x1: b[2] as f32,
                y1: b[3] as f32,
            });
        }
    }
}

/// The box `[x0 y0 x1 y1]` of a subpath that is an axis-aligned rectangle: straight, every
/// point on a corner of its bounding box, each edge along an axis.
fn rectangle(sub: &Subpath) -> Option<[f64; 4]> {
    if sub.curved.contains(&true) || sub.points.len() < 4 {
        return None;
    }
    let mut points = sub.points.as_slice();
    if points.len() == 5 && near(points[0], points[4]) {
        points = &points[..4];
    }
    if points.len() != 4 {
        return None;
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in points {
        (x0, y0, x1, y1) = (x0.min(p.0), y0.min(p.1), x1.max(p.0), y1.max(p.1));
    }
    let on_corner = |p: &(f64, f64)| {
        ((p.0 - x0).abs() <= LEAN || (p.0 - x1).abs() <= LEAN)
            && ((p.1 - y0).abs() <= LEAN || (p.1 - y1).abs() <= LEAN)
    };
    let straight = (0..4).all(|i| {
        let (a, b) = (points[i], points[(i + 1) % 4]);
        (a.0 - b.0).abs() <= LEAN || (a.1 - b.1).abs() <= LEAN
    });
    (points.iter().all(on_corner) && straight).then_some([x0, y0, x1, y1])
}

fn near(a: (f64, f64), b: (f64, f64)) -> bool {
    (a.0 - b.0).abs() <= LEAN && (a.1 - b.1).abs() <= LEAN
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::content::Content;

    fn rules_of(content: &str) -> Vec<Rule> {
        let ops = Content::decode(content.as_bytes())
            .map(|c| c.operations)
            .unwrap_or_default();
        let mut painter = Painter::default();
        let mut stack = Vec::new();
        for op in ops {
            match op.operator.as_str() {
                "q" => stack.push(painter.gfx),
                "Q" => painter.gfx = stack.pop().unwrap_or_default(),
                other => painter.op(other, &op.operands),
            }
        }
        painter.rules
    }

    fn close(rule: &Rule, expected: [f32; 4]) -> bool {
        [rule.x0, rule.y0, rule.x1, rule.y1]
            .iter()
            .zip(expected)
            .all(|(a, b)| (a - b).abs() < 0.01)
    }

    #[test]
    fn stroked_lines_under_the_matrix_are_rules() {
        // WeasyPrint's flip and scale, a 1-unit line: 0.75 points wide.
        let rules = rules_of(
            "1 0 0 -1 0 800 cm q 0.75 0 0 0.75 0 0 cm 1 w 100 100 m 200 100 l S \
             100 100 m 100 140 l S Q 10 10 m 20 10 l S",
        );
        assert_eq!(rules.len(), 3, "{rules:?}");
        assert!(
            close(&rules[0], [75.0, 724.625, 150.0, 725.375]),
            "{rules:?}"
        );
        assert!(
            close(&rules[1], [74.625, 695.0, 75.375, 725.0]),
            "{rules:?}"
        );
        // After `Q` the scale is gone again.
        assert!(close(&rules[2], [10.0, 789.5, 20.0, 790.5]), "{rules:?}");
    }

    #[test]
    fn what_is_not_a_thin_straight_visible_line_is_no_rule() {
        let rules = rules_of(
            // A clipping path, a slanted line, a curve, a wide stroke, white paint, a page
            // background, a dot, a path that is not painted.
            "0 0 612 792 re W n 10 10 m 100 60 l S 10 10 m 20 20 30 30 100 10 c S \
             10 w 10 10 m 300 10 l S 1 w 1 G 10 10 m 300 10 l S 0 G \
             0 0 612 792 re f 10 10 1 1 re f 10 10 m 300 10 l n",
        );
        assert!(rules.is_empty(), "{rules:?}");
    }

    #[test]
    fn thin_filled_rectangles_and_frames_are_rules() {
        let rules = rules_of(
            "0.5 g 50 100 200 0.75 re f 0 g 50 100 0.75 80 re f \
             84 232 75 19 re 83 231 77 21 re f*",
        );
        // Two thin rectangles, then the four sides of a 1-point frame.
        assert_eq!(rules.len(), 6, "{rules:?}");
        assert!(close(&rules[0], [50.0, 100.0, 250.0, 100.75]));
        assert!(close(&rules[1], [50.0, 100.0, 50.75, 180.0]));
        assert!(close(&rules[2], [83.0, 231.0, 160.0, 232.0]));
        assert!(close(&rules[4], [83.0, 231.0, 84.0, 252.0]));
    }

    #[test]
    fn a_rotated_matrix_turns_rules_and_leaves_slanted_ones_out() {
        // A quarter turn: a horizontal line becomes vertical; 30 degrees: neither.
        let rules = rules_of(
            "q 0 1 -1 0 300 0 cm 10 10 m 110 10 l S Q \
             q 0.866 0.5 -0.5 0.866 0 0 cm 10 10 m 110 10 l S Q",
        );
        assert_eq!(rules.len(), 1, "{rules:?}");
        assert!(close(&rules[0], [289.5, 10.0, 290.5, 110.0]), "{rules:?}");
    }

    #[test]
    fn rules_and_paths_are_bounded() {
        let mut content = String::new();
        for i in 0..(MAX_RULES + 100) {
            content.push_str(&format!("0 {i} m 50 {i} l S "));
        }
        assert_eq!(rules_of(&content).len(), MAX_RULES);
        let mut long = String::from("0 0 m ");
        for i in 0..(MAX_PATH_POINTS + 10) {
            long.push_str(&format!("{} 0 l ", 10 * i));
        }
        long.push('S');
        assert!(rules_of(&long).is_empty());
    }
}
