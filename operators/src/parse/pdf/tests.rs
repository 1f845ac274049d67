//! Tests over the corpus PDFs and damaged copies of them.

use super::streams::zlib;
use crate::model::{Document, ElementKind};
use crate::parse::test_corpus::corpus_dir;
use crate::parse::{ParseConfig, parse};

/// `(file, expect)` of every PDF in the corpus manifest.
fn corpus_pdfs() -> Vec<(String, String)> {
    let manifest = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv"))
        .unwrap_or_else(|e| panic!("corpus manifest: {e}"));
    let rows: Vec<(String, String)> = manifest
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c.get(1) == Some(&"pdf"))
        .map(|c| (c[0].to_string(), c[2].to_string()))
        .collect();
    assert!(!rows.is_empty(), "no PDFs in the corpus manifest");
    rows
}

fn load(file: &str) -> Document {
    let bytes = std::fs::read(corpus_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    Document::new(file.to_string(), file.to_string(), bytes)
}

#[test]
#[ignore = "debugging aid: PDF_DEBUG=file.pdf prints warnings and stats"]
fn debug_one() {
    let file = std::env::var("PDF_DEBUG").unwrap_or_default();
    let parsed = parse(&load(&file), &ParseConfig::default());
    match parsed {
        Ok(p) => eprintln!("{:#?}", p.metadata),
        Err(e) => eprintln!("error: {e}"),
    }
}

#[test]
fn corpus_pdfs_parse_with_sound_elements() {
    for (file, expect) in corpus_pdfs() {
        let result = parse(&load(&file), &ParseConfig::default());
        if expect == "must-error-cleanly" {
            assert!(result.is_err(), "{file} must fail cleanly");
            continue;
        }
        let parsed = match result {
            Ok(parsed) => parsed,
            Err(e) if expect == "no-crash" => {
                eprintln!("{file}: {e}");
                continue;
            }
            Err(e) => panic!("{file}: {e}"),
        };
        let md = &parsed.markdown;
        assert!(
            parsed.debug.stats["pages"].as_u64().is_some_and(|n| n > 0),
            "{file}"
        );
        assert!(
            parsed.metadata["pages"].as_u64().is_some_and(|n| n > 0),
            "{file}"
        );
        let mut last_start = 0;
        let mut last_page = 1;
        for e in &parsed.elements {
            let [start, end] = e.span;
            assert!(start <= end && end <= md.len(), "{file}: {e:?}");
            assert!(
                md.is_char_boundary(start) && md.is_char_boundary(end),
                "{file}: {e:?}"
            );
            assert!(start >= last_start, "{file}: elements out of order");
            last_start = start;
            let page = e.page.unwrap_or_else(|| panic!("{file}: no page on {e:?}"));
            assert!(page >= last_page, "{file}: pages go backwards");
            if e.kind == ElementKind::PageBreak {
                assert!(page > last_page, "{file}: page break without a new page");
            }
            last_page = page;
            if e.kind == ElementKind::Heading {
                assert!(matches!(e.level, Some(1..=6)), "{file}: {e:?}");
            }
        }
        if expect == "ok" {
            assert!(!parsed.elements.is_empty(), "{file}: no elements");
        }
    }
}

/// A small deterministic generator (xorshift) for byte flips.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn damaged_corpus_pdfs_never_panic() {
    use std::sync::Arc;

    use super::{PdfConfig, parse_with};

    let config = PdfConfig {
        time_budget_seconds: 20,
        ..PdfConfig::default()
    };
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for (file, _) in corpus_pdfs() {
        let bytes = load(&file).bytes.to_vec();
        let n = bytes.len();
        let mut variants: Vec<Vec<u8>> = [n / 9, n / 2, n - n / 5]
            .into_iter()
            .map(|cut| bytes[..cut].to_vec())
            .collect();
        for _ in 0..2 {
            let mut flipped = bytes.clone();
            for _ in 0..24 {
                let at = (next(&mut seed) % n.max(1) as u64) as usize;
                if let Some(b) = flipped.get_mut(at) {
                    *b ^= (next(&mut seed) & 0xFF) as u8 | 1;
                }
            }
            variants.push(flipped);
        }
        for (i, variant) in variants.into_iter().enumerate() {
            // Either result is fine; a panic or a hang is not.
            let result = parse_with(Arc::from(variant), &config);
            if let Ok(parsed) = result {
                let md = &parsed.markdown;
                for e in &parsed.elements {
                    assert!(e.span[1] <= md.len(), "{file} variant {i}: {e:?}");
                    assert!(e.page.is_some(), "{file} variant {i}: {e:?}");
                }
            }
        }
    }
}

#[test]
fn garbage_and_empty_input_are_errors() {
    use std::sync::Arc;

    for bytes in [
        &b""[..],
        b"%PDF-1.7\n",
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog",
        b"hello world",
    ] {
        let result = super::parse_with(Arc::from(bytes), &super::PdfConfig::default());
        assert!(result.is_err(), "{bytes:?}");
    }
}

/// A small PDF built in memory: one page that draws a form XObject under a translation, then
/// text of its own, with `'` (next line and show) and a bold font.
fn synthetic_pdf() -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Object, Stream, dictionary};

    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let regular = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let bold = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica-Bold",
    });
    let op = |name: &str, operands: Vec<Object>| Operation::new(name, operands);
    let form_content = Content {
        operations: vec![
            op("BT", vec![]),
            op("Tf", vec!["F1".into(), 12.into()]),
            op("Td", vec![0.into(), 0.into()]),
            op("Tj", vec![Object::string_literal("Drawn by the form")]),
            op("ET", vec![]),
        ],
    };
    let form = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 300.into(), 50.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => regular } },
        },
        form_content.encode().unwrap_or_default(),
    ));
    let page_content = Content {
        operations: vec![
            op("BT", vec![]),
            op("Tf", vec!["B".into(), 18.into()]),
            op("Td", vec![72.into(), 760.into()]),
            op("Tj", vec![Object::string_literal("Bold Title")]),
            op("ET", vec![]),
            op("q", vec![]),
            op(
                "cm",
                vec![
                    1.into(),
                    0.into(),
                    0.into(),
                    1.into(),
                    72.into(),
                    700.into(),
                ],
            ),
            op("Do", vec!["X1".into()]),
            op("Q", vec![]),
            op("BT", vec![]),
            op("Tf", vec!["F1".into(), 12.into()]),
            op("TL", vec![14.into()]),
            op("Td", vec![72.into(), 600.into()]),
            op("Tj", vec![Object::string_literal("Page text first line")]),
            op("'", vec![Object::string_literal("and its second line.")]),
            op("ET", vec![]),
        ],
    };
    let content = doc.add_object(Stream::new(
        dictionary! {},
        page_content.encode().unwrap_or_default(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! {
            "Font" => dictionary! { "F1" => regular, "B" => bold },
            "XObject" => dictionary! { "X1" => form },
        },
    });
    let info = doc.add_object(dictionary! {
        "Title" => Object::string_literal("Synthetic"), "Producer" => Object::string_literal("test"),
    });
    doc.trailer.set("Info", info);
    save_pdf(doc, pages_id, vec![page.into()])
}

/// Completes a test PDF: the page tree of `kids` under `pages_id`, the catalog, and its bytes.
fn save_pdf(
    mut doc: lopdf::Document,
    pages_id: lopdf::ObjectId,
    kids: Vec<lopdf::Object>,
) -> Vec<u8> {
    use lopdf::{Object, dictionary};

    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes)
        .unwrap_or_else(|e| panic!("save: {e}"));
    bytes
}

#[test]
fn forms_keep_their_place_and_quote_operators_show_text() {
    let doc = Document::new("s.pdf".into(), "s.pdf".into(), synthetic_pdf());
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let md = &parsed.markdown;
    let title = md.find("Bold Title").unwrap_or(usize::MAX);
    let form = md.find("Drawn by the form").unwrap_or(usize::MAX);
    let page = md
        .find("Page text first line and its second line.")
        .unwrap_or(usize::MAX);
    assert!(title < form && form < page && page < usize::MAX, "{md}");
    assert_eq!(parsed.elements[0].kind, ElementKind::Heading, "{md}");
    assert_eq!(parsed.title.as_deref(), Some("Synthetic"));
    assert_eq!(parsed.metadata["producer"], "test");
    assert_eq!(parsed.metadata["pages"], 1);
    assert!(!parsed.metadata.contains_key("parse_warnings"));
}

#[test]
fn an_exhausted_time_budget_is_a_timeout_error() {
    use std::sync::Arc;

    let bytes = load("pdf/pypdf-samples__pdflatex-4-pages.pdf").bytes;
    let config = super::PdfConfig {
        time_budget_seconds: 0,
        ..super::PdfConfig::default()
    };
    let err = super::parse_with(Arc::clone(&bytes), &config)
        .err()
        .unwrap_or_else(|| panic!("no timeout"));
    assert!(
        err.to_string().contains("timed out after 0 s at page"),
        "{err}"
    );
}

/// A PDF of the given pages, each its own `F1` font dictionary and content stream.
fn fonts_and_contents_pdf(pages: &[(lopdf::Dictionary, Vec<u8>)]) -> Vec<u8> {
    use lopdf::{Object, Stream, dictionary};

    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for (font, content) in pages {
        let font = doc.add_object(font.clone());
        let content = doc.add_object(Stream::new(dictionary! {}, content.clone()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        });
        kids.push(Object::from(page));
    }
    save_pdf(doc, pages_id, kids)
}

/// A PDF with one line of text per page, each page with its own font dictionary.
fn pages_pdf(pages: &[(lopdf::Dictionary, &str)]) -> Vec<u8> {
    use lopdf::Object;
    use lopdf::content::{Content, Operation};

    let pages: Vec<(lopdf::Dictionary, Vec<u8>)> = pages
        .iter()
        .map(|(font, text)| {
            let content = Content {
                operations: vec![
                    Operation::new("BT", vec![]),
                    Operation::new("Tf", vec!["F1".into(), 12.into()]),
                    Operation::new("Td", vec![72.into(), 700.into()]),
                    Operation::new("Tj", vec![Object::string_literal(*text)]),
                    Operation::new("ET", vec![]),
                ],
            };
            (font.clone(), content.encode().unwrap_or_default())
        })
        .collect();
    fonts_and_contents_pdf(&pages)
}

#[test]
fn a_page_the_reader_fails_on_costs_only_that_page() {
    use lopdf::dictionary;

    let good = dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" };
    // pdf-extract panics (todo!) on a ToUnicode name other than Identity-H.
    let bad = dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "ToUnicode" => "Bogus",
    };
    let bytes = pages_pdf(&[
        (good.clone(), "First page text"),
        (bad, "Unreadable"),
        (good, "Third page text"),
    ]);
    let doc = Document::new("p.pdf".into(), "p.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let md = &parsed.markdown;
    assert!(
        md.contains("First page text") && md.contains("Third page text"),
        "{md}"
    );
    let warnings = parsed.debug.warnings.join("\n");
    assert!(warnings.contains("page 2"), "{warnings}");
    let pages: Vec<u32> = parsed.elements.iter().filter_map(|e| e.page).collect();
    assert_eq!(pages.first(), Some(&1));
    assert_eq!(pages.last(), Some(&3));
}

#[test]
fn a_one_page_document_the_reader_fails_on_midway_keeps_what_was_read() {
    use lopdf::{Stream, dictionary};

    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let good = doc.add_object(
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" },
    );
    // pdf-extract panics (todo!) on a ToUnicode name other than Identity-H.
    let bad = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "ToUnicode" => "Bogus",
    });
    let content =
        b"BT /F1 12 Tf 72 700 Td (Readable text) Tj /F2 12 Tf 0 -20 Td (Lost) Tj ET".to_vec();
    let content = doc.add_object(Stream::new(dictionary! {}, content));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => good, "F2" => bad } },
    });
    let bytes = save_pdf(doc, pages_id, vec![page.into()]);
    let doc = Document::new("p.pdf".into(), "p.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        parsed.markdown.contains("Readable text"),
        "{}",
        parsed.markdown
    );
    let warnings = parsed.debug.warnings.join("\n");
    assert!(
        warnings.contains("page 1 could not be fully read"),
        "{warnings}"
    );
}

/// A one-page PDF drawing each `(font, x, y, text)` line, `font` being `F1` (Helvetica) or
/// `C` (Courier), at 10 points.
fn lines_pdf(lines: &[(&str, i64, i64, &str)]) -> Vec<u8> {
    let sized: Vec<(&str, i64, i64, i64, &str)> = lines
        .iter()
        .map(|&(font, x, y, text)| (font, 10, x, y, text))
        .collect();
    styled_lines_pdf(&sized)
}

/// A one-page PDF drawing each `(font, size, x, y, text)` line, `font` being `F1` (Helvetica)
/// or `C` (Courier).
fn styled_lines_pdf(lines: &[(&str, i64, i64, i64, &str)]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Object, Stream, dictionary};

    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let helvetica = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let courier = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier",
    });
    let mut operations = vec![Operation::new("BT", vec![])];
    for &(font, size, x, y, text) in lines {
        operations.push(Operation::new("Tf", vec![font.into(), size.into()]));
        operations.push(Operation::new(
            "Tm",
            vec![1.into(), 0.into(), 0.into(), 1.into(), x.into(), y.into()],
        ));
        operations.push(Operation::new("Tj", vec![Object::string_literal(text)]));
    }
    operations.push(Operation::new("ET", vec![]));
    let content = doc.add_object(Stream::new(
        dictionary! {},
        Content { operations }.encode().unwrap_or_default(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => helvetica, "C" => courier } },
    });
    save_pdf(doc, pages_id, vec![page.into()])
}

#[test]
fn a_numbered_monospaced_listing_is_one_code_block() {
    let prose = "Running text in a proportional face, long enough to be the body.";
    let bytes = lines_pdf(&[
        ("F1", 72, 700, prose),
        ("F1", 72, 688, "The listing below shows the loop."),
        ("F1", 72, 664, "1"),
        ("C", 90, 664, "for i in 0..3 {"),
        ("F1", 72, 652, "2"),
        ("C", 114, 652, "println!(\"{i}\");"),
        ("F1", 72, 640, "3"),
        ("C", 90, 640, "}"),
        ("F1", 72, 616, prose),
        ("F1", 72, 604, "And it ends here."),
    ]);
    let doc = Document::new("c.pdf".into(), "c.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let md = &parsed.markdown;
    assert!(
        md.contains("```\n1  for i in 0..3 {\n2      println!(\"{i}\");\n3  }\n```"),
        "{md}"
    );
    let kinds: Vec<ElementKind> = parsed.elements.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            ElementKind::Paragraph,
            ElementKind::Code,
            ElementKind::Paragraph
        ],
        "{md}"
    );
    assert!(!md.contains('|'), "no table: {md}");
}

#[test]
fn a_page_in_two_columns_is_read_column_by_column() {
    // Both columns share baselines, as typesetters set them: row by row they line up like
    // the cells of a two-column table.
    // Narrow columns hold only a few (long) words a line.
    let left = [
        "Administrators frequently misunderstand",
        "interrelationships between replication",
        "factors and synchronization protocols.",
    ];
    let right = [
        "Distributed configurations require careful",
        "consideration of availability, partition",
        "tolerance and consistency guarantees.",
    ];
    let mut lines = vec![("F1", 72, 720, "A Title Across Both Columns")];
    for (r, (l, rt)) in left.iter().zip(right).enumerate() {
        let y = 690 - 12 * r as i64;
        lines.push(("F1", 72, y, l));
        lines.push(("F1", 324, y, rt));
    }
    lines.push((
        "F1",
        72,
        640,
        "A closing line set across the whole width of the page, below both of the columns.",
    ));
    let bytes = lines_pdf(&lines);
    let doc = Document::new("c.pdf".into(), "c.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let md = &parsed.markdown;
    assert!(!md.contains('|'), "no table: {md}");
    let paragraphs: Vec<&str> = parsed
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::Paragraph)
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(
        paragraphs,
        [
            "A Title Across Both Columns",
            left.join(" ").as_str(),
            right.join(" ").as_str(),
            "A closing line set across the whole width of the page, below both of the columns.",
        ],
        "{md}"
    );
}

#[test]
fn a_paragraph_runs_on_into_the_next_column_and_a_short_line_under_both_comes_last() {
    let left = [
        "Administrators frequently misunderstand",
        "interrelationships between replication",
        "factors, synchronization protocols and",
    ];
    let right = [
        "their efficiency, which distributed",
        "configurations must weigh against the",
        "availability they promise to clients.",
    ];
    let mut lines = Vec::new();
    for (r, (l, rt)) in left.iter().zip(right).enumerate() {
        let y = 700 - 12 * r as i64;
        lines.push(("F1", 72, y, *l));
        lines.push(("F1", 324, y, rt));
    }
    // Narrow enough to sit inside the left column, but under both, after a blank.
    lines.push(("F1", 72, 652, "Short closing line."));
    let bytes = lines_pdf(&lines);
    let doc = Document::new("c.pdf".into(), "c.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let paragraphs: Vec<&str> = parsed
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::Paragraph)
        .map(|e| e.text.as_str())
        .collect();
    let whole = format!("{} {}", left.join(" "), right.join(" "));
    assert_eq!(
        paragraphs,
        [whole.as_str(), "Short closing line."],
        "{}",
        parsed.markdown
    );
}

