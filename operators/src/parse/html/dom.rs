//! Facts about HTML elements: which are never content (scripts, navigation, hidden parts),
//! which are blocks, and the class/id patterns readability-style scoring uses.

use scraper::Node;
use scraper::node::Element;

use crate::parse::html_strip;

/// A node of the parsed page.
pub(super) type NodeRef<'a> = ego_tree::NodeRef<'a, Node>;

/// Elements whose content is never text of the page.
const NEVER_CONTENT: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "button", "input", "select", "textarea",
    "iframe", "svg", "canvas", "dialog", "menu", "object", "embed", "head", "title", "meta",
    "link", "map", "audio", "video",
];

/// The class and id patterns of a title block's wrapper (`entry-header`, `hero banner`,
/// `cover-wrap`): inside an article or `<main>`, one holding a heading is the article's.
const TITLE_WRAPPERS: &[&str] = &["header", "banner", "cover-wrap"];

/// Block-level elements: they break inline text.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "caption",
    "html",
];

/// Blocks of content ([`is_structure_block`]).
const STRUCTURE: &[&str] = &[
    "p",
    "ul",
    "ol",
    "dl",
    "menu",
    "dir",
    "table",
    "pre",
    "listing",
    "xmp",
    "blockquote",
    "figure",
    "details",
    "address",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

/// Classes of permalink anchors that documentation generators put beside headings.
const PERMALINKS: &[&str] = &[
    "headerlink",
    "anchorjs",
    "hash-link",
    "header-anchor",
    "anchor-link",
];

/// ARIA roles of page furniture.
const FURNITURE_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "dialog",
    "alert",
    "alertdialog",
    "tablist",
];

const UNLIKELY: &[&str] = &[
    "-ad-",
    "ai2html",
    "banner",
    "breadcrumb",
    "combx",
    "comment",
    "community",
    "cover-wrap",
    "disqus",
    "extra",
    "footer",
    "gdpr",
    "header",
    "legends",
    "menu",
    "related",
    "remark",
    "replies",
    "rss",
    "shoutbox",
    "sidebar",
    "skyscraper",
    "social",
    "sponsor",
    "supplemental",
    "ad-break",
    "agegate",
    "pagination",
    "pager",
    "popup",
    "yom-remote",
    "navbar",
    "navheader",
    "navfooter",
    "skip-link",
    "share",
    "cookie",
];

const MAYBE: &[&str] = &[
    "and", "article", "body", "column", "content", "main", "mathjax", "shadow",
];

const NEGATIVE: &[&str] = &[
    "-ad-",
    "hidden",
    "banner",
    "combx",
    "comment",
    "com-",
    "contact",
    "footer",
    "gdpr",
    "masthead",
    "media",
    "meta",
    "outbrain",
    "promo",
    "related",
    "scroll",
    "share",
    "shoutbox",
    "sidebar",
    "skyscraper",
    "sponsor",
    "shopping",
    "tags",
    "widget",
    "byline",
    "author",
];

const POSITIVE: &[&str] = &[
    "article", "body", "content", "entry", "hentry", "h-entry", "main", "page", "post", "text",
    "blog", "story", "section", "document",
];

/// The element of a node, if it is one.
pub(super) fn element<'a>(node: &NodeRef<'a>) -> Option<&'a Element> {
    match node.value() {
        Node::Element(e) => Some(e),
        _ => None,
    }
}

/// Whether the element is the document's `<title>`: the HTML one, not an SVG icon's.
pub(super) fn is_html_title(e: &Element) -> bool {
    e.name() == "title" && e.name.ns == html5ever::ns!(html)
}

/// Whether `name` is a block-level element.
pub(in crate::parse) fn is_block(name: &str) -> bool {
    BLOCKS.contains(&name)
}

/// Whether `name` is a block of content: a paragraph, list, table, code, quote or heading,
/// which a heading holds only when left open (`<h2>Title<h2>`).
pub(super) fn is_structure_block(name: &str) -> bool {
    STRUCTURE.contains(&name)
}

