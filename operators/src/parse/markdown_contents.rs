//! A Markdown table of contents: a list whose every item is nothing but links to headings of
//! the same page (`- [Installation](#installation)`), as READMEs and generated docs open with.
//! Its items become `contents_entry` elements, which `index.hybrid` leaves out: such a list
//! holds the words of every section title and outranks the sections themselves.

use std::collections::HashSet;

use percent_encoding::percent_decode_str;
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use super::{CONTENTS_ITEMS, mostly_named, no_words};
use crate::model::{Element, ElementKind};

/// Marks as contents entries the items of every list (a run of consecutive list items, nested
/// ones included) of at least [`CONTENTS_ITEMS`] items that are each only in-page links, not
/// tasks, most of them to headings of the page: all of a list or none of it. Links to anchors
/// the page does not have (`[Red shoes](#)`) make no table of contents.
pub(super) fn mark(markdown: &str, elements: &mut [Element]) {
    let mut anchors = None;
    let mut start = 0;
    while start < elements.len() {
        let run = (elements[start..].iter())
            .take_while(|element| element.kind == ElementKind::ListItem)
            .count();
        if run >= CONTENTS_ITEMS {
            let list = &elements[start..start + run];
            let targets: Option<Vec<String>> = (list.iter())
                .map(|item| {
                    let source = markdown.get(item.span[0]..item.span[1]);
                    item.checked
                        .is_none()
                        .then(|| source.and_then(in_page_targets))
                        .flatten()
                })
                .try_fold(Vec::new(), |mut all, targets| {
                    all.extend(targets?);
                    Some(all)
                });
            if let Some(targets) = targets {
                let anchors = anchors.get_or_insert_with(|| Anchors::of(markdown, elements));
                if mostly_named(&targets, |target| anchors.names(target)) {
                    for element in &mut elements[start..start + run] {
                        element.kind = ElementKind::ContentsEntry;
                    }
                }
            }
        }
        start += run.max(1);
    }
}

/// The anchors a list item's source (its marker included) links to (`#install` → `install`),
/// when it is one or more links to anchors of the page and nothing else but white space and
/// punctuation between them.
fn in_page_targets(item: &str) -> Option<Vec<String>> {
    // An inline link to an anchor holds `](` and `#`: most items, without them, are not parsed.
    if !(item.contains("](") && item.contains('#')) {
        return None;
    }
    let mut targets = Vec::new();
    let mut depth = 0usize;
    for event in Parser::new(item) {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => {
                let target = dest_url.strip_prefix('#').filter(|_| depth == 0)?;
                depth += 1;
                targets.push(target.to_owned());
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
                    return None;
                }
            }
            _ => return None,
        }
    }
    (!targets.is_empty()).then_some(targets)
}

/// Longest id looked for in a page's source.
const MAX_ID_CHARS: usize = 200;

/// What a page's links may name: its headings, as their text's letters and digits in lower
/// case (the one thing GitHub's, pandoc's and mkdocs' anchors for `1.2 Set-up & run` keep:
/// `12-set-up--run`, `set-up-run`), and the ids its source gives (`{#setup}`, `id="setup"`,
/// `<a name="setup">`).
struct Anchors {
    headings: HashSet<String>,
    /// The headings without their section numbers (`12setup` → `setup`).
    unnumbered: HashSet<String>,
    ids: HashSet<String>,
}

impl Anchors {
    fn of(markdown: &str, elements: &[Element]) -> Self {
        let headings: HashSet<String> = (elements.iter())
            .filter(|e| e.kind == ElementKind::Heading)
            .map(|e| letters_and_digits(&e.text))
            .filter(|key| !key.is_empty())
            .collect();
        let unnumbered = (headings.iter())
            .map(|key| {
                key.trim_start_matches(|c: char| c.is_ascii_digit())
                    .to_owned()
            })
            .filter(|key| !key.is_empty())
            .collect();
        let mut ids = HashSet::new();
        for (opening, closing) in [
            ("{#", &['}', ' '][..]),
            ("id=\"", &['"'][..]),
            ("name=\"", &['"'][..]),
            ("id='", &['\''][..]),
            ("name='", &['\''][..]),
        ] {
            for (at, _) in markdown.match_indices(opening) {
                // An id is short: looking further for its end would make this quadratic.
                let rest = &markdown[at + opening.len()..];
                let end = (rest.char_indices().take(MAX_ID_CHARS + 1))
                    .find(|(_, c)| closing.contains(c))
                    .map(|(end, _)| end);
                if let Some(end) = end.filter(|&end| end > 0) {
                    ids.insert(rest[..end].to_owned());
                }
            }
        }
        Anchors {
            headings,
            unnumbered,
            ids,
        }
    }