/// The left column runs a line past the right one, then starts a paragraph in its last two
/// lines that goes on at the top of the right column. Those lines stand under both columns
/// after a blank, like a short line set under them, but they span the column: they are its
/// text, read before the right column (they came after it).
#[test]
fn a_paragraph_starting_at_the_foot_of_the_first_column_goes_on_in_the_second() {
    let first = [
        "Replicated stores keep several copies of each",
        "record on machines that stand far apart, so",
        "that one failure loses nothing at all.",
    ];
    let starts = [
        "Keeping those copies in step costs time, as",
        "every write must wait for a quorum of the",
    ];
    let goes_on = [
        "replicas to answer before the client hears",
        "back, and that wait grows with the distance",
        "between the machines holding the copies.",
    ];
    let mut lines = Vec::new();
    for (r, (l, rt)) in first.iter().zip(goes_on).enumerate() {
        let y = 700 - 12 * r as i64;
        lines.push(("F1", 72, y, *l));
        lines.push(("F1", 324, y, rt));
    }
    for (r, l) in starts.iter().enumerate() {
        lines.push(("F1", 72, 652 - 12 * r as i64, *l));
    }
    let bytes = lines_pdf(&lines);
    let doc = Document::new("c.pdf".into(), "c.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let paragraphs: Vec<&str> = parsed
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::Paragraph)
        .map(|e| e.text.as_str())
        .collect();
    let second = format!("{} {}", starts.join(" "), goes_on.join(" "));
    assert_eq!(
        paragraphs,
        [first.join(" ").as_str(), second.as_str()],
        "{}",
        parsed.markdown
    );
}

#[test]
fn a_two_column_table_of_short_cells_stays_a_table() {
    let bytes = lines_pdf(&[
        ("F1", 72, 700, "The settings below are read at start-up."),
        ("F1", 72, 680, "Setting"),
        ("F1", 324, 680, "Default"),
        ("F1", 72, 668, "workers"),
        ("F1", 324, 668, "4"),
        ("F1", 72, 656, "batch size"),
        ("F1", 324, 656, "64 documents"),
        ("F1", 72, 644, "store"),
        ("F1", 324, 644, "./kb"),
    ]);
    let doc = Document::new("t.pdf".into(), "t.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let md = &parsed.markdown;
    assert!(
        md.contains("| Setting | Default |\n| --- | --- |\n| workers | 4 |"),
        "{md}"
    );
}

#[test]
fn list_items_nest_by_their_indentation() {
    let bytes = lines_pdf(&[
        ("F1", 72, 700, "Things to pack for the trip, in order:"),
        ("F1", 72, 680, "- clothes for every day"),
        ("F1", 90, 668, "- a warm coat"),
        ("F1", 108, 656, "- with a hood"),
        ("F1", 90, 644, "- boots"),
        ("F1", 72, 632, "- something to read"),
    ]);
    let doc = Document::new("l.pdf".into(), "l.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let depths: Vec<Option<u32>> = parsed
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::ListItem)
        .map(|e| e.depth)
        .collect();
    assert_eq!(
        depths,
        [Some(0), Some(1), Some(2), Some(1), Some(0)],
        "{}",
        parsed.markdown
    );
    assert!(
        parsed.markdown.ends_with(
            "- clothes for every day\n\n    - a warm coat\n\n        - with a hood\n\n    - boots\n\n- something to read\n"
        ),
        "{}",
        parsed.markdown
    );
}

#[test]
fn a_sentence_the_page_end_cuts_is_one_paragraph_that_goes_on_to_the_next_page() {
    use lopdf::dictionary;

    let font = dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" };
    let bytes = pages_pdf(&[
        (
            font.clone(),
            "The boundary runs counter clockwise when it is the outer one and",
        ),
        (font.clone(), "clockwise around a hole."),
        (font, "Another page starts a new paragraph."),
    ]);
    let doc = Document::new("p.pdf".into(), "p.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let paragraphs: Vec<(&str, Option<u32>)> = parsed
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::Paragraph)
        .map(|e| (&parsed.markdown[e.span[0]..e.span[1]], e.page))
        .collect();
    assert_eq!(
        paragraphs,
        [
            (
                "The boundary runs counter clockwise when it is the outer one and clockwise around a hole.",
                Some(1)
            ),
            ("Another page starts a new paragraph.", Some(3)),
        ],
        "{}",
        parsed.markdown
    );
    let breaks: Vec<Option<u32>> = parsed
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::PageBreak)
        .map(|e| e.page)
        .collect();
    assert_eq!(breaks, [Some(2), Some(3)]);
    // The joined paragraph says where its text on page 2 starts.
    let joined = &parsed.elements[0];
    let [continuation] = joined.continued[..] else {
        panic!("one continuation expected: {:?}", joined.continued)
    };
    assert_eq!(continuation.page, 2);
    assert_eq!(
        &parsed.markdown[continuation.at..joined.span[1]],
        "clockwise around a hole."
    );
    assert_eq!(joined.pages_within(joined.span), Some([1, 2]));
}

/// A paragraph that fills a page of its own and goes on to the next (pypdf's pdflatex sample)
/// was cut at the second page end: the page it filled handed on no running text, so the
/// third page's words started a paragraph of their own.
#[test]
fn a_paragraph_over_three_pages_is_one() {
    use lopdf::dictionary;

    let font = dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" };
    let bytes = pages_pdf(&[
        (
            font.clone(),
            "A blind text like this gives you information about",
        ),
        (
            font.clone(),
            "the selected font and how the letters are written and",
        ),
        (font.clone(), "an impression of the look."),
        (font, "Another page starts a new paragraph."),
    ]);
    let doc = Document::new("p.pdf".into(), "p.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let paragraphs: Vec<&str> = parsed
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::Paragraph)
        .map(|e| &parsed.markdown[e.span[0]..e.span[1]])
        .collect();
    assert_eq!(
        paragraphs,
        [
            "A blind text like this gives you information about the selected font and how the letters are written and an impression of the look.",
            "Another page starts a new paragraph.",
        ],
        "{}",
        parsed.markdown
    );
    let joined = &parsed.elements[0];
    let pages: Vec<u32> = joined.continued.iter().map(|c| c.page).collect();
    assert_eq!(pages, [2, 3]);
    assert_eq!(
        &parsed.markdown[joined.continued[1].at..joined.span[1]],
        "an impression of the look."
    );
    assert_eq!(joined.pages_within(joined.span), Some([1, 3]));
}

/// A PDF whose pages draw the given content streams, with `F1` (Helvetica) as their font.
fn content_pdf(contents: &[Vec<u8>]) -> Vec<u8> {
    use lopdf::dictionary;

    let helvetica =
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" };
    let pages: Vec<(lopdf::Dictionary, Vec<u8>)> = contents
        .iter()
        .map(|content| (helvetica.clone(), content.clone()))
        .collect();
    fonts_and_contents_pdf(&pages)
}

/// Found checking the fuzz corpus: a page's `Q` without its `q` was passed on and restored
/// the state from before the page, without a font, so pdf-extract panicked on the next text
/// and the page lost it. The same happened when a `Q` (or the end of a form) restored a state
/// from before the first `Tf`.
#[test]
fn a_restore_without_a_save_stays_inside_its_page() {
    let first = b"BT /F1 12 Tf 72 700 Td (First line) Tj ET Q Q BT 72 680 Td (Second line) Tj ET";
    let second = b"q BT /F1 12 Tf 72 700 Td (Set inside) Tj ET Q BT 72 680 Td (No font) Tj ET \
        BT /F1 12 Tf 72 660 Td (Font again) Tj ET";
    let bytes = content_pdf(&[first.to_vec(), second.to_vec()]);
    let doc = Document::new("q.pdf".into(), "q.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let md = &parsed.markdown;
    for text in ["First line", "Second line", "Set inside", "Font again"] {
        assert!(md.contains(text), "{text}: {md}");
    }
    assert!(!md.contains("No font"), "{md}");
    assert!(
        parsed.debug.warnings.is_empty(),
        "{:?}",
        parsed.debug.warnings
    );
}

/// `q`s a page leaves open are closed at its end (they piled up over the pages, which are
/// drawn in one pass, each a copy of pdf-extract's graphics state: 1 M of them in a 2.5 KB
/// file took a gigabyte), and no more than `MAX_SAVES` are kept.
#[test]
fn saves_are_balanced_and_bounded_per_page() {
    use super::flatten::{MAX_SAVES, flatten_page};

    let content = [
        b"q 1 0 0 1 0 -1 cm ".repeat(MAX_SAVES + 1000),
        b"BT /F1 12 Tf 72 700 Td (deep) Tj ET Q Q Q".to_vec(),
    ]
    .concat();
    let bytes = content_pdf(&[content]);
    let doc = lopdf::Document::load_mem(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let page = doc.get_pages()[&1];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let flat = flatten_page(
        &doc,
        &Default::default(),
        &mut Default::default(),
        page,
        1,
        deadline,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let count = |name: &str| flat.ops.iter().filter(|o| o.operator == name).count();
    assert_eq!(count("q"), MAX_SAVES);
    assert_eq!(count("Q"), MAX_SAVES);
    assert_eq!(flat.ops.last().map(|o| o.operator.as_str()), Some("Q"));
}

/// A PDF of one page whose FlateDecode content stream is `content`, with `F1` (Helvetica) and
/// form XObject `X1`, whose FlateDecode content is `form`.
fn compressed_pdf(content: &[u8], form: &[u8]) -> Vec<u8> {
    use lopdf::{Stream, dictionary};

    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" },
    );
    let flate = |bytes: &[u8], dict: lopdf::Dictionary| {
        let mut dict = dict;
        dict.set("Filter", "FlateDecode");
        Stream::new(dict, zlib(bytes)).with_compression(false)
    };
    let form = doc.add_object(flate(
        form,
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 300.into(), 50.into()],
        },
    ));
    let content = doc.add_object(flate(content, dictionary! {}));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! {
            "Font" => dictionary! { "F1" => font },
            "XObject" => dictionary! { "X1" => form },
        },
    });
    save_pdf(doc, pages_id, vec![page.into()])
}

/// Flattens the first page of `bytes` within `limits`.
fn flatten_first(
    bytes: &[u8],
    limits: super::flatten::Limits,
) -> Result<super::flatten::Flattened, String> {
    let doc = lopdf::Document::load_mem(bytes).unwrap_or_else(|e| panic!("{e}"));
    let page = doc.get_pages()[&1];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let fonts = &mut Default::default();
    super::flatten::flatten_page_with(&doc, &Default::default(), fonts, page, 1, deadline, limits)
}

const TEXT: &[u8] = b"BT /F1 12 Tf 72 700 Td (Some text) Tj ET ";

/// A malformed hex string reads as empty; the text after it on the page is kept (lopdf's
/// content parser stopped there and the rest of the page was lost).
#[test]
fn a_malformed_hex_string_does_not_end_the_page() {
    use super::layout::{DocLimits, parse as parse_with};

    let page = b"BT /F1 12 Tf 72 700 Td (Before the damage) Tj <zz> Tj 0 -20 Td (After the damage (nested) <zz>) Tj ET";
    let bytes = content_pdf(&[page.to_vec()]);
    let budget = std::time::Duration::from_secs(60);
    let parsed = parse_with(&bytes, budget, DocLimits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        parsed.markdown.contains("Before the damage"),
        "{}",
        parsed.markdown
    );
    assert!(
        parsed.markdown.contains("After the damage (nested)") && parsed.markdown.contains("zz"),
        "a literal string is left as it is: {}",
        parsed.markdown
    );
}

/// A few kilobytes of FlateDecode that inflate past the limit, in the page's content stream or
/// in a form it draws, are refused as soon as they pass it (lopdf inflated them completely:
/// 520 KB took 1.1 GB), with the limit in the message; under the limit they are read.
#[test]
fn content_that_inflates_past_the_limit_is_refused() {
    use super::flatten::Limits;

    let limits = Limits {
        content_bytes: 1 << 20,
        ..Limits::default()
    };
    let spaces = vec![b' '; 2 << 20];
    let big = [TEXT, &spaces].concat();
    let err = flatten_first(&compressed_pdf(&big, TEXT), limits).err();
    let expected = "its content (streams and forms) decodes to more than the 1 MiB read";
    assert_eq!(err.as_deref(), Some(expected));
    let page = [b"q /X1 Do Q ", TEXT].concat();
    let err = flatten_first(&compressed_pdf(&page, &big), limits).err();
    assert_eq!(err.as_deref(), Some(expected));
    // The form drawn twice passes the limit where once does not.
    let half = [TEXT, &spaces[..600 << 10]].concat();
    assert!(flatten_first(&compressed_pdf(&page, &half), limits).is_ok());
    let twice = [b"/X1 Do ", &page[..]].concat();
    let err = flatten_first(&compressed_pdf(&twice, &half), limits).err();
    assert_eq!(err.as_deref(), Some(expected));
    let within = flatten_first(&compressed_pdf(&page, &half), Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(within.forms, 1);
}

/// Tiny operations cost lopdf's content parser some 600 bytes each (6 KB of compressed
/// `q Q` took 1.7 GB): they are counted before it parses them, and a page with more than
/// the limit is skipped with a warning, the other pages read.
#[test]
fn content_with_too_many_operations_is_refused_before_parsing() {
    use super::flatten::{Limits, MAX_CONTENT_TOKENS};

    let many = b"q Q ".repeat(MAX_CONTENT_TOKENS / 2 + 1);
    let bytes = content_pdf(&[TEXT.to_vec(), [TEXT, &many[..]].concat()]);
    let doc = Document::new("ops.pdf".into(), "ops.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(parsed.markdown.contains("Some text"), "{}", parsed.markdown);
    let expected = format!(
        "page 2 skipped: its content (streams and forms) holds more than the \
         {MAX_CONTENT_TOKENS} objects and operators read"
    );
    assert!(
        parsed.debug.warnings.contains(&expected),
        "{:?}",
        parsed.debug.warnings
    );
    // In forms too, counted over every time they are drawn.
    let limits = Limits {
        content_tokens: 1000,
        ..Limits::default()
    };
    let form = b"q Q ".repeat(100);
    let page = [&b"/X1 Do ".repeat(4)[..], TEXT].concat();
    let flat = flatten_first(&compressed_pdf(&page, &form), limits);
    assert_eq!(flat.map(|f| f.forms).ok(), Some(4));
    let page = [&b"/X1 Do ".repeat(5)[..], TEXT].concat();
    let err = flatten_first(&compressed_pdf(&page, &form), limits).err();
    assert_eq!(
        err.as_deref(),
        Some("its content (streams and forms) holds more than the 1000 objects and operators read")
    );
}

/// Pages are drawn in batches of bounded size (pdf-extract parses every drawn operation again,
/// at some 600 bytes each): any batch size gives the same document.
#[test]
fn pages_drawn_in_batches_read_alike() {
    use super::layout::{DocLimits, parse as parse_with};

    let words = ["alpha", "bravo", "charlie", "delta", "echo"];
    let pages: Vec<Vec<u8>> = (0..5)
        .map(|i| {
            let y = 700 - 40 * i;
            format!(
                "BT /F1 12 Tf 72 {y} Td (The {} paragraph of the document.) Tj ET",
                words[i]
            )
            .into_bytes()
        })
        .collect();
    let bytes = content_pdf(&pages);
    let budget = std::time::Duration::from_secs(60);
    let whole = parse_with(&bytes, budget, DocLimits::default()).unwrap_or_else(|e| panic!("{e}"));
    let one_by_one = DocLimits {
        batch_operations: 1,
        ..DocLimits::default()
    };
    let batched = parse_with(&bytes, budget, one_by_one).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        whole.markdown.contains("The echo paragraph"),
        "{}",
        whole.markdown
    );
    assert_eq!(whole.markdown, batched.markdown);
    assert_eq!(whole.warnings, batched.warnings);
}

/// A document keeps no more than its limit of glyphs (each page may keep up to 400,000, and
/// 6 KB of pages sharing one content stream could hold millions), and says so: on which page
/// the text stops, partway, and which pages were not read. Pages not read are left out as
/// pages after a batch are (no run of empty pages, each a page break, as if they had no
/// text), however the pages are batched.
#[test]
fn a_document_keeps_a_bounded_number_of_glyphs() {
    use super::layout::{DocLimits, parse as parse_with};

    // Nine glyphs a page, each page's line set lower than the last (no running header).
    let pages: Vec<Vec<u8>> = (1..=4)
        .map(|i| format!("BT /F1 12 Tf 72 {} Td (Line {i} ok) Tj ET", 800 - 100 * i).into_bytes())
        .collect();
    let bytes = content_pdf(&pages[..3]);
    let budget = std::time::Duration::from_secs(60);
    for batch_operations in [DocLimits::default().batch_operations, 1] {
        let limits = DocLimits {
            glyphs: 12,
            batch_operations,
            ..DocLimits::default()
        };
        let parsed = parse_with(&bytes, budget, limits).unwrap_or_else(|e| panic!("{e}"));
        // 9 glyphs of page 1, 3 of page 2.
        assert_eq!(
            parsed.markdown, "Line 1 ok\n\n---\n\nLin\n",
            "{batch_operations}"
        );
        assert_eq!(parsed.elements.last().and_then(|e| e.page), Some(2));
        // The limit comes first, and pages it emptied are not called scanned images.
        assert_eq!(
            parsed.warnings,
            [
                "the document reached the most glyphs kept (12): the text stops partway through \
                 page 2 (6 of its glyphs left out), and page 3 was not read"
            ],
            "{batch_operations}"
        );
    }
    // The limit reached at the end of a page: the pages after it are not read.
    let bytes = content_pdf(&pages);
    for batch_operations in [DocLimits::default().batch_operations, 1] {
        let limits = DocLimits {
            glyphs: 18,
            batch_operations,
            ..DocLimits::default()
        };
        let parsed = parse_with(&bytes, budget, limits).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.markdown, "Line 1 ok\n\n---\n\nLine 2 ok\n");
        assert_eq!(
            parsed.warnings,
            ["the document reached the most glyphs kept (18): pages 3–4 were not read"],
            "{batch_operations}"
        );
    }
}

