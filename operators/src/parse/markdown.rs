//! Markdown: front matter split off, then one element per block from pulldown-cmark's events.
//!
//! Blocks become elements in document order. Inside a block quote everything is absorbed into
//! the quote's text; inside a list item, paragraphs, headings and HTML are the item's own text
//! while nested lists, code blocks, tables and quotes become elements of their own.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use super::render::{Sections, table_text};
use super::{
    MAX_ELEMENTS, ParseError, Parsed, front_matter, html_strip, markdown_clean, markdown_contents,
    too_many_elements,
};
use crate::model::{Element, ElementKind};

/// Parses Markdown `source` (front matter included) into its rendering and elements; more than
/// [`MAX_ELEMENTS`] elements is an error.
pub(super) fn parse(source: String) -> Result<Parsed, ParseError> {
    let front = front_matter::split(&source);
    let body = source.get(front.body_start..).unwrap_or(&source);
    let markup = inline_markup(body);
    if markup > MAX_INLINE_MARKUP {
        return Err(ParseError::TooLarge {
            detail: format!(
                "the document has {markup} characters of inline markup (emphasis, code spans, links, HTML tags, entities, escapes) outside code blocks, more than {MAX_INLINE_MARKUP}: the Markdown parser holds hundreds of bytes for each, so split it"
            ),
        });
    }
    let markdown = markdown_clean::clean(body, options());
    let mut elements = Walker::new(&markdown).run()?;
    markdown_contents::mark(&markdown, &mut elements);
    Ok(Parsed {
        markdown,
        elements,
        metadata: front.metadata,
        warnings: front.warnings,
        stats: Default::default(),
    })
}

/// The pulldown-cmark extensions this parser understands.
pub(crate) fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

/// What an open block is, with the state it needs until it closes.
enum Kind {
    Heading(u8),
    Paragraph(ImageState),
    Code(Option<String>),
    Html,
    Item {
        depth: u32,
        ordered: bool,
        /// The state of the item's task box (`- [x]`), when it has one.
        checked: Option<bool>,
    },
    Quote,
    Table(Vec<Vec<String>>),
    Row(Vec<String>),
    Cell,
    List(bool),
    /// A container with no text of its own (footnote definitions and the like).
    Transparent,
}

/// Whether a paragraph is a lone image.
#[derive(Default)]
struct ImageState {
    images: usize,
    other_text: bool,
    alt: String,
}

/// An open block on the walker's stack.
struct Frame {
    kind: Kind,
    /// Byte range of the block in the Markdown.
    start: usize,
    end: usize,
    /// End of the last text that belongs to this block itself, with the inline markup that
    /// closes it (`](#faq)`, `**`): a list item's span, without its nested lists.
    own_end: Option<usize>,
    /// Plain text gathered so far.
    text: String,
    /// Index of the element reserved for this block; `None` when it is absorbed by its parent.
    slot: Option<usize>,
}

impl Frame {
    fn new(kind: Kind, range: &std::ops::Range<usize>, slot: Option<usize>) -> Self {
        Frame {
            kind,
            start: range.start,
            end: range.end,
            own_end: None,
            text: String::new(),
            slot,
        }
    }

    /// Whether inline text goes into this frame.
    fn takes_text(&self) -> bool {
        !matches!(
            self.kind,
            Kind::Table(_) | Kind::Row(_) | Kind::List(_) | Kind::Transparent
        )
    }
}

/// Most characters that may open or close inline markup a document holds outside fenced and
/// indented code blocks: pulldown-cmark keeps a node of 300 to 600 bytes for each (a paragraph of
/// 4 MB of `*a* ` took 600 MB).
const MAX_INLINE_MARKUP: usize = 1_000_000;

/// The characters of `markdown` that may be inline markup, code blocks left out: `*`, `` ` ``,
/// `[`, `]` and `<`; `_` and `~` not inside a word (CommonMark makes no emphasis of
/// `snake_case`); `&` that opens an entity (`&amp;`, `&#38;`, not `?a=1&b=2`); `\` before
/// punctuation, and `!` before `[`.
fn inline_markup(markdown: &str) -> usize {
    let mut count = 0;
    // The open fence's character and length.
    let mut fence: Option<(u8, usize)> = None;
    // Whether the line before was blank, whether an indented code block is open, and whether
    // a list item or footnote is, whose indented lines are its text, not code.
    let (mut blank_before, mut indented, mut container) = (true, false, false);
    for line in markdown.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = line.trim_start_matches(' ').as_bytes();
        let run = |c: u8| rest.iter().take_while(|&&b| b == c).count();
        let blank = rest.trim_ascii().is_empty();
        if fence.is_none() && !blank && indent <= 3 {
            // A line at the margin after a blank line ends any list item or footnote.
            if opens_container(rest) {
                container = true;
            } else if indent == 0 && blank_before {
                container = false;
            }
        }
        // Indented code opens after a blank line, outside list items and footnotes, and runs
        // while lines are indented or blank.
        indented =
            fence.is_none() && !container && !blank && indent >= 4 && (indented || blank_before)
                || indented && blank;
        blank_before = blank;
        if indented {
            continue;
        }
        match fence {
            Some((c, len)) => {
                if indent <= 3 && run(c) >= len && rest[run(c)..].trim_ascii().is_empty() {
                    fence = None;
                }
                continue;
            }
            None if indent <= 3 => {
                for c in [b'`', b'~'] {
                    // A backtick fence's info string has no backtick (```x``` is a code span).
                    let info = &rest[run(c)..];
                    if run(c) >= 3 && (c == b'~' || !info.contains(&b'`')) {
                        fence = Some((c, run(c)));
                    }
                }
                if fence.is_some() {
                    continue;
                }
            }
            None => {}
        }
        count += markup_in(line.as_bytes());
    }
    count
}