/// Class and id of an element, lowercase, space-separated.
fn class_and_id(e: &Element) -> String {
    format!(
        "{} {}",
        e.attr("class").unwrap_or(""),
        e.attr("id").unwrap_or("")
    )
    .to_lowercase()
}

/// Whether the element is hidden from readers. Wikipedia's MathML, hidden beside the image of
/// the same formula, is not: it is the formula's text. Nor is `hidden="until-found"`, which
/// the browser's find in page reveals (an accordion's folded text).
fn hidden(e: &Element) -> bool {
    let hidden_attr = e
        .attr("hidden")
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("until-found"));
    if hidden_attr || e.attr("aria-hidden") == Some("true") {
        return true;
    }
    if e.attr("class")
        .is_some_and(|c| c.split_whitespace().any(|w| w == "mwe-math-mathml-a11y"))
    {
        return false;
    }
    e.attr("style").is_some_and(html_strip::style_hides)
}

/// Elements whose content a reader never sees as text: scripts, styles, the head, embedded
/// objects and form controls.
const NEVER_VISIBLE: &[&str] = &[
    "script", "style", "noscript", "template", "head", "title", "meta", "link", "iframe", "svg",
    "canvas", "object", "embed", "map", "audio", "video", "input", "select", "textarea", "button",
];

/// Whether the element (and everything in it) is dropped even when the whole page is taken:
/// what is never visible text, and hidden parts.
pub(super) fn is_invisible(e: &Element) -> bool {
    NEVER_VISIBLE.contains(&e.name()) || hidden(e)
}

/// Where an element is, as far as dropping it goes.
#[derive(Default, Clone, Copy)]
pub(super) struct Context {
    /// Inside an `<article>` or `<main>` (`role="main"`), whose header and asides are kept.
    pub in_article: bool,
    /// Inside a quote, figure, details or table cell, whose `<footer>` or `<header>` is its
    /// own (a quote's attribution), not the page's.
    pub in_content: bool,
    /// Inside code or a table, where class names are no page furniture (a highlighter's
    /// `token comment`), as readability has it.
    pub in_code: bool,
}

impl Context {
    /// The context of the children of `node`.
    pub(super) fn within(self, node: &NodeRef<'_>) -> Self {
        let e = element(node);
        let name = e.map_or("", |e| e.name());
        Context {
            in_article: self.in_article || name == "article" || e.is_some_and(is_main),
            in_content: self.in_content
                || matches!(name, "blockquote" | "figure" | "details" | "td" | "th"),
            in_code: self.in_code || matches!(name, "pre" | "code" | "table"),
        }
    }
}

/// Whether the element (and everything in it) is dropped before looking for content:
/// scripts, styles, navigation, form controls, hidden parts and page furniture by role, class
/// or id. `context` says where it is: an article's header and asides, a quote's footer are
/// kept.
pub(super) fn is_dropped(node: &NodeRef<'_>, context: Context) -> bool {
    let Some(e) = element(node) else { return false };
    let name = e.name();
    if hidden(e) {
        return true;
    }
    // Footnotes are the article's, in whatever element (Sphinx's `<aside class="footnote">`),
    // and so is MathJax 2's TeX (`<script type="math/tex">`).
    if is_footnotes(e) || is_tex_script(e) {
        return false;
    }
    if NEVER_CONTENT.contains(&name) || is_backlink(e) || is_edit_link(e) {
        return true;
    }
    if name == "form" && !holds_content(node) {
        return true;
    }
    if !context.in_content && (name == "footer" || (name == "header" && !context.in_article)) {
        return true;
    }
    if name == "aside" && !(context.in_article && is_callout(node)) {
        return true;
    }
    if e.attr("role")
        .is_some_and(|r| FURNITURE_ROLES.contains(&r.trim().to_lowercase().as_str()))
    {
        return true;
    }
    if name == "a"
        && e.attr("class")
            .is_some_and(|class| PERMALINKS.iter().any(|p| class.contains(p)))
    {
        return true;
    }
    if matches!(
        name,
        "body"
            | "html"
            | "a"
            | "main"
            | "article"
            | "table"
            | "tbody"
            | "tr"
            | "td"
            | "th"
            | "pre"
            | "code"
            // A heading is the document's, whatever its class (Docusaurus's headings carry
            // `anchorWithStickyNavbar`).
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
    ) || context.in_code
    {
        return false;
    }
    unlikely_by_class(e) && !(context.in_article && is_title_wrapper(node))
}