/// A page keeps no more than its limit of glyphs (400,000), and says how many it left out;
/// the next page is read.
#[test]
fn a_page_keeps_a_bounded_number_of_glyphs_and_says_so() {
    use super::layout::{DocLimits, parse as parse_with};

    let first = b"BT /F1 12 Tf 72 700 Td (Some text) Tj 0 -20 Td (More words here) Tj ET";
    let second = b"BT /F1 12 Tf 72 500 Td (Page two) Tj ET";
    let bytes = content_pdf(&[first.to_vec(), second.to_vec()]);
    let budget = std::time::Duration::from_secs(60);
    let limits = DocLimits {
        page_glyphs: 12,
        ..DocLimits::default()
    };
    let parsed = parse_with(&bytes, budget, limits).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.markdown, "Some text Mor\n\n---\n\nPage two\n");
    assert_eq!(
        parsed.warnings,
        ["page 1: 12 glyphs past the first 12 of the page were left out"]
    );
}

/// A string is one object in the count of a page's tokens: a page of long lines, each shown
/// with one `Tj`, is read (up to the limit of glyphs), not refused for holding more than the
/// objects and operators read (a page of 400 lines of 2,600 characters counted 1.6 million).
#[test]
fn long_strings_count_as_one_object_each() {
    use super::flatten::Limits;
    use super::layout::{DocLimits, parse as parse_with};

    let line: String = (0..100).map(|k| format!("r0c{k} ")).collect();
    let content = format!("BT /F1 12 Tf 72 700 Td ({line}) Tj 0 -20 Td <414243> Tj ET");
    let limits = Limits {
        content_tokens: 30,
        ..Limits::default()
    };
    let flat = flatten_first(&compressed_pdf(content.as_bytes(), TEXT), limits)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(flat.faces.len(), 2);
    let bytes = content_pdf(&vec![content.into_bytes(); 2]);
    let budget = std::time::Duration::from_secs(60);
    let limits = DocLimits {
        page_glyphs: 100,
        ..DocLimits::default()
    };
    let parsed = parse_with(&bytes, budget, limits).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        parsed.markdown.starts_with("r0c0 r0c1 "),
        "{}",
        parsed.markdown
    );
    assert_eq!(
        parsed.warnings,
        [
            "page 1: 493 glyphs past the first 100 of the page were left out",
            "page 2: 493 glyphs past the first 100 of the page were left out"
        ]
    );
}

/// The `pdf.max_glyphs` of a `parse` step's settings reaches the parser; the time budget, which
/// shapes no output, stays out of the settings that fingerprint the step.
#[test]
fn the_parse_steps_pdf_settings_reach_the_parser() {
    use crate::model::Document;
    use crate::parse::{ParseConfig, parse};

    let config: ParseConfig =
        serde_json::from_value(serde_json::json!({ "pdf": { "max_glyphs": 12 } })).unwrap();
    let doc = Document::new(
        "three.pdf".into(),
        "three.pdf".into(),
        content_pdf(&vec![TEXT.to_vec(); 3]),
    );
    let parsed = parse(&doc, &config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        parsed.markdown.matches("Some text").count(),
        1,
        "{}",
        parsed.markdown
    );
    let fingerprinted = |settings: serde_json::Value| -> String {
        let config: ParseConfig = serde_json::from_value(settings).unwrap();
        serde_json::to_string(&config).unwrap()
    };
    assert_eq!(fingerprinted(serde_json::json!({})), "{}");
    assert_eq!(
        fingerprinted(serde_json::json!({ "pdf": { "time_budget_seconds": 600 } })),
        "{}"
    );
    assert_eq!(
        fingerprinted(serde_json::json!({ "pdf": { "max_glyphs": 12 } })),
        r#"{"pdf":{"max_glyphs":12}}"#
    );
}

/// A font file that inflates past the limit is left out of the font (pdf-extract inflated it
/// completely, to discard it), with a warning; the text is read.
#[test]
fn a_font_file_past_the_limit_is_left_out() {
    use lopdf::{Object, Stream, dictionary};

    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let file = doc.add_object(
        Stream::new(
            dictionary! { "Filter" => "FlateDecode" },
            zlib(&vec![0; (super::font_streams::MAX_FONT_BYTES) + 1]),
        )
        .with_compression(false),
    );
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor", "FontName" => "Arial", "Flags" => 32, "FontFile2" => file,
    });
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "TrueType", "BaseFont" => "Arial",
        "FontDescriptor" => descriptor,
    });
    let content = doc.add_object(Stream::new(dictionary! {}, TEXT.to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    let bytes = save_pdf(doc, pages_id, vec![Object::from(page)]);
    let doc = Document::new("font.pdf".into(), "font.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(parsed.markdown.contains("Some text"), "{}", parsed.markdown);
    assert_eq!(
        parsed.debug.warnings,
        ["1 font streams (font files or CMaps) decode to more than 32 MiB and were left out"]
    );
}

/// Check boxes on forms: a dingbat font's glyph whose ToUnicode entry is a control character
/// (U+0084 here, as in docling's table_mislabeled_as_picture) marks each option as a list item;
/// dropped as it was, the options ran together into one paragraph.
#[test]
fn check_boxes_in_a_dingbat_font_mark_list_items() {
    use lopdf::content::{Content, Operation};
    use lopdf::{Object, Stream, dictionary};

    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CMapName /Boxes def\n1 begincodespacerange <00> <FF> endcodespacerange\n1 beginbfchar <84> <0084> endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n";
    let to_unicode = doc.add_object(Stream::new(dictionary! {}, cmap.to_vec()));
    let boxes = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "XXQNYR+AllumiStd-DingbatsTwo",
        "FirstChar" => 132, "LastChar" => 132, "Widths" => vec![Object::from(800)],
        "ToUnicode" => to_unicode,
    });
    let text = doc.add_object(
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" },
    );
    let mut operations = Vec::new();
    let options = [
        "Yes, at the national (federal) level",
        "Yes, at the local (municipal) level",
        "No",
    ];
    for (i, option) in options.iter().enumerate() {
        let y = 700 - 16 * i as i64;
        operations.extend([
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F2".into(), 11.into()]),
            Operation::new("Td", vec![72.into(), y.into()]),
            Operation::new(
                "Tj",
                vec![Object::String(vec![0x84], lopdf::StringFormat::Hexadecimal)],
            ),
            Operation::new("Tf", vec!["F1".into(), 11.into()]),
            Operation::new("Td", vec![18.into(), 0.into()]),
            Operation::new("Tj", vec![Object::string_literal(*option)]),
            Operation::new("ET", vec![]),
        ]);
    }
    let content = Content { operations }.encode().unwrap_or_default();
    let content = doc.add_object(Stream::new(dictionary! {}, content));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => text, "F2" => boxes } },
    });
    let bytes = save_pdf(doc, pages_id, vec![Object::from(page)]);
    let doc = Document::new("form.pdf".into(), "form.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let items: Vec<(ElementKind, &str)> = parsed
        .elements
        .iter()
        .map(|e| (e.kind, e.text.as_str()))
        .collect();
    assert_eq!(
        items,
        options.map(|option| (ElementKind::ListItem, option)),
        "{}",
        parsed.markdown
    );
}