/// Whether a line (its indentation off) opens a list item (`- `, `* `, `+ `, `1. `, `1) `) or a
/// footnote definition (`[^1]: `), whose indented lines are text.
fn opens_container(line: &[u8]) -> bool {
    let after = |at: usize| line.get(at).is_none_or(u8::is_ascii_whitespace);
    let digits = line.iter().take_while(|b| b.is_ascii_digit()).count();
    match line.first() {
        Some(b'-' | b'*' | b'+') => after(1),
        Some(b'0'..=b'9') => {
            digits <= 9 && matches!(line.get(digits), Some(b'.' | b')')) && after(digits + 1)
        }
        Some(b'[') => line.starts_with(b"[^") && line.windows(2).any(|w| w == b"]:"),
        _ => false,
    }
}

/// The characters of one line that may be inline markup (see [`inline_markup`]).
fn markup_in(line: &[u8]) -> usize {
    let word = |at: Option<&u8>| at.is_some_and(|b| b.is_ascii_alphanumeric() || *b >= 0x80);
    (0..line.len())
        .filter(|&i| {
            let (before, after) = (i.checked_sub(1).map(|j| &line[j]), line.get(i + 1));
            match line[i] {
                b'*' | b'`' | b'[' | b']' | b'<' => true,
                b'_' | b'~' => !(word(before) && word(after)),
                b'&' => entity_at(&line[i..]),
                b'\\' => after.is_some_and(u8::is_ascii_punctuation),
                b'!' => after == Some(&b'['),
                _ => false,
            }
        })
        .count()
}

/// Whether `text` opens with an entity reference (`&amp;`, `&#38;`, `&#x26;`).
fn entity_at(text: &[u8]) -> bool {
    let body = &text[1..text.len().min(34)];
    let Some(end) = body.iter().position(|&b| b == b';') else {
        return false;
    };
    let name = &body[..end];
    match name.strip_prefix(b"#") {
        Some(number) => !number.is_empty() && number.iter().all(u8::is_ascii_alphanumeric),
        None => !name.is_empty() && name.iter().all(u8::is_ascii_alphanumeric),
    }
}

/// Walks pulldown-cmark's events and builds elements.
struct Walker<'a> {
    markdown: &'a str,
    stack: Vec<Frame>,
    /// Whether each list open on the stack is ordered, outermost first, and how many block
    /// quotes are open: kept beside the stack so that opening a block does not walk it
    /// (deeply nested lists or quotes would cost quadratic time).
    lists: Vec<bool>,
    quotes: usize,
    /// Elements in start order; `None` for reserved blocks that turned out empty.
    slots: Vec<Option<Element>>,
    /// Headings in force.
    sections: Sections,
    /// How many images the current inline position is inside.
    image_depth: usize,
    /// Whether the text last pushed is the space a soft line break stands for.
    soft_space: bool,
}

impl<'a> Walker<'a> {
    fn new(markdown: &'a str) -> Self {
        Walker {
            markdown,
            stack: Vec::new(),
            lists: Vec::new(),
            quotes: 0,
            slots: Vec::new(),
            sections: Sections::default(),
            image_depth: 0,
            soft_space: false,
        }
    }

    /// The elements; `None` past [`MAX_ELEMENTS`] (the walk stops there).
    fn run(mut self) -> Result<Vec<Element>, ParseError> {
        let parser = Parser::new_ext(self.markdown, options()).into_offset_iter();
        for (event, range) in parser {
            if self.slots.len() > MAX_ELEMENTS {
                return Err(too_many_elements());
            }
            match event {
                Event::Start(tag) => self.start(tag, &range),
                Event::End(end) => self.end(end, &range),
                Event::Text(text) | Event::Code(text) => self.push_text(&text, &range),
                Event::InlineMath(text) | Event::DisplayMath(text) => self.push_text(&text, &range),
                Event::Html(html) => self.push_html(&html, &range),
                Event::SoftBreak => {
                    self.push_text(" ", &range);
                    self.soft_space = true;
                }
                Event::HardBreak => self.push_text("\n", &range),
                Event::FootnoteReference(label) => self.push_text(&format!("[{label}]"), &range),
                Event::InlineHtml(html) => {
                    // `a<br>b` is two words, `a<b>b</b>` one.
                    let spaced = self
                        .text_frame()
                        .is_none_or(|f| f.text.is_empty() || f.text.ends_with(char::is_whitespace));
                    if !spaced && html_strip::boundary(&html) != html_strip::Boundary::None {
                        self.push_text(" ", &range);
                    }
                }
                Event::TaskListMarker(checked) => {
                    let item = self.stack.iter_mut().rev().find_map(|f| match &mut f.kind {
                        Kind::Item { checked, .. } => Some(checked),
                        _ => None,
                    });
                    if let Some(item) = item {
                        *item = Some(checked);
                    }
                }
                Event::Rule => {}
            }
        }
        // Close anything left open (the parser always balances, but stay total).
        while let Some(frame) = self.pop() {
            self.close(frame);
        }
        self.sections.check()?;
        Ok(self.slots.into_iter().flatten().collect())
    }