/// Whether the element's class or id matches readability's patterns of unlikely content.
fn unlikely_by_class(e: &Element) -> bool {
    let names = class_and_id(e);
    UNLIKELY.iter().any(|p| names.contains(p)) && !MAYBE.iter().any(|p| names.contains(p))
}

/// Whether the element is a title block (`<header class="entry-header"><h1>…`, `div.page-header`):
/// a heading among its first two elements, and only [`TITLE_WRAPPERS`] among the unlikely
/// patterns its class and id match (`comments-header` stays furniture).
fn is_title_wrapper(node: &NodeRef<'_>) -> bool {
    let Some(e) = element(node) else { return false };
    let names = class_and_id(e);
    let title_only = UNLIKELY
        .iter()
        .filter(|p| names.contains(*p))
        .all(|p| TITLE_WRAPPERS.contains(p));
    title_only
        && node
            .children()
            .filter(|c| element(c).is_some())
            .take(2)
            .any(|c| is_heading(&c))
}

/// Whether an `<aside>` in an article or `<main>` is a callout of its text (a docs page's
/// "Danger" box): set among paragraphs, lists, code or headings, its element next to it or
/// right before it one of them. Modules stacked beside the story (a newsletter box, "Trending",
/// a byline after the last section) are none.
fn is_callout(aside: &NodeRef<'_>) -> bool {
    let flow = |n: Option<NodeRef<'_>>| {
        n.and_then(|n| element(&n).map(|e| e.name()))
            .is_some_and(|name| is_structure_block(name) && name != "hr")
    };
    let next = aside.next_siblings().find(|n| element(n).is_some());
    let previous = aside.prev_siblings().find(|n| element(n).is_some());
    flow(next) || flow(previous)
}

/// Whether a form holds content (headings, paragraphs, tables, lists, sections) beside its
/// controls and their labels, as a page wrapped whole in one (ASP.NET WebForms, SharePoint)
/// does; a search box or a login form does not, nor a sign-up form of a few words around a
/// field to type in ("Want me to send you an email when I publish?" and an email box), which
/// a heading or paragraph of its own does not make content.
fn holds_content(form: &NodeRef<'_>) -> bool {
    let has_blocks = form.descendants().skip(1).any(|n| {
        element(&n).is_some_and(|e| {
            is_structure_block(e.name()) || matches!(e.name(), "article" | "section" | "main")
        })
    });
    has_blocks && !(takes_typing(form) && words_within(form, SIGN_UP_WORDS) < SIGN_UP_WORDS)
}

/// Fewer words than this around a field to type in make a form a sign-up, search or login box.
const SIGN_UP_WORDS: usize = 40;

/// Whether `form` has a field to type in: a `<textarea>` or an `<input>` that shows one (not
/// hidden, a button, a box to tick or a file to pick).
fn takes_typing(form: &NodeRef<'_>) -> bool {
    form.descendants().any(|n| {
        element(&n).is_some_and(|e| match e.name() {
            "textarea" => true,
            "input" => !matches!(
                e.attr("type")
                    .map(|t| t.trim().to_ascii_lowercase())
                    .as_deref(),
                Some(
                    "hidden"
                        | "submit"
                        | "button"
                        | "reset"
                        | "image"
                        | "checkbox"
                        | "radio"
                        | "file"
                        | "range"
                        | "color"
                )
            ),
            _ => false,
        })
    })
}

