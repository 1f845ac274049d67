//! Whole-package tests: small DOCX files built in memory.

use std::io::{Cursor, Write};

use super::*;
use crate::model::ElementKind;

fn package(parts: &[(&str, &str)]) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in parts {
            w.start_file(*name, options).unwrap();
            w.write_all(data.as_bytes()).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Intro</w:t></w:r></w:p>
<w:p><w:r><w:t>Body text</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r></w:p>
<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>item</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>h</w:t></w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:p><w:r><w:t>v</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
</w:body></w:document>"#;

const FOOTNOTES: &str = r#"<w:footnotes xmlns:w="x"><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:id="1"><w:p><w:r><w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> The note.</w:t></w:r></w:p></w:footnote></w:footnotes>"#;

const CORE: &str = r#"<cp:coreProperties xmlns:cp="c" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Doc title</dc:title><dc:creator>Ann Author</dc:creator></cp:coreProperties>"#;

#[test]
fn a_small_document() {
    let bytes = package(&[
        ("word/document.xml", DOC),
        ("word/footnotes.xml", FOOTNOTES),
        ("docProps/core.xml", CORE),
    ]);
    let parsed = parse(&bytes).unwrap();
    assert_eq!(
        parsed.markdown,
        "# Intro\n\nBody text\\[1\\]\n\n- item\n\n| h |\n| --- |\n| v |\n\n\\[1\\] The note.\n"
    );
    let kinds: Vec<ElementKind> = parsed.elements.iter().map(|e| e.kind).collect();
    use ElementKind::*;
    assert_eq!(kinds, vec![Heading, Paragraph, ListItem, Table, Paragraph]);
    assert_eq!(parsed.elements[2].section, vec!["Intro"]);
    // The notes are outside the sections.
    assert!(parsed.elements[4].section.is_empty());
    assert_eq!(parsed.metadata["title"], "Doc title");
    assert_eq!(parsed.metadata["author"], "Ann Author");
    assert!(parsed.warnings.is_empty());
}

#[test]
fn broken_packages_are_clean_errors() {
    let no_document = package(&[("docProps/core.xml", CORE)]);
    for bytes in [&b""[..], b"PK\x03\x04", b"not a zip at all", &no_document] {
        let err = parse(bytes).unwrap_err();
        assert!(
            matches!(err, ParseError::Damaged { .. }),
            "{bytes:?}: {err}"
        );
    }
    let garbage = package(&[("word/document.xml", "<w:document><w:body></w:oops>")]);
    assert!(parse(&garbage).is_err());
    // A main part that is no document (a relationships part) read as an empty document.
    let rels = package(&[(
        "word/document.xml",
        r#"<?xml version="1.0"?><Relationships xmlns="x"><Relationship Id="r1" Target="a.xml"/></Relationships>"#,
    )]);
    let err = parse(&rels).unwrap_err().to_string();
    assert!(err.contains("holds no document body"), "{err}");
    // An empty document is one.
    let empty = package(&[(
        "word/document.xml",
        r#"<w:document xmlns:w="x"><w:body><w:sectPr/></w:body></w:document>"#,
    )]);
    assert!(parse(&empty).is_ok());
}

#[test]
fn note_ids_are_split_out() {
    let notes = split_notes(FOOTNOTES);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].0, "1");
}

const NUMBERING: &str = r#"<w:numbering xmlns:w="x">
<w:abstractNum w:abstractNumId="0">
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="o"/></w:lvl>
</w:abstractNum>
<w:abstractNum w:abstractNumId="1">
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/></w:lvl>
</w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
<w:num w:numId="3"><w:abstractNumId w:val="0"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>
</w:numbering>"#;

/// A body paragraph in list `num` at level `ilvl`.
fn item(num: u32, ilvl: u32, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num}"/></w:numPr></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#
    )
}