    fn start(&mut self, tag: Tag<'_>, range: &std::ops::Range<usize>) {
        let kind = match tag {
            Tag::Heading { level, .. } => Kind::Heading(level as u8),
            Tag::Paragraph => Kind::Paragraph(ImageState::default()),
            Tag::CodeBlock(CodeBlockKind::Fenced(info)) => Kind::Code(language(&info)),
            Tag::CodeBlock(CodeBlockKind::Indented) => Kind::Code(None),
            Tag::HtmlBlock => Kind::Html,
            Tag::BlockQuote(_) => Kind::Quote,
            Tag::Table(_) => Kind::Table(Vec::new()),
            Tag::TableHead | Tag::TableRow => Kind::Row(Vec::new()),
            Tag::TableCell => Kind::Cell,
            Tag::List(first) => Kind::List(first.is_some()),
            Tag::Item => Kind::Item {
                depth: u32::try_from(self.lists.len().saturating_sub(1)).unwrap_or(u32::MAX),
                ordered: self.lists.last().copied().unwrap_or(false),
                checked: None,
            },
            Tag::Image { .. } => {
                self.image_depth += 1;
                if let Some(Kind::Paragraph(state)) = self.text_frame().map(|f| &mut f.kind) {
                    state.images += 1;
                }
                return;
            }
            Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. } => return,
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => Kind::Transparent,
        };
        let slot = self.is_element(&kind).then(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        match kind {
            Kind::List(ordered) => self.lists.push(ordered),
            Kind::Quote => self.quotes += 1,
            _ => {}
        }
        self.stack.push(Frame::new(kind, range, slot));
    }

    /// Takes the innermost open block off the stack.
    fn pop(&mut self) -> Option<Frame> {
        let frame = self.stack.pop()?;
        match frame.kind {
            Kind::List(_) => {
                self.lists.pop();
            }
            Kind::Quote => self.quotes -= 1,
            _ => {}
        }
        Some(frame)
    }

    /// Whether a block of `kind` opening now becomes an element of its own.
    fn is_element(&self, kind: &Kind) -> bool {
        let structural = matches!(
            kind,
            Kind::Heading(_)
                | Kind::Paragraph(_)
                | Kind::Code(_)
                | Kind::Html
                | Kind::Item { .. }
                | Kind::Quote
                | Kind::Table(_)
        );
        if !structural || self.quotes > 0 {
            return false;
        }
        let in_item = matches!(self.stack.last(), Some(f) if matches!(f.kind, Kind::Item { .. }));
        let item_text = matches!(kind, Kind::Heading(_) | Kind::Paragraph(_) | Kind::Html);
        !(in_item && item_text)
    }

    /// Inline markup that ends at `range.end` (`](#faq)`, `**`): the enclosing block's own
    /// source goes on to there.
    fn inline_closed(&mut self, range: &std::ops::Range<usize>) {
        if let Some(frame) = self.text_frame() {
            frame.own_end = Some(range.end);
        }
    }

