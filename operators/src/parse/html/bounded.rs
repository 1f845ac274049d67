//! html5ever's tree building with bounds on nesting, work and elements.
//!
//! The tree builder (like the HTML standard's algorithm) checks scopes by walking the stack of
//! open elements, once or more per tag, so a page that keeps elements open costs time
//! quadratic in its length: 50 000 repetitions of `<ul><li>x` take minutes. Which elements stay
//! open is the tree builder's own business (`<li>`, `<p>` or `<td>` close each other, `<ul>`,
//! `<span>` or `<pre>` do not, `<b>` is sometimes reopened), so no scan of the tags can tell
//! reliably how deep the stack gets. The DOM can: every element pushed on the stack is first
//! inserted at the current node, so the depth of the elements inserted follows the depth of
//! the stack. Nesting is not the only way to make the tree builder work hard: formatting
//! elements that differ in their attributes are all reopened in every new paragraph (3 000
//! `<b class=…>` then 3 000 paragraphs, 68 KB: 9 M elements, 53 s in a debug build).
//!
//! [`Bounded`] is scraper's tree sink plus three measures: the depth of each inserted element,
//! the steps of the tree builder's searches (every element name it reads and every two nodes it
//! compares) and the elements created. The page is fed in small pieces, and parsing stops at
//! the end of the piece in which a measure passes its limit. The work and element limits grow
//! with the page, far above what real pages need (they read about 0.3 names per byte).
//!
//! The tokenizer has costs of its own that the tree sink never sees: it compares each attribute
//! of a tag with the ones before it (a tag of 200 000 distinct attributes takes a minute). A
//! time budget, checked between pieces, bounds whatever remains.
//!
//! The tree builder also makes elements the page never wrote: a link left open (`<p>See <a
//! href=x>this` and no `</a>`) is reopened, as a copy, wherever text or an inline element comes
//! after the block it was in ends, until another `<a>` comes (the standard's reconstruction of
//! the active formatting elements). The copies wrap the rest of the page's text, paragraph by
//! paragraph, or even its following blocks whole (the whitespace after `</p>` reopens the link
//! in the `<article>`, and the paragraphs after it go inside the copy): browsers show all of it
//! as a link, and to the search for the main content it was all link text, a cluster of links
//! to drop. It is the page's text: only the tokens tell a copy from a link the page wrote, so
//! [`Tap`] watches them, and the copies are taken out of the tree, their contents left in their
//! place: the tree of the page with its `</a>` where its block ended.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ego_tree::NodeId;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{
    ElementFlags, NodeOrText, QuirksMode, TreeBuilder, TreeBuilderOpts, TreeSink,
};
use html5ever::{Attribute, QualName, TokenizerResult, ns};
use scraper::{Html, HtmlTreeSink};

/// Bytes fed to the parser between two looks at the measures.
const PIECE: usize = 1 << 10;
/// Steps of the tree builder's searches allowed for any page (enough to nest up to the depth
/// limit), and per byte on top.
const STEPS: u64 = 32 << 20;
const STEPS_PER_BYTE: u64 = 64;
/// Elements allowed for any page; one more per two bytes on top (a tag takes at least three).
const ELEMENTS: u64 = 100_000;
/// Elements allowed for any page however large: each costs some hundred bytes in the tree and
/// more in what is read from it (40 MB of `<i>x</i>` took 2.8 GB).
pub(super) const MAX_ELEMENTS: u64 = 2_500_000;

/// Time the parser may take for one page.
pub(super) const TIME_BUDGET: Duration = Duration::from_secs(30);

/// Why a page was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// An element nested deeper than the limit.
    Depth,
    /// The tree builder's searches took more steps than the page's size allows.
    Work,
    /// The tree builder created more elements than the page's size allows.
    Elements,
    /// The tree builder created more than [`MAX_ELEMENTS`] elements.
    TooMany,
    /// Parsing took longer than the time budget.
    Time,
}

/// Why `elements` created are too many for a page allowed `allowed` by its size, if they are.
fn too_many(elements: u64, allowed: u64) -> Option<Refused> {
    if elements > MAX_ELEMENTS {
        Some(Refused::TooMany)
    } else if elements > allowed {
        Some(Refused::Elements)
    } else {
        None
    }
}

