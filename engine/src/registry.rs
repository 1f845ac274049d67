//! The explicit registry of operators: names, roles, port types and settings.
//!
//! One enum of operator configs gives deserialization; one table gives, for each operator name,
//! what it takes and emits and how to describe its settings in the JSON Schema.

use std::fmt;

use std::path::{Path, PathBuf};

use operators::chunk::{
    ByHeadingConfig, ByPageConfig, RecursiveConfig, SemanticConfig, SmartConfig, Unit,
};
use operators::embed::EmbedConfig;
use operators::index::IndexConfig;
use operators::parse::ParseConfig;
use operators::sink::JsonlSinkConfig;
use operators::source::{FilesConfig, JsonlConfig};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// The type of the items on an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ItemType {
    /// A raw document from a source.
    Document,
    /// A parsed document.
    Parsed,
    /// The chunks of one document.
    Chunks,
    /// The chunks of one document with a vector each.
    Embedded,
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ItemType::Document => "Document",
            ItemType::Parsed => "Parsed",
            ItemType::Chunks => "Chunks",
            ItemType::Embedded => "Embedded",
        })
    }
}

/// What an operator accepts on its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// Nothing: the operator is a source.
    Nothing,
    /// Items of one type.
    One(ItemType),
    /// Items of any type (sinks that write whatever they get).
    Any,
}

impl Accepts {
    /// Whether an edge carrying `item` may enter.
    pub fn admits(self, item: ItemType) -> bool {
        match self {
            Accepts::Nothing => false,
            Accepts::One(wanted) => wanted == item,
            Accepts::Any => true,
        }
    }
}

impl fmt::Display for Accepts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Accepts::Nothing => f.write_str("nothing"),
            Accepts::One(item) => item.fmt(f),
            Accepts::Any => f.write_str("any item"),
        }
    }
}

/// Everything the engine knows about an operator before reading its settings.
#[derive(Debug)]
pub struct OperatorInfo {
    /// The name used as `op:` in pipeline files.
    pub name: &'static str,
    /// One line for people.
    pub summary: &'static str,
    /// What it takes.
    pub accepts: Accepts,
    /// What it emits; `None` for sinks.
    pub emits: Option<ItemType>,
    /// Whether `parallelism` applies (transforms run several workers; sources and sinks one).
    pub parallel: bool,
    /// The schema of its settings.
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// The version of its behaviour; bumping it invalidates its checkpoints.
    pub version: u32,
}

impl OperatorInfo {
    /// Whether the operator reads no input.
    pub fn is_source(&self) -> bool {
        self.accepts == Accepts::Nothing
    }
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    T::json_schema(generator)
}

