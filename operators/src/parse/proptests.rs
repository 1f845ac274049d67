//! Property tests: any input parses without panicking, with sound spans.

use proptest::prelude::*;

use super::{ParseConfig, parse};
use crate::model::{Document, ElementKind, Format};

/// Fragments that exercise Markdown's block and inline syntax.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zé日 ]{0,12}",
        prop::sample::select(vec![
            "\n",
            "\n\n",
            "# ",
            "## ",
            "###### ",
            "- ",
            "* ",
            "1. ",
            "  ",
            "    ",
            "> ",
            "```",
            "```rust\n",
            "~~~",
            "|",
            "|-|-|\n",
            "*",
            "**",
            "_",
            "`",
            "[",
            "](",
            ")",
            "![",
            "<div>",
            "</div>",
            "<!--",
            "-->",
            "---\n",
            "===\n",
            "[^1]",
            "[^1]: ",
            "- [ ] ",
            "\\",
            "&amp;",
            "\t",
            "\r\n",
            "🎉",
            "\u{a0}",
            "<br>",
            "<BR />",
        ])
        .prop_map(str::to_string),
    ]
}

proptest! {
    #[test]
    fn any_markdown_parses_with_sound_spans(
        pieces in prop::collection::vec(fragment(), 0..80),
        as_text in prop::bool::ANY,
    ) {
        let source: String = pieces.concat();
        let mut doc = Document::new("p.md".into(), "p.md".into(), source.into_bytes());
        doc.format = Some(if as_text { Format::Text } else { Format::Markdown });
        let parsed = parse(&doc, &ParseConfig::default()).expect("text always parses");
        let md = &parsed.markdown;
        for e in &parsed.elements {
            let [s, t] = e.span;
            prop_assert!(s <= t && t <= md.len(), "{e:?}");
            prop_assert!(md.is_char_boundary(s) && md.is_char_boundary(t), "{e:?}");
            prop_assert!(e.kind != ElementKind::Heading || matches!(e.level, Some(1..=6)));
            prop_assert!(e.kind == ElementKind::Image || !e.text.is_empty() || e.rows.is_some());
            if e.kind == ElementKind::Paragraph && as_text {
                prop_assert_eq!(&md[s..t], e.text.as_str());
            }
        }
    }

    /// A `<br>` breaks a line but never changes the blocks: the elements are those the same
    /// source has with inline HTML that breaks nothing (`<b>`) in its place, and no `<br>`
    /// outside code is left in running text.
    #[test]
    fn a_br_changes_no_block(pieces in prop::collection::vec(fragment(), 0..60)) {
        let source: String = pieces.concat();
        // Also with text, for an element empty only for want of the line break's text.
        let inert = |with: &str| source.replace("<br>", with).replace("<BR />", with);
        let kinds = |text: &str| {
            let doc = Document::new("p.md".into(), "p.md".into(), text.as_bytes().to_vec());
            let parsed = parse(&doc, &ParseConfig::default()).expect("text always parses");
            let kinds: Vec<_> = parsed.elements.iter().map(|e| (e.kind, e.level, e.depth)).collect();
            (kinds, parsed)
        };
        let (with_br, parsed) = kinds(&source);
        let (inert_kinds, _) = kinds(&inert("<b>"));
        let (with_text, _) = kinds(&inert("<b>x</b>"));
        prop_assert!(
            with_br == inert_kinds || with_br == with_text,
            "{:?} {:?}\n{:?}\n{:?}", with_br, inert_kinds, source, parsed.markdown
        );
        // Without code (or an escaped `<`), no `<br>` is left in running text.
        let code = source.contains(['`', '~', '\t', '\\']) || source.contains("  ");
        for e in parsed.elements.iter().filter(|_| !code) {
            if matches!(e.kind, ElementKind::Paragraph | ElementKind::ListItem | ElementKind::Quote) {
                prop_assert!(!e.text.contains("<br>"), "{:?} in {:?}", e, source);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let doc = Document::new("b.md".into(), "b.md".into(), bytes);
        let _ = parse(&doc, &ParseConfig::default());
    }
}