#[test]
fn list_numbers_are_the_ones_word_shows() {
    let body = [
        item(1, 0, "one"),
        item(1, 0, "two"),
        item(1, 1, "a bullet under two"),
        item(2, 0, "new list from one"),
        item(2, 0, "its second"),
        "<w:p><w:r><w:t>Between</w:t></w:r></w:p>".to_string(),
        item(1, 0, "numId 1 goes on at three"),
        item(3, 0, "start override five"),
        item(3, 0, "six"),
        item(3, 0, ""),
        item(3, 0, "eight after an empty numbered paragraph"),
    ]
    .concat();
    let document = format!(
        r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    );
    let bytes = package(&[
        ("word/document.xml", &document),
        ("word/numbering.xml", NUMBERING),
    ]);
    let parsed = parse(&bytes).unwrap();
    assert_eq!(
        parsed.markdown,
        "1. one\n2. two\n    - a bullet under two\n1) new list from one\n2) its second\n\nBetween\n\n3. numId 1 goes on at three\n5) start override five\n6) six\n8. eight after an empty numbered paragraph\n"
    );
    let depths: Vec<Option<u32>> = parsed.elements.iter().map(|e| e.depth).collect();
    assert_eq!(depths[..3], [Some(0), Some(0), Some(1)]);
    assert_eq!(parsed.elements[2].ordered, Some(false));
}

#[test]
fn wide_spans_over_many_rows_stay_linear() {
    let cell = r#"<w:tc><w:tcPr><w:gridSpan w:val="1000"/></w:tcPr><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc>"#;
    let row = r#"<w:tr><w:tc><w:p><w:r><w:t>y</w:t></w:r></w:p></w:tc></w:tr>"#;
    let doc = format!(
        r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:tbl><w:tr>{}</w:tr>{}</w:tbl></w:body></w:document>"#,
        cell.repeat(3000),
        row.repeat(3000)
    );
    let parsed = parse(&package(&[("word/document.xml", &doc)])).unwrap();
    assert!(parsed.markdown.len() < 100_000, "{}", parsed.markdown.len());
    assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    assert!(parsed.warnings[0].contains("kept as paragraphs"));
    assert_eq!(parsed.elements.len(), 3001);
    assert_eq!(parsed.elements[0].text.matches('x').count(), 3000);
}

const RELS_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

fn package_rels(main: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{RELS_NS}/officeDocument" Target="{main}"/></Relationships>"#
    )
}

#[test]
fn the_main_part_is_found_through_the_package_relationships() {
    let styles = r#"<w:styles xmlns:w="x"><w:style w:type="paragraph" w:styleId="Big"><w:name w:val="heading 1"/></w:style></w:styles>"#;
    let doc = r#"<w:document xmlns:w="x"><w:body><w:p><w:pPr><w:pStyle w:val="Big"/></w:pPr><w:r><w:t>Moved</w:t></w:r></w:p><w:p><w:r><w:t>Body</w:t></w:r></w:p></w:body></w:document>"#;
    let own_rels = format!(
        r#"<Relationships xmlns="x"><Relationship Id="r1" Type="{RELS_NS}/styles" Target="../shared/st.xml"/></Relationships>"#
    );
    let bytes = package(&[
        ("_rels/.rels", &package_rels("/other/main.xml")),
        ("other/main.xml", doc),
        ("other/_rels/main.xml.rels", &own_rels),
        ("shared/st.xml", styles),
    ]);
    let parsed = parse(&bytes).unwrap();
    assert_eq!(parsed.markdown, "# Moved\n\nBody\n");
    // Part names are case-insensitive.
    let bytes = package(&[
        ("_rels/.rels", &package_rels("word/document.xml")),
        ("Word/Document.xml", doc),
    ]);
    assert_eq!(parse(&bytes).unwrap().markdown, "Moved\n\nBody\n");
    // A relationship to a missing part falls back to the usual name.
    let bytes = package(&[
        ("_rels/.rels", &package_rels("nowhere.xml")),
        ("word/document.xml", doc),
    ]);
    assert_eq!(parse(&bytes).unwrap().markdown, "Moved\n\nBody\n");
    let err = parse(&package(&[("_rels/.rels", &package_rels("nowhere.xml"))])).unwrap_err();
    assert!(err.to_string().contains("no nowhere.xml part"), "{err}");
}

