//! HTML: bytes decoded by their declared or detected charset, the page parsed by html5ever
//! (scraper), furniture dropped (scripts, navigation, headers, footers, sidebars, forms,
//! hidden parts), the main content chosen by readability-style scoring and rendered as
//! Markdown; `<title>` and `<meta>` give the metadata.

mod blocks;
mod bounded;
mod charset;
mod content;
mod contents;
mod dom;

pub(super) use dom::is_block;

use scraper::Html;

use super::render::{Block, Renderer};
use super::{ParseError, Parsed, decode};
use crate::model::{Format, Metadata};
use bounded::Refused;
use dom::{element, is_html_title};

/// Deepest nesting of elements accepted. html5ever's tree building (like the HTML standard's
/// algorithm) checks scopes along the open-element stack, so hostile nesting costs quadratic
/// time (see `bounded`); browsers cap the depth at a few hundred, real pages stay far below this.
const MAX_NESTING: usize = 4096;

/// The warning of a page whose main content has no text, so that the whole page is taken.
const WHOLE_BODY: &str = "the main content found has no text; the whole page's text is taken, navigation, comments and footers included";

/// Stack of the thread a page is read on: turning the tree into blocks recurses once per
/// level of nesting, up to [`MAX_NESTING`], which takes about 30 MiB in a debug build (the
/// engine's workers have 2 MiB). Only what is used is ever committed.
const STACK_BYTES: usize = 256 << 20;

/// Runs `work` on a thread with a stack of [`STACK_BYTES`], or on this one when no such thread
/// can be started; a panic goes on as this thread's.
fn on_own_stack<T: Send>(work: impl Fn() -> T + Sync) -> T {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("parse-html".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, &work);
        match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => work(),
        }
    })
}

/// Parses an HTML page.
pub(super) fn parse(bytes: &[u8]) -> Result<Parsed, ParseError> {
    on_own_stack(|| parse_here(bytes))
}

/// Parses an HTML page on this thread (see [`on_own_stack`]).
fn parse_here(bytes: &[u8]) -> Result<Parsed, ParseError> {
    let decoded = charset::decode(bytes)?;
    check_text(&decoded.text)?;
    let html = tree(&decoded.text)?;
    let page = content::Page::new(html.tree.root());
    let (main, mut note) = page.main_content();
    let mut renderer = Renderer::new();
    let (blocks, mut flattened) = blocks::blocks(&page, &main);
    renderer.extend(blocks);
    if !renderer.has_text() {
        // Everything with text was taken for furniture (a page that is all comments, footer
        // or navigation): the whole page's text beats nothing.
        let whole = content::Page::whole(html.tree.root());
        let mut fallback = Renderer::new();
        let (blocks, whole_flattened) = blocks::blocks(&whole, &[whole.body()]);
        fallback.extend(blocks);
        if fallback.has_text() {
            note = Some(WHOLE_BODY.into());
            renderer = fallback;
            flattened = whole_flattened;
        }
    }
    let rendered = renderer.take_warnings();
    let (markdown, elements) = renderer.finish()?;
    let mut metadata = metadata(&html);
    metadata.insert("encoding".into(), decoded.encoding.into());
    Ok(Parsed {
        markdown,
        elements,
        metadata,
        warnings: decoded
            .warning
            .into_iter()
            .chain(note)
            .chain(flattened)
            .chain(rendered)
            .collect(),
        stats: Default::default(),
    })
}

/// The blocks of a whole HTML document's body, for HTML that is part of another document (a
/// DOCX's imported HTML): all of it is content, none is page furniture to drop.
/// Structure nested too deep to keep is flattened without a warning here.
pub(in crate::parse) fn body_blocks(text: &str) -> Result<Vec<Block>, ParseError> {
    on_own_stack(|| {
        check_text(text)?;
        let html = tree(text)?;
        let whole = content::Page::whole(html.tree.root());
        Ok(blocks::blocks(&whole, &[whole.body()]).0)
    })
}

/// The tree of a page, refused when it nests too deep or takes too long to build.
fn tree(text: &str) -> Result<Html, ParseError> {
    bounded::parse_document(text, MAX_NESTING, bounded::TIME_BUDGET).map_err(
        |(why, at)| {
            let detail = match why {
                Refused::Depth => format!("html elements nest more than {MAX_NESTING} deep"),
                Refused::Work => {
                    "building the html tree takes more steps than a page of its size needs".into()
                }
                Refused::Elements => {
                    "the html tree grows more elements than a page of its size can hold".into()
                }
                Refused::TooMany => {
                    return ParseError::TooLarge {
                        detail: format!(
                            "the page has more than {} html elements (by byte {at}), more than one document may hold: split it",
                            bounded::MAX_ELEMENTS
                        ),
                    };
                }
                Refused::Time => format!(
                    "parsing took more than {} s",
                    bounded::TIME_BUDGET.as_secs()
                ),
            };
            ParseError::TooLarge {
                detail: format!("{detail} (by byte {at}); such a page is hostile or broken"),
            }
        },
    )
}

/// Refuses binary data: NUL bytes or many control characters (more than text may hold, as
/// [`decode::mostly_control`] has it).
fn check_text(text: &str) -> Result<(), ParseError> {
    if let Some(offset) = text.find('\0') {
        return Err(ParseError::Binary {
            offset,
            forced: None,
        });
    }
    if decode::mostly_control(text) {
        let (control, total) = decode::control_characters(text);
        return Err(ParseError::Damaged {
            format: Format::Html,
            detail: format!("{control} control characters in {total}: binary data, not a web page"),
        });
    }
    Ok(())
}

/// Title, author, description, language and the like from `<title>`, `<meta>` and `<html lang>`.
fn metadata(html: &Html) -> Metadata {
    let mut metadata = Metadata::new();
    let mut title = None;
    let mut og_title = None;
    for node in html.tree.root().descendants() {
        let Some(e) = element(&node) else { continue };
        match e.name() {
            "html" => {
                if let Some(lang) = e.attr("lang").map(str::trim).filter(|l| !l.is_empty()) {
                    metadata.insert("language".into(), lang.into());
                }
            }
            "title" if title.is_none() && is_html_title(e) => {
                let text: String = node
                    .descendants()
                    .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
                    .collect();
                title = Some(super::render::one_line(&text)).filter(|t| !t.is_empty());
            }
            "meta" => {
                let key = e
                    .attr("name")
                    .or_else(|| e.attr("property"))
                    .unwrap_or("")
                    .to_lowercase();
                let Some(value) = e.attr("content").map(super::render::one_line) else {
                    continue;
                };
                if value.is_empty() {
                    continue;
                }
                let field = match key.as_str() {
                    "og:title" | "twitter:title" | "dc.title" => {
                        og_title.get_or_insert(value);
                        continue;
                    }
                    "author" | "article:author" | "dc.creator" => "author",
                    "description" | "og:description" => "description",
                    "keywords" => "keywords",
                    "article:published_time" | "date" | "dc.date" => "published",
                    "og:site_name" => "site_name",
                    "generator" => "generator",
                    _ => continue,
                };
                metadata.entry(field).or_insert(value.into());
            }
            _ => {}
        }
    }
    if let Some(title) = title.or(og_title) {
        metadata.insert("title".into(), title.into());
    }
    metadata
}

#[cfg(test)]
mod tests;
