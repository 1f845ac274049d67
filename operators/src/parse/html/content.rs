//! Finding the main content of a page, after mozilla/readability: paragraphs score their
//! ancestors (commas, length), scores are damped by link density, the best candidate wins and
//! takes along siblings that score close to it. A `<main>` / `role="main"` element around
//! the winner is taken whole.

use std::collections::HashMap;

use ego_tree::NodeId;
use scraper::Node;

use super::dom::{
    Context, NodeRef, class_weight, element, is_arrow_backlink, is_block, is_dropped, is_footnotes,
    is_furniture, is_heading, is_html_title, is_invisible, is_main, is_numbered_backlink,
    is_structure_block, is_titled_section, text_of,
};

/// The note recorded when a page has no article-like block.
const WHOLE_PAGE: &str =
    "no article-like block found; the whole page less navigation is the content";

/// Per-node facts computed once, bottom-up.
#[derive(Default, Clone, Copy)]
pub(super) struct Facts {
    /// Characters of visible text (whitespace runs count once).
    pub text: usize,
    /// Characters of that text inside links.
    pub link_text: usize,
    /// Commas in the text.
    pub commas: usize,
    /// Whether the node contains a block-level element.
    pub has_block: bool,
    /// Whether the node contains a block of content ([`is_structure_block`]).
    pub has_structure: bool,
}

impl Facts {
    /// Share of the text inside links.
    pub(super) fn link_density(&self) -> f64 {
        if self.text == 0 {
            0.0
        } else {
            self.link_text as f64 / self.text as f64
        }
    }
}

/// The page after dropping furniture, with per-node facts.
pub(super) struct Page<'a> {
    pub root: NodeRef<'a>,
    /// Nodes dropped with their subtree.
    pub dropped: std::collections::HashSet<NodeId>,
    pub facts: HashMap<NodeId, Facts>,
    /// Whether this is the whole page: only invisible parts are dropped (no navigation,
    /// comments or footers), and link clusters are kept.
    pub whole: bool,
    /// Whether furniture a reader sees was dropped (navigation, a site header, sidebars,
    /// footers, comments), not only what is never visible text.
    pub furniture: bool,
}

impl<'a> Page<'a> {
    /// Marks dropped nodes (page furniture) and computes facts.
    pub(super) fn new(root: NodeRef<'a>) -> Self {
        Self::build(root, false)
    }

    /// The whole page: only what is never visible text is dropped (scripts, styles, hidden
    /// parts); navigation, comments and footers stay.
    pub(super) fn whole(root: NodeRef<'a>) -> Self {
        Self::build(root, true)
    }