/// The version of the chunking operators' output (`chunk.recursive` is one ahead: it began one
/// change earlier). Its history:
/// 5: a heading right before an own-chunk table leads it; a cut inside a sentence leaves no
///    tiny tail; a break just past the fitting end (after whitespace) fits.
/// 6: `sections`, every section path a chunk covers when more than its `section`.
/// 7: runs without spaces are cut into full chunks (a 1,024-byte window's edge was taken for a
///    sentence end), between grapheme clusters; overlap goes rather than cutting a word that
///    fits without it, is taken in CJK text, and stops where the section changes; no cut
///    right before a code block's closing fence; overlap in code starts at a line; overlap
///    goes where it leaves room for only a little new text; no cut right after an opening
///    fence.
/// 8: a run of words without letters (a grid table's rules) is a sentence segment of its own;
///    a list item's number (`2.`) ends no sentence; a chunk under `min_size` merges with a
///    neighbour it overlaps.
/// 9: a grapheme cluster of up to 256 bytes is never cut (64 before: a letter under 60 marks
///    was).
/// 10: overlap never leaves a code block (it could be a closing fence alone), and goes rather
///    than cut a code block that fits without it; with `context_header`, header and text are
///    within `size` together; a CJK ideograph or kana starts a word for breaks too, so a heading
///    keeps its content's first words in CJK text; rows of empty cells take whole rows along
///    (never a row's last cells), repeat no header rows, and are left out when none fits;
///    overlap starts at a line or sentence start that leaves at least half of it; `by_page`
///    and `smart` see a page change inside a paragraph that goes on to the next page;
///    `semantic` groups of fewer than 4 words join a neighbour, and no group ends after a
///    sentence ending in `:`; a table's caption ("Table 9.6. …") leads it as its headings do;
///    a chunk that starts in code keeps its first line's indentation.
/// 11: sizes in words count no CJK punctuation (`北京。` is two words), count half-width
///    katakana as kana, one word each, a kana's voicing mark written apart as part of it, and
///    々 〆 〇 as words; a heading's marker is never a chunk of its own.
/// 12: text without a capital letter (a lower-cased corpus, a transcript) has sentences: one
///    starts at a lower-case word after `.`, `!` or `?`, but not after an abbreviation, an
///    initial, `e.g.`, an ellipsis or a list item's number.
/// 13: a table's title (one short line that is no sentence, "Hardness of grade SNB22-3")
///    leads it, with the headings it is the first content of; a caption set under a table
///    ("Table 3.1: Gfem Keywords") ends it, unless another table follows the caption; a
///    chunk at least half full ends where a section begins in it (it ended with the heading
///    and first words, which the next chunk repeated); `smart` picks `by_page` only with fewer
///    than 2 headings or at most one per 4 pages (a manual with a heading every page or two
///    was chunked by page, its sentences cut at page ends); `semantic` ends no group inside a
///    sentence (before a line's run of figures without letters, a segment of its own);
///    `embed_text` holds what links and images show, not their targets.
/// 14: a line of code's indentation is no new text: no chunk lies inside its neighbour or ends
///    with white space, and the indentation goes where it would cut the line's first word that
///    fits without it.
/// 15: `embed_text` leaves out link markup found in the whole document: a chunk that begins
///    inside a link (its overlap) or inside a code block embedded the URLs after that point.
/// 16: overlap starts after a link or image it would begin inside: such a chunk's `text`
///    opened with the link's broken end (`value](https://…)`); `embed_text` reads backslash
///    escapes as what they escape; a grapheme cluster over 256 bytes is cut to `size` (it was
///    cut into pieces of 256 bytes, over a smaller `size`).
/// 17: in tokens, a token over 100 characters counts once per 101, its last piece up to twice
///    that (a piece of 100 or fewer alone in a chunk is a word the model splits into many
///    tokens: a chunk counted at `size` was cut off before embedding); `by_heading`'s fallback
///    says when headings make one section, where it said there were none.
const CHUNKERS_VERSION: u32 = 17;