/// The text of one line drawn left to right in a font whose codes `A`, `B`, ... map, through
/// its ToUnicode CMap, to `glyphs` in turn (each one glyph's text, several characters for a
/// ligature); `line` is the codes drawn, as Word draws right-to-left text: in visual order.
fn mapped_glyphs_text(glyphs: &[&str], line: &str) -> String {
    use lopdf::content::{Content, Operation};
    use lopdf::{Object, Stream, dictionary};

    let utf16 =
        |text: &str| -> String { text.encode_utf16().map(|u| format!("{u:04X}")).collect() };
    let mut bfchar = String::from("<20> <0020>\n");
    for (i, glyph) in glyphs.iter().enumerate() {
        bfchar.push_str(&format!("<{:02X}> <{}>\n", b'A' + i as u8, utf16(glyph)));
    }
    let cmap = format!(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CMapName /Mapped def\n\
         1 begincodespacerange <00> <FF> endcodespacerange\n{} beginbfchar\n{bfchar}endbfchar\n\
         endcmap CMapName currentdict /CMap defineresource pop end end\n",
        glyphs.len() + 1
    );
    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let to_unicode = doc.add_object(Stream::new(dictionary! {}, cmap.into_bytes()));
    let last = i64::from(b'A') + glyphs.len() as i64 - 1;
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "ABCDEE+BNazanin",
        "FirstChar" => 32, "LastChar" => last,
        "Widths" => vec![Object::from(500); (last - 31) as usize],
        "ToUnicode" => to_unicode,
    });
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::string_literal(line)]),
            Operation::new("ET", vec![]),
        ],
    };
    let content = doc.add_object(Stream::new(
        dictionary! {},
        content.encode().unwrap_or_default(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    let bytes = save_pdf(doc, pages_id, vec![Object::from(page)]);
    let doc = Document::new("rtl.pdf".into(), "rtl.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    parsed.markdown.trim().to_string()
}

/// A lam-alef ligature whose ToUnicode maps one glyph to two letters in logical order (`لأ`,
/// as Word writes it): the right-to-left line is put in order glyph by glyph, each glyph's
/// letters kept in theirs. Reversing characters read `الأولى` as `األولى`.
#[test]
fn a_ligature_of_two_letters_keeps_their_order_in_right_to_left_text() {
    // `الأولى لا`, drawn from the left: لا (one glyph), space, ى ل و لأ ا.
    let glyphs = ["ى", "ل", "و", "لأ", "ا", "لا"];
    assert_eq!(mapped_glyphs_text(&glyphs, "F ABCDE"), "الأولى لا");
}

/// Arabic presentation forms (a letter's joining shape, a lam-alef ligature) in glyph text
/// read as the standard letters that search tokenises on.
#[test]
fn arabic_presentation_forms_read_as_standard_letters() {
    // `كلام السلام`, drawn from the left in isolated, final, medial and initial forms:
    // ﻡ ﻼ ﺴ ﻟ ﺍ, space, ﻡ ﻼ ﻛ.
    let glyphs = [
        "\u{fee1}", "\u{fefc}", "\u{fedb}", "\u{feb4}", "\u{fedf}", "\u{fe8d}",
    ];
    assert_eq!(mapped_glyphs_text(&glyphs, "ABDEF ABC"), "كلام السلام");
}

#[test]
#[ignore = "report: how many corpus PDFs cut to PDF_CUT percent (95) still parse"]
fn truncated_corpus_report() {
    let percent: usize = std::env::var("PDF_CUT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(95);
    let (mut ok, mut all) = (0, 0);
    for (file, _) in corpus_pdfs() {
        let bytes = load(&file).bytes.to_vec();
        let cut = bytes[..bytes.len() * percent / 100].to_vec();
        let doc = Document::new(file.clone(), file.clone(), cut);
        all += 1;
        match parse(&doc, &ParseConfig::default()) {
            Ok(p) => {
                ok += 1;
                eprintln!(
                    "ok   {file}: {} chars, {:?}",
                    p.markdown.len(),
                    p.debug.warnings
                );
            }
            Err(e) => eprintln!("FAIL {file}: {e}"),
        }
    }
    eprintln!("{ok} of {all} parse cut to {percent}%");
}

/// Where the objects the first page needs end in `bytes` (the catalog, the page, its contents
/// and fonts, each to the next object's offset); `None` when the file does not load.
fn first_page_end(bytes: &[u8]) -> Option<usize> {
    use lopdf::xref::XrefEntry;

    let doc = lopdf::Document::load_mem(bytes).ok()?;
    let offset = |id: lopdf::ObjectId| match doc.reference_table.get(id.0) {
        Some(XrefEntry::Normal { offset, .. }) => Some(*offset as usize),
        Some(XrefEntry::Compressed { container, .. }) => {
            match doc.reference_table.get(*container) {
                Some(XrefEntry::Normal { offset, .. }) => Some(*offset as usize),
                _ => None,
            }
        }
        _ => None,
    };
    let mut offsets: Vec<usize> = doc
        .reference_table
        .entries
        .values()
        .filter_map(|e| match e {
            XrefEntry::Normal { offset, .. } => Some(*offset as usize),
            _ => None,
        })
        .collect();
    offsets.sort_unstable();
    let end_of = |at: usize| {
        offsets
            .iter()
            .find(|&&o| o > at)
            .copied()
            .unwrap_or(bytes.len())
    };
    let root = doc.trailer.get(b"Root").ok()?.as_reference().ok()?;
    let page = *doc.get_pages().values().next()?;
    // Everything the page refers to, its parents aside.
    let mut ids = vec![root];
    let mut seen = std::collections::BTreeSet::new();
    let mut pending = vec![page];
    while let Some(id) = pending.pop() {
        if !seen.insert(id) {
            continue;
        }
        ids.push(id);
        let mut objects = vec![doc.get_object(id).ok()?];
        while let Some(object) = objects.pop() {
            match object {
                lopdf::Object::Reference(r) => pending.push(*r),
                lopdf::Object::Array(items) => objects.extend(items),
                lopdf::Object::Dictionary(d) => {
                    objects.extend(d.iter().filter(|(k, _)| *k != b"Parent").map(|(_, v)| v))
                }
                lopdf::Object::Stream(s) => objects.extend(s.dict.iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    }
    ids.into_iter()
        .map(|id| offset(id).map(end_of))
        .try_fold(0, |end, e| Some(end.max(e?)))
}

#[test]
fn truncated_corpus_pdfs_keep_a_prefix_of_their_text() {
    let mut recovered = 0;
    for (file, expect) in corpus_pdfs() {
        if expect != "ok" {
            continue;
        }
        let bytes = load(&file).bytes.to_vec();
        let full = parse(&load(&file), &ParseConfig::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .markdown;
        let Some(needed) = first_page_end(&bytes) else {
            continue;
        };
        for percent in [95, 80] {
            let cut = bytes.len() * percent / 100;
            if cut < needed {
                continue;
            }
            let doc = Document::new(file.clone(), file.clone(), bytes[..cut].to_vec());
            let parsed = parse(&doc, &ParseConfig::default())
                .unwrap_or_else(|e| panic!("{file} cut to {percent}%: {e}"));
            // The first page's first line (furniture and headings may be told apart
            // differently with fewer pages, so not the very start of the full text).
            let md = parsed.markdown;
            let first = md
                .lines()
                .map(|l| l.trim_start_matches(['#', ' ']).trim())
                .find(|l| !l.is_empty())
                .unwrap_or_else(|| panic!("{file} cut to {percent}%: no text"));
            let at = full.find(first);
            assert!(
                at.is_some_and(|at| at < full.len() / 2),
                "{file} cut to {percent}%: {first:?} is not near the start of the full text"
            );
            assert!(
                parsed
                    .debug
                    .warnings
                    .iter()
                    .any(|w| w.contains("cross-reference table rebuilt")),
                "{file} cut to {percent}%"
            );
            recovered += 1;
        }
    }
    assert!(
        recovered >= 10,
        "only {recovered} cut files had their first page"
    );
}

/// A file cut before the objects that list its pages (as LibreOffice and pdfTeX write them,
/// last) says it is cut short and that a complete copy is needed, not that its
/// cross-reference table failed to parse; a damaged file that ends as a PDF does is still
/// "not a readable PDF".
#[test]
fn a_pdf_cut_before_its_page_tree_says_it_is_cut_short() {
    let text = b"BT /F1 12 Tf 72 720 Td (Hello there) Tj ET";
    let bytes = objects_pdf(&[
        b"<< /Type /Catalog /Pages 4 0 R >>".to_vec(),
        HELVETICA.to_vec(),
        stream_object("<<", &text.len().to_string(), text),
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 612 792] \
          /Resources << /Font << /F1 2 0 R >> >> /Contents 3 0 R >>"
            .to_vec(),
    ]);
    assert!(parse_bytes(bytes.clone()).markdown.contains("Hello there"));
    let cut = bytes.windows(7).position(|w| w == b"4 0 obj").unwrap();
    let doc = Document::new("cut.pdf".into(), "cut.pdf".into(), bytes[..cut].to_vec());
    let err = parse(&doc, &ParseConfig::default()).unwrap_err();
    assert!(
        matches!(err, crate::parse::ParseError::PdfTruncated { bytes } if bytes == cut),
        "{err}"
    );
    assert!(err.to_string().contains("get a complete copy"), "{err}");
    let mut ended = bytes[..cut].to_vec();
    ended.extend_from_slice(b"\n%%EOF\n");
    let doc = Document::new("ended.pdf".into(), "ended.pdf".into(), ended);
    let err = parse(&doc, &ParseConfig::default()).unwrap_err();
    assert!(
        matches!(err, crate::parse::ParseError::PdfMalformed { .. }),
        "{err}"
    );
}

/// The bytes of a PDF whose objects 1, 2, … are `objects`, in that order (object 1 the
/// catalog), with a cross-reference table and a trailer after them.
fn objects_pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    objects_pdf_of_version("1.4", objects)
}

/// [`objects_pdf`] with the header of PDF `version`.
pub(crate) fn objects_pdf_of_version(version: &str, objects: &[Vec<u8>]) -> Vec<u8> {
    use std::io::Write;

    let mut bytes = format!("%PDF-{version}\n").into_bytes();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(bytes.len());
        let _ = writeln!(bytes, "{} 0 obj", i + 1);
        bytes.extend_from_slice(body);
        bytes.extend_from_slice(b"\nendobj\n");
    }
    let at = bytes.len();
    let _ = write!(
        bytes,
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    );
    for offset in offsets {
        let _ = writeln!(bytes, "{offset:010} 00000 n ");
    }
    let _ = write!(
        bytes,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{at}\n%%EOF\n",
        objects.len() + 1
    );
    bytes
}

/// A stream object's text: `dict` (without its `>>`), its `/Length`, its data.
fn stream_object(dict: &str, length: &str, data: &[u8]) -> Vec<u8> {
    [
        format!("{dict} /Length {length} >>\nstream\n").as_bytes(),
        data,
        b"\nendstream",
    ]
    .concat()
}

/// The first objects of a one-page PDF: the catalog, the page tree and the page, which draws
/// `contents` with `fonts` (`/F1 4 0 R`, say).
fn page_objects(fonts: &str, contents: &str) -> Vec<Vec<u8>> {
    vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
             /Resources << /Font << {fonts} >> >> /Contents {contents} >>"
        )
        .into_bytes(),
    ]
}

const HELVETICA: &[u8] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";

fn parse_bytes(bytes: Vec<u8>) -> crate::model::ParsedDocument {
    let doc = Document::new("cut.pdf".into(), "cut.pdf".into(), bytes);
    parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// A file cut inside its last object, a page's FlateDecode content stream: lopdf read the
/// stream as its dictionary alone (a direct `/Length` past the end) or as empty (a `/Length`
/// object cut off too), and the page lost all its text. The data there are inflate to the
/// text drawn before the cut, and the page says its content was cut.
#[test]
fn a_flate_content_stream_cut_off_the_file_keeps_the_text_before_the_cut() {
    let lines: String = (0..60)
        .map(|i| format!("0 -12 Td (Line {i} of the page, number {}) Tj\n", i * 7919))
        .collect();
    let content = format!("BT /F1 10 Tf 72 760 Td {lines} ET");
    let data = zlib(content.as_bytes());
    for length in [data.len().to_string(), "6 0 R".to_string()] {
        let mut objects = page_objects("/F1 4 0 R", "5 0 R");
        objects.push(HELVETICA.to_vec());
        objects.push(stream_object("<< /Filter /FlateDecode", &length, &data));
        objects.push(data.len().to_string().into_bytes());
        let whole = objects_pdf(&objects);
        let at = memchr::memmem::find(&whole, &data).unwrap_or_else(|| panic!("no data"));
        let cut = whole[..at + data.len() / 2].to_vec();
        let parsed = parse_bytes(cut);
        let md = &parsed.markdown;
        assert!(
            md.contains("Line 0 of the page, number 0"),
            "{length}: {md}"
        );
        assert!(!md.contains("Line 59 of"), "{length}: {md}");
        let warnings = &parsed.debug.warnings;
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("page 1: its content is cut short")),
            "{length}: {warnings:?}"
        );
        let intact = parse_bytes(whole);
        assert!(
            intact.markdown.contains("Line 59 of"),
            "{}",
            intact.markdown
        );
        assert!(
            intact.debug.warnings.is_empty(),
            "{:?}",
            intact.debug.warnings
        );
    }
}

/// Zlib data of `bytes` in stored (uncompressed) blocks, so that a cut falls where wanted.
fn zlib_stored(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;

    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::none());
    encoder
        .write_all(bytes)
        .unwrap_or_else(|e| panic!("zlib: {e}"));
    encoder.finish().unwrap_or_else(|e| panic!("zlib: {e}"))
}

/// A page's first content stream, whose FlateDecode data end early (inside a string): what
/// inflates is read up to its last complete operation, so the open string swallows neither
/// the page's second stream nor anything else, and the page says its content was cut.
#[test]
fn a_content_stream_whose_flate_data_end_early_keeps_its_complete_operations() {
    let first = b"BT /F1 12 Tf 72 700 Td (Before the cut) Tj 0 -20 Td (After the cut) Tj ET";
    let stored = zlib_stored(first);
    let at = memchr::memmem::find(&stored, b"the cut) Tj ET").unwrap_or(0);
    let short = &stored[..at + 5];
    let second = b"BT /F1 12 Tf 72 600 Td (Second stream) Tj ET";
    let mut objects = page_objects("/F1 4 0 R", "[5 0 R 6 0 R]");
    objects.push(HELVETICA.to_vec());
    objects.push(stream_object(
        "<< /Filter /FlateDecode",
        &short.len().to_string(),
        short,
    ));
    objects.push(stream_object("<<", &second.len().to_string(), second));
    let parsed = parse_bytes(objects_pdf(&objects));
    let md = &parsed.markdown;
    assert!(
        md.contains("Before the cut") && md.contains("Second stream"),
        "{md}"
    );
    assert!(!md.contains("After the"), "{md}");
    assert_eq!(
        parsed.debug.warnings,
        [
            "page 1: its content is cut short (the file is truncated or damaged); the text before the cut was read"
        ]
    );
}

/// A file cut inside a font's object: pdf-extract panicked on the reference to it and the
/// page lost its text. The font is left out with the text shown in it, the rest of the page is
/// read, and a warning says so.
#[test]
fn a_font_cut_off_the_file_costs_only_the_text_shown_in_it() {
    let content = b"BT /F1 12 Tf 72 700 Td (Before the lost font) Tj /F2 12 Tf 0 -20 Td \
        (In the lost font) Tj /F1 12 Tf 0 -20 Td (After the lost font) Tj ET";
    let mut objects = page_objects("/F1 4 0 R /F2 6 0 R", "5 0 R");
    objects.push(HELVETICA.to_vec());
    objects.push(stream_object("<<", &content.len().to_string(), content));
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>".to_vec());
    let whole = objects_pdf(&objects);
    let intact = parse_bytes(whole.clone());
    assert!(
        intact.markdown.contains("In the lost font"),
        "{}",
        intact.markdown
    );
    let at = memchr::memmem::find(&whole, b"/BaseFont /Helvetica-Bold").unwrap_or(0);
    let parsed = parse_bytes(whole[..at].to_vec());
    let md = &parsed.markdown;
    assert!(
        md.contains("Before the lost font") && md.contains("After the lost font"),
        "{md}"
    );
    assert!(!md.contains("In the lost font"), "{md}");
    assert_eq!(
        parsed.debug.warnings,
        [
            "1 fonts are missing from the file or lack what they need; the text shown in them was left out",
            "the file is damaged (cross-reference table rebuilt); 1 pages read"
        ]
    );
}

/// A font whose widths, descriptor and ToUnicode CMap were cut off the end of the file: it is
/// read without them (pdf-extract panicked on each reference), and a warning says so.
#[test]
fn a_font_whose_widths_descriptor_and_cmap_are_cut_off_is_read_without_them() {
    let content = b"BT /F1 12 Tf 72 700 Td (Text in a font that lost its parts) Tj ET";
    let mut objects = page_objects("/F1 4 0 R", "5 0 R");
    objects.push(
        b"<< /Type /Font /Subtype /TrueType /BaseFont /Arial /Encoding /WinAnsiEncoding \
          /FirstChar 32 /LastChar 126 /Widths 6 0 R /FontDescriptor 7 0 R /ToUnicode 8 0 R >>"
            .to_vec(),
    );
    objects.push(stream_object("<<", &content.len().to_string(), content));
    objects.push(format!("[{}]", "500 ".repeat(95)).into_bytes());
    objects.push(b"<< /Type /FontDescriptor /FontName /Arial /Flags 32 >>".to_vec());
    let whole = objects_pdf(&objects);
    let at = memchr::memmem::find(&whole, b"6 0 obj").unwrap_or(0);
    let parsed = parse_bytes(whole[..at].to_vec());
    assert!(
        parsed
            .markdown
            .contains("Text in a font that lost its parts"),
        "{}",
        parsed.markdown
    );
    assert_eq!(
        parsed.debug.warnings,
        [
            "1 fonts refer to objects missing from the file and were read without them",
            "the file is damaged (cross-reference table rebuilt); 1 pages read"
        ]
    );
}

/// A composite font whose descendant's descriptor is missing (pdf-extract requires one) is
/// read with an empty one; one whose descendant is missing is left out.
#[test]
fn a_composite_font_missing_its_descriptor_or_descendant() {
    let content = b"BT /F1 12 Tf 72 700 Td <00480069> Tj /F2 12 Tf 0 -20 Td <0048> Tj \
        /F3 12 Tf 0 -20 Td (Plain text) Tj ET";
    let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
        1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
        2 beginbfchar <0048> <0048> <0069> <0069> endbfchar\nendcmap end end\n";
    let mut objects = page_objects("/F1 4 0 R /F2 7 0 R /F3 8 0 R", "5 0 R");
    objects.push(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Sans /Encoding /Identity-H \
          /DescendantFonts [6 0 R] /ToUnicode 9 0 R >>"
            .to_vec(),
    );
    objects.push(stream_object("<<", &content.len().to_string(), content));
    objects.push(
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Sans /FontDescriptor 20 0 R \
          /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>"
            .to_vec(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Sans /Encoding /Identity-H \
          /DescendantFonts [21 0 R] >>"
            .to_vec(),
    );
    objects.push(HELVETICA.to_vec());
    objects.push(stream_object("<<", &cmap.len().to_string(), cmap));
    let parsed = parse_bytes(objects_pdf(&objects));
    let md = &parsed.markdown;
    assert!(md.contains("Hi") && md.contains("Plain text"), "{md}");
    assert_eq!(
        parsed.debug.warnings,
        [
            "1 fonts refer to objects missing from the file and were read without them",
            "1 fonts are missing from the file or lack what they need; the text shown in them was left out",
        ]
    );
}

/// A one-page PDF that shows, one line each, the text of each of `fonts` (`(font dictionary,
/// string)`, named `/F1`, `/F2`, …) and then a sentence in Helvetica. Objects 6, 7, … are
/// `extra` (the fonts' parts), the fonts follow them.
fn fonts_pdf(fonts: &[(&str, &str)], extra: Vec<Vec<u8>>) -> Vec<u8> {
    let first_font = 6 + extra.len();
    let names: Vec<String> = (0..fonts.len())
        .map(|i| format!("/F{} {} 0 R", i + 1, first_font + i))
        .collect();
    let mut content = String::new();
    for (i, (_, shown)) in fonts.iter().enumerate() {
        let y = 700 - 20 * i;
        content.push_str(&format!("BT /F{} 12 Tf 72 {y} Td {shown} Tj ET\n", i + 1));
    }
    content.push_str("BT /H 12 Tf 72 500 Td (Text in a healthy font after them.) Tj ET");
    let mut objects = page_objects(&format!("{} /H 5 0 R", names.join(" ")), "4 0 R");
    objects.push(stream_object(
        "<<",
        &content.len().to_string(),
        content.as_bytes(),
    ));
    objects.push(HELVETICA.to_vec());
    objects.extend(extra);
    objects.extend(fonts.iter().map(|(font, _)| font.as_bytes().to_vec()));
    objects_pdf(&objects)
}

/// A ToUnicode CMap (a stream object) with `body` between its code space and its end.
fn cmap_object(body: &str) -> Vec<u8> {
    let cmap = format!(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
         1 begincodespacerange <00> <FF> endcodespacerange\n{body}\nendcmap end end\n"
    );
    stream_object("<<", &cmap.len().to_string(), cmap.as_bytes())
}

/// Parses `bytes` and checks that every line in `lines` was read, the Helvetica sentence
/// after them too, with these `warnings`.
fn assert_fonts_read(bytes: Vec<u8>, lines: &[&str], warnings: &[&str]) {
    let parsed = parse_bytes(bytes);
    let md = &parsed.markdown;
    for line in lines.iter().chain(&["Text in a healthy font after them."]) {
        assert!(md.contains(line), "{line:?} in {md}");
    }
    assert_eq!(parsed.debug.warnings, warnings);
}

/// `Differences` with a negative code, a string, a real and a code past 255 (pdf-extract
/// indexed its 256-entry table with them, or panicked on the type) are cleaned to the codes
/// from 0 to 255 and their names, as MuPDF reads them; a glyph name that pdf-extract maps to a
/// lone surrogate (a TeX font's) is dropped without a warning, the font's CMap reading it.
#[test]
fn a_font_with_malformed_differences_is_read_without_them() {
    let bad = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica \
        /Encoding << /Differences [-5 /A (str) 66 /C 1.5 /D 300 /E] >> >>";
    let tex = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R \
        /Encoding << /Differences [65 /capitalcompwordmark /B] >> >>";
    let cmap = cmap_object("2 beginbfchar <41> <0041> <42> <0042> endbfchar");
    assert_fonts_read(
        fonts_pdf(&[(bad, "(ABCD)"), (tex, "(BAB)")], vec![cmap]),
        &["ACDD", "BAB"],
        &["1 fonts have malformed entries (Encoding) and were read without them"],
    );
}

/// ToUnicode CMaps that map a code to an odd number of bytes or to reversed surrogates
/// (pdf-extract asserted, or unwrapped the UTF-16) are left out: the fonts' own encoding reads
/// their text.
#[test]
fn a_font_whose_cmap_maps_to_bad_utf16_is_read_without_it() {
    let font = |cmap: usize| {
        format!("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode {cmap} 0 R >>")
    };
    let (odd, reversed) = (font(6), font(7));
    let cmaps = vec![
        cmap_object("1 beginbfchar <48> <004> endbfchar"),
        cmap_object("1 beginbfchar <48> <DFFFD800> endbfchar"),
    ];
    assert_fonts_read(
        fonts_pdf(&[(&odd, "(Half)"), (&reversed, "(Hush)")], cmaps),
        &["Half", "Hush"],
        &["2 fonts have malformed entries (ToUnicode) and were read without them"],
    );
}

/// Fewer widths than `FirstChar` to `LastChar` span, and widths that are a string and a name
/// (pdf-extract asserted the span, and expected numbers): `LastChar` is set to agree with the
/// widths, and those that are not numbers are 0.
#[test]
fn a_font_whose_widths_disagree_with_its_range_is_read() {
    let short = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica \
        /FirstChar 32 /LastChar 126 /Widths [278 278 355] >>";
    let junk = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica \
        /FirstChar 72 /LastChar 74 /Widths [722 (x) /N] >>";
    assert_fonts_read(
        fonts_pdf(&[(short, "(Short)"), (junk, "(Junk)")], vec![]),
        &["Short", "Junk"],
        &["2 fonts have malformed entries (Widths) and were read without them"],
    );
}

/// A Type 3 font showing a code outside `FirstChar` to `LastChar` (pdf-extract panicked:
/// "missing width", and the page lost the rest of its text), which is no error, and one whose
/// widths are not numbers and disagree with `LastChar`: their widths are spread over all 256
/// codes, a warning saying only of the second.
#[test]
fn a_type3_font_shows_codes_outside_its_widths() {
    let font = |range: &str| {
        format!(
            "<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] \
             /FontMatrix [0.001 0 0 0.001 0 0] /CharProcs << /a 6 0 R /b 6 0 R >> \
             /Encoding << /Type /Encoding /Differences [97 /a /b] >> {range} /Resources << >> >>"
        )
    };
    let (partial, malformed) = (
        font("/FirstChar 97 /LastChar 98 /Widths [600 600]"),
        font("/FirstChar 97 /LastChar 99 /Widths [600 (x)]"),
    );
    let glyph = b"600 0 d0 0 0 600 1000 re f";
    let procedure = stream_object("<<", &glyph.len().to_string(), glyph);
    assert_fonts_read(
        fonts_pdf(
            &[(&partial, "(abba ab)"), (&malformed, "(baa b)")],
            vec![procedure],
        ),
        &["abba ab", "baa b"],
        &["1 fonts have malformed entries (Widths) and were read without them"],
    );
}

/// An embedded Type 1 font program that its encoding parser rejects (a PFB segment header) and
/// a CFF program that its parser rejects (pdf-extract unwrapped both): the descriptor is read
/// without them.
#[test]
fn a_font_whose_embedded_program_is_unreadable_is_read_without_it() {
    let font = |subtype: &str, key: &str, file: usize| {
        format!(
            "<< /Type /Font /Subtype /{subtype} /BaseFont /Foo /Encoding /WinAnsiEncoding \
             /FontDescriptor << /Type /FontDescriptor /FontName /Foo /Flags 32 \
             /FontBBox [0 0 1000 1000] /ItalicAngle 0 /Ascent 800 /Descent -200 \
             /CapHeight 700 /StemV 80 /{key} {file} 0 R >> >>"
        )
    };
    let (type1, cff) = (font("Type1", "FontFile", 6), font("Type1", "FontFile3", 7));
    let pfb = [&b"\x80\x01\x10\x00\x00\x00"[..], &[0x9c; 64]].concat();
    let garbage = [&b"\x01\x00\x04\x02"[..], &[0; 200]].concat();
    let files = vec![
        stream_object(
            "<< /Length1 70 /Length2 0 /Length3 0",
            &pfb.len().to_string(),
            &pfb,
        ),
        stream_object("<< /Subtype /Type1C", &garbage.len().to_string(), &garbage),
    ];
    assert_fonts_read(
        fonts_pdf(&[(&type1, "(Pfb)"), (&cff, "(Cff)")], files),
        &["Pfb", "Cff"],
        &["2 fonts have malformed entries (font file) and were read without them"],
    );
}

/// Objects 6 and 7 of a PDF whose composite fonts use them: a CID font of Identity ordering
/// and its descriptor (object 7).
fn identity_cid_font_objects() -> [Vec<u8>; 2] {
    [
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Sans /FontDescriptor 7 0 R \
          /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>"
            .to_vec(),
        b"<< /Type /FontDescriptor /FontName /Sans /Flags 32 /FontBBox [0 0 1000 1000] \
          /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>"
            .to_vec(),
    ]
}

/// A font whose ToUnicode CMap maps a code to a noncharacter (U+FFFF) shows no such char in
/// the text: the rest of the word reads as it is.
#[test]
fn noncharacters_are_no_text() {
    let content = b"BT /F1 12 Tf 72 700 Td <004800690048> Tj ET";
    let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
        1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
        2 beginbfchar <0048> <FFFF> <0069> <0069> endbfchar\nendcmap end end\n";
    let mut objects = page_objects("/F1 4 0 R", "5 0 R");
    objects.push(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Sans /Encoding /Identity-H \
          /DescendantFonts [6 0 R] /ToUnicode 8 0 R >>"
            .to_vec(),
    );
    objects.push(stream_object("<<", &content.len().to_string(), content));
    objects.extend(identity_cid_font_objects());
    objects.push(stream_object("<<", &cmap.len().to_string(), cmap));
    let parsed = parse_bytes(objects_pdf(&objects));
    assert!(parsed.markdown.contains('i'), "{:?}", parsed.markdown);
    assert!(
        !parsed.markdown.contains('\u{ffff}'),
        "{:?}",
        parsed.markdown
    );
}

/// A page with no media box, or one of no area, is read as US Letter, as other readers do:
/// the document was refused (pdf-extract panics without one), or the page showed nothing.
#[test]
fn a_page_without_a_usable_media_box_is_read_as_letter() {
    let content = b"BT /F1 12 Tf 72 700 Td (Boxed by default) Tj ET";
    for media_box in ["", "/MediaBox [0 0 0 0]", "/MediaBox [0 0 (wide) 792]"] {
        let objects = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            format!(
                "<< /Type /Page /Parent 2 0 R {media_box} /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            )
            .into_bytes(),
            HELVETICA.to_vec(),
            stream_object("<<", &content.len().to_string(), content),
        ];
        let parsed = parse_bytes(objects_pdf(&objects));
        assert!(
            parsed.markdown.contains("Boxed by default"),
            "{media_box}: {}",
            parsed.markdown
        );
        assert_eq!(
            parsed.debug.warnings,
            [
                "1 pages have no usable media box (missing, malformed or of no area) and were read as US Letter"
            ],
            "{media_box}"
        );
    }
}

/// A page whose content the file lost before any text (a cut file) is not blamed on a scanned
/// image: the warning says no text came before the cut; a page that draws no text still is.
#[test]
fn a_page_cut_before_any_text_is_no_scanned_image() {
    let mut objects = page_objects("/F1 4 0 R", "5 0 R");
    objects.push(HELVETICA.to_vec());
    let warnings = parse_bytes(objects_pdf(&objects)).debug.warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w == "page 1: no text came before the cut"),
        "{warnings:?}"
    );
    assert!(
        !warnings.iter().any(|w| w.contains("scanned image")),
        "{warnings:?}"
    );
    let drawing = b"0 0 m 100 100 l S";
    objects.push(stream_object("<<", &drawing.len().to_string(), drawing));
    let warnings = parse_bytes(objects_pdf(&objects)).debug.warnings;
    assert_eq!(warnings, ["page 1 has no extractable text: scanned image?"]);
}