/// A `w:br` (and `w:cr`) is a Markdown hard break: it stays a line break.
#[test]
fn a_line_break_is_a_hard_break() {
    let doc = r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>ACME Corp</w:t><w:br/><w:t>12 Main Street</w:t><w:cr/><w:t>Springfield</w:t></w:r></w:p>
</w:body></w:document>"#;
    let parsed = parse(&package(&[("word/document.xml", doc)])).unwrap();
    assert_eq!(
        parsed.markdown,
        "ACME Corp  \n12 Main Street  \nSpringfield\n"
    );
}

/// Text holding the noncharacters the renderer marks code spans and images with (U+FDD0 to
/// U+FDD4) is text: they are left out, as the HTML parser leaves them out of a page's text
/// (they made `b` a code span and lost what followed an image mark).
#[test]
fn noncharacters_in_text_are_no_inline_markup() {
    let body =
        "<w:p><w:r><w:t>a\u{FDD0}b\u{FDD1}c \u{FDD2}alt\u{FDD3}src\u{FDD4} end</w:t></w:r></w:p>";
    let parsed = parse(&package(&[("word/document.xml", &document(body))])).unwrap();
    assert_eq!(parsed.markdown, "abc altsrc end\n");
    assert_eq!(parsed.elements[0].text, "abc altsrc end");
}

/// Notes are numbered as Word shows them: by first reference, footnotes and endnotes apart,
/// whatever their `w:id`; a note with a custom mark shows that mark (it got a number the body
/// never showed), and a note nothing references is not shown. They follow the body under a
/// heading of their own.
#[test]
fn notes_take_the_numbers_word_shows() {
    let doc = r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>Part</w:t></w:r></w:p>
<w:p><w:r><w:t>One</w:t></w:r><w:r><w:footnoteReference w:id="15"/></w:r><w:r><w:t> two</w:t></w:r><w:r><w:footnoteReference w:id="9"/></w:r><w:r><w:t> end</w:t></w:r><w:r><w:endnoteReference w:id="4"/></w:r><w:r><w:t> again</w:t></w:r><w:r><w:footnoteReference w:id="15"/></w:r></w:p>
<w:p><w:r><w:footnoteReference w:customMarkFollows="1" w:id="20"/><w:t>*</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Bullet </w:t></w:r><w:r><w:footnoteReference w:customMarkFollows="1" w:id="21"/><w:sym w:font="Symbol" w:char="F0B7"/></w:r><w:r><w:t xml:space="preserve"> trailing</w:t></w:r></w:p>
</w:body></w:document>"#;
    let note = |kind: &str, id: &str, text: &str| {
        format!(
            r#"<w:{kind} w:id="{id}"><w:p><w:r><w:{kind}Ref/></w:r><w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p></w:{kind}>"#
        )
    };
    let footnotes = format!(
        r#"<w:footnotes xmlns:w="x"><w:footnote w:type="separator" w:id="-1"><w:p/></w:footnote>{}{}{}{}{}</w:footnotes>"#,
        note("footnote", "9", "Nine."),
        note("footnote", "15", "Fifteen."),
        note("footnote", "20", "Custom."),
        note("footnote", "21", "Symbol."),
        note("footnote", "30", "Never referenced."),
    );
    let endnotes = format!(
        r#"<w:endnotes xmlns:w="x">{}</w:endnotes>"#,
        note("endnote", "4", "Four.")
    );
    let parsed = parse(&package(&[
        ("word/document.xml", doc),
        ("word/footnotes.xml", &footnotes),
        ("word/endnotes.xml", &endnotes),
    ]))
    .unwrap();
    assert_eq!(
        parsed.markdown,
        "## Part\n\nOne\\[1\\] two\\[2\\] end\\[e1\\] again\\[1\\]\n\n\\*\n\nBullet • trailing\n\n\
         \\[1\\] Fifteen.\n\n\\[2\\] Nine.\n\n\\* Custom.\n\n• Symbol.\n\n\\[e1\\] Four.\n"
    );
    let last = parsed.elements.last().unwrap();
    assert!(last.section.is_empty());
}

