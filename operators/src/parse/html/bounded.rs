//! html5ever's tree building under a bound on nesting.
//!
//! The tree builder (like the HTML standard's algorithm) checks scopes by walking the stack of
//! open elements, once or more per tag, so a page that keeps elements open costs time
//! quadratic in its length: 50 000 repetitions of `<ul><li>x` take minutes. Which elements stay
//! open is the tree builder's own business (`<li>`, `<p>` or `<td>` close each other, `<ul>`,
//! `<span>` or `<pre>` do not, `<b>` is sometimes reopened), so no scan of the tags can tell
//! reliably how deep the stack gets. The DOM can: every element pushed on the stack is first
//! inserted at the current node, and the depth of the elements inserted is the depth of the
//! stack. [`Bounded`] is scraper's tree sink with that measurement added, and the page is fed
//! in pieces so that parsing stops soon after an element lands deeper than the limit.

use std::borrow::Cow;
use std::cell::{Cell, Ref};
use std::rc::Rc;

use ego_tree::NodeId;
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, QualName};
use scraper::{Html, HtmlTreeSink};

/// Bytes fed to the parser between two checks of the depth.
const PIECE: usize = 16 << 10;

/// Parses a whole page like `Html::parse_document`, or fails with the byte offset by which an
/// element was nested deeper than `max_depth` elements.
pub(super) fn parse_document(text: &str, max_depth: usize) -> Result<Html, usize> {
    let too_deep = Rc::new(Cell::new(false));
    let sink = Bounded {
        inner: HtmlTreeSink::new(Html::new_document()),
        max_depth,
        too_deep: Rc::clone(&too_deep),
    };
    let mut parser = html5ever::parse_document(sink, Default::default());
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + PIECE).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        parser.process(StrTendril::from_slice(&text[start..end]));
        if too_deep.get() {
            return Err(end);
        }
        start = end;
    }
    let html = parser.finish();
    if too_deep.get() {
        return Err(text.len());
    }
    Ok(html)
}

/// scraper's [`HtmlTreeSink`], which builds the DOM, plus a check of the depth of every element
/// inserted. Every method delegates to it, the defaulted ones included, so the tree built is
/// the same as `Html::parse_document`'s.
struct Bounded {
    inner: HtmlTreeSink,
    max_depth: usize,
    too_deep: Rc<Cell<bool>>,
}

impl Bounded {
    /// Flags `inserted` if it is an element with more than `max_depth` ancestors. The walk up
    /// stops there, so one check costs at most the limit, as the tree builder's own walk does.
    fn check(&self, inserted: Option<NodeId>) {
        let Some(id) = inserted else { return };
        if self.too_deep.get() {
            return;
        }
        let html = self.inner.0.borrow();
        let Some(node) = html.tree.get(id) else {
            return;
        };
        if node.value().is_element() && node.ancestors().nth(self.max_depth).is_some() {
            self.too_deep.set(true);
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
        self.inner.elem_name(target)
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        self.inner.create_element(name, attrs, flags)
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
        self.check(inserted);
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
        self.check(inserted);
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
        self.inner.same_node(x, y)
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.inner.set_quirks_mode(mode)
    }

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        let inserted = node_of(&new_node);
        self.inner.append_before_sibling(sibling, new_node);
        self.check(inserted);
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