    fn end(&mut self, end: TagEnd, range: &std::ops::Range<usize>) {
        match end {
            TagEnd::Image => {
                self.image_depth = self.image_depth.saturating_sub(1);
                self.inline_closed(range);
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link => self.inline_closed(range),
            _ => {
                if let Some(frame) = self.pop() {
                    self.close(frame);
                }
            }
        }
    }

    /// The innermost open block that takes inline text.
    fn text_frame(&mut self) -> Option<&mut Frame> {
        self.stack.iter_mut().rev().find(|f| f.takes_text())
    }

    fn push_text(&mut self, text: &str, range: &std::ops::Range<usize>) {
        let in_image = self.image_depth > 0;
        let after_soft_break = std::mem::take(&mut self.soft_space);
        let Some(frame) = self.text_frame() else {
            return;
        };
        // Chinese and Japanese are written without spaces: a line wrapped between two of
        // their characters joins them without one.
        if after_soft_break
            && text.chars().next().is_some_and(is_unspaced_script)
            && frame
                .text
                .strip_suffix(' ')
                .is_some_and(|before| before.chars().next_back().is_some_and(is_unspaced_script))
        {
            frame.text.pop();
        }
        frame.own_end = Some(range.end);
        if let Kind::Paragraph(state) = &mut frame.kind {
            if in_image {
                state.alt.push_str(text);
            } else if !text.trim().is_empty() {
                state.other_text = true;
            }
        }
        frame.text.push_str(text);
    }

    fn push_html(&mut self, html: &str, range: &std::ops::Range<usize>) {
        if let Some(frame) = self.text_frame()
            && matches!(frame.kind, Kind::Html)
        {
            frame.own_end = Some(range.end);
            frame.text.push_str(html);
        }
    }

    /// Finishes a block: fills its element slot or hands its text to the enclosing block.
    fn close(&mut self, frame: Frame) {
        let Frame {
            kind,
            start,
            end,
            own_end,
            text,
            slot,
        } = frame;
        let text = match &kind {
            Kind::Code(_) => text.trim_matches(['\n', '\r']).trim_end().to_string(),
            Kind::Html => html_strip::strip_tags(&text),
            Kind::Table(rows) => table_text(rows),
            _ => text.trim().to_string(),
        };
        match kind {
            Kind::Cell => {
                if let Some(Frame {
                    kind: Kind::Row(cells),
                    ..
                }) = self.stack.last_mut()
                {
                    cells.push(text);
                }
                return;
            }
            Kind::Row(cells) => {
                if let Some(Frame {
                    kind: Kind::Table(rows),
                    ..
                }) = self.stack.last_mut()
                {
                    rows.push(cells);
                }
                return;
            }
            Kind::List(_) | Kind::Transparent => return,
            _ => {}
        }
        let Some(slot) = slot else {
            // An item that is no element of its own (in a quote) keeps its box in the text.
            let text = match kind {
                Kind::Item {
                    checked: Some(checked),
                    ..
                } => format!("[{}] {text}", if checked { 'x' } else { ' ' }),
                _ => text,
            };
            self.absorb(&text, end);
            return;
        };
        let span_end = match kind {
            Kind::Item { .. } => own_end.unwrap_or(end),
            _ => end,
        };
        let span = trim_span(self.markdown, start, span_end);
        let element = match kind {
            Kind::Heading(level) => self.heading(level, text, span),
            Kind::Paragraph(state) if state.images == 1 && !state.other_text => {
                Some(Element::new(ElementKind::Image, state.alt.trim(), span))
            }
            Kind::Paragraph(_) | Kind::Html | Kind::Quote => {
                let kind = match kind {
                    Kind::Quote => ElementKind::Quote,
                    _ => ElementKind::Paragraph,
                };
                (!text.is_empty()).then(|| Element::new(kind, text, span))
            }
            Kind::Item {
                depth,
                ordered,
                checked,
            } => (!text.is_empty()).then(|| Element {
                depth: Some(depth),
                ordered: Some(ordered),
                checked,
                ..Element::new(ElementKind::ListItem, text, span)
            }),
            Kind::Code(language) => (!text.is_empty()).then(|| Element {
                language,
                ..Element::new(ElementKind::Code, text, span)
            }),
            Kind::Table(rows) => (!rows.is_empty()).then(|| Element {
                rows: Some(rows),
                ..Element::new(ElementKind::Table, text, span)
            }),
            Kind::Row(_) | Kind::Cell | Kind::List(_) | Kind::Transparent => None,
        };
        if let Some(mut element) = element {
            if element.kind != ElementKind::Heading {
                element.section = self.section();
            }
            if let Some(place) = self.slots.get_mut(slot) {
                *place = Some(element);
            }
        }
        // Text of the enclosing item after this block (a code block in a tight item) is not
        // glued to its text before it.
        if let Some(parent) = self.text_frame() {
            end_line(&mut parent.text);
        }
    }

    /// Builds a heading element and updates the headings in force.
    fn heading(&mut self, level: u8, text: String, span: [usize; 2]) -> Option<Element> {
        let section = self.sections.enter(level, &text);
        (!text.is_empty()).then(|| Element {
            level: Some(level),
            section,
            ..Element::new(ElementKind::Heading, text, span)
        })
    }

    /// Texts of the headings in force, outermost first.
    fn section(&mut self) -> Vec<String> {
        self.sections.path()
    }

    /// Appends an absorbed block's text to the enclosing block, one block per line.
    fn absorb(&mut self, text: &str, end: usize) {
        if text.is_empty() {
            return;
        }
        if let Some(parent) = self.text_frame() {
            end_line(&mut parent.text);
            parent.text.push_str(text);
            // Inline text after it (a tight item's after its heading) starts a line.
            end_line(&mut parent.text);
            parent.own_end = Some(end);
        }
    }
}

/// Ends the last line of `text`, if it has one that is not ended.
fn end_line(text: &mut String) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
}

/// Whether `c` is Chinese or Japanese (or their punctuation), written without spaces.
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x30FF       // CJK punctuation, Hiragana, Katakana
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF00..=0xFF60     // full-width forms
        | 0x20000..=0x3FFFF) // CJK extensions B and later
}

/// The language named by a code fence's info string: its first word, without attribute
/// braces or comma-separated flags (`rust,ignore` → `rust`, `{.python}` → `python`).
fn language(info: &str) -> Option<String> {
    let word = info
        .trim_start()
        .trim_start_matches(['{', '.'])
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '{' | '}'))
        .next()
        .unwrap_or("");
    (!word.is_empty()).then(|| word.to_string())
}