    /// Whether `target` (percent-encoded, as in a link) names a heading or an id of the page.
    /// A heading's anchor may leave out its section number (pandoc: `#set-up` for `1.2
    /// Set-up`) or add a count when titles repeat (GitHub: `#faq-1`).
    fn names(&self, target: &str) -> bool {
        let target = percent_decode_str(target).decode_utf8_lossy();
        if self.ids.contains(target.as_ref()) {
            return true;
        }
        let key = letters_and_digits(&target);
        if key.is_empty() {
            return false;
        }
        // `faq1`: the second `FAQ`.
        let counted = key.trim_end_matches(|c: char| c.is_ascii_digit());
        self.headings.contains(&key)
            || counted != key && self.headings.contains(counted)
            || self.unnumbered.contains(&key)
    }
}

/// `text`'s letters and digits, in lower case.
fn letters_and_digits(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
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
        let markdown = "# Tool\n\n## Contents\n\n- [Install](#install)\n- [Usage](#usage)\n  - [Flags](#flags)\n- [**FAQ**](#faq)\n\n## Install\n\nRun it.\n\n## Usage\n\nUse it.\n\n## FAQ\n\nAsk.\n";
        assert_eq!(
            &kinds(markdown)[..8],
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

    /// Anchors as GitHub, pandoc and mkdocs make them, and as the source gives them, name the
    /// page's headings; a stale entry among them does not undo the table.
    #[test]
    fn anchors_name_headings_as_generators_spell_them() {
        let markdown = "- [Set-up & run](#12-set-up--run)\n- [Set-up](#set-up)\n- [FAQ again](#faq-1)\n- [Café](#caf%C3%A9)\n- [Custom](#custom)\n- [Old](#removed-section)\n\n## 1.2 Set-up & run\n\n## FAQ\n\n## FAQ\n\n## Café\n\n## Other {#custom}\n";
        let kinds = kinds(markdown);
        assert!(
            kinds[..6]
                .iter()
                .all(|kind| *kind == ElementKind::ContentsEntry),
            "{kinds:?}"
        );
    }

    /// A list of links to anchors the page does not have (`[Red shoes](#)`, a shop's
    /// placeholders, or headings that are not there) is no table of contents: its text is the
    /// page's, and a page that is only such a list would vanish from the index.
    #[test]
    fn links_to_anchors_that_are_not_there_make_no_contents() {
        for markdown in [
            "- [Red shoes](#)\n- [Blue hats](#)\n- [Green socks](#)\n",
            "- [Soup](#soup)\n- [Stew](#stew)\n- [Usage](#usage)\n\n## Usage\n\nEat.\n",
        ] {
            let kinds = kinds(markdown);
            assert!(!kinds.contains(&ElementKind::ContentsEntry), "{markdown}");
        }
    }

    /// A list is a table of contents as a whole or not at all: one item of text among links
    /// keeps every item a list item (items past it stayed entries, the list cut in two).
    #[test]
    fn a_list_is_contents_whole_or_not_at_all() {
        let markdown = "- [A](#a)\n  - [B](#b)\n    - [C](#c)\n      - plain words\n  - [D](#d)\n- [E](#e)\n\n# A\n\n# B\n\n# C\n\n# D\n\n# E\n";
        let kinds = kinds(markdown);
        assert!(
            kinds[..6].iter().all(|kind| *kind == ElementKind::ListItem),
            "{kinds:?}"
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