/// Parses a whole page like `Html::parse_document` within `budget`, or says which limit it
/// passed and by which byte offset. The copies of a link left open are taken out (see [`Tap`]).
pub(super) fn parse_document(
    text: &str,
    max_depth: usize,
    budget: Duration,
) -> Result<Html, (Refused, usize)> {
    let started = Instant::now();
    let len = text.len() as u64;
    let limits = Limits {
        depth: max_depth,
        steps: STEPS + STEPS_PER_BYTE * len,
        elements: ELEMENTS + len / 2,
    };
    let refused = Rc::new(Cell::new(None));
    let sink = Bounded {
        inner: HtmlTreeSink::new(Html::new_document()),
        limits,
        depths: RefCell::new(HashMap::new()),
        steps: Cell::new(0),
        elements: Cell::new(0),
        refused: Rc::clone(&refused),
        links: RefCell::new(Vec::new()),
    };
    // html5ever's `parse_document` with its default options, the tokens passing through `Tap`.
    let tap = Tap {
        builder: TreeBuilder::new(sink, TreeBuilderOpts::default()),
        reopened: RefCell::new(Vec::new()),
    };
    let tokenizer = Tokenizer::new(tap, TokenizerOpts::default());
    let input = BufferQueue::default();
    let run = || while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {};
    let mut start = 0;
    while start < text.len() {
        let end = text.ceil_char_boundary((start + PIECE).min(text.len()));
        input.push_back(StrTendril::from_slice(&text[start..end]));
        run();
        if let Some(why) = refused.get() {
            return Err((why, end));
        }
        if started.elapsed() > budget {
            return Err((Refused::Time, end));
        }
        start = end;
    }
    run();
    tokenizer.end();
    let Tap { builder, reopened } = tokenizer.sink;
    let mut html = builder.sink.finish();
    match refused.get() {
        Some(why) => Err((why, text.len())),
        None => {
            unwrap(&mut html, reopened.into_inner());
            Ok(html)
        }
    }
}

/// Takes `elements` out of the tree, their children left in their place.
fn unwrap(html: &mut Html, elements: Vec<NodeId>) {
    for id in elements {
        let Some(mut element) = html.tree.get_mut(id) else {
            continue;
        };
        if element.parent().is_none() {
            continue;
        }
        while let Some(child) = element.first_child().map(|c| c.id()) {
            element.insert_id_before(child);
        }
        element.detach();
    }
}

/// The tree builder, with an eye on the tokens it is given: which `<a>` elements it makes
/// for an `<a>` start tag, and which as copies of a link left open.
///
/// Processing `<a>`, the tree builder first closes a link still open (the adoption agency,
/// which may copy it), reopens the formatting elements still open, and makes the new link
/// last. Any other token may reopen a link left open: a copy. The copies made while `</a>` is
/// processed are the link the author closed, split around a block (`<a href=x><p>text</a>`):
/// that is their own link, and they stay.
struct Tap {
    builder: TreeBuilder<NodeId, Bounded>,
    /// The copies of a link left open, in the order they were made.
    reopened: RefCell<Vec<NodeId>>,
}

impl TokenSink for Tap {
    type Handle = NodeId;

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<NodeId> {
        let link = match &token {
            Token::TagToken(tag) if &*tag.name == "a" => Some(tag.kind),
            _ => None,
        };
        let result = self.builder.process_token(token, line_number);
        let mut made = self.builder.sink.links.take();
        match link {
            Some(TagKind::StartTag) => {
                made.pop();
            }
            Some(TagKind::EndTag) => made.clear(),
            None => {}
        }
        self.reopened.borrow_mut().extend(made);
        result
    }