    /// The `<body>` (the root when there is none).
    pub(super) fn body(&self) -> NodeRef<'a> {
        self.root
            .descendants()
            .find(|n| element(n).is_some_and(|e| e.name() == "body"))
            .unwrap_or(self.root)
    }

    /// Marks dropped nodes and computes facts, without recursion.
    fn build(root: NodeRef<'a>, whole: bool) -> Self {
        let mut dropped = std::collections::HashSet::new();
        let mut furniture = false;
        let mut order = Vec::new();
        // Pre-order walk with an explicit stack; the context travels with each node.
        let mut stack = vec![(root, Context::default())];
        while let Some((node, context)) = stack.pop() {
            if let Some(e) = element(&node)
                && (if whole {
                    is_invisible(e)
                } else {
                    (is_dropped(&node, context) || is_arrow_backlink(&node))
                        && !is_titled_section(&node)
                        && !is_numbered_backlink(&node)
                })
            {
                dropped.insert(node.id());
                furniture |= is_furniture(&node);
                continue;
            }
            order.push(node);
            let context = context.within(&node);
            for child in node.children().rev() {
                stack.push((child, context));
            }
        }
        let mut facts: HashMap<NodeId, Facts> = HashMap::with_capacity(order.len());
        for node in order.iter().rev() {
            let mut f = Facts::default();
            match node.value() {
                Node::Text(t) => {
                    f.text = visible_len(t);
                    f.commas = t.chars().filter(|c| matches!(c, ',' | '،' | '，')).count();
                }
                _ => {
                    for child in node.children() {
                        if let Some(c) = facts.get(&child.id()) {
                            f.text += c.text;
                            f.link_text += c.link_text;
                            f.commas += c.commas;
                            f.has_block |=
                                c.has_block || element(&child).is_some_and(|e| is_block(e.name()));
                            f.has_structure |= c.has_structure
                                || element(&child).is_some_and(|e| is_structure_block(e.name()));
                        }
                    }
                    if element(node).is_some_and(|e| e.name() == "a") {
                        f.link_text = f.text;
                    }
                }
            }
            facts.insert(node.id(), f);
        }
        Page {
            root,
            dropped,
            facts,
            whole,
            furniture,
        }
    }

    /// Facts of a node (zero for dropped nodes).
    pub(super) fn facts(&self, node: &NodeRef<'_>) -> Facts {
        self.facts.get(&node.id()).copied().unwrap_or_default()
    }

    /// The nodes that make up the main content, in document order, and a note when no
    /// article was found and the whole page (less furniture) is taken.
    pub(super) fn main_content(&self) -> (Vec<NodeRef<'a>>, Option<String>) {
        let body = self.body();
        // A page without furniture (no navigation, site header, sidebar, footer or comments:
        // a document a converter wrote, like pandoc's standalone HTML) is all article.
        if !self.whole && !self.furniture {
            return (vec![body], None);
        }
        let scores = self.score(body);
        let Some(top) = self.top_candidate(&scores) else {
            return (vec![body], Some(WHOLE_PAGE.into()));
        };
        let top = climb(top, &scores);
        // A <main> or role="main" around the winner is the author's own statement.
        let mut up = Some(top);
        while let Some(node) = up {
            if element(&node).is_some_and(is_main) {
                return (vec![node], None);
            }
            up = node.parent();
        }
        let chosen = self.with_siblings(top, &scores);
        // Too little text for an article: the page is not an article (a datasheet, a form
        // letter); everything that is not furniture is its content.
        let chosen_text: usize = chosen
            .iter()
            .filter(|n| element(n).is_none_or(|e| !is_footnotes(e)))
            .map(|n| self.facts(n).text)
            .sum();
        let body_text = self.facts(&body).text;
        if chosen_text < 500 && chosen_text * 4 < body_text {
            return (vec![body], Some(WHOLE_PAGE.into()));
        }
        (chosen, None)
    }

    /// Readability's content scores of the ancestors of text blocks. A data table counts
    /// as one block (its cells do not score), so a section of tables and prose stays one.
    /// Footnotes do not score: they follow the article, and a page whose paragraphs sit
    /// right in the body would otherwise lose to its footnotes' list.
    fn score(&self, body: NodeRef<'a>) -> HashMap<NodeId, (f64, NodeRef<'a>)> {
        let mut scores: HashMap<NodeId, (f64, NodeRef<'a>)> = HashMap::new();
        let mut unscored = std::collections::HashSet::new();
        for node in body.descendants() {
            let Some(e) = element(&node) else { continue };
            if !self.facts.contains_key(&node.id()) {
                continue;
            }
            if unscored.contains(&node.id()) {
                continue;
            }
            if is_footnotes(e) {
                unscored.extend(node.descendants().map(|n| n.id()));
                continue;
            }
            let facts = self.facts(&node);
            let scored = match e.name() {
                "table" if self.is_data_table(node) => {
                    // Its cells and paragraphs do not score on their own.
                    unscored.extend(node.descendants().skip(1).map(|n| n.id()));
                    true
                }
                "p" | "pre" | "td" | "section" | "h2" | "h3" | "h4" | "h5" | "h6" => true,
                "div" | "dd" | "li" | "span" | "font" => !facts.has_block,
                _ => false,
            };
            if !scored || facts.text < 25 {
                continue;
            }
            let score = 1.0 + facts.commas.min(30) as f64 + (facts.text / 100).min(3) as f64;
            let mut ancestor = node.parent();
            let mut level = 0usize;
            while let Some(a) = ancestor {
                if level >= 5 || element(&a).is_none() {
                    break;
                }
                let divider = match level {
                    0 => 1.0,
                    1 => 2.0,
                    l => l as f64 * 3.0,
                };
                let entry = scores
                    .entry(a.id())
                    .or_insert_with(|| (initial_score(&a), a));
                entry.0 += score / divider;
                ancestor = a.parent();
                level += 1;
            }
        }
        for (score, node) in scores.values_mut() {
            *score *= 1.0 - self.facts(node).link_density();
        }
        scores
    }

    /// A table of data rather than layout: no headings, very long cells or nested tables but
    /// one-cell ones (a datasheet's `<td><table><tr><td>JIS G 4108 …</td></tr></table></td>`,
    /// which only frames a value).
    pub(super) fn is_data_table(&self, table: NodeRef<'_>) -> bool {
        table
            .descendants()
            .skip(1)
            .all(|n| match element(&n).map(|e| e.name()) {
                Some("table") => is_one_cell_frame(n),
                Some("h1" | "h2" | "h3" | "h4" | "h5" | "h6") => false,
                Some("td" | "th") => self.facts(&n).text < 1000,
                _ => true,
            })
    }

    /// The best-scoring candidate, lifted to a common ancestor when several strong candidates
    /// share one (a page whose text is split over sections).
    fn top_candidate(&self, scores: &HashMap<NodeId, (f64, NodeRef<'a>)>) -> Option<NodeRef<'a>> {
        let mut ranked: Vec<&(f64, NodeRef<'a>)> = scores.values().collect();
        // Ties go to the node created first (earlier in the page), not to the hash map's
        // order, which changes from run to run.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id().cmp(&b.1.id())));
        let &(top_score, top) = *ranked.first()?;
        if top_score <= 0.0 {
            return None;
        }
        let strong: Vec<NodeRef<'a>> = ranked
            .iter()
            .skip(1)
            .take(4)
            .filter(|(s, _)| *s >= top_score * 0.75)
            .map(|(_, n)| *n)
            .collect();
        if strong.len() >= 2 {
            let ancestors: Vec<std::collections::HashSet<NodeId>> = strong
                .iter()
                .map(|n| n.ancestors().map(|a| a.id()).collect())
                .collect();
            let mut parent = top.parent();
            while let Some(p) = parent {
                if element(&p).is_some_and(|e| e.name() == "body") {
                    break;
                }
                let containing = ancestors.iter().filter(|set| set.contains(&p.id())).count();
                if containing >= 2 {
                    return Some(p);
                }
                parent = p.parent();
            }
        }
        Some(top)
    }

    /// The winner plus siblings that look like part of the same text.
    fn with_siblings(
        &self,
        top: NodeRef<'a>,
        scores: &HashMap<NodeId, (f64, NodeRef<'a>)>,
    ) -> Vec<NodeRef<'a>> {
        let Some(parent) = top.parent() else {
            return vec![top];
        };
        let top_score = scores.get(&top.id()).map_or(0.0, |s| s.0);
        let threshold = (top_score * 0.2).max(10.0);
        let top_class = element(&top).and_then(|e| e.attr("class"));
        let mut out = Vec::new();
        // Headings right before a kept sibling head its text: they are kept with it.
        let mut headings = Vec::new();
        for sibling in parent.children() {
            if sibling.id() == top.id() {
                // A heading the content repeats as its own first heading is said once.
                let own = top.descendants().find(is_heading).map(|n| heading_text(&n));
                headings.retain(|h| Some(heading_text(h)) != own);
                out.append(&mut headings);
                out.push(sibling);
                continue;
            }
            if self.dropped.contains(&sibling.id()) {
                continue;
            }
            let Some(e) = element(&sibling) else { continue };
            let bonus = if top_class.is_some() && e.attr("class") == top_class {
                top_score * 0.2
            } else {
                0.0
            };
            let score = scores.get(&sibling.id()).map_or(0.0, |s| s.0);
            let facts = self.facts(&sibling);
            let density = facts.link_density();
            let paragraph_like = e.name() == "p"
                && ((facts.text > 80 && density < 0.25) || (facts.text > 0 && density == 0.0));
            // A table of data beside the text is part of it (its cells do not score).
            let data_table = e.name() == "table"
                && density < 0.25
                && facts.text > 0
                && self.is_data_table(sibling);
            if score + bonus >= threshold || paragraph_like || data_table || is_footnotes(e) {
                out.append(&mut headings);
                out.push(sibling);
            } else if self.is_headline(sibling) && !self.repeats_title(sibling) {
                headings.push(sibling);
            } else {
                headings.clear();
            }
        }
        if let Some(heading) = self.heading_before(parent, &out) {
            out.insert(0, heading);
        }
        out
    }

    /// The headline right before `parent` when the content kept from it starts with its first
    /// element of any text: the heading of a datasheet's `<center><h2>…</h2></center>` set
    /// just before the `<center>` that holds its tables.
    fn heading_before(&self, parent: NodeRef<'a>, kept: &[NodeRef<'a>]) -> Option<NodeRef<'a>> {
        let has_text = |n: &NodeRef<'_>| !self.dropped.contains(&n.id()) && self.facts(n).text > 0;
        let first = parent
            .children()
            .find(|c| element(c).is_some() && has_text(c))?;
        if kept.first().is_none_or(|k| k.id() != first.id()) {
            return None;
        }
        let before = parent
            .prev_siblings()
            .find(|s| element(s).is_some() && has_text(s))?;
        (self.is_headline(before) && !self.repeats_title(before)).then_some(before)
    }
}

/// Whether a table is one cell, with no table inside it: a frame around a value.
fn is_one_cell_frame(table: NodeRef<'_>) -> bool {
    let mut cells = 0;
    table
        .descendants()
        .skip(1)
        .all(|n| match element(&n).map(|e| e.name()) {
            Some("table") => false,
            Some("td" | "th") => {
                cells += 1;
                cells == 1
            }
            _ => true,
        })
}

/// A heading's text on one line, lower-cased.
fn heading_text(node: &NodeRef<'_>) -> String {
    crate::parse::render::one_line(&text_of(node)).to_lowercase()
}

impl Page<'_> {
    /// Whether a node is a heading, or a wrapper of one (a news page's `<div
    /// class="headline-block"><span>kicker</span><h1>…</h1><h2>deck</h2></div>`): a heading
    /// among its first two elements, a short text and no links.
    fn is_headline(&self, node: NodeRef<'_>) -> bool {
        if is_heading(&node) {
            return true;
        }
        let facts = self.facts(&node);
        if facts.link_text > 0 {
            return false;
        }
        let wrapper = element(&node)
            .is_some_and(|e| matches!(e.name(), "div" | "hgroup" | "header" | "center"));
        (wrapper
            && facts.text < 400
            && node
                .children()
                .filter(|c| element(c).is_some())
                .take(2)
                .any(|child| is_heading(&child)))
            || self.is_bold_line(node)
    }

    /// Whether a node is a short line set all in bold, as pages without headings title their
    /// tables (`<center><font><b>Hardness of grade SNB22-3</b></font></center>`).
    fn is_bold_line(&self, node: NodeRef<'_>) -> bool {
        let facts = self.facts(&node);
        let bold = |text: NodeRef<'_>| {
            text.ancestors()
                .take_while(|a| a.id() != node.id())
                .any(|a| element(&a).is_some_and(|e| matches!(e.name(), "b" | "strong")))
        };
        (1..=150).contains(&facts.text)
            && !facts.has_block
            && node
                .descendants()
                .filter(|n| n.value().as_text().is_some_and(|t| !t.trim().is_empty()))
                .all(bold)
    }

    /// Whether a heading's text is part of the page's `<title>`, which is the document's
    /// title already (readability drops such a heading too).
    fn repeats_title(&self, heading: NodeRef<'_>) -> bool {
        let words = |node: NodeRef<'_>| heading_text(&node);
        let Some(title) = self
            .root
            .descendants()
            .find(|n| element(n).is_some_and(is_html_title))
        else {
            return false;
        };
        let heading = words(heading);
        !heading.is_empty() && words(title).contains(&heading)
    }
}

