//! DOCX (Office Open XML): the zip package is read with bounded decompression, the body's
//! paragraphs and tables become blocks (headings from styles and outline levels, lists from
//! numbering), footnotes and endnotes follow the body, and the core properties become metadata.

mod archive;
mod body;
mod numbering;
mod parts;
mod props;
mod styles;
mod symbol_fonts;
mod xml;

use std::collections::HashMap;

use super::render::{Block, Renderer};
use super::{ParseError, Parsed};
use crate::model::Format;

/// Parses a DOCX package.
pub(super) fn parse(bytes: &[u8]) -> Result<Parsed, ParseError> {
    let mut archive = archive::Archive::open(bytes)?;
    let mut parts = parts::Parts::find(&mut archive)?;
    let mut document = archive.read(&parts.main)?;
    if document.is_none() && parts.main != parts::USUAL_MAIN {
        // A relationship to a part that is not there: the usual name may still be.
        document = archive.read(parts::USUAL_MAIN)?;
        if document.is_some() {
            parts = parts::Parts::usual();
        }
    }
    let main_part = parts.main.as_str();
    let Some(document) = document else {
        let missing = format!("no {main_part} part (the main document): not a Word document");
        return Err(not_a_document(&mut archive, missing));
    };
    let styles = archive
        .read(&parts.styles)?
        .map(|xml| styles::Styles::parse(&xml))
        .unwrap_or_default();
    let mut numbering = archive
        .read(&parts.numbering)?
        .map(|xml| numbering::Numbering::parse(&xml))
        .unwrap_or_default();
    numbering.link_styles(&styles);
    let cx = body::Context {
        styles: &styles,
        numbering: &numbering,
        notes: Default::default(),
    };
    let mut main = body::read(&document, &cx);
    // A main part that is no document (its relationship names `_rels/.rels` itself, say) read
    // as an empty document, without a word.
    if main.blocks.is_empty() && !has_body(&document) {
        let bodiless =
            format!("{main_part} holds no document body (`<w:body>`): not a Word document");
        return Err(not_a_document(&mut archive, bodiless));
    }
    // The notes and properties are read before the imported parts, whose showings may take
    // what is left of the document's decompression cap.
    let footnotes = archive.read(&parts.footnotes)?;
    let endnotes = archive.read(&parts.endnotes)?;
    let core = archive.read(&parts.core)?;
    let mut warnings = import(&mut archive, &parts, &mut main);
    if main.blocks.is_empty() && main.warning.is_some() {
        return Err(ParseError::Damaged {
            format: Format::Docx,
            detail: format!("{main_part}: {}", main.warning.unwrap_or_default()),
        });
    }
    warnings.extend(main.warning.map(|w| format!("{main_part}: {w}")));
    let mut renderer = Renderer::new();
    // The notes follow the body outside its sections, as an HTML page's footnotes do: they
    // do not take the last section's path (a heading without text at the body's top level
    // closes them all and adds no text).
    let level = super::render::top_level(&main.blocks);
    renderer.extend(main.blocks);
    let notes_parts = [
        (&parts.footnotes, false, footnotes),
        (&parts.endnotes, true, endnotes),
    ];
    for (part, endnotes, xml) in notes_parts {
        let Some(xml) = xml else {
            continue;
        };
        let notes = notes(&xml, endnotes, &cx);
        warnings.extend(notes.1.map(|w| format!("{part}: {w}")));
        if !notes.0.is_empty() {
            renderer.extend([Block::Heading {
                level,
                text: String::new(),
            }]);
            renderer.extend(notes.0);
        }
    }
    let metadata = match core {
        Some(xml) => props::parse(&xml),
        None => Default::default(),
    };
    warnings.extend(renderer.take_warnings());
    warnings.extend(archive.take_warnings());
    let (markdown, elements) = renderer.finish()?;
    Ok(Parsed {
        markdown,
        elements,
        metadata,
        warnings,
        stats: Default::default(),
    })
}

/// The error for a package that holds no Word document: what it holds instead, when that
/// can be told (a zip of an Excel workbook, an OpenDocument text), else `detail`.
fn not_a_document(archive: &mut archive::Archive<'_>, detail: String) -> ParseError {
    let detail = match archive.other_kind() {
        Some(kind) => format!("this is {kind}, not a Word document"),
        None => detail,
    };
    archive::damaged(&detail)
}