    fn end(&self) {
        self.builder.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.builder
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

struct Limits {
    depth: usize,
    steps: u64,
    elements: u64,
}

/// scraper's [`HtmlTreeSink`], which builds the DOM, plus the measures. Every method
/// delegates to it, the defaulted ones included, so the tree built is the same as
/// `Html::parse_document`'s.
struct Bounded {
    inner: HtmlTreeSink,
    limits: Limits,
    /// Depth of the elements inserted, so that a new one's is its parent's plus one. A subtree
    /// that the tree builder moves keeps its old depths below its root: an estimate off by the
    /// moves, which the work limit covers.
    depths: RefCell<HashMap<NodeId, usize>>,
    steps: Cell<u64>,
    elements: Cell<u64>,
    refused: Rc<Cell<Option<Refused>>>,
    /// The HTML `<a>` elements made since [`Tap`] last looked.
    links: RefCell<Vec<NodeId>>,
}

impl Bounded {
    fn refuse(&self, why: Refused) {
        if self.refused.get().is_none() {
            self.refused.set(Some(why));
        }
    }

    fn step(&self) {
        self.steps.set(self.steps.get() + 1);
        if self.steps.get() > self.limits.steps {
            self.refuse(Refused::Work);
        }
    }

    fn created(&self) {
        self.elements.set(self.elements.get() + 1);
        if let Some(why) = too_many(self.elements.get(), self.limits.elements) {
            self.refuse(why);
        }
    }

    /// Records the depth of `inserted`, now in the tree, from its parent's.
    fn inserted(&self, inserted: Option<NodeId>) {
        let Some(id) = inserted else { return };
        let html = self.inner.0.borrow();
        let Some(parent) = html.tree.get(id).and_then(|n| n.parent()) else {
            return;
        };
        let mut depths = self.depths.borrow_mut();
        let above = match depths.get(&parent.id()) {
            Some(&depth) => depth,
            // The document, or a template's contents: measured once.
            None => {
                let depth = parent.ancestors().take(self.limits.depth + 1).count();
                depths.insert(parent.id(), depth);
                depth
            }
        };
        depths.insert(id, above + 1);
        if above + 1 > self.limits.depth {
            self.refuse(Refused::Depth);
        }
    }
}

/// The node of an insertion (`None` for text).
fn node_of(child: &NodeOrText<NodeId>) -> Option<NodeId> {
    match child {
        NodeOrText::AppendNode(id) => Some(*id),
        NodeOrText::AppendText(_) => None,
    }
}

impl TreeSink for Bounded {
    type Handle = NodeId;
    type Output = Html;
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Html {
        self.inner.finish()
    }

    fn parse_error(&self, msg: Cow<'static, str>) {
        self.inner.parse_error(msg)
    }

    fn get_document(&self) -> NodeId {
        self.inner.get_document()
    }

    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Ref<'a, QualName> {
        self.step();
        self.inner.elem_name(target)
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        self.created();
        let link = name.ns == ns!(html) && &*name.local == "a";
        let id = self.inner.create_element(name, attrs, flags);
        if link {
            self.links.borrow_mut().push(id);
        }
        id
    }

    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.inner.create_comment(text)
    }

    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.inner.create_pi(target, data)
    }

    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        let inserted = node_of(&child);
        self.inner.append(parent, child);
        self.inserted(inserted);
    }

    fn append_based_on_parent_node(
        &self,
        element: &NodeId,
        prev_element: &NodeId,
        child: NodeOrText<NodeId>,
    ) {
        let inserted = node_of(&child);
        self.inner
            .append_based_on_parent_node(element, prev_element, child);
        self.inserted(inserted);
    }

    fn append_doctype_to_document(
        &self,
        name: StrTendril,
        public_id: StrTendril,
        system_id: StrTendril,
    ) {
        self.inner
            .append_doctype_to_document(name, public_id, system_id)
    }

    fn mark_script_already_started(&self, node: &NodeId) {
        self.inner.mark_script_already_started(node)
    }

    fn pop(&self, node: &NodeId) {
        self.inner.pop(node)
    }

    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        self.inner.get_template_contents(target)
    }

    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        self.step();
        self.inner.same_node(x, y)
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.inner.set_quirks_mode(mode)
    }

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        let inserted = node_of(&new_node);
        self.inner.append_before_sibling(sibling, new_node);
        self.inserted(inserted);
    }

    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        self.inner.add_attrs_if_missing(target, attrs)
    }

    fn associate_with_form(
        &self,
        target: &NodeId,
        form: &NodeId,
        nodes: (&NodeId, Option<&NodeId>),
    ) {
        self.inner.associate_with_form(target, form, nodes)
    }

    fn remove_from_parent(&self, target: &NodeId) {
        self.inner.remove_from_parent(target)
    }

    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        self.inner.reparent_children(node, new_parent)
    }

    fn is_mathml_annotation_xml_integration_point(&self, handle: &NodeId) -> bool {
        self.inner
            .is_mathml_annotation_xml_integration_point(handle)
    }

    fn set_current_line(&self, line_number: u64) {
        self.inner.set_current_line(line_number)
    }

    fn allow_declarative_shadow_roots(&self, intended_parent: &NodeId) -> bool {
        self.inner.allow_declarative_shadow_roots(intended_parent)
    }

    fn attach_declarative_shadow(
        &self,
        location: &NodeId,
        template: &NodeId,
        attrs: &[Attribute],
    ) -> bool {
        self.inner
            .attach_declarative_shadow(location, template, attrs)
    }

    fn maybe_clone_an_option_into_selectedcontent(&self, option: &NodeId) {
        self.inner
            .maybe_clone_an_option_into_selectedcontent(option)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree of a page, serialized.
    fn tree(page: &str) -> String {
        parse_document(page, 64, TIME_BUDGET).unwrap().html()
    }

    /// Watching the tokens changes nothing in a tree without copies of a link left open: it
    /// is the one scraper builds. The links the page closes stay, those an `<a>` closes and
    /// those the tree builder splits around a block too.
    #[test]
    fn the_tree_is_the_one_scraper_builds() {
        for page in [
            "<!doctype html><title>T</title><p>Intro <a href=x>link</a><div><p>One<p>Two</div>",
            "<p>A <b>bold <i>both</b> italic</i><table><tr><td>c<td>d</table><a href=y>z",
            "<script>document.write('<p>')</script><svg><a><text>t</text></a></svg><p>end",
            "<ul><li><a href=/1>One<li><a href=/2>Two</ul>",
            "<div><a href=x><p>Card text</a></p></div>",
        ] {
            assert_eq!(tree(page), Html::parse_document(page).html(), "{page}");
        }
    }

    /// The copies of a link left open are taken out: the tree is the page's with the link
    /// closed where its block ends, the text after it in its place.
    #[test]
    fn the_copies_of_a_link_left_open_are_taken_out() {
        for (open, closed) in [
            (
                "<p>Intro <a href=x>link</p><div><p>One</p><p>Two</p></div>",
                "<p>Intro <a href=x>link</a></p><div><p>One</p><p>Two</p></div>",
            ),
            // The white space after `</p>` reopens the link in the article, and the
            // paragraphs and heading after it went inside the copy.
            (
                "<article><h1>T</h1><p>See <a href=x>part one</p>\n<p>Two</p>\n<h2>H</h2><p>3</p>",
                "<article><h1>T</h1><p>See <a href=x>part one</a></p>\n<p>Two</p>\n<h2>H</h2><p>3</p>",
            ),
            // Without a doctype a table does not close the paragraph; the link is reopened
            // in each block after it, list items included.
            (
                "<p>A <a href=x>link<table><tr><td>c</table><div><p>B<ul><li>C</ul>",
                "<p>A <a href=x>link<table><tr><td>c</table></a><div><p>B<ul><li>C</ul>",
            ),
            (
                "<h2>Scope<a class=headerlink href='#scope'>#</h2><p>Text <b>bold</b></p>",
                "<h2>Scope<a class=headerlink href='#scope'>#</a></h2><p>Text <b>bold</b></p>",
            ),
        ] {
            assert_ne!(
                Html::parse_document(open).html(),
                Html::parse_document(closed).html()
            );
            assert_eq!(tree(open), tree(closed), "{open}");
            assert_eq!(
                tree(closed),
                Html::parse_document(closed).html(),
                "{closed}"
            );
        }
    }

    /// However large a page, its tree holds at most [`MAX_ELEMENTS`] elements; below that, a
    /// page's size sets its allowance.
    #[test]
    fn no_page_grows_past_the_most_elements() {
        assert_eq!(too_many(MAX_ELEMENTS + 1, u64::MAX), Some(Refused::TooMany));
        assert_eq!(too_many(MAX_ELEMENTS, u64::MAX), None);
        assert_eq!(too_many(11, 10), Some(Refused::Elements));
        assert_eq!(too_many(10, 10), None);
    }

    #[test]
    fn a_page_past_its_time_budget_is_refused_where_parsing_stopped() {
        let attributes: Vec<String> = (0..2000).map(|i| format!("a{i}=\"v\"")).collect();
        let page = format!("<p {}>text</p>", attributes.join(" "));
        match parse_document(&page, 64, Duration::ZERO) {
            Err((Refused::Time, at)) => assert!(at <= PIECE, "stopped by byte {at}"),
            other => panic!("{:?}", other.map(|_| "parsed")),
        }
        assert!(parse_document(&page, 64, TIME_BUDGET).is_ok());
    }
}