/// The words of the text below `node`, counted up to `limit`.
fn words_within(node: &NodeRef<'_>, limit: usize) -> usize {
    let mut words = 0;
    for text in node
        .descendants()
        .filter_map(|n| n.value().as_text().map(|t| &**t))
    {
        words += text.split_whitespace().count();
        if words >= limit {
            break;
        }
    }
    words
}

/// Readability's class weight: -25 for a negative class or id pattern, +25 for a positive one.
pub(super) fn class_weight(e: &Element) -> f64 {
    let mut weight = 0.0;
    for value in [e.attr("class"), e.attr("id")].into_iter().flatten() {
        let value = value.to_lowercase();
        if NEGATIVE.iter().any(|p| value.contains(p)) {
            weight -= 25.0;
        }
        if POSITIVE.iter().any(|p| value.contains(p)) {
            weight += 25.0;
        }
    }
    weight
}

/// Whether the element holds the page's footnotes or endnotes: `role="doc-endnotes"` (pandoc,
/// DPUB-ARIA), or a `footnotes` class or id (pandoc, Markdown generators, wikis' `references`).
/// They belong to the article, never stand for it.
pub(super) fn is_footnotes(e: &Element) -> bool {
    if e.attr("role").is_some_and(|r| {
        matches!(
            r.trim(),
            "doc-endnotes" | "doc-footnotes" | "doc-footnote" | "doc-endnote"
        )
    }) {
        return true;
    }
    let words = |v: Option<&str>| {
        v.unwrap_or("").split_whitespace().any(|w| {
            matches!(
                w.to_lowercase().as_str(),
                "footnote" | "footnotes" | "endnotes" | "footnote-list"
            )
        })
    };
    matches!(e.name(), "section" | "div" | "ol" | "aside")
        && (words(e.attr("class")) || words(e.attr("id")))
}

/// How deep MathML is read; deeper parts are read as their plain text.
const MAX_MATH_DEPTH: usize = 64;

/// Whether the element is MathJax 2's TeX source (`<script type="math/tex">`).
pub(super) fn is_tex_script(e: &Element) -> bool {
    e.name() == "script"
        && e.attr("type")
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("math/tex"))
}

/// The text of a `<math>` element, or of MathJax 2's TeX script: its TeX (an `application/x-tex` annotation, as KaTeX and
/// MathJax write, or `alttext`) between `$` (`$$` for display math), else its MathML read on
/// one line (`(a+b)/c`, `x^2`, `√(x)`).
pub(super) fn math_text(math: &NodeRef<'_>) -> String {
    let tex = math
        .descendants()
        .find(|n| {
            element(n).is_some_and(|e| {
                e.name() == "annotation"
                    && e.attr("encoding")
                        .is_some_and(|enc| enc.eq_ignore_ascii_case("application/x-tex"))
            })
        })
        .map(|n| text_of(&n))
        .or_else(|| {
            element(math)
                .and_then(|e| e.attr("alttext"))
                .map(str::to_owned)
        })
        .or_else(|| {
            element(math)
                .filter(|e| is_tex_script(e))
                .map(|_| text_of(math))
        })
        .map(|tex| unwrap_style(tex.trim()).to_owned())
        .filter(|tex| !tex.is_empty());
    let display = element(math).is_some_and(|e| {
        e.attr("display") == Some("block")
            || e.attr("type").is_some_and(|t| t.contains("mode=display"))
    });
    match tex {
        Some(tex) if display => format!("$${tex}$$"),
        Some(tex) => format!("${tex}$"),
        None => mathml(math, 0),
    }
}

/// TeX without the style wrapper Wikipedia puts around it (`{\displaystyle Q=vA}`).
fn unwrap_style(tex: &str) -> &str {
    ["{\\displaystyle", "{\\textstyle"]
        .iter()
        .find_map(|style| tex.strip_prefix(style)?.strip_suffix('}'))
        .map_or(tex, str::trim)
}