/// A content stream whose `/Length` is one byte short, ten bytes long, missing, or a number
/// of another object that is not one: lopdf kept it as its dictionary alone (or empty) and the
/// page lost all its text, with a warning that blamed a scanned image. It is read up to its
/// `endstream`, and the warning says the file is damaged.
#[test]
fn a_content_stream_with_a_wrong_length_is_read_up_to_its_endstream() {
    let content = b"BT /F1 12 Tf 72 700 Td (Read despite its length) Tj ET";
    let declared = content.len();
    for length in [
        (declared - 1).to_string(),
        (declared + 10).to_string(),
        "6 0 R".to_owned(),
        "0".to_owned(),
    ] {
        let mut objects = page_objects("/F1 4 0 R", "5 0 R");
        objects.push(HELVETICA.to_vec());
        objects.push(stream_object("<<", &length, content));
        objects.push(b"(not a number)".to_vec());
        let parsed = parse_bytes(objects_pdf(&objects));
        assert!(
            parsed.markdown.contains("Read despite its length"),
            "/Length {length}: {}",
            parsed.markdown
        );
        assert_eq!(
            parsed.debug.warnings,
            [
                "the file is damaged: 1 streams have a wrong or missing /Length and were read up to their endstream"
            ],
            "/Length {length}"
        );
    }
}

/// Forty composite fonts on one page share one ToUnicode CMap of 63,488 codes: pdf-extract
/// expands it once per font (a page of 500 such fonts took 2.4 GB). The fonts past what a page
/// may map are left out with their text, and a warning says so; the rest is read.
#[test]
fn fonts_sharing_a_large_cmap_are_bounded_by_the_codes_a_page_may_map() {
    let fonts = 40;
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
         1 begincodespacerange <0000> <FFFF> endcodespacerange\n",
    );
    let ranges: Vec<u32> = (0..=0xff)
        .filter(|hi| !(0xd8..=0xdf).contains(hi))
        .collect();
    for block in ranges.chunks(100) {
        cmap.push_str(&format!("{} beginbfrange\n", block.len()));
        for hi in block {
            cmap.push_str(&format!("<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>\n"));
        }
        cmap.push_str("endbfrange\n");
    }
    cmap.push_str("endcmap end end\n");
    let names: Vec<String> = (0..fonts).map(|i| format!("/C{i} {} 0 R", 8 + i)).collect();
    let mut content = String::from("BT /F1 12 Tf 72 740 Td (Plain text) Tj ");
    for i in 0..fonts {
        content.push_str(&format!("/C{i} 12 Tf 0 -20 Td <0048> Tj "));
    }
    content.push_str("ET");
    let mut objects = page_objects(&format!("/F1 4 0 R {}", names.join(" ")), "5 0 R");
    objects.push(HELVETICA.to_vec());
    objects.push(stream_object(
        "<<",
        &content.len().to_string(),
        content.as_bytes(),
    ));
    objects.extend(identity_cid_font_objects());
    for _ in 0..fonts {
        objects.push(
            format!(
                "<< /Type /Font /Subtype /Type0 /BaseFont /Sans /Encoding /Identity-H \
                 /DescendantFonts [6 0 R] /ToUnicode {} 0 R >>",
                8 + fonts
            )
            .into_bytes(),
        );
    }
    objects.push(stream_object(
        "<<",
        &cmap.len().to_string(),
        cmap.as_bytes(),
    ));
    let parsed = parse_bytes(objects_pdf(&objects));
    let kept = parsed.markdown.matches('H').count();
    assert!(
        parsed.markdown.contains("Plain text"),
        "{}",
        parsed.markdown
    );
    assert_eq!(kept, 33, "{}", parsed.markdown);
    assert_eq!(
        parsed.debug.warnings,
        [
            "7 fonts were left out, with the text shown in them: a page's fonts may map at most 2097152 character codes through their ToUnicode CMaps"
        ]
    );
}

/// Corpus files cut to 80, 90 and 95% of their length: no page fails in the PDF reader (it
/// panicked on references to fonts, and to their parts, that the cut took, and the page lost
/// its text: 5 of the 26 files at 95%).
#[test]
fn cut_corpus_pdfs_are_read_without_the_reader_failing() {
    for (file, _) in corpus_pdfs() {
        let bytes = load(&file).bytes.to_vec();
        for percent in [80, 90, 95] {
            let doc = Document::new(
                file.clone(),
                file.clone(),
                bytes[..bytes.len() * percent / 100].to_vec(),
            );
            let said = match parse(&doc, &ParseConfig::default()) {
                Ok(parsed) => parsed.debug.warnings.join("\n"),
                Err(e) => e.to_string(),
            };
            assert!(
                !said.contains("the PDF reader failed"),
                "{file} cut to {percent}%: {said}"
            );
        }
    }
}

/// A one-page PDF: `F1` (Helvetica) and a composite font `C` of Adobe-GB1 glyphs, not
/// embedded, in the predefined CMap `encoding`, as reportlab writes `STSong-Light`.
fn cjk_pdf(encoding: &str, content: &[u8]) -> Vec<u8> {
    use lopdf::{Object, Stream, dictionary};

    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let helvetica = doc.add_object(
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" },
    );
    let descendant = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType0", "BaseFont" => "STSong-Light",
        "CIDSystemInfo" => dictionary! { "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("GB1"), "Supplement" => 0 },
        "DW" => 1000,
        "W" => vec![1.into(), vec![207.into(), 270.into()].into(), 18.into(), 26.into(), 462.into()],
        "FontDescriptor" => dictionary! { "Type" => "FontDescriptor", "FontName" => "STSongStd-Light",
            "Flags" => 6, "Ascent" => 752, "Descent" => -271, "CapHeight" => 737,
            "ItalicAngle" => 0, "StemV" => 58, "MissingWidth" => 500,
            "FontBBox" => vec![(-25).into(), (-254).into(), 1000.into(), 880.into()] },
    });
    let cjk = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "STSong-Light",
        "Encoding" => Object::Name(encoding.as_bytes().to_vec()),
        "DescendantFonts" => vec![descendant.into()],
    });
    let content = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => helvetica, "C" => cjk } },
    });
    save_pdf(doc, pages_id, vec![page.into()])
}

#[test]
fn a_cjk_font_in_a_unicode_cmap_is_decoded_and_the_text_after_it_kept() {
    // 中文 (U+4E2D U+6587) and ": 1" in UCS-2, big-endian.
    let content = b"BT /F1 12 Tf 72 700 Td (English before.) Tj ET\n\
        BT /C 12 Tf 72 670 Td <4E2D6587FF1A0020003100200041> Tj ET\n\
        BT /F1 12 Tf 72 640 Td (English after.) Tj ET";
    for encoding in ["UniGB-UCS2-H", "UniGB-UTF16-H"] {
        let parsed = parse_bytes(cjk_pdf(encoding, content));
        let md = &parsed.markdown;
        assert!(md.contains("English before."), "{encoding}: {md}");
        assert!(md.contains("中文： 1 A"), "{encoding}: {md}");
        assert!(md.contains("English after."), "{encoding}: {md}");
        assert!(
            parsed.debug.warnings.is_empty(),
            "{:?}",
            parsed.debug.warnings
        );
    }
}

#[test]
fn a_cjk_font_in_a_cmap_that_needs_its_file_is_left_out_with_a_warning() {
    let content = b"BT /F1 12 Tf 72 700 Td (English before.) Tj ET\n\
        BT /C 12 Tf 72 670 Td <D6D0CEC4> Tj ET\n\
        BT /F1 12 Tf 72 640 Td (English after.) Tj ET";
    let parsed = parse_bytes(cjk_pdf("GBK-EUC-H", content));
    let md = &parsed.markdown;
    assert!(
        md.contains("English before.") && md.contains("English after."),
        "{md}"
    );
    let warnings = parsed.debug.warnings.join("\n");
    assert!(
        warnings.contains(
            "1 fonts use an encoding that cannot be decoded without its CMap (GBK-EUC-H)"
        ),
        "{warnings}"
    );
}

#[test]
fn ligature_glyphs_read_as_their_letters() {
    use lopdf::{Object, dictionary};

    let font = dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => dictionary! { "Type" => "Encoding", "BaseEncoding" => "WinAnsiEncoding",
            "Differences" => vec![174.into(), Object::Name(b"fi".to_vec()),
                Object::Name(b"fl".to_vec()), Object::Name(b"ffi".to_vec())] },
    };
    let content =
        b"BT /F1 12 Tf 72 700 Td (The \\256rst \\257oor o\\260ce is e\\260cient.) Tj ET".to_vec();
    let parsed = parse_bytes(fonts_and_contents_pdf(&[(font, content)]));
    assert_eq!(
        parsed.markdown.trim(),
        "The first floor office is efficient.",
        "{:?}",
        parsed.debug.warnings
    );
}

#[test]
fn a_placeholder_pdf_title_is_no_title() {
    use lopdf::{Object, dictionary};

    for (info_title, expected) in [
        ("untitled", None),
        ("(anonymous)", None),
        (" ", None),
        ("Microsoft Word - parts.docx", Some("parts")),
        ("10811.exe", None),
    ] {
        let bytes = lines_pdf(&[(
            "F1",
            72,
            700,
            "All parts are listed below, with their prices.",
        )]);
        let mut doc = lopdf::Document::load_mem(&bytes).unwrap_or_else(|e| panic!("{e}"));
        let info = doc.add_object(dictionary! { "Title" => Object::string_literal(info_title) });
        doc.trailer.set("Info", info);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes)
            .unwrap_or_else(|e| panic!("save: {e}"));
        let parsed = parse_bytes(bytes);
        assert_eq!(parsed.title.as_deref(), expected, "{info_title}");
        // The placeholder stays in the metadata, as the file has it.
        if !info_title.trim().is_empty() {
            assert_eq!(parsed.metadata["title"], info_title);
        }
    }
}

#[test]
fn a_column_of_labels_beside_text_is_a_list_and_real_tables_stay_tables() {
    // ReportLab's ListFlowable sets the labels `1`, `2`, `3` in a column of their own, left of
    // the items' text; the second item wraps under its text.
    let bytes = lines_pdf(&[
        ("F1", 72, 720, "Do this in order:"),
        ("F1", 72, 700, "1"),
        ("F1", 90, 700, "Open the box and take the device out."),
        ("F1", 72, 682, "2"),
        (
            "F1",
            90,
            682,
            "Remove the film from the screen, then set the device",
        ),
        ("F1", 90, 670, "on a flat surface."),
        ("F1", 72, 652, "3"),
        ("F1", 90, 652, "Plug it in."),
        ("F1", 72, 620, "Stock by shelf, a table of three columns:"),
        ("F1", 72, 600, "1"),
        ("F1", 90, 600, "Apples"),
        ("F1", 200, 600, "3"),
        ("F1", 72, 588, "2"),
        ("F1", 90, 588, "Pears"),
        ("F1", 200, 588, "5"),
        ("F1", 72, 576, "3"),
        ("F1", 90, 576, "Plums"),
        ("F1", 200, 576, "7"),
        ("F1", 72, 544, "Steps, a numbered table with a header row:"),
        ("F1", 72, 524, "No."),
        ("F1", 100, 524, "Step"),
        ("F1", 72, 512, "1"),
        ("F1", 100, 512, "Open the box."),
        ("F1", 72, 500, "2"),
        ("F1", 100, 500, "Remove the device."),
        ("F1", 72, 488, "3"),
        ("F1", 100, 488, "Plug it in."),
    ]);
    let doc = Document::new("l.pdf".into(), "l.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let md = &parsed.markdown;
    assert!(
        md.contains(
            "Do this in order:\n\n1. Open the box and take the device out.\n\n2. Remove the film from the screen, then set the device on a flat surface.\n\n3. Plug it in.\n\n"
        ),
        "{md}"
    );
    assert!(
        md.contains("| 1 | Apples | 3 |\n| --- | --- | --- |\n| 2 | Pears | 5 |"),
        "{md}"
    );
    assert!(
        md.contains("| No. | Step |\n| --- | --- |\n| 1 | Open the box. |"),
        "{md}"
    );
}

/// A one-page PDF drawing each `(size, x, y, text)` line in Helvetica.
fn sized_lines_pdf(lines: &[(i64, i64, i64, &str)]) -> Vec<u8> {
    let styled: Vec<(&str, i64, i64, i64, &str)> = lines
        .iter()
        .map(|&(size, x, y, text)| ("F1", size, x, y, text))
        .collect();
    styled_lines_pdf(&styled)
}

#[test]
fn reportlab_label_columns_of_two_digits_from_any_start_and_nested() {
    // ReportLab's ListFlowable: labels in 12 points, 2 points below the items' baseline, the
    // items in 10 points 18 points right of the labels' left edge; `10` ends 4.7 points short
    // of its item's text. A list that starts at 8; one that starts at 3; a nested list that
    // the outer one resumes after, and an item that holds only a sublist.
    let mut lines: Vec<(i64, i64, i64, String)> = vec![(10, 72, 740, "Long list:".into())];
    for (k, n) in (8..=12).enumerate() {
        let y = 726 - 12 * k as i64;
        lines.push((12, 72, y - 2, n.to_string()));
        lines.push((
            10,
            90,
            y,
            format!("Long list entry number {n} with a few words."),
        ));
    }
    lines.push((10, 72, 654, "Starting at three:".into()));
    for (k, text) in ["Third step here.", "Fourth step here.", "Fifth step here."]
        .into_iter()
        .enumerate()
    {
        let y = 640 - 12 * k as i64;
        lines.push((12, 72, y - 2, (k + 3).to_string()));
        lines.push((10, 90, y, text.into()));
    }
    lines.push((10, 72, 590, "Nested:".into()));
    for (label, x, y, text) in [
        ("1", 72, 576, "Outer one has a sublist."),
        ("a", 90, 564, "Inner a."),
        ("b", 90, 552, "Inner b."),
        ("2", 72, 540, "Outer two."),
    ] {
        lines.push((12, x, y - 2, label.into()));
        lines.push((10, x + 18, y, text.into()));
    }
    // An item that holds only a sublist: its label on the row of the sublist's first item.
    lines.push((12, 72, 526, "3".into()));
    for (label, y, text) in [("a", 528, "Inner a again."), ("b", 516, "Inner b again.")] {
        lines.push((12, 90, y - 2, label.into()));
        lines.push((10, 108, y, text.into()));
    }
    lines.push((12, 72, 502, "4".into()));
    lines.push((10, 90, 504, "Outer four.".into()));
    lines.push((10, 72, 480, "The end.".into()));
    let lines: Vec<(i64, i64, i64, &str)> = lines
        .iter()
        .map(|(s, x, y, t)| (*s, *x, *y, t.as_str()))
        .collect();
    let parsed = parse_bytes(sized_lines_pdf(&lines));
    let md = &parsed.markdown;
    assert!(
        md.contains(
            "Long list:\n\n8. Long list entry number 8 with a few words.\n\n9. Long list entry number 9 with a few words.\n\n10. Long list entry number 10 with a few words.\n\n11. Long list entry number 11 with a few words.\n\n12. Long list entry number 12 with a few words.\n\n"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "Starting at three:\n\n3. Third step here.\n\n4. Fourth step here.\n\n5. Fifth step here.\n\n"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "Nested:\n\n1. Outer one has a sublist.\n\n    - a. Inner a.\n\n    - b. Inner b.\n\n2. Outer two.\n\n3.\n\n    - a. Inner a again.\n\n    - b. Inner b again.\n\n4. Outer four.\n\nThe end."
        ),
        "{md}"
    );
}

#[test]
fn lettered_items_are_a_list_and_initials_are_not() {
    let bytes = lines_pdf(&[
        ("F1", 72, 720, "Choose one of these:"),
        (
            "F1",
            82,
            706,
            "a) the first way, which takes longer than any other and",
        ),
        ("F1", 96, 694, "costs less;"),
        ("F1", 82, 682, "b) the second way."),
        ("F1", 72, 660, "The method is due to the work that"),
        (
            "F1",
            72,
            648,
            "A. Smith described in a paper on the subject.",
        ),
    ]);
    let doc = Document::new("l.pdf".into(), "l.pdf".into(), bytes);
    let parsed = parse(&doc, &ParseConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let items: Vec<&str> = parsed
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::ListItem)
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(
        items,
        [
            "a) the first way, which takes longer than any other and costs less;",
            "b) the second way."
        ],
        "{}",
        parsed.markdown
    );
    assert!(
        parsed.markdown.contains("- a) the first way")
            && parsed.markdown.ends_with(
                "The method is due to the work that A. Smith described in a paper on the subject.\n"
            ),
        "{}",
        parsed.markdown
    );
}

/// A one-page PDF drawing `content` with `F1` (Helvetica) and `F2` (Helvetica-Bold).
fn regular_and_bold_pdf(content: &str) -> Vec<u8> {
    use lopdf::{Stream, dictionary};

    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let regular = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let bold = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica-Bold",
    });
    let content = doc.add_object(Stream::new(dictionary! {}, content.as_bytes().to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => regular, "F2" => bold } },
    });
    save_pdf(doc, pages_id, vec![page.into()])
}

