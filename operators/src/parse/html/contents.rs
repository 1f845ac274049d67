//! An HTML table of contents in the page's content: a list whose every item's text is in links
//! to anchors of the page (Sphinx's `.. contents::`, a `div#toc`, a blog's "In this post"), most
//! of them anchors that are there. Its items become `contents_entry` elements, which
//! `index.hybrid` leaves out, as the Markdown parser does for a README's list of links. (`<nav>`
//! is dropped as page furniture before.)

use std::collections::HashSet;

use ego_tree::NodeId;
use percent_encoding::percent_decode_str;
use scraper::Node;

use super::dom::{NodeRef, element};
use crate::parse::{CONTENTS_ITEMS, mostly_named, no_words};

/// The tables of contents of a page, found once: its lists (not nested in another list) of at
/// least [`CONTENTS_ITEMS`] items, nested ones included, whose every word is in links to
/// anchors of the page (`href="#…"`), most of them naming an element there (its `id`, or an
/// `<a name>`): a list of links to anchors that are not there (`href="#"`, a script's
/// placeholder) is no table of contents.
pub(super) struct Contents {
    lists: HashSet<NodeId>,
    /// The lists' ancestors: a box of links round a table of contents is no navigation.
    holders: HashSet<NodeId>,
}

impl Contents {
    /// The tables of contents under `root`, the whole page's root (the anchors they link to
    /// may be anywhere on it).
    pub(super) fn of(root: NodeRef<'_>) -> Self {
        let mut candidates = Vec::new();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            let list =
                element(&node).is_some_and(|e| matches!(e.name(), "ul" | "ol" | "menu" | "dir"));
            if list {
                if let Some(targets) = in_page_targets(&node) {
                    candidates.push((node, targets));
                }
                continue;
            }
            stack.extend(node.children());
        }
        let mut contents = Contents {
            lists: HashSet::new(),
            holders: HashSet::new(),
        };
        if candidates.is_empty() {
            return contents;
        }
        let anchors = anchors(root);
        for (list, targets) in candidates {
            // `#caf%C3%A9` names `id="café"`.
            let names = |target: &str| {
                anchors.contains(target)
                    || anchors.contains(percent_decode_str(target).decode_utf8_lossy().as_ref())
            };
            if !mostly_named(&targets, names) {
                continue;
            }
            contents.lists.insert(list.id());
            for ancestor in list.ancestors() {
                if !contents.holders.insert(ancestor.id()) {
                    break;
                }
            }
        }
        contents
    }

    /// Whether `list` is a table of contents.
    pub(super) fn is_list(&self, list: &NodeRef<'_>) -> bool {
        self.lists.contains(&list.id())
    }

    /// Whether `node` holds a table of contents.
    pub(super) fn holds(&self, node: &NodeRef<'_>) -> bool {
        self.holders.contains(&node.id())
    }
}

/// The anchors `list`'s links go to (`#install` → `install`), when it holds at least
/// [`CONTENTS_ITEMS`] items and every word of it is inside a link to an anchor of the page.
fn in_page_targets(list: &NodeRef<'_>) -> Option<Vec<String>> {
    let mut items = 0;
    let mut targets = Vec::new();
    for node in list.descendants() {
        match node.value() {
            Node::Element(e) if e.name() == "li" => items += 1,
            Node::Element(e) if e.name() == "input" => return None,
            Node::Element(e) if e.name() == "a" => {
                if let Some(target) = e.attr("href").and_then(|href| href.strip_prefix('#')) {
                    targets.push(target.to_owned());
                }
            }
            Node::Text(text) if !no_words(text) && !in_page_link(&node, list) => return None,
            _ => {}
        }
    }
    (items >= CONTENTS_ITEMS).then_some(targets)
}

/// Whether `node` is inside a link to an anchor of the page, below `list`.
fn in_page_link(node: &NodeRef<'_>, list: &NodeRef<'_>) -> bool {
    node.ancestors()
        .take_while(|ancestor| ancestor.id() != list.id())
        .filter_map(|ancestor| element(&ancestor))
        .any(|e| e.name() == "a" && e.attr("href").is_some_and(|href| href.starts_with('#')))
}

/// The anchors of the page under `root`: every element's `id`, every `<a name>`.
fn anchors(root: NodeRef<'_>) -> HashSet<&str> {
    let mut anchors = HashSet::new();
    for node in root.descendants() {
        if let Some(e) = element(&node) {
            anchors.extend(e.attr("id"));
            if e.name() == "a" {
                anchors.extend(e.attr("name"));
            }
        }
    }
    anchors.remove("");
    anchors
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

    /// A table of contents in a box of links (`div#toc`, a bare `<div>`) was dropped with its
    /// box as navigation: it is contents, which `contents: true` can bring back.
    #[test]
    fn a_table_of_contents_in_a_box_of_links_is_kept_as_contents() {
        for open in ["<div id=\"toc\">", "<div>", "<section>"] {
            let close = if open == "<section>" {
                "</section>"
            } else {
                "</div>"
            };
            let html = format!(
                "<html><body><main><h1>Tool</h1>{open}<ul><li><a href=\"#install\">Install</a></li><li><a href=\"#usage\">Usage</a></li><li><a href=\"#faq\">FAQ</a></li></ul>{close}{SECTIONS}</main></body></html>"
            );
            let entries = (kinds(&html).into_iter())
                .filter(|kind| *kind == ElementKind::ContentsEntry)
                .count();
            assert_eq!(entries, 3, "{open}");
        }
    }

    /// A link's anchor is percent-encoded (`#caf%C3%A9`), an id is not (`id="café"`).
    #[test]
    fn percent_encoded_anchors_name_their_ids() {
        let html = "<html><body><article><h1>Menu</h1><ul><li><a href=\"#caf%C3%A9\">Café</a></li><li><a href=\"#th%C3%A9\">Thé</a></li><li><a href=\"#jus\">Jus</a></li></ul><h2 id=\"café\">Café</h2><p>Black coffee, brewed strong, served all day long in the front room.</p><h2 id=\"thé\">Thé</h2><p>Green and black teas, served in pots, with lemon or milk as you like.</p></article></body></html>";
        let entries = (kinds(html).into_iter())
            .filter(|kind| *kind == ElementKind::ContentsEntry)
            .count();
        assert_eq!(entries, 3);
    }

    /// Links to anchors the page does not have (`href="#"`, a script's placeholder, or names
    /// no element bears) make no table of contents: the list stays text, and indexed.
    #[test]
    fn links_to_anchors_that_are_not_there_make_no_contents() {
        for list in [
            "<ul><li><a href=\"#\">Red shoes</a></li><li><a href=\"#\">Blue hats</a></li><li><a href=\"#\">Green socks</a></li></ul>",
            "<ul><li><a href=\"#soup\">Soup</a></li><li><a href=\"#stew\">Stew</a></li><li><a href=\"#usage\">Usage</a></li></ul>",
        ] {
            let html = format!(
                "<html><body><article><h1>Tool</h1><p>Our recipes, each on a page of its own, are listed below for you.</p>{list}{SECTIONS}</article></body></html>"
            );
            let kinds = kinds(&html);
            assert!(!kinds.contains(&ElementKind::ContentsEntry), "{list}");
            assert!(kinds.contains(&ElementKind::ListItem), "{list}");
        }
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
