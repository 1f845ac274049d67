//! A Markdown table of contents: a list whose every item is nothing but links to headings of
//! the same page (`- [Installation](#installation)`), as READMEs and generated docs open with.
//! Its items become `contents_entry` elements, which `index.hybrid` leaves out: such a list
//! holds the words of every section title and outranks the sections themselves.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use super::{CONTENTS_ITEMS, no_words};
use crate::model::{Element, ElementKind};

/// Marks as contents entries the list items of every run of at least [`CONTENTS_ITEMS`]
/// consecutive items (nested ones included) that are each only in-page links, not tasks.
pub(super) fn mark(markdown: &str, elements: &mut [Element]) {
    let mut start = 0;
    while start < elements.len() {
        let run = elements[start..]
            .iter()
            .take_while(|element| {
                element.kind == ElementKind::ListItem
                    && element.checked.is_none()
                    && markdown
                        .get(element.span[0]..element.span[1])
                        .is_some_and(links_within_page_only)
            })
            .count();
        if run >= CONTENTS_ITEMS {
            for element in &mut elements[start..start + run] {
                element.kind = ElementKind::ContentsEntry;
            }
        }
        start += run.max(1);
    }
}

/// Whether a list item's source (its marker included) is one or more links to anchors of the
/// page and nothing else but white space and punctuation between them.
fn links_within_page_only(item: &str) -> bool {
    // An inline link to an anchor holds `](` and `#`: most items, without them, are not parsed.
    if !(item.contains("](") && item.contains('#')) {
        return false;
    }
    let mut links = 0;
    let mut depth = 0usize;
    for event in Parser::new(item) {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => {
                if depth > 0 || !dest_url.starts_with('#') {
                    return false;
                }
                depth += 1;
                links += 1;
            }
            Event::End(TagEnd::Link) => depth = depth.saturating_sub(1),
            Event::Start(Tag::List(_) | Tag::Item | Tag::Paragraph)
            | Event::End(TagEnd::List(_) | TagEnd::Item | TagEnd::Paragraph)
            | Event::SoftBreak => {}
            Event::Start(Tag::Emphasis | Tag::Strong)
            | Event::End(TagEnd::Emphasis | TagEnd::Strong)
                if depth > 0 => {}
            Event::Text(text) | Event::Code(text) => {
                if depth == 0 && !no_words(&text) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    links > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(markdown: &str) -> Vec<ElementKind> {
        let parsed = crate::parse::markdown::parse(markdown.to_owned()).unwrap();
        parsed.elements.into_iter().map(|e| e.kind).collect()
    }

    #[test]
    fn a_list_of_links_to_the_pages_headings_is_contents() {
        use ElementKind::{ContentsEntry, Heading, Paragraph};
        let markdown = "# Tool\n\n## Contents\n\n- [Install](#install)\n- [Usage](#usage)\n  - [Flags](#flags)\n- [**FAQ**](#faq)\n\n## Install\n\nRun it.\n";
        assert_eq!(
            kinds(markdown),
            [
                Heading,
                Heading,
                ContentsEntry,
                ContentsEntry,
                ContentsEntry,
                ContentsEntry,
                Heading,
                Paragraph
            ]
        );
    }

    #[test]
    fn lists_with_other_text_or_links_stay_lists() {
        use ElementKind::ListItem;
        for markdown in [
            // Two links are no table of contents.
            "- [Install](#install)\n- [Usage](#usage)\n",
            // Links to other pages, text beside the link, a task.
            "- [Install](install.md)\n- [Usage](usage.md)\n- [FAQ](faq.md)\n",
            "- [Install](#install) first\n- [Usage](#usage)\n- [FAQ](#faq)\n",
            "- [ ] [Install](#install)\n- [ ] [Usage](#usage)\n- [ ] [FAQ](#faq)\n",
        ] {
            assert!(
                kinds(markdown).iter().all(|kind| *kind == ListItem),
                "{markdown}"
            );
        }
        let words = "- one\n- two\n- three\n";
        assert_eq!(kinds(words), [ListItem, ListItem, ListItem]);
    }
}
