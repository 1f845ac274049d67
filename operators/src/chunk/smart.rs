//! `chunk.smart`: picks a strategy per document from its structure.
//!
//! In order:
//! 1. the whole document fits in `size` → `recursive` (one chunk);
//! 2. at least 2 pages of similar size (coefficient of variation of the page sizes <= 0.5)
//!    and fewer than 2 headings (levels 1–3), or at most one per 4 pages → `by_page` (a
//!    manual with a heading every page or two reads by its sections, which pages cut
//!    mid-sentence);
//! 3. at least 2 headings at levels 1–3 → `by_heading`, at the shallowest level whose median
//!    section fits in `size` (else level 3: oversized sections fall back to recursive);
//! 4. otherwise → `recursive`.
//!
//! Every figure that led to the choice goes into the reasons of the debug record.

use super::Strategy;
use super::config::{Settings, Tables};
use super::sizer::Sizer;
use super::strategy::{page_regions, section_regions};
use crate::model::{ElementKind, ParsedDocument};

/// Coefficient of variation of page sizes up to which pages count as uniform.
const UNIFORM_PAGES: f64 = 0.5;
/// Fewest pages per heading for pages to be the better unit (with 2 headings or more).
const PAGES_PER_HEADING: usize = 4;

pub(super) struct Decision {
    pub strategy: Strategy,
    pub reasons: Vec<String>,
}

/// The strategy for `doc` with the reasons for it (`glued`, from `headings::glued`).
pub(super) fn decide(
    doc: &ParsedDocument,
    glued: &[[usize; 2]],
    sizer: &dyn Sizer,
    settings: &Settings,
) -> Decision {
    let text = doc.markdown.as_str();
    let unit = settings.unit.name();
    let size = settings.size.max(1);
    let total = sizer.size(text);
    let mut reasons = Vec::new();
    let tables = doc
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::Table)
        .count();
    if tables > 0 {
        reasons.push(format!(
            "{tables} table(s), {}",
            match settings.tables {
                Tables::OwnChunk => "each a chunk of its own",
                Tables::Inline => "chunked inline",
            }
        ));
    }
    let headings_at = |level: u8| {
        doc.elements
            .iter()
            .filter(|e| e.kind == ElementKind::Heading && e.level.is_some_and(|l| l <= level))
            .count()
    };
    let headings = headings_at(3);
    let region_sizes = |regions: &[[usize; 2]]| -> Vec<usize> {
        regions
            .iter()
            .map(|&[s, e]| sizer.size(&text[s..e]))
            .collect()
    };

    if total <= size {
        reasons.insert(
            0,
            format!("the whole document ({total} {unit}) fits in one chunk (size {size})"),
        );
        return Decision {
            strategy: Strategy::Recursive,
            reasons,
        };
    }

    match page_regions(doc, glued) {
        Some(pages) if pages.len() >= 2 => {
            let sizes = region_sizes(&pages);
            let cv = variation(&sizes);
            let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
            let figures = format!(
                "{} pages of {mean:.0} {unit} on average (coefficient of variation {cv:.2})",
                pages.len()
            );
            let few_headings = headings < 2 || headings * PAGES_PER_HEADING <= pages.len();
            if cv <= UNIFORM_PAGES && few_headings {
                reasons.insert(0, format!("{figures}: pages are uniform"));
                reasons.insert(
                    1,
                    format!(
                        "{headings} heading(s) at levels 1-3 for {} pages: pages are the better unit",
                        pages.len()
                    ),
                );
                return Decision {
                    strategy: Strategy::ByPage,
                    reasons,
                };
            }
            reasons.push(if cv > UNIFORM_PAGES {
                format!("{figures}: too uneven for by_page")
            } else {
                format!("{figures}, but {headings} headings: headings are the better unit")
            });
        }
        Some(_) => reasons.push("a single page".to_owned()),
        None => reasons.push("no pages".to_owned()),
    }

    if headings >= 2 {
        let mut chosen = None;
        for level in 1..=3u8 {
            let count = headings_at(level);
            if count < 2 {
                continue;
            }
            let mut sizes = region_sizes(&section_regions(doc, glued, level));
            sizes.sort_unstable();
            let median = sizes[sizes.len() / 2];
            if median <= size {
                chosen = Some((level, count, median));
                break;
            }
            chosen = Some((level, count, median));
        }
        if let Some((level, count, median)) = chosen {
            reasons.insert(
                0,
                format!(
                    "{count} headings at levels <= {level} (one per {} {unit})",
                    total / count.max(1)
                ),
            );
            reasons.insert(
                1,
                if median <= size {
                    format!("median section {median} {unit} fits in size {size}")
                } else {
                    format!(
                        "median section {median} {unit} exceeds size {size}: large sections are split recursively"
                    )
                },
            );
            return Decision {
                strategy: Strategy::ByHeading { level },
                reasons,
            };
        }
    }
    reasons.insert(
        0,
        format!("{headings} heading(s) at levels 1-3 and no usable pages: no structure to follow"),
    );
    Decision {
        strategy: Strategy::Recursive,
        reasons,
    }
}

/// Standard deviation over mean; 0 for fewer than two values or a zero mean.
fn variation(values: &[usize]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<usize>() as f64 / n;
    if mean == 0.0 {
        return 0.0;
    }
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    var.sqrt() / mean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variation_of_sizes() {
        assert_eq!(variation(&[]), 0.0);
        assert_eq!(variation(&[5]), 0.0);
        assert_eq!(variation(&[10, 10, 10]), 0.0);
        assert!((variation(&[0, 20]) - 1.0).abs() < 1e-9);
    }
}