/// A stock table ruled in a grid whose cells hold their text 2 points from the lines (a bold
/// header row, then three rows), between two paragraphs: the content of a page. Drawn in
/// WeasyPrint's way when `flipped` (y downwards under a `cm`, the lines as thin filled
/// rectangles), else in plain user space with stroked lines.
fn ruled_table_content(flipped: bool) -> String {
    let rows = [
        ["Item", "Quantity", "Price"],
        ["Item 1", "3 units", "$2.00"],
        ["Item 2", "12 units", "$10.00"],
        ["Item 3", "9 units", "$6.00"],
    ];
    let xs = [72.0, 104.0, 150.0, 184.0];
    let ys: Vec<f64> = (0..=rows.len()).map(|r| 700.0 - 14.0 * r as f64).collect();
    // Page y (upwards) to the y the content gives.
    let y = |v: f64| if flipped { 792.0 - v } else { v };
    let mut c = String::new();
    if flipped {
        c.push_str("q 1 0 0 -1 0 792 cm\n");
    }
    let tm = |x: f64, v: f64| {
        if flipped {
            format!("1 0 0 -1 {x} {} Tm", y(v))
        } else {
            format!("1 0 0 1 {x} {v} Tm")
        }
    };
    c.push_str(&format!(
        "BT /F1 10 Tf {} (Stock levels are listed below.) Tj ET\n",
        tm(72.0, 720.0)
    ));
    for &v in &ys {
        if flipped {
            c.push_str(&format!("72 {} 112 0.5 re f\n", y(v) - 0.25));
        } else {
            c.push_str(&format!("0.5 w 72 {v} m 184 {v} l S\n"));
        }
    }
    for &x in &xs {
        let (top, bottom) = (ys[0], ys[rows.len()]);
        if flipped {
            c.push_str(&format!(
                "{} {} 0.5 {} re f\n",
                x - 0.25,
                y(top),
                top - bottom
            ));
        } else {
            c.push_str(&format!("0.5 w {x} {top} m {x} {bottom} l S\n"));
        }
    }
    for (r, row) in rows.iter().enumerate() {
        let font = if r == 0 { "F2" } else { "F1" };
        for (cell, x) in row.iter().zip(xs) {
            c.push_str(&format!(
                "BT /{font} 10 Tf {} ({cell}) Tj ET\n",
                tm(x + 2.0, ys[r] - 10.0)
            ));
        }
    }
    c.push_str(&format!(
        "BT /F1 10 Tf {} (That is all the stock there is.) Tj ET\n",
        tm(72.0, 620.0)
    ));
    if flipped {
        c.push_str("Q\n");
    }
    c
}

#[test]
fn a_table_ruled_in_a_grid_reads_cell_by_cell() {
    // Without the lines the cells run together (`Item 1 3 units`, `Quantity Price`), and the
    // bold header row reads as a heading.
    for flipped in [false, true] {
        let parsed = parse_bytes(regular_and_bold_pdf(&ruled_table_content(flipped)));
        let md = &parsed.markdown;
        assert!(
            md.contains(
                "| Item | Quantity | Price |\n| --- | --- | --- |\n| Item 1 | 3 units | $2.00 |\n\
                 | Item 2 | 12 units | $10.00 |\n| Item 3 | 9 units | $6.00 |"
            ),
            "flipped: {flipped}\n{md}"
        );
        let kinds: Vec<ElementKind> = parsed.elements.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                ElementKind::Paragraph,
                ElementKind::Table,
                ElementKind::Paragraph
            ],
            "flipped: {flipped}\n{md}"
        );
    }
}

#[test]
fn lines_that_form_no_grid_change_nothing() {
    let text = [
        ("F2", 72, 720, "Lines on a page"),
        (
            "F1",
            72,
            700,
            "A paragraph with an underlined word in it, set",
        ),
        ("F1", 72, 688, "over two lines of running text on the page."),
        ("F1", 72, 660, "Boxed note: a single box around one line."),
        ("F1", 72, 630, "Setting"),
        ("F1", 250, 630, "Default"),
        ("F1", 72, 618, "workers"),
        ("F1", 250, 618, "4"),
        ("F1", 72, 606, "batch"),
        ("F1", 250, 606, "64"),
        ("F1", 72, 560, "Left column text of the page"),
        ("F1", 320, 560, "Right column text of the page"),
    ];
    let graphics = [
        // A page background, a clipping path, a white rule.
        "0.95 g 0 0 612 792 re f 0 g",
        "q 0 0 612 792 re W n Q",
        "1 G 72 650 m 500 650 l S 0 G",
        // An underline, a rule under the heading, a box, a bar beside the paragraph.
        "0.5 w 150 698 m 200 698 l S",
        "72 714 300 0.75 re f",
        "70 655 220 16 re S",
        "60 685 2 25 re f",
        // Rules over and under the column table, and between two columns of text.
        "72 642 m 300 642 l S 72 600 m 300 600 l S",
        "300 550 m 300 575 l S 60 575 m 540 575 l S",
        // A curve and a slanted line.
        "72 500 m 100 540 200 540 300 500 c S 72 480 m 300 470 l S",
    ];
    let drawn = drawn_lines_change_nothing(&text, &graphics);
    assert!(
        drawn.markdown.contains("| Setting | Default |"),
        "{}",
        drawn.markdown
    );
}

/// A table ruled in a grid with no padding in its cells, ReportLab's way (`inset` 0: each
/// column as wide as its widest text, which starts and ends on the lines) or WeasyPrint's
/// (`inset` 0.25: the text inside the half of a 0.5 point border), between two paragraphs.
fn unpadded_table_content(inset: f64) -> String {
    let rows = [
        ["Name", "Qty", "Price"],
        ["Apple", "10", "1.50"],
        ["Banana", "200", "0.25"],
        ["Cherry", "3000", "12.00"],
    ];
    // Helvetica 10: `Banana` is 34.47 points wide, `3000` 22.24, `12.00` 25.02.
    let widths = [34.47, 22.24, 25.02];
    let mut xs = vec![72.0];
    for w in widths {
        xs.push(xs[xs.len() - 1] + w + 2.0 * inset);
    }
    let ys: Vec<f64> = (0..=rows.len()).map(|r| 700.0 - 12.0 * r as f64).collect();
    let mut c = String::from("BT /F1 10 Tf 1 0 0 1 72 720 Tm (The fruit in stock:) Tj ET\n");
    for &v in &ys {
        c.push_str(&format!("0.5 w {} {v} m {} {v} l S\n", xs[0], xs[3]));
    }
    for &x in &xs {
        c.push_str(&format!("0.5 w {x} {} m {x} {} l S\n", ys[0], ys[4]));
    }
    for (r, row) in rows.iter().enumerate() {
        for (cell, x) in row.iter().zip(&xs) {
            c.push_str(&format!(
                "BT /F1 10 Tf 1 0 0 1 {} {} Tm ({cell}) Tj ET\n",
                x + inset,
                ys[r] - 10.0
            ));
        }
    }
    c.push_str("BT /F1 10 Tf 1 0 0 1 72 620 Tm (That is all the fruit.) Tj ET\n");
    c
}

#[test]
fn a_ruled_table_with_no_padding_in_its_cells_reads_cell_by_cell() {
    // Text touching a line is split at it: without that, `Banana200` and `300012.00` ran
    // over the lines, and the grid was no table.
    for inset in [0.0, 0.25] {
        let parsed = parse_bytes(regular_and_bold_pdf(&unpadded_table_content(inset)));
        let md = &parsed.markdown;
        assert!(
            md.contains(
                "The fruit in stock:\n\n| Name | Qty | Price |\n| --- | --- | --- |\n\
                 | Apple | 10 | 1.50 |\n| Banana | 200 | 0.25 |\n| Cherry | 3000 | 12.00 |\n\n\
                 That is all the fruit."
            ),
            "inset: {inset}\n{md}"
        );
    }
}

#[test]
fn a_table_nested_in_a_ruled_tables_cell_stays_in_the_cell() {
    // The outer grid's cell at the second row and column holds a grid of its own, drawn
    // apart from the outer lines (ReportLab's way).
    let mut c = String::from("BT /F1 10 Tf 1 0 0 1 72 720 Tm (Nested below.) Tj ET\n");
    let grid = |c: &mut String, xs: &[f64], ys: &[f64]| {
        for &v in ys {
            c.push_str(&format!(
                "0.5 w {} {v} m {} {v} l S\n",
                xs[0],
                xs[xs.len() - 1]
            ));
        }
        for &x in xs {
            c.push_str(&format!(
                "0.5 w {x} {} m {x} {} l S\n",
                ys[0],
                ys[ys.len() - 1]
            ));
        }
    };
    grid(&mut c, &[72.0, 150.0, 260.0], &[700.0, 686.0, 646.0, 632.0]);
    grid(&mut c, &[156.0, 176.0, 196.0], &[680.0, 666.0, 652.0]);
    let text = [
        (78, 690, "Outer1"),
        (156, 690, "Outer2"),
        (78, 650, "x"),
        (160, 670, "a"),
        (180, 670, "b"),
        (160, 656, "c"),
        (180, 656, "d"),
        (78, 636, "y"),
        (156, 636, "z"),
        (72, 600, "After the tables."),
    ];
    for (x, y, t) in text {
        c.push_str(&format!("BT /F1 10 Tf 1 0 0 1 {x} {y} Tm ({t}) Tj ET\n"));
    }
    let md = parse_bytes(regular_and_bold_pdf(&c)).markdown;
    assert!(
        md.contains(
            "Nested below.\n\n| Outer1 | Outer2 |\n| --- | --- |\n| x | a b c d |\n\
             | y | z |\n\nAfter the tables."
        ),
        "{md}"
    );
}

/// A table ruled with horizontal lines alone, booktabs' way (a rule above the bold header, one
/// under it, one under the last row), whose columns stand 3 points apart (closer than the gap
/// that parts text on a line): the content of a page between two paragraphs. With `rows` of
/// the body rows.
fn booktabs_content(rows: usize) -> String {
    let table = [
        ["Parameter", "Default", "Unit"],
        ["timeout", "30", "seconds"],
        ["retries", "5", "attempts"],
        ["buffer", "4096", "bytes"],
    ];
    // Each column starts 3 points after its widest cell ends (Helvetica at 10 points).
    let xs = [72.0, 124.0, 161.0];
    let mut c = String::from(
        "BT /F1 10 Tf 1 0 0 1 72 720 Tm (The settings of the service are listed below.) Tj ET\n",
    );
    let baseline = |r: usize| 690.0 - 14.0 * r as f64 - if r > 0 { 4.0 } else { 0.0 };
    for (r, row) in table.iter().take(rows + 1).enumerate() {
        let font = if r == 0 { "F2" } else { "F1" };
        for (cell, x) in row.iter().zip(xs) {
            c.push_str(&format!(
                "BT /{font} 10 Tf 1 0 0 1 {x} {} Tm ({cell}) Tj ET\n",
                baseline(r)
            ));
        }
    }
    let bottom = baseline(rows) - 5.0;
    for (y, w) in [(702.0, 1.0), (685.0, 0.5), (bottom, 1.0)] {
        c.push_str(&format!("{w} w 70 {y} m 205 {y} l S\n"));
    }
    c.push_str("BT /F1 10 Tf 1 0 0 1 72 600 Tm (Restart the service after changing them.) Tj ET\n");
    c
}

#[test]
fn a_table_ruled_with_horizontal_lines_alone_reads_cell_by_cell() {
    // Without the lines the cells of a row run together (`timeout 30 seconds`) and the bold
    // header reads as a heading; a table of a header and one row is a table too.
    let parsed = parse_bytes(regular_and_bold_pdf(&booktabs_content(3)));
    let md = &parsed.markdown;
    assert!(
        md.contains(
            "| Parameter | Default | Unit |\n| --- | --- | --- |\n| timeout | 30 | seconds |\n\
             | retries | 5 | attempts |\n| buffer | 4096 | bytes |"
        ),
        "{md}"
    );
    let kinds: Vec<ElementKind> = parsed.elements.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            ElementKind::Paragraph,
            ElementKind::Table,
            ElementKind::Paragraph
        ],
        "{md}"
    );
    let parsed = parse_bytes(regular_and_bold_pdf(&booktabs_content(1)));
    assert!(
        parsed.markdown.contains(
            "| Parameter | Default | Unit |\n| --- | --- | --- |\n| timeout | 30 | seconds |\n"
        ),
        "{}",
        parsed.markdown
    );
}

#[test]
fn horizontal_lines_around_prose_and_headings_change_nothing() {
    let text = [
        ("F2", 72, 720, "Installation notes"),
        (
            "F1",
            72,
            700,
            "Download the archive and unpack it into a folder of your choice.",
        ),
        ("F2", 72, 676, "Configuration"),
        (
            "F1",
            72,
            656,
            "Edit the file to set the options you need, then restart it.",
        ),
        (
            "F1",
            72,
            620,
            "Note: the service must be stopped before the",
        ),
        (
            "F1",
            72,
            608,
            "upgrade, or the data written meanwhile is lost.",
        ),
        (
            "F1",
            72,
            580,
            "The first paragraph talks about the weather today.",
        ),
        (
            "F1",
            72,
            556,
            "The second paragraph is about the garden in spring.",
        ),
        ("F1", 72, 532, "Short line"),
        ("F1", 72, 508, "Address"),
        ("F1", 72, 484, "Jane Doe"),
        ("F1", 72, 472, "12 Main Street"),
    ];
    let graphics = [
        // Rules under both headings, of one width.
        "0.75 w 72 716 m 400 716 l S 72 672 m 400 672 l S",
        // A note between a rule above and one below.
        "0.5 w 72 632 m 400 632 l S 72 602 m 400 602 l S",
        // Rules between paragraphs, and an underline.
        "72 572 m 400 572 l S 72 548 m 400 548 l S 72 524 m 400 524 l S",
        "72 530 m 120 530 l S",
        // Lines above and below an address.
        "72 496 m 300 496 l S 72 466 m 300 466 l S",
    ];
    let drawn = drawn_lines_change_nothing(&text, &graphics);
    assert!(!drawn.markdown.contains('|'), "{}", drawn.markdown);
}

/// The content of a page drawing each `(font, x, y, text)` line at 10 points, then `graphics`.
fn text_and_graphics(text: &[(&str, i32, i32, &str)], graphics: &[&str]) -> String {
    let mut content = String::new();
    for (font, x, y, line) in text {
        content.push_str(&format!(
            "BT /{font} 10 Tf 1 0 0 1 {x} {y} Tm ({line}) Tj ET\n"
        ));
    }
    content.push_str(&graphics.join("\n"));
    content
}

/// A table whose only line is the one under its bold header (Word's "Plain Table"), rows 16
/// points apart, a wrapped line 11 under its row: a first cell hyphenated onto a line of its
/// own, a last cell wrapped. "Revenue" and "Growth" stand 3 points apart, closer than the gap
/// that parts text on a line.
const UNDER_HEADER_TABLE: &[(&str, i32, i32, &str)] = &[
    (
        "F1",
        72,
        730,
        "The results of the quarter by region are given below.",
    ),
    ("F2", 72, 700, "Region"),
    ("F2", 170, 700, "Units"),
    ("F2", 210, 700, "Revenue"),
    ("F2", 255, 700, "Growth"),
    ("F2", 295, 700, "Notes"),
    ("F1", 72, 684, "North"),
    ("F1", 170, 684, "1,204"),
    ("F1", 210, 684, "$3.4m"),
    ("F1", 255, 684, "4.1%"),
    ("F1", 295, 684, "Stable"),
    ("F1", 72, 668, "Total operating ex-"),
    ("F1", 170, 668, "987"),
    ("F1", 210, 668, "$2.1m"),
    ("F1", 255, 668, "1.2%"),
    ("F1", 295, 668, "New office"),
    ("F1", 72, 657, "penses"),
    ("F1", 72, 641, "East"),
    ("F1", 170, 641, "2,310"),
    ("F1", 210, 641, "$6.7m"),
    ("F1", 255, 641, "12.8%"),
    ("F1", 295, 641, "Strong demand in"),
    ("F1", 295, 630, "the north"),
    ("F1", 72, 614, "West"),
    ("F1", 170, 614, "450"),
    ("F1", 210, 614, "$0.9m"),
    ("F1", 255, 614, "0.3%"),
    ("F1", 295, 614, "Flat"),
    (
        "F1",
        72,
        580,
        "Some more running text follows the table to end the page.",
    ),
];

