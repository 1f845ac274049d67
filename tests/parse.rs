//! End-to-end tests of `engine parse FILE`: the real binary on real documents.

mod common;

use common::{engine, engine_on, lines, run_json, shared_corpus, stderr, stdout};

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn parse(args: &[&str], file: &Path) -> Output {
    engine().arg("parse").args(args).arg(file).output().unwrap()
}

#[test]
fn docx_prints_markdown_with_headings_and_tables() {
    let file = shared_corpus().join("docx/poi__heading123.docx");
    let output = parse(&[], &file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let md = stdout(&output);
    assert!(md.lines().any(|l| l.starts_with("# ")), "{md}");
    assert!(md.lines().any(|l| l.starts_with("## ")), "{md}");

    let output = parse(&[], &shared_corpus().join("docx/poi__bug65649.docx"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("| --- |"));
}

#[test]
fn json_output_is_the_parsed_document() {
    let file = shared_corpus().join("html/debian-python3.11-doc__howto-sorting.html");
    let output = parse(&["--format", "json"], &file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(doc["format"], "html");
    assert!(
        doc["title"].as_str().unwrap().contains("Sorting"),
        "{}",
        doc["title"]
    );
    let markdown = doc["markdown"].as_str().unwrap();
    let elements = doc["elements"].as_array().unwrap();
    assert!(elements.len() > 20);
    for e in elements {
        let (s, t) = (
            e["span"][0].as_u64().unwrap(),
            e["span"][1].as_u64().unwrap(),
        );
        assert!(s < t && t as usize <= markdown.len());
    }
    assert!(elements.iter().any(|e| e["kind"] == "code"));
    let stats = &doc["debug"]["stats"];
    assert!(
        stats["elements"]["heading"].as_u64().unwrap() > 2,
        "{stats}"
    );
    assert!(doc["debug"]["warnings"].is_array());
    // Navigation and scripts are gone; the text is there.
    assert!(!markdown.contains("Navigation"));
    assert!(markdown.contains("Sorting Basics"));
}

#[test]
fn cp1252_page_without_declaration_decodes() {
    let file = shared_corpus().join("html/unstructured__fake-html-cp1252.html");
    let output = parse(&["--format", "json"], &file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(doc["metadata"]["encoding"], "windows-1252");
    assert!(!doc["markdown"].as_str().unwrap().contains('\u{FFFD}'));
}

#[test]
fn markdown_files_print_their_rendering() {
    let file = shared_corpus().join("md/docling__escaped_characters.md");
    let output = parse(&[], &file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let md = stdout(&output);
    // Character references are decoded in text (escaped to stay literal), kept in code.
    assert!(md.contains("\n\\& \\< \\> \\\" \\'"), "{md}");
    assert!(md.contains("`&amp; &lt; &gt; &quot; &#39; `"), "{md}");
    assert!(!md.contains("<div"), "{md}");
}

#[test]
fn unparseable_files_exit_1_with_the_error_on_stderr() {
    let corpus = shared_corpus();
    for file in [
        "docx/poi__bug53475-password-is-solrcell.docx",
        "docx/poi__clusterfuzz-testcase-minimized-POIXWPFFuzzer-6120975439364096.docx",
    ] {
        let output = parse(&[], &corpus.join(file));
        assert_eq!(output.status.code(), Some(1), "{file}");
        assert!(stdout(&output).is_empty(), "{file}");
        assert!(
            stderr(&output).starts_with("error: "),
            "{}",
            stderr(&output)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.docx");
    std::fs::write(&empty, b"").unwrap();
    let output = parse(&[], &empty);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("damaged"), "{}", stderr(&output));
    // A file that is not there is a usage error, not a file that failed to parse.
    let output = parse(&[], &dir.path().join("missing.md"));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn format_can_be_forced() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("page.txt");
    std::fs::write(&file, "<p>Hello <b>there</b></p>").unwrap();
    let output = parse(&["--as", "html"], &file);
    assert_eq!(stdout(&output), "Hello there\n", "{}", stderr(&output));
    let output = parse(&["--as", "nope"], &file);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("text, markdown, html, pdf, docx"),
        "{}",
        stderr(&output)
    );
    // A format that cannot be told says how to give it here: `--as`, not a pipeline setting.
    let unknown = dir.path().join("data.bin");
    std::fs::write(&unknown, [0xFFu8, 0xFE, 0x00, 0x01, 0x02].repeat(40)).unwrap();
    let output = parse(&[], &unknown);
    assert!(stderr(&output).contains("`--as`"), "{}", stderr(&output));
    // Text in a legacy encoding under an unknown extension: the error says why it is not read
    // as text (it said the content was "neither text").
    let latin = dir.path().join("menu.ini");
    std::fs::write(&latin, b"[menu]\nplat = caf\xe9\n").unwrap();
    let output = parse(&[], &latin);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not valid UTF-8"),
        "{}",
        stderr(&output)
    );
    // UTF-8 text is read, and what the parser says of it goes to stderr.
    let json = dir.path().join("data.json");
    std::fs::write(&json, "{\"a\": 1}\n").unwrap();
    let output = parse(&[], &json);
    assert_eq!(stdout(&output), "{\"a\": 1}\n", "{}", stderr(&output));
    assert!(
        stderr(&output).contains("unknown extension `.json`: read as plain text; give `--as`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn word_list_numbers_restart_and_continue_as_word_shows_them() {
    let file = shared_corpus().join("docx/poi__ComplexNumberedLists.docx");
    let output = parse(&[], &file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let md = stdout(&output);
    // A new list restarts at 1, a list starting at 10 shows 10, a list interrupted by a
    // paragraph goes on where it stopped, and a lettered level shows its letters.
    for line in [
        "4. Entry #4\n1) Restarted to 1 from 5\n",
        "\n10. Jump to new list at 10\n11. Now 11\n",
        "\n12. Carrying on @ 12\n",
        "\n    - a. 2-a\n    - b. 2-b\n",
    ] {
        assert!(md.contains(line), "{line:?} not in\n{md}");
    }
}

#[test]
fn pdf_code_listings_are_fenced_code() {
    let file = shared_corpus().join("pdf/docling__code_and_formula.pdf");
    let output = parse(&["--format", "json"], &file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    let code: Vec<&str> = doc["elements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "code")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(code.len(), 1, "{code:?}");
    let lines: Vec<&str> = code[0].lines().map(str::trim).collect();
    assert_eq!(lines.len(), 4, "{code:?}");
    assert!(lines[0].starts_with("function add"), "{code:?}");
    assert!(lines[3].starts_with("console"), "{code:?}");
    assert!(
        doc["markdown"]
            .as_str()
            .unwrap()
            .contains("```\nfunction add")
    );
}

/// Each entry of a table of contents is a paragraph of its own that ends at its page number,
/// its leader dots kept as three: freefem's TeX contents set title, leader and number apart on
/// each line, and read as two columns (titles, then a column of page numbers); R-data's and
/// bug886717's entries ran together into paragraphs of dozens of dots.
#[test]
fn table_of_contents_entries_end_at_their_page_numbers() {
    let cases = [
        (
            "pdf/debian-freefem-doc__freefem.pdf",
            &[
                "3.1 Programs . . . 8",
                "3.3.3 Geometric variables, inner and region bdy, normal . . . 12",
                "3.7.6 Weak formulation . . . 22",
                // An entry whose title left no room for a leader, and the entry after it.
                "3.9.7 Exec(), user(), how to link an external function to Gfem 30",
                "3.10 Language internals . . . 31",
            ][..],
        ),
        (
            "pdf/debian-r-doc-pdf__R-data.pdf",
            &[
                "Acknowledgements . . . 1",
                "1.1.1 Encodings . . . 4",
                "1.2 Export to text files . . . 4",
                // The index: an entry of several pages ends at its last.
                "Sockets . . . 26, 31",
                "Spreadsheet-like data . . . 8",
            ],
        ),
        (
            "pdf/pdfjs__bug886717.pdf",
            &[
                "Abstract . . . 3",
                "2.1 Principles of encryption . . . 14",
                "2.2 Block ciphers . . . 16",
            ],
        ),
    ];
    for (file, entries) in cases {
        let output = parse(&[], &shared_corpus().join(file));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let markdown = stdout(&output);
        let paragraphs: Vec<&str> = markdown.split("\n\n").map(str::trim).collect();
        for entry in entries {
            assert!(
                paragraphs.contains(entry),
                "{file}: no paragraph {entry:?} in\n{}",
                &markdown[..markdown.len().min(4_000)]
            );
        }
        assert!(!markdown.contains(". . . ."), "{file}: a leader kept whole");
    }
}

/// The first entry on a contents page set like a heading (freefem's chapter 4, opening the
/// contents' second page) is an entry, and chapter 4's sections do not fall under it.
#[test]
fn a_contents_page_opening_with_a_chapter_entry_has_no_heading() {
    let output = parse(
        &[],
        &shared_corpus().join("pdf/debian-freefem-doc__freefem.pdf"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let markdown = stdout(&output);
    let lines: Vec<&str> = markdown.lines().collect();
    assert!(lines.contains(&"4 Examples 33"), "{markdown}");
    assert!(lines.contains(&"## Chapter 4"), "{markdown}");
    assert!(
        lines.contains(&"### 4.1 Triangulations examples"),
        "{markdown}"
    );
}

/// An agenda's numbered items: the items 4 to 6 are headings like 1 to 3, and `5.1`, set in
/// bold at its section's size, is under `5. DISCUSSION` rather than beside it.
#[test]
fn an_agendas_numbered_items_are_headings_nested_by_their_numbers() {
    let output = parse(
        &[],
        &shared_corpus().join("pdf/pdfplumber__cupertino_usd_4-6-16.pdf"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let markdown = stdout(&output);
    let level_of = |title: &str| {
        markdown
            .lines()
            .find_map(|line| {
                let hashes = line.len() - line.trim_start_matches('#').len();
                (hashes > 0 && line[hashes..].trim() == title).then_some(hashes)
            })
            .unwrap_or_else(|| panic!("no heading {title:?} in\n{markdown}"))
    };
    let discussion = level_of("5. DISCUSSION");
    for item in [
        "1. CALL TO ORDER/FLAG SALUTE",
        "4. REPORT FROM CLOSED SESSION",
        "6. ADJOURNMENT",
    ] {
        assert_eq!(level_of(item), discussion, "{item}");
    }
    assert_eq!(level_of("5.1 Board Governance"), discussion + 1);
}

#[test]
fn a_panic_inside_the_pdf_library_is_a_warning_not_noise() {
    // Page 2 uses a font whose `ToUnicode` name makes pdf-extract panic (`todo!`).
    let file = common::repo().join("tests/fixtures/pdf-extract-panics.pdf");
    let output = engine()
        .args(["parse", "--format", "json"])
        .arg(&file)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let parsed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(
        parsed["markdown"]
            .as_str()
            .unwrap()
            .contains("Readable first page")
    );
    let warnings = parsed["debug"]["warnings"].to_string();
    assert!(warnings.contains("page 2"), "{warnings}");
}

/// A `parse` step's `pdf` settings: the glyph limit cuts a real PDF with a warning, a changed
/// time budget re-parses nothing, and a misspelt or out-of-range setting is named in full.
#[test]
fn the_parse_steps_pdf_settings_apply_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::copy(
        shared_corpus().join("pdf/pypdf-samples__pdflatex-4-pages.pdf"),
        dir.path().join("docs/four.pdf"),
    )
    .unwrap();
    let pipeline = |pdf: &str| {
        let yaml = format!(
            "version: 1\nname: t\nsteps:\n  docs: {{ op: source.files, path: docs }}\n  parse: {{ op: parse, input: docs, pdf: {pdf} }}\n  out: {{ op: sink.jsonl, input: parse, path: out.jsonl }}\n"
        );
        std::fs::write(dir.path().join("pipeline.yaml"), yaml).unwrap();
    };
    pipeline("{ max_glyphs: 100 }");
    let (code, first) = run_json(dir.path());
    assert_eq!(code, Some(0), "{first}");
    let parsed = &lines(&dir.path().join("out.jsonl"))[0];
    let warnings = parsed["debug"]["warnings"].to_string();
    assert!(
        warnings.contains(
            "the document reached the most glyphs kept (100): the text stops partway through page 1"
        ),
        "{warnings}"
    );
    assert!(parsed["markdown"].as_str().unwrap().len() < 400, "{parsed}");

    pipeline("{ max_glyphs: 100, time_budget_seconds: 600 }");
    let (_, second) = run_json(dir.path());
    assert_eq!(second["steps"]["parse"]["cached"], 1, "{second}");

    let output = engine_on(
        dir.path(),
        &["validate"],
        "version: 1\nname: t\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs, pdf: { time_budget_seconds: 0, max_glyph: 5 } }\n  out: { op: sink.jsonl, input: parse, path: out.jsonl }\n",
    );
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("step `parse`, key `pdf.time_budget_seconds`: must be at least 1, found 0"),
        "{text}"
    );
    assert!(
        text.contains("key `pdf.max_glyph`: unknown key `max_glyph`")
            && text.contains("did you mean `max_glyphs`?"),
        "{text}"
    );
}

#[test]
fn a_long_heading_keeps_the_output_linear_in_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let heading = "title ".repeat(17_000);
    let paragraphs: String = (0..10_000).map(|i| format!("p{i}.\n\n")).collect();
    let md = format!("# {heading}\n\n{paragraphs}");
    let html = format!(
        "<html><body><h1>{heading}</h1>{}</body></html>",
        (0..10_000)
            .map(|i| format!("<p>p{i}.</p>"))
            .collect::<String>()
    );
    for (name, text) in [("long.md", md), ("long.html", html)] {
        let file = dir.path().join(name);
        std::fs::write(&file, &text).unwrap();
        let output = parse(&["--format", "json"], &file);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        // Every element carries its section path: capped, it costs a few hundred bytes each.
        assert!(
            output.stdout.len() < 5 * text.len() + 10_000 * 400,
            "{name}: {} bytes from {}",
            output.stdout.len(),
            text.len()
        );
        let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(doc["elements"][0]["text"], heading.trim(), "{name}");
        let section = doc["elements"][1]["section"][0].as_str().unwrap();
        assert!(section.ends_with('…') && section.len() < 300, "{name}");
    }
}

#[test]
fn wide_column_spans_keep_the_output_linear_in_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let page = format!(
        "<html><body><table><tr>{}</tr>{}</table></body></html>",
        "<td colspan=1000>x</td>".repeat(3000),
        "<tr><td>y</td></tr>".repeat(3000)
    );
    let file = dir.path().join("span.html");
    std::fs::write(&file, &page).unwrap();
    let output = parse(&["--format", "json"], &file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        output.stdout.len() < 4 * page.len(),
        "{}",
        output.stdout.len()
    );
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let warnings = doc["debug"]["warnings"].to_string();
    assert!(warnings.contains("kept as paragraphs"), "{warnings}");
}

#[test]
fn a_page_that_is_all_furniture_gives_its_whole_text() {
    let dir = tempfile::tempdir().unwrap();
    let paragraphs: String = (0..6)
        .map(|i| format!("<p>Paragraph {i} of the page, with some text, and commas, to read.</p>"))
        .collect();
    let file = dir.path().join("comments.html");
    std::fs::write(
        &file,
        format!("<html><body><div class=\"comment-section\">{paragraphs}</div></body></html>"),
    )
    .unwrap();
    let output = parse(&["--format", "json"], &file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        doc["markdown"].as_str().unwrap().contains("Paragraph 5"),
        "{doc}"
    );
    assert!(doc["debug"]["warnings"].to_string().contains("whole page"));
}

#[test]
fn latin1_text_with_old_mac_line_endings_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, b"Caf\xE9 cr\xE8me\r\rsecond paragraph\r").unwrap();
    let output = parse(&["--format", "json"], &file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["elements"][0]["text"], "Café crème");
    assert_eq!(doc["elements"][1]["text"], "second paragraph");
    assert_eq!(doc["metadata"]["encoding"], "windows-1252");
    assert!(
        doc["debug"]["warnings"]
            .to_string()
            .contains("windows-1252")
    );
}

#[test]
fn mupdf_files_encrypted_with_an_empty_user_password_parse() {
    for name in [
        "mupdf-aes128-empty-user-password.pdf",
        "mupdf-aes256-objstm-empty-user-password.pdf",
    ] {
        let output = parse(&[], &common::repo().join("tests/fixtures").join(name));
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        assert!(stdout(&output).contains("Hello encrypted world"), "{name}");
    }
    let file = common::repo().join("tests/fixtures/mupdf-aes128-user-password.pdf");
    let output = parse(&[], &file);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("password"), "{}", stderr(&output));
}

/// A `<br>` in a Markdown file is a line break, as in an HTML file: a hard break in the
/// Markdown and a line break in the text, a space in a table cell, and text in code.
#[test]
fn a_br_in_markdown_is_a_line_break_as_in_html() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("address.md");
    std::fs::write(
        &md,
        "ACME Corp<br>12 Main Street<br/>\nSpringfield\n\n| k | v |\n| - | - |\n| a<br>b | c |\n\n`x<br>y`\n",
    )
    .unwrap();
    let output = parse(&["--format", "json"], &md);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        doc["markdown"],
        "ACME Corp  \n12 Main Street  \nSpringfield\n\n| k | v |\n| - | - |\n| a b | c |\n\n`x<br>y`\n"
    );
    assert_eq!(
        doc["elements"][0]["text"],
        "ACME Corp\n12 Main Street\nSpringfield"
    );
    assert_eq!(doc["elements"][1]["rows"][1][0], "a b");
    let html = dir.path().join("address.html");
    std::fs::write(
        &html,
        "<p>ACME Corp<br>12 Main Street<br/>\nSpringfield</p>",
    )
    .unwrap();
    let output = parse(&["--format", "json"], &html);
    let page: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(page["elements"][0]["text"], doc["elements"][0]["text"]);
}

/// Parse warnings reach the run summary (a count per step and a few documents named, in the
/// table and in `--json`), a second run (from checkpoints) reports them still, and
/// `engine inspect --doc` shows a document's warnings.
#[test]
fn parse_warnings_are_counted_and_named_in_the_run_summary_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    for i in 0..5 {
        std::fs::write(
            docs.join(format!("w{i}.md")),
            "---\ntitle: a\ntitle: b\n---\n# Body\n",
        )
        .unwrap();
    }
    // Not valid YAML, read line by line: the repeated key is named all the same.
    std::fs::write(
        docs.join("lines.md"),
        "---\ntitle: Hello: world\nauthor: Ann\nauthor: Bob\n---\n# Body\n",
    )
    .unwrap();
    std::fs::write(docs.join("clean.md"), "# Clean\n\ntext\n").unwrap();
    let yaml = "version: 1\nname: w\nsteps:\n  docs: { op: source.files, path: docs }\n  parse: { op: parse, input: docs }\n  out: { op: sink.jsonl, input: parse, path: out.jsonl }\n";
    let output = engine_on(dir.path(), &["run"], yaml);
    let table = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let header = table.lines().next().unwrap();
    assert!(header.contains("warned"), "{table}");
    // in, out, failed, warned (a parse step has no chunks column).
    let parse_row: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("parse"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(parse_row[2..6], ["7", "7", "0", "6"], "{table}");
    let named: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("warning: parse "))
        .collect();
    assert_eq!(named.len(), 3, "{table}");
    assert!(
        named.iter().all(|l| l.contains(".md: front matter ")),
        "{table}"
    );
    assert!(
        table.contains("… and 3 more document(s) with warnings in parse: engine inspect "),
        "{table}"
    );

    // The same from checkpoints, in JSON.
    let (code, summary) = run_json(dir.path());
    assert_eq!(code, Some(0), "{summary}");
    assert_eq!(summary["steps"]["parse"]["cached"], 7, "{summary}");
    assert_eq!(summary["steps"]["parse"]["warned"], 6, "{summary}");
    assert!(summary["steps"]["docs"].get("warned").is_none());
    let warned = summary["warned"].as_array().unwrap();
    assert_eq!(warned.len(), 3, "{summary}");
    for record in warned {
        assert_eq!(record["step"], "parse");
        let count = if record["doc_id"] == "lines.md" { 2 } else { 1 };
        assert_eq!(record["warnings"], count, "{record}");
    }

    let output = engine()
        .args(["inspect", "latest", "--doc", "lines.md", "--store"])
        .arg(dir.path().join(".engine"))
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        text.contains("warning: front matter is not valid YAML")
            && text.contains(
                "warning: front matter line 4: key `author` appears again; the later value is kept"
            ),
        "{text}"
    );
}