/// Every operator, in the order the documentation lists them.
pub const OPERATORS: &[OperatorInfo] = &[
    OperatorInfo {
        name: "source.files",
        summary: "the files below a folder, filtered by globs",
        accepts: Accepts::Nothing,
        emits: Some(ItemType::Document),
        parallel: false,
        schema: schema_of::<FilesConfig>,
        version: 1,
    },
    OperatorInfo {
        name: "source.jsonl",
        summary: "one document per line of a JSON Lines file",
        accepts: Accepts::Nothing,
        emits: Some(ItemType::Document),
        parallel: false,
        schema: schema_of::<JsonlConfig>,
        version: 1,
    },
    OperatorInfo {
        name: "parse",
        summary: "documents into structure (headings, lists, tables, code) and Markdown",
        accepts: Accepts::One(ItemType::Document),
        emits: Some(ItemType::Parsed),
        parallel: true,
        schema: schema_of::<ParseConfig>,
        // 2: PDF paragraphs joined over page breaks, with where they continue.
        // 3: Markdown front matter read as YAML (lists, mappings, numbers, folded text).
        // 4: HTML/DOCX line breaks (`<br>`, `w:br`) rendered as Markdown hard breaks; a line
        //    break in HTML source is a space.
        // 5: front matter read line by line (not valid YAML) warns of a repeated key, and a
        //    later empty value leaves the key out, as in YAML; `<br>` in Markdown is a hard
        //    break (a space in table cells and headings), as in HTML.
        //    PDF running headers and footers told from body text (table rows at page ends, a
        //    paragraph's line at two pages' edges, the first page's table header are kept);
        //    CJK fonts in predefined Unicode CMaps (`UniGB-UCS2-H`…) decoded; U+2010 hyphens
        //    at line ends joined; ligatures (U+FB00–FB06) as letters; placeholder titles
        //    (`untitled`, `(anonymous)`) give way to the first heading.
        //    HTML pages without furniture taken whole, footnotes kept with the article (outside
        //    its sections) and note references as `[n]`; rowspans, header rows joined, a
        //    quote's footer; DOCX note numbers as Word shows them, code blocks, heading
        //    numbers, nested list styles, Title-based styles, symbols, text boxes, no TOC.
        // 6: PDF pages in two columns of running text read column by column, not as tables;
        //    short lines under columns that end together read after the columns; a
        //    paragraph cut mid-sentence at a column's foot goes on in the next column;
        //    justified lines spaced wider than a word gap are one line.
        // 7: task-list items keep their check boxes (`- [x]`, element `checked`) from
        //    Markdown, HTML and DOCX; DOCX single-cell tables are their text, a caption
        //    repeating it is dropped, Wingdings check marks and boxes are read.
        //    PDF list items: a marker drawn with its own space (`1. `) is a word of its own;
        //    lettered and roman labels in sequence, a label column beside text read as a list,
        //    not a table; right-to-left paragraphs kept apart. PDF tables ruled with drawn
        //    lines read cell by cell from the grid (cells with thin padding kept apart, a bold
        //    header row a table row, merged cells once). PDF tables ruled with horizontal
        //    lines alone (booktabs, a rule under every row) read by the columns their text
        //    leaves gaps for, the header the row between the first two lines. PDF blocks one
        //    under another at different indents (a centred table between short paragraphs)
        //    read top to bottom, not as columns. DOCX frames holding a table or heading stay
        //    tables, a caption above a frame is not repeated, Wingdings run text read for
        //    check boxes. PDF right-to-left lines read mirrored: a line ragged at its left end
        //    goes on. PDF label columns from any value, two-digit labels in their own type kept
        //    apart, nested label columns (an outer list resumes; an item of only a sublist is
        //    `2.`). PDF ruled tables whose cells have no padding (text touching the lines) read
        //    cell by cell; a ruled table nested in a ruled table's cell is that cell's text.
        //    A right-to-left PDF table's first column is its rightmost.
        //    A first column going on after a paragraph break where the next column ends is
        //    read whole before it (its rest was taken for lines under both columns).
        // 8: HTML quotes keep their blocks (lists, paragraphs apart, code) as Markdown inside
        //    the quote; a task in a quote keeps its box in the quote's text; a list item of
        //    only a check box (or nothing) and a nested list keeps its marker, its nested
        //    items under it. PDF: a line under balanced columns as wide as the first
        //    column is its text (a paragraph going on at the next column's top), not a tail.
        //    PDF text set in a quarter or half turn (a landscape page turned back by
        //    `/Rotate`, a table set sideways) read upright; it was left out. DOCX runs in
        //    Symbol (on the run or its styles) read as Greek and math, Wingdings 2 boxes and
        //    marks read, a list level with a box bullet in Wingdings is a task list. PDF
        //    right-to-left ligatures keep their letters' order (`الأولى`, not `األولى`), and
        //    Arabic presentation forms read as standard letters. PDF tables ruled under their
        //    header alone read cell by cell; a first cell wrapped onto a line of its own stays
        //    in its row (a group label stays a row). PDF lines centred between running text
        //    (displayed formulas) are blocks of their own; compact unruled tables whose columns
        //    stand a word space apart or less read row by row (thin gutters that stay put).
        //    PDF pages the glyph limit emptied are not called scanned; the limit's warning
        //    comes first.
        // 9: PDF exponents, indices and citation numbers drawn right after their text stay in
        //    its line (`m2`, `H2O`, `et al.12`), and a raised footnote marker opens its line;
        //    they stood on lines of their own and broke the paragraph around them in two. A
        //    raised marker opening a line in type smaller than the body's starts a footnote.
        // 10: DOCX: tracked formatting changes keep the current properties; hidden text, field
        //    instructions, table-of-contents fields and placeholder text are dropped; deleted
        //    paragraph marks join paragraphs and deleted rows go; `gridBefore`/`gridAfter`
        //    cells; fractions `a/b`, ruby base text, Wingdings arrows, positional tabs; items
        //    counted in letters or roman numerals keep their label; `w:isLgl` labels; call-out
        //    boxes keep their lists; custom note marks; unreferenced notes go; parts read in
        //    their declared encoding; imported HTML (`w:altChunk`) read in place. HTML:
        //    headings are never furniture by class, nor sections titled by their heading's
        //    slug; Sphinx footnotes (`<aside>`) kept with their numbers; wiki `[edit]` links
        //    and soft hyphens dropped; code in a list item a code block after it; text after a
        //    nested list is not glued; reversed lists count down; BOM-less UTF-16 CJK pages;
        //    formulas as TeX (KaTeX, MathJax, Wikipedia) or MathML on a line; `<tfoot>` last;
        //    a headline in a wrapper before the main content kept. Markdown: a tight item's
        //    text after a heading or code block not glued; script and style content dropped;
        //    an HTML heading block a heading; wrapped CJK lines joined without a space; UTF-8
        //    with stray bytes stays UTF-8; TOML front matter. HTML: MediaWiki's reference
        //    backlinks (`^`) dropped.
        // 11: `debug.stats` no longer holds the parse time (`ms`), so identical inputs give
        //    identical outputs; `engine inspect` tells each step's time per document. The
        //    Markdown of HTML and DOCX escapes only what could be markup: no backslash before
        //    an underscore inside a word, a backslash before a letter, a lone tilde, nor block
        //    starts in table cells; a lone `1.` line is escaped. PDF: a page's fonts map at most
        //    2^21 codes through their ToUnicode CMaps (the fonts past it are left out); a
        //    stream whose /Length is wrong or missing is read up to its endstream; headings at
        //    the top of each page that differ only in their numbers are no running headers;
        //    fonts with entries pdf-extract panics on are read without them; a page without
        //    a usable media box is read as US Letter; noncharacters (U+FFFF) are no text.
        // 12: PDF: a line centred over two columns (a paper's author line) is read before
        //    them, not between a column's heading and its text; a section number a quad from
        //    its title (`1 Introduction`, `2.3 Scope`) is one line with it; TeX's and URW's
        //    bold faces (`CMBX12`, `NimbusRomNo9L-Medi`) are bold; a bold phrase of four words
        //    or more opening in lower case is no heading. HTML: a heading's link to itself
        //    (`<a href="#x">#</a>`) is no part of its text. A title from the properties loses
        //    what a printing program added (`Microsoft Word - `, `.doc`); a program's file
        //    name (`10811.exe`) is no title. Markdown of more than 1,000,000 characters of
        //    inline markup is refused. PDF: an accent TeX draws over a letter is its combining
        //    mark (`numérique`, `Oğuz`, not `num´erique`, `O˘guz`). A header that repeats on a
        //    few pages only, where running headers stand on the others (a chapter's), is one.
        //    A hyphen at a line's end after a capital stays (`DBMS-specific`); a web address
        //    broken at a line's end is one word again. A page number alone on its line is
        //    looked for a quarter of the page from the edge (LaTeX's on A4 sits 83% down). A
        //    table of contents' entries set in bold, and the rest of a word broken off before
        //    a bold line, are no headings. A definition list (texinfo's `@table`) reads term
        //    by term, each before its definition.
        // 13: DOCX and HTML: a table at least 8 columns wide with fewer than a third of its
        //    cells holding text (a form laid out on a fine grid, merged cells spanning its
        //    columns) is its rows as paragraphs of the cells that hold text, each named after
        //    the header cell above it when the first row names most columns; as a Markdown
        //    table it was mostly pipes (a 63-column estimate: 93% empty cells). A `README`,
        //    `CHANGELOG` and the like without an extension is read as Markdown when it shows
        //    Markdown's structure (a heading, a fenced code block), not as text.
        // Past 13, each format has a version of its own (`operators::parse::versions`): a
        // change to one format's parsing redoes that format's documents alone. This one
        // stays.
        version: operators::parse::versions::SHARED_VERSION,
    },
    OperatorInfo {
        name: "chunk.recursive",
        summary: "split by structure, paragraphs, sentences and words up to a size",
        accepts: Accepts::One(ItemType::Parsed),
        emits: Some(ItemType::Chunks),
        parallel: true,
        schema: schema_of::<RecursiveConfig>,
        // One ahead of the other chunkers (see `CHUNKERS_VERSION`).
        version: CHUNKERS_VERSION + 1,
    },
    OperatorInfo {
        name: "chunk.by_heading",
        summary: "one chunk per section up to a heading level; large sections split recursively",
        accepts: Accepts::One(ItemType::Parsed),
        emits: Some(ItemType::Chunks),
        parallel: true,
        schema: schema_of::<ByHeadingConfig>,
        version: CHUNKERS_VERSION,
    },
    OperatorInfo {
        name: "chunk.by_page",
        summary: "one chunk per page; large pages split recursively, documents without pages chunked recursively",
        accepts: Accepts::One(ItemType::Parsed),
        emits: Some(ItemType::Chunks),
        parallel: true,
        schema: schema_of::<ByPageConfig>,
        version: CHUNKERS_VERSION,
    },
    OperatorInfo {
        name: "chunk.semantic",
        summary: "split where the embedding similarity of adjacent sentences drops, up to a size",
        accepts: Accepts::One(ItemType::Parsed),
        emits: Some(ItemType::Chunks),
        parallel: true,
        schema: schema_of::<SemanticConfig>,
        version: CHUNKERS_VERSION,
    },
    OperatorInfo {
        name: "chunk.smart",
        summary: "picks recursive, by_heading or by_page per document from its structure",
        accepts: Accepts::One(ItemType::Parsed),
        emits: Some(ItemType::Chunks),
        parallel: true,
        schema: schema_of::<SmartConfig>,
        version: CHUNKERS_VERSION,
    },
    OperatorInfo {
        name: "embed",
        summary: "a vector per chunk from a local ONNX model or an OpenAI-compatible endpoint",
        accepts: Accepts::One(ItemType::Chunks),
        emits: Some(ItemType::Embedded),
        parallel: true,
        schema: schema_of::<EmbedConfig>,
        version: 1,
    },
    OperatorInfo {
        name: "sink.jsonl",
        summary: "write every item as one JSON line",
        accepts: Accepts::Any,
        emits: None,
        parallel: false,
        schema: schema_of::<JsonlSinkConfig>,
        version: 1,
    },
    OperatorInfo {
        name: "index.hybrid",
        summary: "a Tantivy BM25 index plus an HNSW vector graph of the chunks, queried by `engine query`",
        accepts: Accepts::One(ItemType::Embedded),
        emits: None,
        parallel: false,
        schema: schema_of::<IndexConfig>,
        version: 1,
    },
];