/// The plain text under a node.
pub(super) fn text_of(node: &NodeRef<'_>) -> String {
    node.descendants()
        .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
        .collect()
}

/// MathML on one line.
fn mathml(node: &NodeRef<'_>, depth: usize) -> String {
    let Some(e) = element(node) else {
        return node
            .value()
            .as_text()
            .map(|t| t.trim().to_owned())
            .unwrap_or_default();
    };
    if depth > MAX_MATH_DEPTH {
        return text_of(node);
    }
    let parts: Vec<String> = node
        .children()
        .filter(|c| element(c).is_none_or(|e| !matches!(e.name(), "annotation" | "annotation-xml")))
        .map(|c| mathml(&c, depth + 1))
        .filter(|p| !p.is_empty())
        .collect();
    let grouped = |part: &String| {
        if part.chars().count() > 1 && !(part.starts_with('(') && part.ends_with(')')) {
            format!("({part})")
        } else {
            part.clone()
        }
    };
    match (e.name(), parts.as_slice()) {
        ("mfrac", [num, den]) => format!("{}/{}", grouped(num), grouped(den)),
        ("msup", [base, sup]) => format!("{base}^{}", grouped(sup)),
        ("msub", [base, sub]) => format!("{base}_{}", grouped(sub)),
        ("msubsup", [base, sub, sup]) => format!("{base}_{}^{}", grouped(sub), grouped(sup)),
        ("msqrt", _) => format!("√({})", parts.concat()),
        ("mroot", [base, index]) => format!("{index}√({base})"),
        _ => parts.concat(),
    }
}

/// Whether the element is a wiki's edit link beside a heading (MediaWiki's `[edit]`) or a
/// reference's links back to where it is cited (its `^ a b`).
fn is_edit_link(e: &Element) -> bool {
    e.attr("class").is_some_and(|c| {
        c.split_whitespace()
            .any(|w| w == "mw-editsection" || w == "mw-cite-backlink")
    })
}

/// Whether a footnote's link back holds its number (docutils' `[<a role="doc-backlink">2</a>]`),
/// which is the note's label and stays; an arrow (`↩`) is no text of the page.
pub(super) fn is_numbered_backlink(node: &NodeRef<'_>) -> bool {
    element(node).is_some_and(is_backlink) && text_of(node).chars().any(char::is_alphanumeric)
}