/// A WordprocessingML document part around `body`.
fn document(body: &str) -> String {
    format!(
        r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    )
}

/// A run of `text` with run properties `props`.
fn run(props: &str, text: &str) -> String {
    format!(r#"<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>"#)
}

/// `w:rFonts` naming `font` for ASCII and other Latin text.
fn fonts(font: &str) -> String {
    format!(r#"<w:rFonts w:ascii="{font}" w:hAnsi="{font}"/>"#)
}

/// Text in the Symbol font is Greek letters and math signs, given as ASCII or at U+F0xx, the
/// font set on the run, by its character style (through `basedOn`) or by the paragraph's
/// style; a font set on the run itself wins over its style's, and "Segoe UI Symbol" is an
/// ordinary font.
#[test]
fn symbol_font_runs_read_as_greek_and_math() {
    let styles = format!(
        r#"<w:styles xmlns:w="x">
<w:style w:type="character" w:styleId="SymbolChar"><w:name w:val="Symbol Char"/><w:rPr>{}</w:rPr></w:style>
<w:style w:type="character" w:styleId="GreekChar"><w:name w:val="Greek Char"/><w:basedOn w:val="SymbolChar"/></w:style>
<w:style w:type="paragraph" w:styleId="Formula"><w:name w:val="Formula"/><w:rPr>{}</w:rPr></w:style>
</w:styles>"#,
        fonts("Symbol"),
        fonts("Symbol"),
    );
    let symbol = fonts("Symbol");
    let body = [
        format!(
            "<w:p>{}{}{}{}<w:r><w:rPr>{symbol}</w:rPr><w:sym w:char=\"F0AE\"/></w:r>{}</w:p>",
            run("", "If "),
            run(&symbol, "a £ b"),
            run("", " then "),
            run(&symbol, "\u{F070} \u{F0B3} \u{F0B4}"),
            run("", " done"),
        ),
        format!(
            "<w:p>{}{}{}</w:p>",
            run(r#"<w:rStyle w:val="GreekChar"/>"#, "S "),
            run(
                &format!(
                    r#"<w:rStyle w:val="GreekChar"/>{}"#,
                    fonts("Times New Roman")
                ),
                "S "
            ),
            run(&fonts("Segoe UI Symbol"), "a"),
        ),
        format!(
            r#"<w:p><w:pPr><w:pStyle w:val="Formula"/></w:pPr>{}{}</w:p>"#,
            run("", "a ¹ ¥ "),
            run(&fonts("Calibri"), "ok"),
        ),
    ]
    .concat();
    let parsed = parse(&package(&[
        ("word/document.xml", &document(&body)),
        ("word/styles.xml", &styles),
    ]))
    .unwrap();
    assert_eq!(
        parsed.markdown,
        "If α ≤ β then π ≥ ×→ done\n\nΣ S a\n\nα ≠ ∞ ok\n"
    );
}

/// A list `num` of bullet levels, each its bullet text and font.
fn bullets(num: u32, levels: &[(&str, &str)]) -> String {
    let levels: String = levels
        .iter()
        .enumerate()
        .map(|(ilvl, (text, font))| {
            format!(
                r#"<w:lvl w:ilvl="{ilvl}"><w:numFmt w:val="bullet"/><w:lvlText w:val="{text}"/><w:rPr>{}</w:rPr></w:lvl>"#,
                fonts(font)
            )
        })
        .collect();
    format!(
        r#"<w:abstractNum w:abstractNumId="{num}">{levels}</w:abstractNum><w:num w:numId="{num}"><w:abstractNumId w:val="{num}"/></w:num>"#
    )
}

/// A body paragraph of `runs` in list `num` at level `ilvl`.
fn item_of_runs(num: u32, ilvl: u32, runs: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num}"/></w:numPr></w:pPr>{runs}</w:p>"#
    )
}

/// Parses a package of `body` and `numbering` (the `w:numbering` content).
fn parse_numbered(body: &str, numbering: &str) -> Parsed {
    let numbering = format!(r#"<w:numbering xmlns:w="x">{numbering}</w:numbering>"#);
    parse(&package(&[
        ("word/document.xml", &document(body)),
        ("word/numbering.xml", &numbering),
    ]))
    .unwrap()
}

/// Boxes drawn in Wingdings 2 (typed, or `w:sym`) at the start of a list item make task
/// items, as Wingdings' do; its check and X marks elsewhere are text.
#[test]
fn wingdings_2_boxes_and_marks_in_text() {
    let wingdings2 = fonts("Wingdings 2");
    let body = [
        item_of_runs(1, 0, &[run(&wingdings2, "R"), run("", " Signed")].concat()),
        item_of_runs(
            1,
            0,
            &format!(
                r#"<w:r><w:sym w:font="Wingdings 2" w:char="F054"/></w:r>{}"#,
                run("", " Rejected")
            ),
        ),
        item_of_runs(
            1,
            0,
            &[run(&wingdings2, "\u{F0A3}"), run("", " Open")].concat(),
        ),
        format!(
            r#"<w:p>{}{}{}<w:r><w:sym w:font="Wingdings 2" w:char="F04F"/></w:r></w:p>"#,
            run("", "Done "),
            run(&wingdings2, "P"),
            run("", " failed "),
        ),
    ]
    .concat();
    let parsed = parse_numbered(&body, &bullets(1, &[("•", "Arial")]));
    assert_eq!(
        parsed.markdown,
        "- [x] Signed\n- [x] Rejected\n- [ ] Open\n\nDone ✓ failed ✗\n"
    );
    let checked: Vec<Option<bool>> = parsed.elements.iter().map(|e| e.checked).collect();
    assert_eq!(checked, [Some(true), Some(true), Some(false), None]);
}

/// A list level whose bullet is a box in Wingdings (U+F0A8, U+F0FE) or Wingdings 2 (U+F0A3)
/// makes task items; Wingdings' small square bullet (U+F0A7) and Courier's "o" do not.
#[test]
fn box_bullets_in_wingdings_make_task_lists() {
    let numbering = [
        bullets(10, &[("\u{F0A8}", "Wingdings")]),
        bullets(11, &[("\u{F0FE}", "Wingdings")]),
        bullets(12, &[("\u{F0A7}", "Wingdings"), ("o", "Courier New")]),
        bullets(13, &[("\u{F0A3}", "Wingdings 2")]),
    ]
    .concat();
    let body = [
        item(10, 0, "Buy milk"),
        item(11, 0, "Pay rent"),
        item(12, 0, "plain"),
        item(12, 1, "sub plain"),
        item(13, 0, "Call back"),
    ]
    .concat();
    let parsed = parse_numbered(&body, &numbering);
    assert_eq!(
        parsed.markdown,
        "- [ ] Buy milk\n- [x] Pay rent\n- plain\n    - sub plain\n- [ ] Call back\n"
    );
    let checked: Vec<Option<bool>> = parsed.elements.iter().map(|e| e.checked).collect();
    assert_eq!(checked, [Some(false), Some(true), None, None, Some(false)]);
}

/// Notes are found in one pass over the part (each was found by searching for both
/// `<w:footnote ` and `<w:endnote `, so a part without one of them was scanned to its end at
/// every note: 16,000 notes took 17.7 s): every one of many notes, and only notes.
#[test]
fn many_notes_are_split_one_by_one() {
    let n = 5_000;
    let notes: String = (1..=n)
        .map(|i| {
            format!(r#"<w:footnote w:id="{i}"><w:p><w:r><w:t>n{i}</w:t></w:r></w:p></w:footnote>"#)
        })
        .collect();
    let xml = format!(r#"<w:footnotes xmlns:w="x"><w:footnotePr/>{notes}</w:footnotes>"#);
    let split = split_notes(&xml);
    assert_eq!(split.len(), n);
    let first = r#"<w:footnote w:id="1"><w:p><w:r><w:t>n1</w:t></w:r></w:p></w:footnote>"#;
    assert_eq!(split[0], ("1".to_owned(), first));
    assert_eq!(split[n - 1].0, n.to_string());
    assert!(split[n - 1].1.ends_with("</w:footnote>"));
}

/// Imported content (`w:altChunk`) is read in its place: HTML as its blocks (converters write
/// whole documents as one), plain text as paragraphs; an RTF import is said to be missing. It
/// was dropped without a word.
#[test]
fn imported_html_is_read_in_place() {
    let chunk = |id: &str| format!(r#"<w:altChunk r:id="{id}"/>"#);
    let para = |text: &str| format!("<w:p><w:r><w:t>{text}</w:t></w:r></w:p>");
    let doc = format!(
        r#"<w:document xmlns:w="x" xmlns:r="{RELS_NS}"><w:body>{}{}{}{}{}</w:body></w:document>"#,
        para("Before."),
        chunk("rIdHtml"),
        chunk("rIdText"),
        chunk("rIdRtf"),
        para("After."),
    );
    let rel = |id: &str, target: &str| {
        format!(r#"<Relationship Id="{id}" Type="{RELS_NS}/aFChunk" Target="{target}"/>"#)
    };
    let own_rels = format!(
        r#"<Relationships xmlns="x">{}{}{}</Relationships>"#,
        rel("rIdHtml", "import.htm"),
        rel("rIdText", "notes.txt"),
        rel("rIdRtf", "old.rtf"),
    );
    let html = "<html><body><nav>Kept: it is the document's</nav><h1>Imported</h1><ul><li>one</li><li>two</li></ul></body></html>";
    let parsed = parse(&package(&[
        ("_rels/.rels", &package_rels("word/document.xml")),
        ("word/document.xml", &doc),
        ("word/_rels/document.xml.rels", &own_rels),
        ("word/import.htm", html),
        ("word/notes.txt", "First line.\n\nSecond."),
        ("word/old.rtf", r"{\rtf1 Old.}"),
    ]))
    .unwrap();
    assert_eq!(
        parsed.markdown,
        "Before.\n\nKept: it is the document's\n\n# Imported\n\n- one\n- two\n\nFirst line.\n\nSecond.\n\nAfter.\n"
    );
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.contains("1 imported part(s)")),
        "{:?}",
        parsed.warnings
    );
}

/// A part referenced again shows again, but each showing counts against the document's
/// decompression cap (8 MiB for a file of a few kilobytes): the rest are left out with a
/// warning. A 3.9 KB file showing one 1 MB part 200 times took 13 minutes and 2.1 GB.
#[test]
fn an_imported_part_shown_again_counts_each_time() {
    let para = |text: &str| format!("<w:p><w:r><w:t>{text}</w:t></w:r></w:p>");
    let doc = format!(
        r#"<w:document xmlns:w="x" xmlns:r="{RELS_NS}"><w:body>{}{}{}</w:body></w:document>"#,
        para("Before."),
        r#"<w:altChunk r:id="rId1"/>"#.repeat(20),
        para("After."),
    );
    let own_rels = format!(
        r#"<Relationships xmlns="x"><Relationship Id="rId1" Type="{RELS_NS}/aFChunk" Target="chunk.html"/></Relationships>"#
    );
    // Just under 1 MiB, so no part is above the ratio check.
    let html = format!(
        "<html><body><p>Shown.</p>{}</body></html>",
        " ".repeat(1_000_000)
    );
    let bytes = package(&[
        ("_rels/.rels", &package_rels("word/document.xml")),
        ("word/document.xml", &doc),
        ("word/_rels/document.xml.rels", &own_rels),
        ("word/chunk.html", &html),
    ]);
    assert!(bytes.len() < 8 << 10, "{}", bytes.len());
    let parsed = parse(&bytes).unwrap();
    // 8 MiB hold 8 showings of the part.
    assert_eq!(parsed.markdown.matches("Shown.").count(), 8);
    assert!(parsed.markdown.starts_with("Before.\n\nShown.\n\n"));
    assert!(parsed.markdown.ends_with("Shown.\n\nAfter.\n"));
    assert!(
        parsed.warnings.iter().any(|w| w
            .starts_with("12 imported part(s) (w:altChunk) not read: docx part word/chunk.html")
            && w.contains("limit")),
        "{:?}",
        parsed.warnings
    );
}

/// A main or notes part cut short (a truncated write) between elements or inside text reads
/// cleanly up to its end: what is there is kept, and the cut is said. It was read as if whole,
/// half of the paragraphs gone without a word.
#[test]
fn a_part_cut_short_says_so() {
    let paras: String = (0..10)
        .map(|i| format!("<w:p><w:r><w:t>Paragraph {i}.</w:t></w:r></w:p>"))
        .collect();
    let whole = document(&paras);
    let after_p = whole.find("</w:p><w:p><w:r><w:t>Paragraph 5").unwrap() + 6;
    let in_text = whole.find("Paragraph 5.").unwrap() + 5;
    for (cut, last) in [(after_p, "Paragraph 4."), (in_text, "Parag")] {
        let bytes = package(&[("word/document.xml", &whole[..cut])]);
        let parsed = parse(&bytes).unwrap();
        assert!(
            parsed.markdown.trim_end().ends_with(last),
            "{}",
            parsed.markdown
        );
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
        let warning = &parsed.warnings[0];
        assert!(warning.starts_with("word/document.xml: the XML ends at byte"));
        assert!(warning.contains("cut short"), "{warning}");
    }
    // Notes cut between two notes, and inside one.
    let body = r#"<w:p><w:r><w:t>Text</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r><w:r><w:footnoteReference w:id="2"/></w:r></w:p>"#;
    let note = |id: u32| {
        format!(
            r#"<w:footnote w:id="{id}"><w:p><w:r><w:t>Note {id}.</w:t></w:r></w:p></w:footnote>"#
        )
    };
    let notes = format!(
        r#"<w:footnotes xmlns:w="x">{}{}</w:footnotes>"#,
        note(1),
        note(2)
    );
    let between = notes.find("<w:footnote w:id=\"2\"").unwrap();
    let inside = notes.find("Note 2.").unwrap() + 4;
    for (xml, warned) in [
        (&notes[..], false),
        (&notes[..between], true),
        (&notes[..inside], true),
    ] {
        let bytes = package(&[
            ("word/document.xml", &document(body)),
            ("word/footnotes.xml", xml),
        ]);
        let parsed = parse(&bytes).unwrap();
        assert!(
            parsed.markdown.contains("\\[1\\] Note 1."),
            "{}",
            parsed.markdown
        );
        let cut = parsed.warnings.iter().any(|w| {
            w.starts_with("word/footnotes.xml: the XML ends at byte") && w.contains("cut short")
        });
        assert_eq!(cut, warned, "{xml}: {:?}", parsed.warnings);
    }
}