/// The operator called `name`.
pub fn lookup(name: &str) -> Option<&'static OperatorInfo> {
    OPERATORS.iter().find(|info| info.name == name)
}

/// What a path in the settings must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// A folder (`source.files`).
    Folder,
    /// A file (`source.jsonl`).
    File,
    /// A Hugging Face `tokenizer.json`, which must load as one.
    Tokenizer,
}

/// How much of a path a step reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadScope {
    /// The file itself.
    File,
    /// The documents below a folder: any file there but a sink's own earlier output.
    Documents,
    /// Everything below a folder (a model's).
    Folder,
}

/// A path a step reads (see [`OperatorConfig::read_paths`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPath {
    /// The step's key that names it (or, for a default, the key it follows from).
    pub key: &'static str,
    /// The path, resolved against the pipeline's folder.
    pub path: PathBuf,
    /// How much of it the step reads.
    pub scope: ReadScope,
}

/// For the settings of a step of operator `op` (its keys but `op`) that do not deserialize: the
/// key at fault, dotted below the step (`size`, `pdf.max_glyphs`) when it can be told, and why.
pub fn settings_error(op: &str, settings: &serde_json::Value) -> Option<(Option<String>, String)> {
    let mut settings = settings.clone();
    if let Some(object) = settings.as_object_mut() {
        object.remove("op");
    }
    match op {
        "source.files" => locate::<FilesConfig>(&settings),
        "source.jsonl" => locate::<JsonlConfig>(&settings),
        "parse" => locate::<ParseConfig>(&settings),
        "chunk.recursive" => locate::<RecursiveConfig>(&settings),
        "chunk.by_heading" => locate::<ByHeadingConfig>(&settings),
        "chunk.by_page" => locate::<ByPageConfig>(&settings),
        "chunk.semantic" => locate::<SemanticConfig>(&settings),
        "chunk.smart" => locate::<SmartConfig>(&settings),
        "sink.jsonl" => locate::<JsonlSinkConfig>(&settings),
        "index.hybrid" => locate::<IndexConfig>(&settings),
        "embed" => {
            // An internally tagged enum hides the path of its fields: read the variant itself.
            let provider = settings.get("provider").and_then(serde_json::Value::as_str);
            let provider = provider.map(str::to_owned);
            if let Some(object) = settings.as_object_mut() {
                object.remove("provider");
            }
            match provider.as_deref() {
                Some("onnx") => locate::<operators::embed::OnnxConfig>(&settings),
                Some("http") => locate::<operators::embed::HttpConfig>(&settings),
                Some("hash") => locate::<operators::embed::hash::HashConfig>(&settings),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Where deserializing `value` as a `T` fails, if it does.
pub fn locate<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Option<(Option<String>, String)> {
    let err = serde_path_to_error::deserialize::<_, T>(value).err()?;
    let path = err.path().to_string();
    let key = (path != "." && !path.is_empty()).then_some(path);
    Some((key, err.into_inner().to_string()))
}

/// The settings of one step, tagged by its operator name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum OperatorConfig {
    /// `source.files`
    #[serde(rename = "source.files")]
    SourceFiles(FilesConfig),
    /// `source.jsonl`
    #[serde(rename = "source.jsonl")]
    SourceJsonl(JsonlConfig),
    /// `parse`
    #[serde(rename = "parse")]
    Parse(ParseConfig),
    /// `chunk.recursive`
    #[serde(rename = "chunk.recursive")]
    ChunkRecursive(RecursiveConfig),
    /// `chunk.by_heading`
    #[serde(rename = "chunk.by_heading")]
    ChunkByHeading(ByHeadingConfig),
    /// `chunk.by_page`
    #[serde(rename = "chunk.by_page")]
    ChunkByPage(ByPageConfig),
    /// `chunk.semantic`
    #[serde(rename = "chunk.semantic")]
    ChunkSemantic(SemanticConfig),
    /// `chunk.smart`
    #[serde(rename = "chunk.smart")]
    ChunkSmart(SmartConfig),
    /// `embed`
    #[serde(rename = "embed")]
    Embed(EmbedConfig),
    /// `sink.jsonl`
    #[serde(rename = "sink.jsonl")]
    SinkJsonl(JsonlSinkConfig),
    /// `index.hybrid`
    #[serde(rename = "index.hybrid")]
    IndexHybrid(IndexConfig),
}

impl OperatorConfig {
    /// The registry entry of this operator.
    pub fn info(&self) -> &'static OperatorInfo {
        let name = match self {
            OperatorConfig::SourceFiles(_) => "source.files",
            OperatorConfig::SourceJsonl(_) => "source.jsonl",
            OperatorConfig::Parse(_) => "parse",
            OperatorConfig::ChunkRecursive(_) => "chunk.recursive",
            OperatorConfig::ChunkByHeading(_) => "chunk.by_heading",
            OperatorConfig::ChunkByPage(_) => "chunk.by_page",
            OperatorConfig::ChunkSemantic(_) => "chunk.semantic",
            OperatorConfig::ChunkSmart(_) => "chunk.smart",
            OperatorConfig::Embed(_) => "embed",
            OperatorConfig::SinkJsonl(_) => "sink.jsonl",
            OperatorConfig::IndexHybrid(_) => "index.hybrid",
        };
        lookup(name).expect("every operator config has a registry entry")
    }

    /// These settings as a step's fingerprint hashes them: an embedding provider's settings
    /// that cannot change a vector (threads, retries, timeouts, …) at their defaults, see
    /// [`EmbedConfig::output_settings`].
    pub fn output_settings(&self) -> std::borrow::Cow<'_, OperatorConfig> {
        use std::borrow::Cow;
        match self {
            OperatorConfig::Embed(config) => {
                Cow::Owned(OperatorConfig::Embed(config.output_settings()))
            }
            OperatorConfig::ChunkSemantic(config) => {
                let mut settings = config.clone();
                settings.embedding = config.embedding.as_ref().map(EmbedConfig::output_settings);
                Cow::Owned(OperatorConfig::ChunkSemantic(settings))
            }
            _ => Cow::Borrowed(self),
        }
    }

    /// Problems with the settings that the schema cannot express, as (key, message) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        match self {
            OperatorConfig::SourceFiles(config) => config.problems(),
            OperatorConfig::SourceJsonl(config) => config.problems(),
            OperatorConfig::ChunkRecursive(config) => config.problems(),
            OperatorConfig::ChunkByHeading(config) => config.problems(),
            OperatorConfig::ChunkByPage(config) => config.problems(),
            OperatorConfig::ChunkSemantic(config) => config.problems(),
            OperatorConfig::ChunkSmart(config) => config.problems(),
            OperatorConfig::Parse(_)
            | OperatorConfig::Embed(_)
            | OperatorConfig::SinkJsonl(_)
            | OperatorConfig::IndexHybrid(_) => Vec::new(),
        }
    }

    /// Problems with what the settings point at (models, libraries) once paths are resolved
    /// against `base`, the pipeline's folder, as (key, message) pairs; a key is dotted below
    /// the step's own (`embedding.model`).
    pub fn resource_problems(&self, base: &Path) -> Vec<(String, String)> {
        self.embedding_check(|config| config.problems(base))
    }

    /// What the environment lacks for the step's embedding provider (an API key variable), as
    /// (key, message) pairs: warnings, since only computing new embeddings needs it.
    pub fn environment_warnings(&self) -> Vec<(String, String)> {
        self.embedding_check(EmbedConfig::environment_warnings)
    }

    /// Settings that are valid but cannot be meant (an empty `include`), as (key, message)
    /// pairs: warnings.
    pub fn setting_warnings(&self) -> Vec<(String, String)> {
        match self {
            OperatorConfig::SourceFiles(config) => (config.warnings().into_iter())
                .map(|(key, message)| (key.to_owned(), message))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What may keep a run from loading the step's embedding model though its settings are
    /// right (a file that is no ONNX model), as (key, message) pairs: warnings.
    pub fn resource_warnings(&self, base: &Path) -> Vec<(String, String)> {
        self.embedding_check(|config| config.resource_warnings(base))
    }

    /// `check` of the step's embedding settings: an embed step's own keys, or a semantic
    /// chunker's `embedding` key, whose keys are named below it (`embedding.base_url`).
    fn embedding_check(
        &self,
        check: impl Fn(&EmbedConfig) -> Vec<(&'static str, String)>,
    ) -> Vec<(String, String)> {
        match self {
            OperatorConfig::Embed(config) => check(config)
                .into_iter()
                .map(|(key, message)| (key.to_owned(), message))
                .collect(),
            OperatorConfig::ChunkSemantic(SemanticConfig {
                embedding: Some(embedding),
                ..
            }) => check(embedding)
                .into_iter()
                .map(|(key, message)| (format!("embedding.{key}"), message))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Files whose contents change what the step outputs (tokenizers, models), paths resolved
    /// against `base`: the step's fingerprint covers their contents.
    pub fn resource_files(&self, base: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self
            .tokenizer_path()
            .map(|path| base.join(path))
            .into_iter()
            .collect();
        match self {
            OperatorConfig::Embed(config)
            | OperatorConfig::ChunkSemantic(SemanticConfig {
                embedding: Some(config),
                ..
            }) => files.extend(config.files(base)),
            _ => {}
        }
        files
    }

    /// A chunking step's `size`.
    pub fn chunk_size(&self) -> Option<usize> {
        match self {
            OperatorConfig::ChunkRecursive(c) => Some(c.size),
            OperatorConfig::ChunkByHeading(c) => Some(c.size),
            OperatorConfig::ChunkByPage(c) => Some(c.size),
            OperatorConfig::ChunkSemantic(c) => Some(c.size),
            OperatorConfig::ChunkSmart(c) => Some(c.size),
            _ => None,
        }
    }

    /// For chunking steps: their `unit` and their `tokenizer` setting, to fill in.
    pub fn tokenizer_setting(&mut self) -> Option<(Unit, &mut Option<String>)> {
        match self {
            OperatorConfig::ChunkRecursive(c) => Some((c.unit, &mut c.tokenizer)),
            OperatorConfig::ChunkByHeading(c) => Some((c.unit, &mut c.tokenizer)),
            OperatorConfig::ChunkByPage(c) => Some((c.unit, &mut c.tokenizer)),
            OperatorConfig::ChunkSemantic(c) => Some((c.unit, &mut c.tokenizer)),
            OperatorConfig::ChunkSmart(c) => Some((c.unit, &mut c.tokenizer)),
            _ => None,
        }
    }

    /// Every path the settings name, read or written, as (key, path): sources' and sinks'
    /// `path`, `tokenizer`, and an ONNX model's `model`, `file` and `runtime` (below
    /// `embedding.` for a semantic chunker).
    pub fn named_paths(&self) -> Vec<(String, &str)> {
        let mut paths: Vec<(String, &str)> = (self.input_paths().into_iter())
            .map(|(key, path, _)| (key.to_owned(), path))
            .chain((self.output_paths().into_iter()).map(|(key, path)| (key.to_owned(), path)))
            .collect();
        let (onnx, prefix) = match self {
            OperatorConfig::Embed(EmbedConfig::Onnx(onnx)) => (onnx, ""),
            OperatorConfig::ChunkSemantic(SemanticConfig {
                embedding: Some(EmbedConfig::Onnx(onnx)),
                ..
            }) => (onnx, "embedding."),
            _ => return paths,
        };
        let optional = [("file", &onnx.file), ("runtime", &onnx.runtime)];
        paths.push((format!("{prefix}model"), onnx.model.as_str()));
        paths.extend(
            (optional.into_iter())
                .filter_map(|(key, path)| Some((format!("{prefix}{key}"), path.as_deref()?))),
        );
        paths
    }

    /// Paths in the settings that must exist before a run, as (key, path, what it must be).
    pub fn input_paths(&self) -> Vec<(&'static str, &str, PathKind)> {
        match self {
            OperatorConfig::SourceFiles(config) => {
                vec![("path", config.path.as_str(), PathKind::Folder)]
            }
            OperatorConfig::SourceJsonl(config) => {
                vec![("path", config.path.as_str(), PathKind::File)]
            }
            _ => self
                .tokenizer_path()
                .map(|path| ("tokenizer", path, PathKind::Tokenizer))
                .into_iter()
                .collect(),
        }
    }

    /// Everything the step reads from disk, paths resolved against `base`: what no sink may
    /// write over. Besides [`Self::input_paths`], an ONNX model's whole folder (an embed step's,
    /// or a semantic chunker's `embedding`), the model file and tokenizer it loads, and the
    /// onnxruntime library.
    pub fn read_paths(&self, base: &Path) -> Vec<ReadPath> {
        let mut reads: Vec<ReadPath> = (self.input_paths().into_iter())
            .map(|(key, relative, kind)| ReadPath {
                key,
                path: base.join(relative),
                scope: match kind {
                    PathKind::Folder => ReadScope::Documents,
                    PathKind::File | PathKind::Tokenizer => ReadScope::File,
                },
            })
            .collect();
        let (onnx, model_key, runtime_key) = match self {
            OperatorConfig::Embed(EmbedConfig::Onnx(onnx)) => (onnx, "model", "runtime"),
            OperatorConfig::ChunkSemantic(SemanticConfig {
                embedding: Some(EmbedConfig::Onnx(onnx)),
                ..
            }) => (onnx, "embedding", "embedding"),
            _ => return reads,
        };
        let folder = base.join(&onnx.model);
        let (runtime, _) = onnx.runtime_library(base, &folder);
        let runtime_key = if onnx.runtime.is_some() {
            runtime_key
        } else {
            model_key
        };
        reads.extend(onnx.files(base).into_iter().map(|path| ReadPath {
            key: model_key,
            path,
            scope: ReadScope::File,
        }));
        reads.push(ReadPath {
            key: runtime_key,
            path: runtime,
            scope: ReadScope::File,
        });
        reads.push(ReadPath {
            key: model_key,
            path: folder,
            scope: ReadScope::Folder,
        });
        reads
    }

    /// Files the step writes, as (key, path) pairs.
    pub fn output_paths(&self) -> Vec<(&'static str, &str)> {
        match self {
            OperatorConfig::SinkJsonl(config) => vec![("path", config.path.as_str())],
            _ => Vec::new(),
        }
    }

    /// The `tokenizer` path of a chunking operator, when set.
    fn tokenizer_path(&self) -> Option<&str> {
        match self {
            OperatorConfig::ChunkRecursive(config) => config.tokenizer.as_deref(),
            OperatorConfig::ChunkByHeading(config) => config.tokenizer.as_deref(),
            OperatorConfig::ChunkByPage(config) => config.tokenizer.as_deref(),
            OperatorConfig::ChunkSemantic(config) => config.tokenizer.as_deref(),
            OperatorConfig::ChunkSmart(config) => config.tokenizer.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_config_variant_has_a_registry_entry() {
        let samples = [
            serde_json::json!({"op": "source.files", "path": "x"}),
            serde_json::json!({"op": "source.jsonl", "path": "x"}),
            serde_json::json!({"op": "parse"}),
            serde_json::json!({"op": "chunk.recursive", "size": 10}),
            serde_json::json!({"op": "chunk.by_heading", "size": 10}),
            serde_json::json!({"op": "chunk.by_page", "size": 10}),
            serde_json::json!({"op": "chunk.semantic", "size": 10}),
            serde_json::json!({"op": "chunk.smart", "size": 10}),
            serde_json::json!({"op": "embed", "provider": "onnx", "model": "m"}),
            serde_json::json!({"op": "sink.jsonl", "path": "x"}),
            serde_json::json!({"op": "index.hybrid"}),
        ];
        assert_eq!(samples.len(), OPERATORS.len());
        for sample in samples {
            let config: OperatorConfig = serde_json::from_value(sample.clone()).unwrap();
            assert_eq!(config.info().name, sample["op"]);
        }
    }

    #[test]
    fn chunking_problems_and_paths() {
        let config: OperatorConfig = serde_json::from_value(serde_json::json!({
            "op": "chunk.by_heading", "size": 10, "overlap": 10, "unit": "tokens", "level": 7
        }))
        .unwrap();
        let keys: Vec<&str> = config.problems().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec!["overlap", "level"]);
        let config: OperatorConfig = serde_json::from_value(serde_json::json!({
            "op": "chunk.semantic", "size": 10, "unit": "tokens", "tokenizer": "t.json",
            "embedding": {"provider": "hash", "dim": 64}
        }))
        .unwrap();
        assert!(config.problems().is_empty());
        assert_eq!(
            config.input_paths(),
            vec![("tokenizer", "t.json", PathKind::Tokenizer)]
        );
        assert!(
            serde_json::from_value::<OperatorConfig>(serde_json::json!({
                "op": "chunk.semantic", "size": 10, "embedding": {"provider": "onnx"}
            }))
            .is_err()
        );
    }

    #[test]
    fn sinks_accept_any_type_and_transforms_one() {
        assert!(
            lookup("sink.jsonl")
                .unwrap()
                .accepts
                .admits(ItemType::Chunks)
        );
        assert!(!lookup("parse").unwrap().accepts.admits(ItemType::Chunks));
        assert!(lookup("source.files").unwrap().is_source());
    }
}