/// Puts the imported content of the main part (`w:altChunk`) in its place: HTML (the usual
/// kind: converters write whole documents as one) as its blocks, plain text as paragraphs.
/// What cannot be read (RTF, MHT, another DOCX, a part missing) is said to be missing. A part
/// referenced again shows again, as in Word: it is read once, but every showing counts against
/// the document's decompression cap, past which the rest are left out with a warning (a few
/// kilobytes referencing one part thousands of times took minutes and gigabytes).
fn import(
    archive: &mut archive::Archive<'_>,
    parts: &parts::Parts,
    read: &mut body::Read,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut imports = std::mem::take(&mut read.imports);
    if imports.is_empty() {
        return warnings;
    }
    // In document order, ties too: each goes before the block it stood before.
    imports.sort_by_key(|(at, _)| *at);
    let mut unread = 0;
    // How many could not be read, and the first reason.
    let mut refused: (usize, Option<String>) = (0, None);
    let mut read_parts: HashMap<&str, Import> = HashMap::new();
    let mut body = std::mem::take(&mut read.blocks).into_iter();
    let (len, mut placed) = (body.len(), 0);
    for (at, id) in imports {
        let Some(name) = parts.imports.get(&id).filter(|_| at <= len) else {
            unread += 1;
            continue;
        };
        read.blocks.extend(body.by_ref().take(at - placed));
        placed = at;
        // The first showing was counted as the part was read; each other one is counted now.
        let first = !read_parts.contains_key(name.as_str());
        if first {
            let import = read_import(archive, name, &mut warnings)
                .unwrap_or_else(|err| Import::Refused(err.to_string()));
            read_parts.insert(name, import);
        }
        let why = match &read_parts[name.as_str()] {
            Import::Read(size, blocks) => {
                let counted = if first {
                    Ok(())
                } else {
                    archive.show_again(name, *size)
                };
                counted
                    .map(|()| read.blocks.extend(blocks.iter().cloned()))
                    .map_err(|err| err.to_string())
            }
            Import::Unread => {
                unread += 1;
                Ok(())
            }
            Import::Refused(why) => Err(why.clone()),
        };
        if let Err(why) = why {
            refused.0 += 1;
            refused.1.get_or_insert(why);
        }
    }
    read.blocks.extend(body);
    if unread > 0 {
        warnings.push(format!(
            "{unread} imported part(s) (w:altChunk: RTF, MHT or another document that Word shows in place) not read: their text is missing"
        ));
    }
    if let (n @ 1.., Some(why)) = refused {
        warnings.push(format!(
            "{n} imported part(s) (w:altChunk) not read: {why}; their text is missing"
        ));
    }
    warnings
}

/// An imported part, read once for all its references.
enum Import {
    /// Its blocks, and the bytes it decompressed to (each further showing costs as many).
    Read(u64, Vec<Block>),
    /// A kind that is not read (RTF, MHT, another document), or HTML that could not be.
    Unread,
    /// Not read: beyond the document's limits (a zip bomb), or damaged; why.
    Refused(String),
}

/// Reads imported part `name` (a missing one is unread).
fn read_import(
    archive: &mut archive::Archive<'_>,
    name: &str,
    warnings: &mut Vec<String>,
) -> Result<Import, ParseError> {
    let Some((text, size)) = archive.read_sized(name)? else {
        return Ok(Import::Unread);
    };
    let blocks = if is_html(name, &text) {
        match super::html::body_blocks(&text) {
            Ok(blocks) => blocks,
            Err(err) => {
                warnings.push(format!("{name}: {err}"));
                return Ok(Import::Unread);
            }
        }
    } else if name.to_ascii_lowercase().ends_with(".txt") {
        text.split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Block::Paragraph(p.to_string()))
            .collect()
    } else {
        return Ok(Import::Unread);
    };
    Ok(Import::Read(size, blocks))
}

/// Whether an imported part is HTML: by its name, or by its start.
fn is_html(name: &str, text: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let head = text[..text.floor_char_boundary(2048)].to_ascii_lowercase();
    [".htm", ".html", ".xhtml"]
        .iter()
        .any(|ext| name.ends_with(ext))
        || ["<!doctype html", "<html", "<body"]
            .iter()
            .any(|tag| head.contains(tag))
}