#[test]
fn a_table_ruled_under_its_header_alone_reads_cell_by_cell() {
    // Without the table's line read as its own, the header ran together (`Revenue Growth`)
    // and the wrapped lines broke the rows apart.
    let content = text_and_graphics(UNDER_HEADER_TABLE, &["0.5 w 70 696 m 400 696 l S"]);
    let parsed = parse_bytes(regular_and_bold_pdf(&content));
    let md = &parsed.markdown;
    assert!(
        md.contains(
            "| Region | Units | Revenue | Growth | Notes |\n| --- | --- | --- | --- | --- |\n\
             | North | 1,204 | $3.4m | 4.1% | Stable |\n\
             | Total operating expenses | 987 | $2.1m | 1.2% | New office |\n\
             | East | 2,310 | $6.7m | 12.8% | Strong demand in the north |\n\
             | West | 450 | $0.9m | 0.3% | Flat |\n"
        ),
        "{md}"
    );
    let kinds: Vec<ElementKind> = parsed.elements.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            ElementKind::Paragraph,
            ElementKind::Table,
            ElementKind::Paragraph
        ],
        "{md}"
    );
    // Two such tables of one width on a page, and one with a line under its last row too.
    let second: Vec<(&str, i32, i32, &str)> = UNDER_HEADER_TABLE[1..28]
        .iter()
        .map(|&(font, x, y, text)| (font, x, y - 150, text))
        .collect();
    let mut both = UNDER_HEADER_TABLE.to_vec();
    both.extend(second);
    let content = text_and_graphics(
        &both,
        &["0.5 w 70 696 m 400 696 l S 70 546 m 400 546 l S 70 458 m 400 458 l S"],
    );
    let md = parse_bytes(regular_and_bold_pdf(&content)).markdown;
    assert_eq!(
        md.matches("| Total operating expenses |").count(),
        2,
        "{md}"
    );
    assert_eq!(md.matches("| Region | Units |").count(), 2, "{md}");
}

#[test]
fn single_lines_not_under_a_table_header_change_nothing() {
    let text = [
        // A numbered heading with a rule under it, over a paragraph.
        ("F2", 72, 720, "2.1"),
        ("F2", 100, 720, "Results of the study"),
        (
            "F1",
            72,
            704,
            "The results show a clear trend over the whole period.",
        ),
        (
            "F1",
            72,
            692,
            "The numbers were measured at each site in turn.",
        ),
        // A line of labels over a rule, then a paragraph.
        ("F1", 72, 660, "Name"),
        ("F1", 160, 660, "Role"),
        ("F1", 250, 660, "Date"),
        (
            "F1",
            72,
            642,
            "The second paragraph follows the rule and runs on.",
        ),
        // Two signature lines with their labels under them.
        ("F1", 72, 580, "Signature"),
        ("F1", 250, 580, "Date"),
        // A paragraph over a footnote separator, then the footnotes.
        (
            "F1",
            72,
            540,
            "The body text that refers to a footnote ends here.",
        ),
        ("F1", 72, 514, "1"),
        ("F1", 84, 514, "The first footnote, which is short."),
        ("F1", 72, 502, "2"),
        ("F1", 84, 502, "Another footnote."),
    ];
    let graphics = [
        "0.75 w 72 716 m 400 716 l S",
        "0.5 w 72 656 m 400 656 l S",
        "72 592 m 200 592 l S 250 592 m 378 592 l S",
        "72 528 m 180 528 l S",
    ];
    let drawn = drawn_lines_change_nothing(&text, &graphics);
    assert!(!drawn.markdown.contains('|'), "{}", drawn.markdown);
}

#[test]
fn a_first_cell_wrapped_onto_a_line_of_its_own_stays_in_its_row() {
    // A table told from its text alone: the line of a wrapped first cell ended it, and the
    // wrapped cell's rest read as a paragraph.
    let text = [
        ("F1", 72, 700, "Item"),
        ("F1", 170, 700, "Qty"),
        ("F1", 220, 700, "Price"),
        ("F1", 72, 684, "Bolt"),
        ("F1", 170, 684, "300"),
        ("F1", 220, 684, "0.10"),
        ("F1", 72, 668, "Total operating ex-"),
        ("F1", 170, 668, "12"),
        ("F1", 220, 668, "4.50"),
        ("F1", 72, 657, "penses"),
        ("F1", 72, 641, "Long name of"),
        ("F1", 170, 641, "7"),
        ("F1", 220, 641, "19.99"),
        ("F1", 72, 630, "the item"),
        ("F1", 72, 614, "Nut"),
        ("F1", 170, 614, "300"),
        ("F1", 220, 614, "0.05"),
    ];
    let md = parse_bytes(regular_and_bold_pdf(&text_and_graphics(&text, &[]))).markdown;
    assert!(
        md.contains(
            "| Item | Qty | Price |\n| --- | --- | --- |\n| Bolt | 300 | 0.10 |\n\
             | Total operating expenses | 12 | 4.50 |\n| Long name of the item | 7 | 19.99 |\n\
             | Nut | 300 | 0.05 |"
        ),
        "{md}"
    );
}

#[test]
fn group_labels_in_the_first_column_stay_rows_of_their_own() {
    // A table ruled booktabs' way, its rows as close as lines of text: a bold label, and a
    // plain one heading indented rows, are rows; a cell wrapped in lower case goes on.
    let text = [
        ("F2", 200, 700, "2023"),
        ("F2", 250, 700, "2022"),
        ("F2", 72, 684, "Assets"),
        ("F1", 82, 672, "Cash"),
        ("F1", 200, 672, "1,200"),
        ("F1", 250, 672, "1,100"),
        ("F1", 82, 660, "Receivables"),
        ("F1", 200, 660, "300"),
        ("F1", 250, 660, "280"),
        ("F2", 72, 648, "Liabilities"),
        ("F1", 82, 636, "Long-term loans and"),
        ("F1", 200, 636, "900"),
        ("F1", 250, 636, "1,000"),
        ("F1", 82, 624, "other borrowings"),
        ("F1", 72, 612, "Other"),
        ("F1", 82, 600, "Payables"),
        ("F1", 200, 600, "400"),
        ("F1", 250, 600, "390"),
    ];
    let graphics = ["1 w 70 712 m 290 712 l S 0.5 w 70 695 m 290 695 l S 1 w 70 595 m 290 595 l S"];
    let md = parse_bytes(regular_and_bold_pdf(&text_and_graphics(&text, &graphics))).markdown;
    assert!(
        md.contains(
            "|  | 2023 | 2022 |\n| --- | --- | --- |\n| Assets |  |  |\n\
             | Cash | 1,200 | 1,100 |\n| Receivables | 300 | 280 |\n| Liabilities |  |  |\n\
             | Long-term loans and other borrowings | 900 | 1,000 |\n| Other |  |  |\n\
             | Payables | 400 | 390 |"
        ),
        "{md}"
    );
}

/// Parses the lines of `text` (font, x, y, text) without and with the `graphics` drawn over
/// them, asserts the two read alike, and returns the drawn one.
fn drawn_lines_change_nothing(
    text: &[(&str, i32, i32, &str)],
    graphics: &[&str],
) -> crate::model::ParsedDocument {
    let mut content = String::new();
    for (font, x, y, line) in text {
        content.push_str(&format!(
            "BT /{font} 10 Tf 1 0 0 1 {x} {y} Tm ({line}) Tj ET\n"
        ));
    }
    let plain = parse_bytes(regular_and_bold_pdf(&content));
    content.push_str(&graphics.join("\n"));
    let drawn = parse_bytes(regular_and_bold_pdf(&content));
    assert_eq!(plain.markdown, drawn.markdown);
    drawn
}

/// `bytes` with page `number`'s `/Rotate` set to `degrees`.
fn with_rotate(bytes: &[u8], number: u32, degrees: i64) -> Vec<u8> {
    let mut doc = lopdf::Document::load_mem(bytes).unwrap_or_else(|e| panic!("{e}"));
    let id = doc.get_pages()[&number];
    doc.get_object_mut(id)
        .and_then(|o| o.as_dict_mut())
        .unwrap_or_else(|e| panic!("{e}"))
        .set("Rotate", degrees);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap_or_else(|e| panic!("{e}"));
    out
}

/// A heading, a table ruled in three columns and a sentence, drawn (in Helvetica, `F1`) under
/// `matrix` within 60 to 420 points across and 400 to 540 up.
fn turned_table_content(matrix: &str) -> String {
    let mut s = format!("q {matrix} cm BT /F1 18 Tf 1 0 0 1 60 540 Tm (Quarterly figures) Tj ET ");
    let (xs, ys) = ([60, 180, 300, 420], [500, 480, 460, 440]);
    for x in xs {
        s.push_str(&format!("{x} 500 m {x} 440 l S "));
    }
    for y in ys {
        s.push_str(&format!("60 {y} m 420 {y} l S "));
    }
    let rows = [
        ["Region", "Units", "Revenue"],
        ["North", "120", "4,800"],
        ["South", "95", "3,100"],
    ];
    for (row, y) in rows.iter().zip(ys) {
        for (cell, x) in row.iter().zip(xs) {
            let (x, y) = (x + 4, y - 14);
            s.push_str(&format!("BT /F1 11 Tf 1 0 0 1 {x} {y} Tm ({cell}) Tj ET "));
        }
    }
    s.push_str("BT /F1 11 Tf 1 0 0 1 60 400 Tm (The figures are read across the page.) Tj ET Q ");
    s
}

/// What [`turned_table_content`] reads as.
const TURNED_TABLE: &str = "# Quarterly figures\n\n\
    | Region | Units | Revenue |\n| --- | --- | --- |\n\
    | North | 120 | 4,800 |\n| South | 95 | 3,100 |\n\n\
    The figures are read across the page.";

/// A landscape page drawn on a portrait media box, its content turned by a `cm` and the page
/// turned back upright by `/Rotate` (pdflscape; Word and LibreOffice landscape sections
/// printed to PDF), was read as rotated text and left out whole. Its text now reads as on an
/// unturned page, in each of the three turns.
#[test]
fn a_page_drawn_turned_and_turned_back_by_rotate_reads_upright() {
    let portrait = b"BT /F1 11 Tf 72 700 Td (A portrait page comes first.) Tj ET".to_vec();
    for (matrix, rotate) in [
        // Running up the page (landscape x up, y leftwards), seen turned clockwise.
        ("0 1 -1 0 612 0", 90),
        // Upside down.
        ("-1 0 0 -1 612 792", 180),
        // Running down the page, seen turned counterclockwise.
        ("0 -1 1 0 0 792", 270),
    ] {
        let turned = turned_table_content(matrix).into_bytes();
        let bytes = with_rotate(&content_pdf(&[portrait.clone(), turned]), 2, rotate);
        let parsed = parse_bytes(bytes);
        let md = &parsed.markdown;
        assert!(
            md.contains("A portrait page comes first."),
            "{rotate}: {md}"
        );
        assert!(md.contains(TURNED_TABLE), "{rotate}: {md}");
        assert!(
            parsed.debug.warnings.is_empty(),
            "{:?}",
            parsed.debug.warnings
        );
    }
}

/// A table set sideways on a portrait page without `/Rotate` (`sidewaystable`), among upright
/// running text, is read upright after that text. Labels set sideways (a stamp up the margin,
/// month names under a chart) are left out as before, even where they outnumber the upright
/// glyphs, with a warning.
#[test]
fn a_table_set_sideways_reads_upright_and_sideways_labels_are_left_out() {
    let mut page = String::from("BT /F1 11 Tf 14 TL 72 760 Td ");
    for i in 1..=6 {
        page.push_str(&format!("(Upright running text, line {i} of the page.) ' "));
    }
    page.push_str("ET ");
    // (x, y) to (600 - y, 100 + x): up the lower part of the page.
    page.push_str(&turned_table_content("0 1 -1 0 600 100"));
    let mut labels = String::from(
        "BT /F1 11 Tf 72 700 Td (A chart of sales by month, with its labels set sideways.) Tj \
         ET BT /F1 20 Tf 0 1 -1 0 30 200 Tm (arXiv:2004.04906v3 [cs.CL] 30 Sep 2020) Tj ET ",
    );
    for (i, month) in ["January", "February", "March", "April", "May", "June"]
        .iter()
        .enumerate()
    {
        let x = 150 + 30 * i;
        labels.push_str(&format!("BT /F1 9 Tf 0 1 -1 0 {x} 300 Tm ({month}) Tj ET "));
    }
    let parsed = parse_bytes(content_pdf(&[page.into_bytes(), labels.into_bytes()]));
    let md = &parsed.markdown;
    let upright = md.find("line 6 of the page.").unwrap_or(usize::MAX);
    let table = md.find(TURNED_TABLE).unwrap_or(usize::MAX);
    assert!(upright < table && table < usize::MAX, "{md}");
    assert!(md.contains("A chart of sales by month"), "{md}");
    for label in ["arXiv", "January", "June"] {
        assert!(!md.contains(label), "{label}: {md}");
    }
    let warnings = parsed.debug.warnings.join("\n");
    assert!(
        warnings.contains("rotated glyphs were left out"),
        "{warnings}"
    );
}

/// A formula centred on a line of its own between paragraphs, at the text's pitch, with no
/// space around it (ReportLab's centred paragraph, a canvas's `drawCentredString`, LaTeX's
/// display with its number at the right edge) is a block of its own: neither the text before
/// nor the text after runs into it. Its exponent, set smaller just above it, goes in after the
/// letter it raises; it is no heading.
#[test]
fn a_centred_formula_between_paragraphs_is_a_block_of_its_own() {
    let full = [
        "The energy of a body at rest is related to its mass by a constant factor, as Einstein showed in one of his",
        "papers of the miraculous year; the relation reads as follows, with c the speed of light in the vacuum and",
        "where the factor c squared is very large, so that a small mass holds a large energy. The midpoint of two",
        "numbers a and b is found in a similar way to the one above, by adding the two of them up and halving",
        "which lies halfway between them on the number line. Both of these relations are used throughout the rest",
    ];
    let bytes = styled_lines_pdf(&[
        ("F1", 10, 72, 700, full[0]),
        ("F1", 10, 72, 688, full[1]),
        ("F1", 10, 72, 676, "the speed of light and m the rest mass:"),
        ("F1", 10, 282, 664, "E = mc"),
        ("F1", 7, 313, 668, "2"),
        ("F1", 10, 330, 664, "(1)"),
        ("F1", 10, 72, 652, full[2]),
        ("F1", 10, 72, 640, full[3]),
        ("F1", 10, 72, 628, "the sum, which gives"),
        ("F1", 10, 280, 616, "x = (a + b) / 2"),
        ("F1", 10, 72, 604, full[4]),
        ("F1", 10, 72, 592, "the rest of this chapter."),
        // Another paragraph, then a formula numbered at the right edge.
        ("F1", 10, 72, 568, full[0]),
        ("F1", 10, 72, 556, full[1]),
        ("F1", 10, 72, 544, "the speed of light and m the rest mass:"),
        ("F1", 10, 283, 532, "y = 2x + 1"),
        ("F1", 10, 526, 532, "(2)"),
        ("F1", 10, 72, 520, full[2]),
        ("F1", 10, 72, 508, full[3]),
    ]);
    let parsed = parse_bytes(bytes);
    let texts: Vec<(ElementKind, &str)> = parsed
        .elements
        .iter()
        .map(|e| (e.kind, e.text.as_str()))
        .collect();
    let md = &parsed.markdown;
    let first = format!(
        "{} {} the speed of light and m the rest mass:",
        full[0], full[1]
    );
    let second = format!("{} {} the sum, which gives", full[2], full[3]);
    let third = format!("{} the rest of this chapter.", full[4]);
    let last = format!("{} {}", full[2], full[3]);
    use ElementKind::Paragraph;
    assert_eq!(
        texts,
        [
            (Paragraph, first.as_str()),
            (Paragraph, "E = mc2 (1)"),
            (Paragraph, second.as_str()),
            (Paragraph, "x = (a + b) / 2"),
            (Paragraph, third.as_str()),
            (Paragraph, first.as_str()),
            (Paragraph, "y = 2x + 1 (2)"),
            (Paragraph, last.as_str()),
        ],
        "{md}"
    );
}

/// A compact table without rules whose columns stand 3 points apart, less than a word space
/// wider than its widest cells (cells drawn at column x's, as a canvas or ReportLab's `Table`
/// with `LEFTPADDING` and `RIGHTPADDING` of 1 set them): its rows read cell by cell, not
/// column by column with cells run together.
#[test]
fn a_compact_table_with_columns_3_points_apart_reads_row_by_row() {
    let rows = [
        ["Name", "Qty", "Unit price", "Origin"],
        ["Apples", "120", "0.45", "Kent"],
        ["Bananas", "36", "0.20", "Ecuador"],
        ["Cherries", "1000", "0.05", "Kent"],
        ["Dates", "48", "1.10", "Tunisia"],
        ["Elderberries", "7", "3.00", "Devon"],
    ];
    // `Elderberries` ends at 125.9, `1000` at 151.2, `Unit price` at 196.2.
    let xs = [72, 129, 154, 199];
    let mut lines = vec![("F1", 72, 720, "Stock at the market this week, by fruit:")];
    for (r, row) in rows.iter().enumerate() {
        for (cell, &x) in row.iter().zip(&xs) {
            lines.push(("F1", x, 700 - 12 * r as i64, *cell));
        }
    }
    lines.push(("F1", 72, 616, "Prices are per piece and include tax."));
    let parsed = parse_bytes(lines_pdf(&lines));
    let md = &parsed.markdown;
    let table = rows
        .iter()
        .map(|row| format!("| {} |", row.join(" | ")))
        .collect::<Vec<_>>();
    let expected = format!(
        "Stock at the market this week, by fruit:\n\n{}\n| --- | --- | --- | --- |\n{}\n\nPrices are per piece and include tax.\n",
        table[0],
        table[1..].join("\n")
    );
    assert_eq!(md, &expected);
}