/// Whether the node is a heading element (`<h1>` … `<h6>`).
pub(super) fn is_heading(node: &NodeRef<'_>) -> bool {
    element(node).is_some_and(|e| matches!(e.name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6"))
}

/// Whether a section (or div) is titled by its heading: its `id` is the heading's text as a slug
/// (`<section id="related-work"><h2>Related Work</h2>`, as pandoc, Sphinx, Hugo and Jekyll
/// write sections). Such a section is the document's, whatever words its id holds.
pub(super) fn is_titled_section(node: &NodeRef<'_>) -> bool {
    let Some(id) = element(node)
        .filter(|e| matches!(e.name(), "section" | "div"))
        .and_then(|e| e.attr("id"))
    else {
        return false;
    };
    let heading = node
        .children()
        .filter(|n| element(n).is_some())
        .take(2)
        .find(is_heading);
    heading.is_some_and(|h| {
        // Of two words at least: `comments`, `related` or `share` alone title furniture.
        let slug = slug(&text_of(&h));
        slug.contains('-') && slug == self::slug(id)
    })
}

/// Text as a URL slug: lowercase alphanumeric words joined by `-`.
fn slug(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether the element is a footnote's link back to its reference (`↩`): no text of the page.
pub(super) fn is_backlink(e: &Element) -> bool {
    e.name() == "a"
        && (e.attr("role") == Some("doc-backlink")
            || e.attr("class").is_some_and(|c| {
                c.split_whitespace()
                    .any(|w| matches!(w, "footnote-back" | "footnote-backref" | "reversefootnote"))
            }))
}

/// Whether the element is a reference to a footnote (`<a class="footnote-ref">`,
/// `role="doc-noteref"`): its number is shown as `[n]`, not glued to the word before it.
fn is_noteref(e: &Element) -> bool {
    matches!(e.name(), "a" | "sup")
        && (e.attr("role") == Some("doc-noteref")
            || e.attr("class").is_some_and(|c| {
                c.split_whitespace()
                    .any(|w| matches!(w, "footnote-ref" | "footnote-reference"))
            }))
}

/// Most characters of a footnote's label (`1`, `[12]`, `a`) in a reference found by its form
/// alone ([`is_note_reference`]).
const MAX_NOTE_LABEL: usize = 8;

/// Whether the node is a reference to a footnote: marked as one ([`is_noteref`]), or a
/// superscript that is only a link to an anchor of the page, or such a link that is only a
/// superscript, with a short label (`<sup id="fnref1"><a href="#fn1">1</a></sup>`,
/// `<a href="#fn1"><sup>1</sup></a>`), as hand-written pages and generators without classes
/// write them.
pub(super) fn is_note_reference(node: &NodeRef<'_>) -> bool {
    let Some(e) = element(node) else { return false };
    if is_noteref(e) {
        return true;
    }
    let inner = match e.name() {
        "sup" => "a",
        "a" if is_in_page_link(e) => "sup",
        _ => return false,
    };
    let mut children = node
        .children()
        .filter(|c| c.value().as_text().is_none_or(|t| !t.trim().is_empty()));
    let (Some(only), None) = (children.next(), children.next()) else {
        return false;
    };
    element(&only).is_some_and(|c| c.name() == inner && (inner == "sup" || is_in_page_link(c)))
        && text_of(node).trim().chars().count() <= MAX_NOTE_LABEL
}

/// Whether the element is a link to an anchor of the page (`href="#fn1"`).
fn is_in_page_link(e: &Element) -> bool {
    e.name() == "a"
        && e.attr("href")
            .is_some_and(|h| h.len() > 1 && h.starts_with('#'))
}

/// Arrows that stand for "back to where the note is cited" (`↩︎`, `↑`, `^`).
const BACK_ARROWS: &[char] = &['↩', '↑', '⤴', '↵', '⮐', '⬆', '^', '🔙'];

/// Whether the node is a link back within the page shown as an arrow only (a footnote's
/// `<a href="#fnref1">↩</a>` without the classes [`is_backlink`] knows): no text of the page.
pub(super) fn is_arrow_backlink(node: &NodeRef<'_>) -> bool {
    if !element(node).is_some_and(is_in_page_link) {
        return false;
    }
    let text = text_of(node);
    text.chars().any(|c| BACK_ARROWS.contains(&c))
        && text.chars().all(|c| {
            BACK_ARROWS.contains(&c) || c.is_whitespace() || matches!(c, '\u{FE0E}' | '\u{FE0F}')
        })
}

/// Whether a dropped element is page furniture a reader sees (navigation, a site header,
/// sidebars, footers, comments), as opposed to what is never visible text. A `<header>`
/// without links is a title block (pandoc's `title-block-header`), not furniture.
pub(super) fn is_furniture(node: &NodeRef<'_>) -> bool {
    let Some(e) = element(node) else { return false };
    if is_invisible(e)
        || is_backlink(e)
        || is_arrow_backlink(node)
        || matches!(e.name(), "head" | "math")
    {
        return false;
    }
    if e.name() == "header" {
        return node
            .descendants()
            .any(|n| element(&n).is_some_and(|e| matches!(e.name(), "a" | "nav" | "form")));
    }
    true
}

/// Whether the element has `role="main"` or is `<main>`.
pub(super) fn is_main(e: &Element) -> bool {
    e.name() == "main" || e.attr("role") == Some("main")
}