/// Readability's climb: when a parent scores higher than the winner it takes over (content
/// lurks in its other children); a winner that is an only child gives way to its parent.
fn climb<'a>(top: NodeRef<'a>, scores: &HashMap<NodeId, (f64, NodeRef<'a>)>) -> NodeRef<'a> {
    let is_body = |n: &NodeRef<'_>| element(n).is_none_or(|e| matches!(e.name(), "body" | "html"));
    let mut top = top;
    let mut last = scores.get(&top.id()).map_or(0.0, |s| s.0);
    let threshold = last / 3.0;
    let mut parent = top.parent();
    while let Some(p) = parent {
        if is_body(&p) {
            break;
        }
        if let Some(&(score, _)) = scores.get(&p.id()) {
            if score < threshold {
                break;
            }
            if score > last {
                top = p;
                break;
            }
            last = score;
        }
        parent = p.parent();
    }
    while let Some(p) = top.parent() {
        let elements = p.children().filter(|c| element(c).is_some()).count();
        if is_body(&p) || elements != 1 {
            break;
        }
        top = p;
    }
    top
}

/// Readability's starting score of a candidate, by tag and class weight.
fn initial_score(node: &NodeRef<'_>) -> f64 {
    let Some(e) = element(node) else { return 0.0 };
    let base = match e.name() {
        "div" | "article" | "main" | "section" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    };
    base + class_weight(e)
}

/// Characters of `text` with whitespace runs counted once.
fn visible_len(text: &str) -> usize {
    let mut len = 0;
    let mut space = true;
    for c in text.chars() {
        if c.is_whitespace() {
            if !space {
                len += 1;
            }
            space = true;
        } else {
            len += 1;
            space = false;
        }
    }
    len
}