/// ReportLab's `Table` with a padding of 1 point and its numbers right-aligned: the item
/// column ends 2 points before the widest quantity starts, and quantities start wherever
/// their widths put them; the columns after them start 2 points after the widest.
#[test]
fn a_compact_table_with_right_aligned_numbers_reads_row_by_row() {
    let rows: [[(&str, f32); 4]; 5] = [
        [
            ("Item", 73.0),
            ("Qty", 161.71),
            ("Price", 181.51),
            ("Total", 214.64),
        ],
        [
            ("Widgets, large", 73.0),
            ("1200", 155.03),
            ("0.45", 184.83),
            ("540.00", 206.29),
        ],
        [
            ("Bolts", 73.0),
            ("36", 166.15),
            ("12.20", 179.27),
            ("439.20", 206.29),
        ],
        [
            ("Nuts and washers", 73.0),
            ("1000", 155.03),
            ("0.05", 184.83),
            ("50.00", 211.85),
        ],
        [
            ("Springs", 73.0),
            ("48", 166.15),
            ("1.10", 184.83),
            ("52.80", 211.85),
        ],
    ];
    let mut content = String::from("BT /F1 10 Tf ");
    for (r, row) in rows.iter().enumerate() {
        let y = 700.0 - 18.0 * r as f32;
        for (text, x) in row {
            content.push_str(&format!("1 0 0 1 {x} {y} Tm ({text}) Tj "));
        }
    }
    content.push_str("ET");
    let parsed = parse_bytes(content_pdf(&[content.into_bytes()]));
    let md = &parsed.markdown;
    assert_eq!(
        md,
        "| Item | Qty | Price | Total |\n| --- | --- | --- | --- |\n\
         | Widgets, large | 1200 | 0.45 | 540.00 |\n| Bolts | 36 | 12.20 | 439.20 |\n\
         | Nuts and washers | 1000 | 0.05 | 50.00 |\n| Springs | 48 | 1.10 | 52.80 |\n"
    );
}

/// A page's FlateDecode content with one bit flipped: zlib inflates to garbage from there on
/// and fails only at the checksum (or midway). The page kept the text before the damage but
/// said nothing; it now says its content is cut short, as a truncated stream's does.
#[test]
fn a_content_stream_with_a_bit_flipped_is_cut_short_with_a_warning() {
    let lines: String = (0..45)
        .map(|i| {
            format!(
                "0 -14 Td (Line {i:03} of the page, number {}) Tj\n",
                i * 7919
            )
        })
        .collect();
    let content = format!("BT /F1 10 Tf 72 760 Td {lines} ET");
    let data = zlib(content.as_bytes());
    let pdf = |data: &[u8]| {
        let mut objects = page_objects("/F1 4 0 R", "5 0 R");
        objects.push(HELVETICA.to_vec());
        objects.push(stream_object(
            "<< /Filter /FlateDecode",
            &data.len().to_string(),
            data,
        ));
        objects_pdf(&objects)
    };
    let intact = parse_bytes(pdf(&data));
    assert!(intact.markdown.contains("Line 044 of"));
    assert!(
        intact.debug.warnings.is_empty(),
        "{:?}",
        intact.debug.warnings
    );
    let n = data.len();
    for at in [n / 3, n / 2, 2 * n / 3] {
        for bit in [0, 3, 6] {
            let mut flipped = data.clone();
            flipped[at] ^= 1 << bit;
            let parsed = parse_bytes(pdf(&flipped));
            assert!(
                parsed.markdown.contains("Line 000 of"),
                "byte {at} bit {bit}: {}",
                parsed.markdown
            );
            assert_eq!(
                parsed.debug.warnings,
                [
                    "page 1: its content is cut short (the file is truncated or damaged); the text before the cut was read"
                ],
                "byte {at} bit {bit}"
            );
        }
    }
}

/// A page tree that lists itself among its kids (a cycle): lopdf follows it until it has
/// read as many kids as the file has objects, and the one page was read hundreds of times.
/// Each page is read once, and a warning says the page tree is damaged.
#[test]
fn a_circular_page_tree_reads_each_page_once_and_says_so() {
    let content = b"BT /F1 12 Tf 72 700 Td (Hello hostile world) Tj ET";
    for kids in ["[3 0 R 2 0 R 2 0 R]", "[3 0 R 2 0 R]", "[3 0 R 3 0 R]"] {
        let mut objects = page_objects("/F1 4 0 R", "5 0 R");
        objects[1] = format!("<< /Type /Pages /Kids {kids} /Count 2 >>").into_bytes();
        objects.push(HELVETICA.to_vec());
        objects.push(stream_object("<<", &content.len().to_string(), content));
        for i in 0..300 {
            objects.push(format!("<< /Pad {i} >>").into_bytes());
        }
        let parsed = parse_bytes(objects_pdf(&objects));
        assert_eq!(
            parsed.markdown.matches("Hello hostile world").count(),
            1,
            "{kids}"
        );
        assert_eq!(parsed.metadata["pages"], 1, "{kids}");
        let warnings = &parsed.debug.warnings;
        assert_eq!(warnings.len(), 1, "{kids}: {warnings:?}");
        assert!(
            warnings[0].starts_with("the page tree is damaged"),
            "{kids}: {warnings:?}"
        );
    }
}

/// A chain of forms, each drawing its own line and the next form: those nested up to
/// [`flatten::MAX_FORM_DEPTH`] deep are read (it was 12, and deeper ones went without a word),
/// deeper ones are left out with a warning.
#[test]
fn forms_nested_too_deep_are_left_out_with_a_warning() {
    use super::flatten::MAX_FORM_DEPTH;

    let chain = |levels: usize| {
        let mut objects = page_objects("/F1 4 0 R", "5 0 R");
        objects[2] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
            /Resources << /Font << /F1 4 0 R >> /XObject << /Y0 6 0 R >> >> /Contents 5 0 R >>"
            .to_vec();
        objects.push(HELVETICA.to_vec());
        let page = b"/Y0 Do BT /F1 12 Tf 72 60 Td (After chain) Tj ET";
        objects.push(stream_object("<<", &page.len().to_string(), page));
        for i in 0..levels {
            let next = if i + 1 < levels { "/Y0 Do" } else { "" };
            let body = format!("BT /F1 8 Tf 72 {} Td (level{i}) Tj ET {next}", 760 - i * 10);
            let dict = format!(
                "<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] \
                 /Resources << /Font << /F1 4 0 R >> /XObject << /Y0 {} 0 R >> >>",
                7 + i
            );
            objects.push(stream_object(
                &dict,
                &body.len().to_string(),
                body.as_bytes(),
            ));
        }
        parse_bytes(objects_pdf(&objects))
    };
    let read = chain(20);
    for i in 0..20 {
        assert!(
            read.markdown.contains(&format!("level{i}")),
            "{i}: {}",
            read.markdown
        );
    }
    assert!(read.debug.warnings.is_empty(), "{:?}", read.debug.warnings);
    assert_eq!(read.debug.stats["forms_inlined"], 20);
    let deep = chain(MAX_FORM_DEPTH + 5);
    let md = &deep.markdown;
    for i in 0..MAX_FORM_DEPTH {
        assert!(
            md.contains(&format!("level{i} ")) || md.contains(&format!("level{i}\n")),
            "{i}: {md}"
        );
    }
    assert!(!md.contains(&format!("level{MAX_FORM_DEPTH}")), "{md}");
    assert!(md.contains("After chain"), "{md}");
    assert_eq!(
        deep.debug.warnings,
        [format!(
            "page 1: forms nested more than {MAX_FORM_DEPTH} deep were left out, with their text"
        )]
    );
}

/// Encryption no password opens: certificate security (`/Adobe.PubSec`), an unknown security
/// handler, an `/Encrypt` that is the catalog or no dictionary at all. Each said "password
/// protected (encrypted with a non-empty user password)", wrong advice; each names its cause.
#[test]
fn encryption_without_a_password_names_its_handler_or_its_damage() {
    let content = b"BT /F1 12 Tf 72 700 Td (Hello enc) Tj ET";
    let id = "/ID [<00112233445566778899aabbccddeeff><00112233445566778899aabbccddeeff>]";
    let error = |encrypt_object: Option<&str>, encrypt: &str| {
        let mut objects = page_objects("/F1 4 0 R", "5 0 R");
        objects.push(HELVETICA.to_vec());
        objects.push(stream_object("<<", &content.len().to_string(), content));
        if let Some(body) = encrypt_object {
            objects.push(body.as_bytes().to_vec());
        }
        let bytes = objects_pdf(&objects);
        let at = memchr::memmem::rfind(&bytes, b"/Root 1 0 R").unwrap_or_else(|| panic!("trailer"));
        let bytes = [
            &bytes[..at],
            format!("/Root 1 0 R /Encrypt {encrypt} {id}").as_bytes(),
            &bytes[at + 11..],
        ]
        .concat();
        let doc = Document::new("enc.pdf".into(), "enc.pdf".into(), bytes);
        match parse(&doc, &ParseConfig::default()) {
            Ok(parsed) => panic!("{encrypt}: read {}", parsed.markdown),
            Err(e) => e.to_string(),
        }
    };
    let pubsec = error(
        Some(
            "<< /Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s5 /V 4 /R 4 /Recipients [<3082>] /Length 128 >>",
        ),
        "6 0 R",
    );
    assert!(
        pubsec.contains("certificate security (the Adobe.PubSec security handler"),
        "{pubsec}"
    );
    let bogus = error(Some("<< /Filter /Bogus /V 2 /R 3 /Length 128 >>"), "6 0 R");
    assert!(
        bogus.contains("the Bogus security handler, which is not supported"),
        "{bogus}"
    );
    let catalog = error(None, "1 0 R");
    assert!(
        catalog.contains("encryption dictionary (the trailer's /Encrypt) is the document catalog"),
        "{catalog}"
    );
    let nameless = error(Some("<< /V 2 /R 3 /Length 128 >>"), "6 0 R");
    assert!(nameless.contains("names no security handler"), "{nameless}");
    for message in [pubsec, bogus, catalog, nameless] {
        assert!(!message.contains("password protected"), "{message}");
    }
}

/// A three-page file whose page 2 has `junk` in its dictionary, its font dictionary holding
/// `font_junk` and its content stream's dictionary holding `content_junk`.
fn junk_pages_pdf(junk: &str, font_junk: &str, content_junk: &str) -> Vec<u8> {
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >>".to_vec(),
    ];
    for (page, junk) in [(1, ""), (2, junk), (3, "")] {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] {junk} \
                 /Resources << /Font << /F1 {} 0 R >> >> /Contents {} 0 R >>",
                if page == 2 { 10 } else { 9 },
                5 + page
            )
            .into_bytes(),
        );
    }
    for (page, junk) in [(1, ""), (2, content_junk), (3, "")] {
        let text = format!("BT /F1 12 Tf 72 700 Td (Text of page {page}.) Tj ET");
        objects.push(stream_object(
            &format!("<< {junk}"),
            &text.len().to_string(),
            text.as_bytes(),
        ));
    }
    objects.push(HELVETICA.to_vec());
    objects.push(
        format!("<< /Type /Font /Subtype /Type1 {font_junk} /BaseFont /Helvetica >>").into_bytes(),
    );
    objects_pdf(&objects)
}

/// lopdf drops an object whole for one token it cannot parse: page 2 vanished without a word
/// and page 3 was numbered 2, a font so lost its text under "fonts are missing", a content
/// stream so cut its page. Such objects are read without the bad entry, and said so.
#[test]
fn an_object_with_a_token_lopdf_cannot_parse_is_read_without_it() {
    for junk in ["/Foo 1.2.3", "/Foo )", "/Foo <zz>", "/Foo 1e5", "/Foo +-5"] {
        for (page, font, content) in [(junk, "", ""), ("", junk, ""), ("", "", junk)] {
            let parsed = parse_bytes(junk_pages_pdf(page, font, content));
            assert_eq!(parsed.metadata["pages"], 3, "{junk}");
            for n in 1..=3u32 {
                let text = format!("Text of page {n}.");
                let element = parsed.elements.iter().find(|e| e.text == text);
                assert_eq!(element.and_then(|e| e.page), Some(n), "{junk}: {text}");
            }
            assert_eq!(
                parsed.debug.warnings,
                [
                    "the file is damaged: 1 objects hold a token that is no PDF object (such as 1.2.3, a stray parenthesis or an exponent number); each was read without the entry that held it"
                ],
                "{junk}"
            );
        }
    }
    let huge_box = junk_pages_pdf("/MediaBox [0 0 1e30 1e30]", "", "");
    let parsed = parse_bytes(huge_box);
    assert_eq!(parsed.metadata["pages"], 3);
    assert!(parsed.markdown.contains("Text of page 2."));
}

/// A simple font without a ToUnicode CMap whose `Differences` name glyphs `uniXXXX`, `uXXXXX`,
/// with a `.suffix` or joined by `_`: the base encoding's character came out (`Привет` read as
/// `!"#$%&`), or nothing without one. They map by the Adobe Glyph List's rules.
#[test]
fn glyph_names_map_by_the_rules_of_the_glyph_list() {
    for base in ["/BaseEncoding /WinAnsiEncoding", ""] {
        let font = format!(
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding \
             {base} /Differences [33 /uni041F /uni0440 /uni0438 /uni0432 /uni0435 /uni0442 \
             65 /a.sc /one.oldstyle /T_h /uni00410042 /u1F600 /uni0416.sc /Zhecyrillic] >> >>"
        );
        assert_fonts_read(
            fonts_pdf(&[(&font, "(!\"#$%& ABCDEFG)")], Vec::new()),
            &["Привет a1ThAB😀ЖЖ"],
            &[],
        );
    }
}

/// A page tree whose root lists itself among its kids, or whose node lists its parent: the
/// walk followed the loop and lost every page listed after it, while the warning said each
/// page was read once. The node reached again is skipped and its siblings read.
#[test]
fn a_loop_in_the_page_tree_skips_the_node_and_reads_the_pages_after_it() {
    let page = |content: usize| {
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
             /Resources << /Font << /F1 3 0 R >> >> /Contents {content} 0 R >>"
        )
        .into_bytes()
    };
    let text = |n: usize| {
        let t = format!("BT /F1 12 Tf 72 700 Td (Hello page {n}.) Tj ET");
        stream_object("<<", &t.len().to_string(), t.as_bytes())
    };
    for kids in ["[4 0 R 2 0 R 5 0 R]", "[8 0 R]"] {
        let objects = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            format!("<< /Type /Pages /Kids {kids} /Count 2 >>").into_bytes(),
            HELVETICA.to_vec(),
            page(6),
            page(7),
            text(1),
            text(2),
            b"<< /Type /Pages /Parent 2 0 R /Kids [4 0 R 2 0 R 5 0 R] /Count 2 >>".to_vec(),
        ];
        let parsed = parse_bytes(objects_pdf(&objects));
        assert_eq!(parsed.metadata["pages"], 2, "{kids}");
        for n in 1..=2u32 {
            let text = format!("Hello page {n}.");
            let element = parsed.elements.iter().find(|e| e.text == text);
            assert_eq!(element.and_then(|e| e.page), Some(n), "{kids}: {text}");
        }
        assert!(
            parsed
                .debug
                .warnings
                .iter()
                .any(|w| w.starts_with("the page tree is damaged")),
            "{kids}"
        );
    }
}

/// An incremental update whose cross-reference section marks page 2's content stream free:
/// lopdf read `f` entries as none, so the older in-use entry won and the deleted text was
/// still read. The newest section wins, free entries included.
#[test]
fn an_object_an_incremental_update_frees_is_not_read() {
    use std::io::Write;

    let content = |text: &str| {
        let t = format!("BT /F1 12 Tf 72 700 Td ({text}) Tj ET");
        stream_object("<<", &t.len().to_string(), t.as_bytes())
    };
    let page = |c: usize| {
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
             /Resources << /Font << /F1 3 0 R >> >> /Contents {c} 0 R >>"
        )
        .into_bytes()
    };
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [4 0 R 5 0 R] /Count 2 >>".to_vec(),
        HELVETICA.to_vec(),
        page(6),
        page(7),
        content("Page one stays."),
        content("Deleted text."),
    ];
    let original = objects_pdf(&objects);
    let before = parse_bytes(original.clone());
    assert!(before.markdown.contains("Deleted text."));
    let prev = memchr::memmem::rfind(&original, b"\nxref\n").unwrap() + 1;
    let mut updated = original.clone();
    let at = updated.len();
    let _ = write!(
        updated,
        "xref\n7 1\n0000000000 00001 f \ntrailer\n<< /Size 8 /Root 1 0 R /Prev {prev} >>\nstartxref\n{at}\n%%EOF\n"
    );
    let parsed = parse_bytes(updated);
    assert!(
        parsed.markdown.contains("Page one stays."),
        "{}",
        parsed.markdown
    );
    assert!(
        !parsed.markdown.contains("Deleted text."),
        "{}",
        parsed.markdown
    );
    assert_eq!(parsed.metadata["pages"], 2);
}