/// The notes of a footnotes or endnotes part, each as a paragraph starting with its mark as
/// the body's references show it (`[1]`, or `[e1]` for endnotes; a custom mark such as `*` as
/// it is), in the order of their references. A note no reference shows (its reference deleted,
/// or none) is not shown, as in Word.
fn notes(xml: &str, endnotes: bool, cx: &body::Context<'_>) -> (Vec<Block>, Option<String>) {
    let mut listed: Vec<((u32, bool), Block)> = Vec::new();
    let mut warning = None;
    for (id, part) in split_notes(xml) {
        let numbers = cx.notes.borrow();
        let custom = numbers.custom(endnotes, &id).cloned();
        if custom.is_none() && !numbers.is_numbered(endnotes, &id) {
            continue;
        }
        drop(numbers);
        let read = body::read(part, cx);
        warning = warning.or(read.warning);
        let text: Vec<String> = read
            .blocks
            .into_iter()
            .filter_map(|b| super::render::plain_text(&b))
            .collect();
        let text = text.join("\n");
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let (key, mark) = match custom {
            // Listed after the note numbered before its reference.
            Some((mark, before)) => ((before, true), mark),
            None => {
                let mut numbers = cx.notes.borrow_mut();
                (
                    (numbers.number(endnotes, &id), false),
                    numbers.mark(endnotes, &id),
                )
            }
        };
        let text = match text.strip_prefix(mark.as_str()) {
            // The note's own text begins with its custom mark.
            Some(_) if !mark.is_empty() => text.to_string(),
            _ => format!("{mark} {text}").trim_start().to_string(),
        };
        listed.push((key, Block::Paragraph(text)));
    }
    listed.sort_by_key(|(key, _)| *key);
    // A part cut short between two notes reads cleanly note by note; one cut in a note says
    // so with the note's bytes, not the part's.
    let root = if endnotes { "endnotes" } else { "footnotes" };
    let cut = (!ends_closed(xml, root)).then(|| body::cut_short(xml.len(), Some(root)));
    (
        listed.into_iter().map(|(_, b)| b).collect(),
        cut.or(warning),
    )
}

/// Whether a part's XML ends with its root element `root` closed (`</w:footnotes>`, or
/// `<w:footnotes/>`), or with a comment or processing instruction after it.
fn ends_closed(xml: &str, root: &str) -> bool {
    let tail = xml.trim_end();
    let Some(tag) = tail.rfind('<').map(|at| &tail[at..]) else {
        return false;
    };
    if !tag.ends_with('>') {
        return false;
    }
    if tag.starts_with("<!--") || tag.starts_with("<?") {
        return true;
    }
    let closing = tag.starts_with("</") || tag.ends_with("/>");
    let name = tag
        .trim_start_matches(['<', '/'])
        .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .next()
        .unwrap_or_default();
    closing && name.rsplit(':').next() == Some(root)
}

/// The `w:footnote` / `w:endnote` elements of a notes part with a positive id, as
/// (id, XML of the note).
fn split_notes(xml: &str) -> Vec<(String, &str)> {
    let mut notes = Vec::new();
    let mut offset = 0;
    while let Some(start) = find_tag(&xml[offset..], "<w:", &["footnote ", "endnote "]) {
        let tail = &xml[offset + start..];
        let head_end = tail.find('>').unwrap_or(tail.len());
        let head = &tail[..head_end];
        let close = find_tag(tail, "</w:", &["footnote>", "endnote>"])
            .and_then(|i| tail[i..].find('>').map(|j| i + j + 1))
            .unwrap_or(tail.len());
        let id = note_id(head);
        if let Some(id) = id.filter(|id| id.parse::<i64>().is_ok_and(|n| n > 0)) {
            notes.push((id, &tail[..close]));
        }
        offset += start + close.max(1);
        if !xml.is_char_boundary(offset) || offset >= xml.len() {
            break;
        }
    }
    notes
}

/// Where the first `prefix` followed by one of `names` starts in `text`: one pass, as
/// searching for each name in turn scans the whole rest of the part for the name it lacks
/// (a footnotes part has no `<w:endnote `), which made reading many notes quadratic.
fn find_tag(text: &str, prefix: &str, names: &[&str]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(prefix) {
        let at = from + i;
        let rest = &text[at + prefix.len()..];
        if names.iter().any(|n| rest.starts_with(n)) {
            return Some(at);
        }
        from = at + prefix.len();
    }
    None
}

/// The `w:id` attribute of a note's start tag.
fn note_id(head: &str) -> Option<String> {
    let at = head.find(" w:id=")? + 6;
    let quoted = head.get(at..)?;
    let quote = quoted.chars().next()?;
    let inner = quoted.get(1..)?;
    let end = inner.find(quote)?;
    Some(inner[..end].to_string())
}

/// Whether a main document part has a `body` element (`<w:body>`, whatever its prefix).
fn has_body(xml: &str) -> bool {
    xml.split('<').skip(1).any(|tag| {
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .next()
            .unwrap_or_default();
        name.rsplit(':').next() == Some("body")
    })
}

#[cfg(test)]
mod tests;
