//! An HTML table of contents in the page's content: a list whose every item's text is in links
//! to anchors of the page (Sphinx's `.. contents::`, a `div#toc`, a blog's "In this post"). Its
//! items become `contents_entry` elements, which `index.hybrid` leaves out, as the Markdown
//! parser does for a README's list of links. (`<nav>` is dropped as page furniture before.)

use scraper::Node;

use super::dom::{NodeRef, element};
use crate::parse::{CONTENTS_ITEMS, no_words};

/// Whether `list` (a `<ul>` or `<ol>`) holds at least [`CONTENTS_ITEMS`] items, nested ones
/// included, and every word of it is inside a link to an anchor of the page (`href="#…"`).
pub(super) fn is_contents_list(list: &NodeRef<'_>) -> bool {
    let mut items = 0;
    for node in list.descendants() {
        match node.value() {
            Node::Element(e) if e.name() == "li" => items += 1,
            Node::Element(e) if e.name() == "input" => return false,
            Node::Text(text) if !no_words(text) && !in_page_link(&node, list) => return false,
            _ => {}
        }
    }
    items >= CONTENTS_ITEMS
}

/// Whether `node` is inside a link to an anchor of the page, below `list`.
fn in_page_link(node: &NodeRef<'_>, list: &NodeRef<'_>) -> bool {
    node.ancestors()
        .take_while(|ancestor| ancestor.id() != list.id())
        .filter_map(|ancestor| element(&ancestor))
        .any(|e| e.name() == "a" && e.attr("href").is_some_and(|href| href.starts_with('#')))
}

#[cfg(test)]
mod tests {
    use crate::model::ElementKind;

    fn kinds(html: &str) -> Vec<ElementKind> {
        let parsed = super::super::parse(html.as_bytes()).unwrap();
        parsed.elements.into_iter().map(|e| e.kind).collect()
    }

    const SECTIONS: &str = "<h2 id=\"install\">Install</h2><p>Download the archive, unpack it, and run the installer with the defaults, which suit most machines.</p><h2 id=\"usage\">Usage</h2><p>Start the tool from a shell, give it the folder to read, and wait for the report it prints.</p>";

    #[test]
    fn a_list_of_links_to_the_pages_anchors_is_contents() {
        use ElementKind::{ContentsEntry, Heading, Paragraph};
        let html = format!(
            "<html><body><article><h1>Tool</h1><div class=\"contents topic\"><p>Contents</p><ul><li><a href=\"#install\">Install</a></li><li><a href=\"#usage\">Usage</a><ul><li><a href=\"#flags\"><code>--flags</code></a></li></ul></li></ul></div>{SECTIONS}</article></body></html>"
        );
        assert_eq!(
            kinds(&html),
            [
                Heading,
                Paragraph,
                ContentsEntry,
                ContentsEntry,
                ContentsEntry,
                Heading,
                Paragraph,
                Heading,
                Paragraph
            ]
        );
    }

    #[test]
    fn lists_with_other_text_or_links_stay_lists() {
        for list in [
            "<ul><li><a href=\"#install\">Install</a></li><li><a href=\"#usage\">Usage</a></li></ul>",
            "<ul><li><a href=\"/install\">Install</a></li><li><a href=\"/usage\">Usage</a></li><li><a href=\"/faq\">FAQ</a></li></ul>",
            "<ul><li><a href=\"#install\">Install</a> first</li><li><a href=\"#usage\">Usage</a></li><li><a href=\"#faq\">FAQ</a></li></ul>",
            "<ul><li>one</li><li>two</li><li>three</li></ul>",
        ] {
            let html = format!(
                "<html><body><article><h1>Tool</h1>{list}{SECTIONS}</article></body></html>"
            );
            assert!(
                !kinds(&html).contains(&ElementKind::ContentsEntry),
                "{list}"
            );
        }
    }
}