/// `start..end` narrowed to exclude surrounding whitespace (clamped to `text`).
fn trim_span(text: &str, start: usize, end: usize) -> [usize; 2] {
    let end = end.min(text.len());
    let start = start.min(end);
    match text.get(start..end) {
        Some(slice) => {
            let lead = slice.len() - slice.trim_start().len();
            let trimmed = slice.trim().len();
            [start + lead, start + lead + trimmed]
        }
        None => [start, end],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inline markup is bounded like elements are: pulldown-cmark holds hundreds of bytes for
    /// each span, and one paragraph of `*a* ` took 110 times its size in memory. Code in
    /// fences is no markup.
    #[test]
    fn a_document_of_more_inline_markup_than_the_most_is_refused() {
        let over = "*a* ".repeat(MAX_INLINE_MARKUP / 2 + 1);
        let err = parse(over).unwrap_err();
        assert!(
            err.to_string().contains("characters of inline markup"),
            "{err}"
        );
        let code = format!("```\n{}\n```\n\n*a*\n", "*a* ".repeat(MAX_INLINE_MARKUP));
        assert_eq!(inline_markup(&code), 2);
        let tilde = format!("~~~~ rust\n{}\n~~~\n~~~~\n*b*\n", "<&>".repeat(10));
        assert_eq!(inline_markup(&tilde), 2, "a shorter fence closes nothing");
        assert_eq!(inline_markup("a `b` [c](d) \\* e_f &amp;\n"), 7);
        // Not markup: a word's underscores, a query's `&`, indented code, a lone `!`.
        assert_eq!(inline_markup("my_func_name(x) at ?a=1&b=2 now!\n"), 0);
        assert_eq!(inline_markup("text\n\n    *p = a[i] & b;\n    x<y\n"), 0);
        // Indented lines in a list item or footnote are its text, and a code span of three
        // backticks opens no fence: counted.
        assert_eq!(inline_markup("- item\n\n    *a*\n"), 2);
        assert_eq!(inline_markup("1. item\n\n  more\n\n    *a*\n"), 2);
        assert_eq!(
            inline_markup("[^1]: note\n\n    *a*\n"),
            4,
            "its brackets too"
        );
        assert_eq!(
            inline_markup("- item\n\nafter\n\n    *a*\n"),
            0,
            "code again"
        );
        assert_eq!(inline_markup("```x```\n*a*\n"), 8);
        assert_eq!(inline_markup("_emphasis_ and ~~gone~~ ![img](x)\n"), 9);
    }

    fn elements(md: &str) -> Vec<Element> {
        parse(md.to_string()).unwrap().elements
    }

    #[test]
    fn headings_and_sections() {
        let els = elements(
            "# A\n\nintro\n\n## B\n\nb text\n\n### C\n\nc text\n\n## D\n\nd text\n\n# E\n\ne text\n",
        );
        let got: Vec<(ElementKind, &str, Vec<&str>)> = els
            .iter()
            .map(|e| {
                let section = e.section.iter().map(String::as_str).collect();
                (e.kind, e.text.as_str(), section)
            })
            .collect();
        use ElementKind::{Heading as H, Paragraph as P};
        assert_eq!(
            got,
            vec![
                (H, "A", vec![]),
                (P, "intro", vec!["A"]),
                (H, "B", vec!["A"]),
                (P, "b text", vec!["A", "B"]),
                (H, "C", vec!["A", "B"]),
                (P, "c text", vec!["A", "B", "C"]),
                (H, "D", vec!["A"]),
                (P, "d text", vec!["A", "D"]),
                (H, "E", vec![]),
                (P, "e text", vec!["E"]),
            ]
        );
        assert_eq!(els[4].level, Some(3));
    }

    #[test]
    fn setext_headings_and_inline_markup() {
        let els = elements(
            "Title *with* `code`\n===\n\nSome **bold** [link](http://x) text\nwrapped  \nhard\n",
        );
        assert_eq!(els[0].kind, ElementKind::Heading);
        assert_eq!(els[0].level, Some(1));
        assert_eq!(els[0].text, "Title with code");
        assert_eq!(els[1].text, "Some bold link text wrapped\nhard");
    }

    #[test]
    fn nested_lists() {
        let els = elements("- one\n- two\n  1. two.a\n  2. two.b\n     - deep\n- three\n\n3. x\n");
        let got: Vec<(&str, u32, bool)> = els
            .iter()
            .map(|e| {
                assert_eq!(e.kind, ElementKind::ListItem);
                (e.text.as_str(), e.depth.unwrap(), e.ordered.unwrap())
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("one", 0, false),
                ("two", 0, false),
                ("two.a", 1, true),
                ("two.b", 1, true),
                ("deep", 2, false),
                ("three", 0, false),
                ("x", 0, true),
            ]
        );
        let md = "- one\n- two\n  1. two.a\n";
        let els = elements(md);
        assert_eq!(&md[els[1].span[0]..els[1].span[1]], "- two");
    }

    #[test]
    fn loose_list_items_with_code_and_tasks() {
        let md = "1. First para\n\n   second para\n\n   ```sh\n   ls\n   ```\n\n2. [x] done\n";
        let els = elements(md);
        assert_eq!(els[0].kind, ElementKind::ListItem);
        assert_eq!(els[0].text, "First para\nsecond para");
        assert_eq!(els[1].kind, ElementKind::Code);
        assert_eq!(els[1].text, "ls");
        assert_eq!(els[1].language.as_deref(), Some("sh"));
        assert_eq!(els[2].text, "done");
        assert_eq!(els[2].ordered, Some(true));
        assert_eq!(els[2].checked, Some(true));
        assert_eq!(els[0].checked, None);
    }

    /// Task items keep their box's state; a nested plain item under a task is no task.
    #[test]
    fn task_items_are_checked_or_not() {
        let els = elements(
            "- [ ] open
- [X] done
  - plain
- [x]not a task
",
        );
        let states: Vec<_> = els.iter().map(|e| (e.text.as_str(), e.checked)).collect();
        assert_eq!(
            states,
            [
                ("open", Some(false)),
                ("done", Some(true)),
                ("plain", None),
                ("[x]not a task", None)
            ]
        );
    }

    /// A task in a quote is part of the quote's text, box and all.
    #[test]
    fn a_task_in_a_quote_keeps_its_box_in_the_quote_text() {
        let els = elements("> - [x] done\n> - [ ] open\n> - plain\n");
        assert_eq!(els.len(), 1, "{els:#?}");
        assert_eq!(els[0].kind, ElementKind::Quote);
        assert_eq!(els[0].text, "[x] done\n[ ] open\nplain");
    }

    /// A tight item's text after a heading or a code block in it starts a line: it was glued
    /// to the text before (`InstallRun the installer.`, `attribute:Per the spec`).
    #[test]
    fn text_after_a_block_in_an_item_is_not_glued() {
        let md = "- ## Install\n  Run the installer.\n- The data from the attribute:\n  ```js\n  import foo;\n  ```\n  Per the spec, hosts fail.\n";
        let items: Vec<String> = elements(md)
            .into_iter()
            .filter(|e| e.kind == ElementKind::ListItem)
            .map(|e| e.text)
            .collect();
        assert_eq!(
            items,
            [
                "Install\nRun the installer.",
                "The data from the attribute:\nPer the spec, hosts fail."
            ]
        );
    }

    /// A line wrapped between Chinese or Japanese characters joins them without a space (a
    /// space came between them); other wrapped lines join with one.
    #[test]
    fn wrapped_cjk_lines_join_without_a_space() {
        let texts: Vec<String> =
            elements("这是第一行中文文本\n这是第二行。\n\nLatin\nwords and 日本\ntext\n")
                .into_iter()
                .map(|e| e.text)
                .collect();
        assert_eq!(
            texts,
            [
                "这是第一行中文文本这是第二行。",
                "Latin words and 日本 text"
            ]
        );
    }

    #[test]
    fn tables() {
        let md = "| Name | Qty |\n|------|----:|\n| *apple* | 3 |\n| pear | |\n";
        let els = elements(md);
        assert_eq!(els.len(), 1);
        let table = &els[0];
        assert_eq!(table.kind, ElementKind::Table);
        assert_eq!(
            table.rows.as_ref().unwrap(),
            &vec![
                vec!["Name".to_string(), "Qty".into()],
                vec!["apple".into(), "3".into()],
                vec!["pear".into(), "".into()],
            ]
        );
        assert_eq!(table.text, "Name | Qty\napple | 3\npear | ");
        assert_eq!(table.span, [0, md.trim_end().len()]);
    }

    #[test]
    fn code_blocks() {
        let md = "```rust,ignore\nfn main() {\n    x();\n}\n```\n\n    indented\n    code\n\n~~~ {.python title=x}\nprint()\n~~~\n\n```\n```\n";
        let els = elements(md);
        assert_eq!(els.len(), 3, "{els:#?}");
        assert_eq!(els[0].language.as_deref(), Some("rust"));
        assert_eq!(els[0].text, "fn main() {\n    x();\n}");
        assert_eq!(els[1].language, None);
        assert_eq!(els[1].text, "indented\ncode");
        assert_eq!(els[2].language.as_deref(), Some("python"));
        assert!(els.iter().all(|e| e.kind == ElementKind::Code));
    }

    #[test]
    fn quotes_images_and_html() {
        let md = "> quoted *text*\n> more\n>\n> - item\n\n![Alt text](a.png)\n\nSee ![icon](i.png) here\n\n[![badge](b.svg)](http://x)\n\n<div align=\"center\">\n  <b>Centered</b>\n</div>\n\n<!-- comment -->\n\nfootnote[^1]\n\n[^1]: The note.\n";
        let els = elements(md);
        let got = kinds_and_texts(&els);
        assert_eq!(
            got,
            vec![
                (ElementKind::Quote, "quoted text more\nitem"),
                (ElementKind::Image, "Alt text"),
                (ElementKind::Paragraph, "See icon here"),
                (ElementKind::Image, "badge"),
                (ElementKind::Paragraph, "Centered"),
                (ElementKind::Paragraph, "footnote[1]"),
                (ElementKind::Paragraph, "The note."),
            ]
        );
    }

    #[test]
    fn html_blocks_and_breaks_keep_word_boundaries() {
        let md = "<table><tr><th>Name</th><th>Age</th></tr><tr><td>Alice</td><td>30</td></tr></table>\n\n<ul><li>one</li><li>two</li></ul>\n\n<p>First para.</p><p>Second para.</p>\n\nInline a<br>b, c <br/>d and <b>bold</b>ly.\n";
        let got: Vec<String> = elements(md).into_iter().map(|e| e.text).collect();
        assert_eq!(
            got,
            [
                "Name Age Alice 30",
                "one two",
                "First para. Second para.",
                "Inline a\nb, c\nd and boldly."
            ]
        );
    }

    /// A `<pre>` block (a README's `tree` listing, a function) is a code block with its lines
    /// and indentation, as the HTML parser reads it: it was a paragraph, its whitespace
    /// collapsed and its Markdown full of backslashes.
    #[test]
    fn an_html_pre_block_is_a_code_block() {
        let md = "# Output\n\n<pre>\n$ tree\n.\n├── src\n│   └── main.rs\n└── Cargo.toml\n</pre>\n\n\
                  <pre><code class=\"language-rust\">fn main() {\n    println!(&quot;hi&quot;);\n}\n</code></pre>\nafter\n";
        let parsed = parse(md.to_string()).unwrap();
        assert_eq!(
            parsed.markdown,
            "# Output\n\n```\n$ tree\n.\n├── src\n│   └── main.rs\n└── Cargo.toml\n```\n\n\
             ```rust\nfn main() {\n    println!(\"hi\");\n}\n```\nafter\n"
        );
        let got: Vec<(ElementKind, &str, Option<&str>)> = parsed
            .elements
            .iter()
            .map(|e| (e.kind, e.text.as_str(), e.language.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (ElementKind::Heading, "Output", None),
                (
                    ElementKind::Code,
                    "$ tree\n.\n├── src\n│   └── main.rs\n└── Cargo.toml",
                    None
                ),
                (
                    ElementKind::Code,
                    "fn main() {\n    println!(\"hi\");\n}",
                    Some("rust")
                ),
                (ElementKind::Paragraph, "after", None),
            ]
        );
    }

    /// Each element's kind and text.
    fn kinds_and_texts(elements: &[Element]) -> Vec<(ElementKind, &str)> {
        (elements.iter())
            .map(|e| (e.kind, e.text.as_str()))
            .collect()
    }

    /// A `<pre>` in a list item or a quote is a code block there too, each line led by the
    /// container's markers (it stayed raw HTML, `<pre>` and all, and the item's text lost its
    /// indentation); so are other HTML blocks over several lines, their text a line per block.
    #[test]
    fn an_html_pre_block_in_a_list_item_or_a_quote_is_a_code_block() {
        let md = "- item one\n\n  <pre>\n  line 1\n      indented 2\n  </pre>\n\n\
                  > quote\n>\n> <pre>\n> q 1\n>     q 2\n> </pre>\n\n\
                  - item\n  <div>\n  <p>para one</p>\n  </div>\n";
        let parsed = parse(md.to_string()).unwrap();
        assert_eq!(
            parsed.markdown,
            "- item one\n\n  ```\n  line 1\n      indented 2\n  ```\n\n\
             > quote\n>\n> ```\n> q 1\n>     q 2\n> ```\n\n\
             - item\n  para one\n"
        );
        let got = kinds_and_texts(&parsed.elements);
        assert_eq!(
            got,
            [
                (ElementKind::ListItem, "item one"),
                (ElementKind::Code, "line 1\n    indented 2"),
                (ElementKind::Quote, "quote\nq 1\n    q 2"),
                (ElementKind::ListItem, "item para one"),
            ]
        );
    }

    /// Raw HTML never shown (`<noscript>`, `<template>`, a `display:none` span) is no text,
    /// as in the HTML parser (it leaked into paragraphs); an `<img>`'s alt text is an image
    /// (a README's centred logo lost it).
    #[test]
    fn hidden_html_goes_and_images_keep_their_alt_text() {
        let md = "# Doc\n\n<p align=\"center\"><img src=\"logo.png\" alt=\"Acme logo\"></p>\n\n\
                  <noscript>Enable JavaScript NOSCRIPT</noscript>\n<template>TEMPLATE</template>\n\n\
                  Text with inline <span style=\"display:none\">HIDDEN <b>bold</b></span> html.\n\n\
                  <div>\nshown <span hidden>HIDDEN</span>\n<template><p>TEMPLATE</p></template>\n</div>\n\n\
                  Badges: <a href=\"x\"><img alt=\"CI\" src=\"ci.svg\"></a> and <span hidden>open\n\n\
                  never closed</span>\n";
        let parsed = parse(md.to_string()).unwrap();
        let got = kinds_and_texts(&parsed.elements);
        assert_eq!(
            got,
            [
                (ElementKind::Heading, "Doc"),
                (ElementKind::Image, "Acme logo"),
                (ElementKind::Paragraph, "Text with inline html."),
                (ElementKind::Paragraph, "shown"),
                (ElementKind::Paragraph, "Badges: CI and open"),
                (ElementKind::Paragraph, "never closed"),
            ]
        );
        assert!(parsed.markdown.contains("![Acme logo](logo.png)"));
        assert!(parsed.markdown.contains("<a href=\"x\">![CI](ci.svg)</a>"));
    }

    /// A `<br>` is a hard break, as the HTML parser renders one: in the Markdown and as a line
    /// break in the element's text; in a table cell or a heading, a space; in code, text.
    #[test]
    fn br_is_a_hard_break_as_in_html() {
        let md = "# Head<br>line\n\nACME Corp<br>12 Main Street<BR/>\nSpringfield<br />\n\n\
                  - first<br>second\n- `a<br>b` code<br>- not a list\n\n\
                  > Roses are red<br>Violets are blue\n\n\
                  | k | v |\n| - | - |\n| a<br>b | `c<br>d` |\n\n\
                  ```html\n<p>x<br>y</p>\n```\n";
        let parsed = parse(md.to_string()).unwrap();
        assert_eq!(
            parsed.markdown,
            "# Head line\n\nACME Corp  \n12 Main Street  \nSpringfield  \n\n\
             - first  \n  second\n- `a<br>b` code  \n  \\- not a list\n\n\
             > Roses are red  \n> Violets are blue\n\n\
             | k | v |\n| - | - |\n| a b | `c<br>d` |\n\n\
             ```html\n<p>x<br>y</p>\n```\n"
        );
        let texts: Vec<&str> = parsed.elements.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Head line",
                "ACME Corp\n12 Main Street\nSpringfield",
                "first\nsecond",
                "a<br>b code\n- not a list",
                "Roses are red\nViolets are blue",
                "k | v\na b | c<br>d",
                "<p>x<br>y</p>",
            ]
        );
        assert_eq!(
            parsed.elements[5].rows,
            Some(vec![
                vec!["k".to_string(), "v".to_string()],
                vec!["a b".to_string(), "c<br>d".to_string()]
            ])
        );
        // Rendered as the HTML parser renders the same text.
        let html = super::super::html::parse(
            b"<p>ACME Corp<br>12 Main Street<br/>\nSpringfield</p><table><tr><th>k</th><th>v</th></tr><tr><td>a<br>b</td><td>c</td></tr></table>",
        )
        .unwrap();
        assert!(
            html.markdown
                .starts_with("ACME Corp  \n12 Main Street  \nSpringfield\n\n| k | v |\n| --- | --- |\n| a b | c |"),
            "{:?}",
            html.markdown
        );
    }

    #[test]
    fn front_matter_is_removed_from_markdown() {
        let parsed = parse("---\ntitle: T\n---\n# Body\n\nText\n".to_string()).unwrap();
        assert_eq!(parsed.markdown, "# Body\n\nText\n");
        assert_eq!(parsed.metadata["title"], "T");
        assert_eq!(parsed.elements[0].span, [0, 6]);
    }

    #[test]
    fn spans_cover_element_text() {
        let md = "# Über *uns*\n\nCafé  \n   au lait — ünïcödé.\n\n- a\n- b\n\n> q\n";
        let els = elements(md);
        for e in &els {
            let slice = &md[e.span[0]..e.span[1]];
            assert_eq!(slice, slice.trim(), "{e:?}");
            if e.kind == ElementKind::Paragraph {
                for word in e.text.split_whitespace() {
                    assert!(slice.contains(word), "{word} not in {slice:?}");
                }
            }
        }
        assert_eq!(&md[els[0].span[0]..els[0].span[1]], "# Über *uns*");
        assert_eq!(els[1].text, "Café\nau lait — ünïcödé.");
    }

    /// A list item's span ended with its text, before the markup closing it (`](#faq)`,
    /// `**`): a chunk cut at the item's end left that markup to the next chunk.
    #[test]
    fn list_item_spans_end_after_closing_inline_markup() {
        let md = "- [FAQ](#faq)\n- **Note**\n- see ![a chart](c.png)\n- `code`\n- a\n  - [b](#b)\n";
        let els = elements(md);
        let spans: Vec<&str> = els.iter().map(|e| &md[e.span[0]..e.span[1]]).collect();
        assert_eq!(
            spans,
            [
                "- [FAQ](#faq)",
                "- **Note**",
                "- see ![a chart](c.png)",
                "- `code`",
                "- a",
                "- [b](#b)",
            ]
        );
    }

    #[test]
    fn empty_blocks_are_skipped() {
        assert!(elements("").is_empty());
        assert!(elements("#\n\n---\n\n-\n\n<!-- x -->\n").is_empty());
    }

    /// Found by fuzzing: opening a list item or any block walked the whole stack of open
    /// blocks, so deep nesting cost quadratic time (`- ` 40 000 times: 22 s in a debug build).
    #[test]
    fn deep_nesting_takes_linear_time() {
        let started = std::time::Instant::now();
        for (unit, kind) in [
            ("- ", ElementKind::ListItem),
            ("1. ", ElementKind::ListItem),
            ("> - ", ElementKind::Quote),
        ] {
            let els = elements(&(unit.repeat(100_000) + "x\n"));
            assert_eq!(els.len(), 1, "{unit:?}");
            assert_eq!((els[0].kind, els[0].text.as_str()), (kind, "x"), "{unit:?}");
        }
        let deepest = elements(&("- ".repeat(100_000) + "x\n")).remove(0);
        assert_eq!(deepest.depth, Some(99_999));
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }
}
