//! The BM25 half of the hybrid index: a Tantivy index of chunk text, title and section path
//! (analysed by [`super::analysis`]), with doc_id, chunk_id, source, page, title, each heading of
//! the section path and metadata indexed exactly for filters and everything a hit shows stored.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::columnar::NumericalValue;
use tantivy::query::{
    Bm25StatisticsProvider, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, Query,
    TermQuery,
};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, JsonObjectOptions, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Searcher, TantivyDocument, Term};

use super::analysis::analyzer;
use super::directory::{OpenedFiles, ReadableDirectory, tantivy_message};
use super::{Entry, IndexConfig, IndexError, StoredHit, page_filter};

const ANALYZER: &str = "engine_text";
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// Most distinct terms a query searches, its first ones (Lucene's default clause limit is
/// 1,024): a query of 150,000 distinct words took 26 s and 930 MB, each word looked for in
/// every searched field.
pub const MAX_QUERY_TERMS: usize = 4096;

/// Pages past a chunk's first that it is filterable by (a chunk spans a few at most).
const MAX_PAGES_A_CHUNK: u32 = 1000;

/// The fields of the text index.
#[derive(Clone, Copy)]
struct Fields {
    chunk_id: Field,
    doc_id: Field,
    source: Field,
    page: Field,
    point: Field,
    title: Field,
    section: Field,
    /// The title, exactly, for filters.
    title_exact: Field,
    /// Each heading of the section path and the whole path joined by " > ", for filters.
    section_exact: Field,
    text: Field,
    metadata: Field,
    payload: Field,
    /// The exact token counts of text, title and section in the chunk, for BM25's average
    /// lengths.
    text_tokens: Field,
    title_tokens: Field,
    section_tokens: Field,
}

impl Fields {
    /// Each analysed field with the field of its token counts.
    fn token_counts(&self) -> [(Field, Field); 3] {
        [
            (self.text, self.text_tokens),
            (self.title, self.title_tokens),
            (self.section, self.section_tokens),
        ]
    }
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let analysed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let exact_json = JsonObjectOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic),
    );
    let title = builder.add_text_field("title", analysed.clone());
    let section = builder.add_text_field("section", analysed.clone());
    let text = builder.add_text_field("text", analysed);
    let fields = Fields {
        // Fast: equal scores are ordered by chunk id.
        chunk_id: builder.add_text_field("chunk_id", STRING | FAST),
        doc_id: builder.add_text_field("doc_id", STRING),
        source: builder.add_text_field("source", STRING),
        page: builder.add_text_field("page", STRING),
        point: builder.add_u64_field("point", tantivy::schema::INDEXED | tantivy::schema::FAST),
        title,
        section,
        title_exact: builder.add_text_field("title_exact", STRING),
        section_exact: builder.add_text_field("section_exact", STRING),
        text,
        metadata: builder.add_json_field("metadata", exact_json),
        payload: builder.add_text_field("payload", STORED),
        text_tokens: builder.add_u64_field("text_tokens", FAST),
        title_tokens: builder.add_u64_field("title_tokens", FAST),
        section_tokens: builder.add_u64_field("section_tokens", FAST),
    };
    (builder.build(), fields)
}

/// Whether `text` holds `title` (case aside): a first chunk that opens with its document's
/// title heading needs it no second time.
fn holds(text: &str, title: &str) -> bool {
    text.to_lowercase().contains(&title.trim().to_lowercase())
}

/// The Tantivy index in one folder.
pub struct TextIndex {
    index: Index,
    fields: Fields,
    reader: IndexReader,
    /// The analysed fields a query searches and their boosts.
    searched: [(Field, f32); 3],
    /// Set once the folder turned out to be read-only to this process.
    read_only: Arc<AtomicBool>,
    /// The files opened, with their lengths then.
    opened: OpenedFiles,
    /// BM25's statistics of the last searcher generation searched.
    statistics: Mutex<Option<Arc<Statistics>>>,
}

fn failed(what: &str) -> impl Fn(tantivy::TantivyError) -> IndexError + '_ {
    move |err| IndexError::new(format!("{what}: {}", tantivy_message(&err)))
}

impl TextIndex {
    /// Opens the index in `dir`, creating it when empty; `config` gives the text analysis and
    /// the field boosts of its queries.
    pub fn open(dir: &Path, config: &IndexConfig) -> Result<TextIndex, IndexError> {
        std::fs::create_dir_all(dir)
            .map_err(|err| IndexError::new(format!("cannot create {}: {err}", dir.display())))?;
        let directory = ReadableDirectory::open(dir)
            .map_err(|err| IndexError::new(tantivy_message(&tantivy::TantivyError::from(err))))?;
        Self::open_in(directory, config)
    }

    /// Whether the text index in `dir` is there and whole: every file it lists present and
    /// matching its checksum (a file removed, cut short or with bytes changed fails every
    /// search that reads it). Reads every file once.
    pub fn intact(dir: &Path, config: &IndexConfig) -> bool {
        // (Opening a text index that is not there would make one.)
        dir.join("meta.json").is_file()
            && Self::open(dir, config).is_ok_and(|text| {
                (text.index.validate_checksum()).is_ok_and(|damaged| damaged.is_empty())
            })
    }

    /// [`TextIndex::open`] on a directory given: a folder that cannot be written is read.
    pub(crate) fn open_in<D: tantivy::Directory + Clone>(
        directory: ReadableDirectory<D>,
        config: &IndexConfig,
    ) -> Result<TextIndex, IndexError> {
        let (schema, fields) = schema();
        let read_only = directory.read_only_flag();
        let opened = directory.opened_files();
        let index = Index::open_or_create(directory, schema).map_err(|err| match err {
            tantivy::TantivyError::SchemaError(_) => IndexError::new(
                "the text index was written by an earlier version of the engine: run the pipeline once to index it anew",
            ),
            err => failed("cannot open the text index")(err),
        })?;
        index.tokenizers().register(ANALYZER, analyzer(config));
        let reader = index
            .reader()
            .map_err(failed("cannot read the text index"))?;
        let searched = [
            (fields.text, 1.0),
            (fields.title, config.title_boost),
            (fields.section, config.section_boost),
        ];
        Ok(TextIndex {
            index,
            fields,
            reader,
            searched,
            read_only,
            opened,
            statistics: Mutex::new(None),
        })
    }

    /// A file of the index, opened before, that is now shorter than it was then (damage from
    /// outside: the engine never writes a generation's files again). Searching it would kill
    /// the process, its files being mapped into memory: open it again instead.
    pub fn file_cut_short(&self) -> Option<PathBuf> {
        self.opened.first_cut_short()
    }

    /// Whether the folder turned out to be read-only to this process while opening it: the
    /// index is read, but cannot be written (or its vector graph saved) from here.
    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Relaxed)
    }

    /// A writer for a batch of changes.
    pub fn writer(&self) -> Result<TextWriter, IndexError> {
        let writer = self
            .index
            .writer(WRITER_MEMORY)
            .map_err(failed("cannot write the text index"))?;
        Ok(TextWriter {
            analyzer: self.index.tokenizers().get(ANALYZER),
            fields: self.fields,
            reader: self.reader.clone(),
            writer,
        })
    }

    /// Number of live chunks.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether no chunk is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The filter query for `key=value` pairs, all of which must hold: doc_id or chunk_id (the
    /// hit's own), source, page (a whole number), title or section (either the hit's, or
    /// metadata of that name), or a metadata key.
    fn filter(&self, filters: &[(String, String)]) -> Result<Option<Box<dyn Query>>, IndexError> {
        if filters.is_empty() {
            return Ok(None);
        }
        let term_query = |term: Term| -> Box<dyn Query> {
            Box::new(TermQuery::new(term, IndexRecordOption::Basic))
        };
        let mut clauses = Vec::with_capacity(filters.len());
        for (key, value) in filters {
            let field = |field: Field| term_query(Term::from_field_text(field, value));
            let or_metadata = |query: Box<dyn Query>| -> Box<dyn Query> {
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, query),
                    (Occur::Should, self.metadata_filter(key, value)),
                ]))
            };
            let query = match key.as_str() {
                "doc_id" => field(self.fields.doc_id),
                "chunk_id" => field(self.fields.chunk_id),
                "source" => or_metadata(field(self.fields.source)),
                "page" => or_metadata(term_query(Term::from_field_text(
                    self.fields.page,
                    &page_filter(value)?,
                ))),
                "title" => or_metadata(field(self.fields.title_exact)),
                "section" => or_metadata(field(self.fields.section_exact)),
                other => self.metadata_filter(other, value),
            };
            clauses.push((Occur::Must, query));
        }
        Ok(Some(Box::new(BooleanQuery::new(clauses))))
    }

    /// The filter on metadata `key` for `value`: a string (or bool) spelled as `value`, or, when
    /// `value` is a number, a number equal to it however either is written (`1500`, `1500.0`
    /// and `1.5e3` are one number; the string "1500" is only matched by `1500`).
    fn metadata_filter(&self, key: &str, value: &str) -> Box<dyn Query> {
        let path = Term::from_field_json_path(self.fields.metadata, key, false);
        let query = |term: Term| -> Box<dyn Query> {
            Box::new(TermQuery::new(term, IndexRecordOption::Basic))
        };
        let mut text = path.clone();
        text.append_type_and_str(value);
        let Some(number) = number(value) else {
            return query(text);
        };
        let mut typed = path;
        match number {
            NumericalValue::I64(number) => typed.append_type_and_fast_value(number),
            NumericalValue::U64(number) => typed.append_type_and_fast_value(number),
            NumericalValue::F64(number) => typed.append_type_and_fast_value(number),
        }
        Box::new(BooleanQuery::new(vec![
            (Occur::Should, query(text)),
            (Occur::Should, query(typed)),
        ]))
    }

    /// The BM25 query for a user's text: every distinct term its analysis gives, in every
    /// searched field with that field's boost. A chunk is found by its own text (some term in
    /// it); its title and section only rank it among the chunks found, so that a word of a
    /// document's title does not bring up every chunk of the document, whatever they say. The
    /// text is words, never query syntax: `NOT`, `AND`, `+` or quotes are nothing special.
    fn text_query(&self, text: &str) -> Box<dyn Query> {
        let terms = self.terms(text);
        if terms.is_empty() {
            return Box::new(EmptyQuery);
        }
        let any_term = |(field, boost): (Field, f32)| -> Box<dyn Query> {
            let clauses: Vec<(Occur, Box<dyn Query>)> = terms
                .iter()
                .map(|term| {
                    let query = TermQuery::new(
                        Term::from_field_text(field, term),
                        IndexRecordOption::WithFreqs,
                    );
                    let query: Box<dyn Query> = Box::new(BoostQuery::new(Box::new(query), boost));
                    (Occur::Should, query)
                })
                .collect();
            Box::new(BooleanQuery::new(clauses))
        };
        let [text, labels @ ..] = self.searched;
        let mut clauses = vec![(Occur::Must, any_term(text))];
        clauses.extend(
            labels
                .into_iter()
                .filter(|&(_, boost)| boost > 0.0)
                .map(|searched| (Occur::Should, any_term(searched))),
        );
        Box::new(BooleanQuery::new(clauses))
    }

    /// The distinct terms BM25 searches for `text`, as the index analyses it, in their order,
    /// the first [`MAX_QUERY_TERMS`] of them: none when every word is a stop word.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut terms: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        if let Some(mut analyzer) = self.index.tokenizers().get(ANALYZER) {
            analyzer.token_stream(text).process(&mut |token| {
                if terms.len() < MAX_QUERY_TERMS && seen.insert(token.text.clone()) {
                    terms.push(token.text.clone());
                }
            });
        }
        terms
    }

    /// The best `k` chunks for `text` by BM25 that pass `filters`: their scores and addresses,
    /// equal scores in chunk id order (the chunks tied with the k-th are all looked at, so which
    /// of them make the cut does not depend on where they sit in the index).
    fn top_docs(
        &self,
        searcher: &Searcher,
        text: &str,
        k: usize,
        filters: &[(String, String)],
    ) -> Result<Vec<(f32, DocAddress)>, IndexError> {
        let k = k.max(1);
        let mut limit = k;
        let top = loop {
            let top = self.top_docs_unordered(searcher, text, limit.saturating_add(1), filters)?;
            if top.len() <= limit || top[limit].0 < top[k - 1].0 || limit == usize::MAX {
                break top;
            }
            limit = limit.saturating_mul(2);
        };
        let mut ids = Vec::with_capacity(top.len());
        for (_, address) in &top {
            ids.push(chunk_id_of(searcher, *address)?);
        }
        let mut order: Vec<usize> = (0..top.len()).collect();
        order.sort_by(|&a, &b| {
            top[b]
                .0
                .total_cmp(&top[a].0)
                .then_with(|| ids[a].cmp(&ids[b]))
        });
        Ok(order.iter().take(k).map(|&i| top[i]).collect())
    }

    /// The best `k` chunks for `text` by BM25 that pass `filters`, in Tantivy's order.
    fn top_docs_unordered(
        &self,
        searcher: &Searcher,
        text: &str,
        k: usize,
        filters: &[(String, String)],
    ) -> Result<Vec<(f32, DocAddress)>, IndexError> {
        let query = self.text_query(text);
        // A filter only narrows: scored 0, it leaves every hit's BM25 score as it is.
        let query: Box<dyn Query> = match self.filter(filters)? {
            Some(filter) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, query),
                (Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))),
            ])),
            None => query,
        };
        let statistics = self.statistics(searcher)?;
        searcher
            .search_with_statistics_provider(
                &query,
                &TopDocs::with_limit(k.max(1)).order_by_score(),
                &statistics.with(searcher),
            )
            .map_err(failed("search failed"))
    }

    /// BM25's statistics of `searcher`'s generation: counted once per generation (a commit or
    /// reload makes a new one), not by every query.
    fn statistics(&self, searcher: &Searcher) -> Result<Arc<Statistics>, IndexError> {
        let generation = searcher.generation().generation_id();
        let mut cached = self
            .statistics
            .lock()
            .unwrap_or_else(|err| err.into_inner());
        if let Some(statistics) = cached.as_ref()
            && statistics.generation == generation
        {
            return Ok(statistics.clone());
        }
        let statistics = Arc::new(Statistics::of(searcher, &self.fields)?);
        *cached = Some(statistics.clone());
        Ok(statistics)
    }

    /// The best `k` chunks for `text` by BM25, as (score, HNSW point id), without reading the
    /// stored hits (for fusing with the vector list before reading only the winners).
    pub fn search_points(
        &self,
        text: &str,
        k: usize,
        filters: &[(String, String)],
    ) -> Result<Vec<(f32, u64)>, IndexError> {
        let searcher = self.reader.searcher();
        let top = self.top_docs(&searcher, text, k, filters)?;
        let mut points = Vec::with_capacity(top.len());
        for (score, address) in top {
            if let Some(point) = point_of(&searcher, address)? {
                points.push((score, point));
            }
        }
        Ok(points)
    }

    /// The best `k` chunks for `text` by BM25, as (score, hit).
    pub fn search(
        &self,
        text: &str,
        k: usize,
        filters: &[(String, String)],
    ) -> Result<Vec<(f32, StoredHit)>, IndexError> {
        let searcher = self.reader.searcher();
        let top = self.top_docs(&searcher, text, k, filters)?;
        top.into_iter()
            .map(|(score, address)| {
                let doc: TantivyDocument =
                    searcher.doc(address).map_err(failed("cannot read a hit"))?;
                Ok((score, self.payload(&doc)?))
            })
            .collect()
    }

    /// The HNSW point ids of the chunks that pass `filters` (sorted), or `None` without filters.
    pub fn allowed_points(
        &self,
        filters: &[(String, String)],
    ) -> Result<Option<Vec<usize>>, IndexError> {
        let Some(filter) = self.filter(filters)? else {
            return Ok(None);
        };
        let searcher = self.reader.searcher();
        let addresses = searcher
            .search(&filter, &DocSetCollector)
            .map_err(failed("filter failed"))?;
        let mut points = Vec::with_capacity(addresses.len());
        for address in addresses {
            if let Some(point) = point_of(&searcher, address)? {
                points.push(point as usize);
            }
        }
        points.sort_unstable();
        Ok(Some(points))
    }

    /// The HNSW point ids of the chunks with id `chunk_id` (one, unless two documents share
    /// it).
    pub fn points_of_chunk(&self, chunk_id: &str) -> Result<Vec<u64>, IndexError> {
        let query = TermQuery::new(
            Term::from_field_text(self.fields.chunk_id, chunk_id),
            IndexRecordOption::Basic,
        );
        let searcher = self.reader.searcher();
        let addresses = searcher
            .search(&query, &DocSetCollector)
            .map_err(failed("lookup failed"))?;
        let mut points = Vec::with_capacity(addresses.len());
        for address in addresses {
            points.extend(point_of(&searcher, address)?);
        }
        Ok(points)
    }

    /// The chunk ids of the chunks with HNSW point ids `points` (those indexed), to order
    /// equal scores.
    pub fn chunk_ids_of_points(
        &self,
        points: &[u64],
    ) -> Result<std::collections::HashMap<u64, String>, IndexError> {
        let mut ids = std::collections::HashMap::with_capacity(points.len());
        if points.is_empty() {
            return Ok(ids);
        }
        let clauses = points
            .iter()
            .map(|&point| {
                let query: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_u64(self.fields.point, point),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, query)
            })
            .collect();
        let searcher = self.reader.searcher();
        let addresses = searcher
            .search(&BooleanQuery::new(clauses), &DocSetCollector)
            .map_err(failed("lookup failed"))?;
        for address in addresses {
            if let Some(point) = point_of(&searcher, address)? {
                ids.insert(point, chunk_id_of(&searcher, address)?);
            }
        }
        Ok(ids)
    }

    /// The stored hit of the chunk with HNSW point id `point`.
    pub fn hit_for_point(&self, point: u64) -> Result<Option<StoredHit>, IndexError> {
        let query = TermQuery::new(
            Term::from_field_u64(self.fields.point, point),
            IndexRecordOption::Basic,
        );
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(failed("lookup failed"))?;
        match top.first() {
            Some((_, address)) => {
                let doc: TantivyDocument = searcher
                    .doc(*address)
                    .map_err(failed("cannot read a hit"))?;
                Ok(Some(self.payload(&doc)?))
            }
            None => Ok(None),
        }
    }

    fn payload(&self, doc: &TantivyDocument) -> Result<StoredHit, IndexError> {
        let text = doc
            .get_first(self.fields.payload)
            .and_then(|value| value.as_str())
            .unwrap_or_default();
        serde_json::from_str(text).map_err(|err| {
            IndexError::new(format!(
                "damaged stored hit ({err}): the next run indexes the text index afresh"
            ))
        })
    }
}

/// The chunk id of the chunk at `address`, from its fast field.
fn chunk_id_of(searcher: &Searcher, address: DocAddress) -> Result<String, IndexError> {
    let column = searcher
        .segment_reader(address.segment_ord)
        .fast_fields()
        .str("chunk_id")
        .map_err(failed("chunk id column"))?;
    let mut id = String::new();
    if let Some(column) = column
        && let Some(ord) = column.term_ords(address.doc_id).next()
    {
        column
            .ord_to_str(ord, &mut id)
            .map_err(|err| IndexError::new(format!("cannot read a chunk id: {err}")))?;
    }
    Ok(id)
}

/// The HNSW point id of the chunk at `address`, from its fast field.
fn point_of(searcher: &Searcher, address: DocAddress) -> Result<Option<u64>, IndexError> {
    let column = searcher
        .segment_reader(address.segment_ord)
        .fast_fields()
        .u64("point")
        .map_err(failed("point column"))?;
    Ok(column.first(address.doc_id))
}

/// BM25's statistics of one searcher generation, independent of how its chunks came to be
/// split into segments. Tantivy's own total of a field's tokens is exact in a segment written at
/// once, but a merged segment's is summed from its chunks' one-byte field lengths, which round
/// long fields down: an index updated in place (its segments with deletes merged) would score
/// unlike a fresh build of the same chunks. The totals here are the sums of the exact counts
/// [`TextWriter::add`] stores.
struct Statistics {
    /// The searcher generation counted.
    generation: u64,
    /// The total token count of each searched field.
    tokens: Vec<(Field, u64)>,
}

impl Statistics {
    /// Sums the token counts over every chunk the searcher's segments hold, the deleted ones
    /// too: as Tantivy's own chunk count and document frequencies do (both exact, since each
    /// commit merges the segments that hold deleted chunks).
    fn of(searcher: &Searcher, fields: &Fields) -> Result<Statistics, IndexError> {
        let counts = fields.token_counts();
        let mut tokens: Vec<(Field, u64)> = counts.iter().map(|&(field, _)| (field, 0)).collect();
        for segment in searcher.segment_readers() {
            for (&(_, count), (_, total)) in counts.iter().zip(&mut tokens) {
                let name = searcher.schema().get_field_name(count);
                let column = segment
                    .fast_fields()
                    .u64(name)
                    .map_err(failed("token count column"))?;
                *total += column.values.iter().sum::<u64>();
            }
        }
        Ok(Statistics {
            generation: searcher.generation().generation_id(),
            tokens,
        })
    }

    /// The statistics provider for a search with `searcher`.
    fn with<'a>(&'a self, searcher: &'a Searcher) -> StatisticsOf<'a> {
        StatisticsOf {
            statistics: self,
            searcher,
        }
    }
}

/// [`Statistics`] with the searcher they were counted from, which gives the rest.
struct StatisticsOf<'a> {
    statistics: &'a Statistics,
    searcher: &'a Searcher,
}

impl Bm25StatisticsProvider for StatisticsOf<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        match self.statistics.tokens.iter().find(|(of, _)| *of == field) {
            Some(&(_, total)) => Ok(total),
            None => <Searcher as Bm25StatisticsProvider>::total_num_tokens(self.searcher, field),
        }
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        <Searcher as Bm25StatisticsProvider>::total_num_docs(self.searcher)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.searcher.doc_freq(term)
    }
}

/// A batch of adds and deletes, made visible by [`TextWriter::commit`].
pub struct TextWriter {
    /// The text analysis, to count each chunk's tokens as Tantivy does.
    analyzer: Option<tantivy::tokenizer::TextAnalyzer>,
    fields: Fields,
    reader: IndexReader,
    writer: IndexWriter,
}

impl TextWriter {
    /// Removes every chunk of a document.
    pub fn delete_document(&mut self, doc_id: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.doc_id, doc_id));
    }

    /// Adds one chunk under HNSW point id `point`. `lead` is a document's first chunk: BM25
    /// finds it by the document's title too (as if its text began with it, unless it does), so
    /// a query of a title's words finds the document, whose other chunks its title only ranks.
    pub fn add(&mut self, entry: &Entry, point: u64, lead: bool) -> Result<(), IndexError> {
        let fields = &self.fields;
        let mut doc = TantivyDocument::new();
        doc.add_text(fields.chunk_id, &entry.hit.chunk_id);
        doc.add_text(fields.doc_id, &entry.hit.doc_id);
        doc.add_text(fields.source, &entry.hit.source);
        match (entry.pages, entry.hit.page) {
            (Some([first, last]), _) => {
                for page in first..=last.min(first.saturating_add(MAX_PAGES_A_CHUNK)) {
                    doc.add_text(fields.page, page.to_string());
                }
            }
            (None, Some(page)) => doc.add_text(fields.page, page.to_string()),
            (None, None) => {}
        }
        doc.add_u64(fields.point, point);
        if let Some(title) = &entry.hit.title {
            doc.add_text(fields.title, title);
            doc.add_text(fields.title_exact, title);
        }
        // Filters pass the chunk under each heading of every section path it covers and
        // under each path from the top of those; BM25 reads the hit's own path.
        let covered = match entry.sections.as_slice() {
            [] => std::slice::from_ref(&entry.hit.section),
            sections => sections,
        };
        let mut exact: Vec<String> = Vec::new();
        for section in covered {
            // Each path from the top, so `Guide > Install` passes Guide › Install › Linux too.
            let paths = (2..=section.len()).map(|depth| section[..depth].join(" > "));
            for term in section.iter().cloned().chain(paths) {
                if !exact.contains(&term) {
                    exact.push(term);
                }
            }
        }
        for term in &exact {
            doc.add_text(fields.section_exact, term);
        }
        let section = entry.hit.section.join(" > ");
        doc.add_text(fields.section, &section);
        let led;
        let text = match &entry.hit.title {
            Some(title) if lead && !holds(&entry.hit.text, title) => {
                led = format!("{title}\n\n{}", entry.hit.text);
                led.as_str()
            }
            _ => entry.hit.text.as_str(),
        };
        doc.add_text(fields.text, text);
        let mut tokens = |text: Option<&str>| match (&mut self.analyzer, text) {
            (Some(analyzer), Some(text)) => indexed_tokens(analyzer, text),
            _ => 0,
        };
        doc.add_u64(fields.text_tokens, tokens(Some(text)));
        doc.add_u64(fields.title_tokens, tokens(entry.hit.title.as_deref()));
        doc.add_u64(fields.section_tokens, tokens(Some(&section)));
        doc.add_object(fields.metadata, filterable_metadata(&entry.metadata));
        let payload =
            serde_json::to_string(&entry.hit).map_err(|err| IndexError::new(err.to_string()))?;
        doc.add_text(fields.payload, payload);
        self.writer
            .add_document(doc)
            .map_err(failed("cannot add a chunk"))?;
        Ok(())
    }

    /// Makes the batch durable and visible, with BM25's statistics a fresh build's: a deleted
    /// chunk counts in document frequencies and the chunk count until its segment is merged (a
    /// re-indexed document could rank its own old text's neighbours above a better match), so
    /// every segment that holds deletes is merged. Average lengths come from the exact token
    /// counts stored with each chunk ([`Statistics`]), not from Tantivy's merged totals, so
    /// scores equal a fresh build's (but for the last bit of a sum of several terms' scores,
    /// summed in an order that depends on the segments, as in two fresh builds).
    pub fn commit(mut self) -> Result<(), IndexError> {
        self.writer.commit().map_err(failed("commit failed"))?;
        let index = self.writer.index().clone();
        self.writer
            .wait_merging_threads()
            .map_err(failed("merge failed"))?;
        let with_deletes: Vec<tantivy::index::SegmentId> = index
            .searchable_segment_metas()
            .map_err(failed("cannot list the text index's segments"))?
            .iter()
            .filter(|meta| meta.has_deletes())
            .map(|meta| meta.id())
            .collect();
        if !with_deletes.is_empty() {
            let mut writer: IndexWriter = index
                .writer(WRITER_MEMORY)
                .map_err(failed("cannot write the text index"))?;
            writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
            writer
                .merge(&with_deletes)
                .wait()
                .map_err(failed("cannot merge away deleted chunks"))?;
            writer
                .wait_merging_threads()
                .map_err(failed("merge failed"))?;
        }
        self.reader.reload().map_err(failed("reload failed"))?;
        Ok(())
    }
}

/// The number of tokens Tantivy indexes for `text` in a field `analyzer` analyses (the ones it
/// does not drop for their length): what its field lengths and token totals count.
fn indexed_tokens(analyzer: &mut tantivy::tokenizer::TextAnalyzer, text: &str) -> u64 {
    let mut tokens = 0;
    analyzer.token_stream(text).process(&mut |token| {
        if token.text.len() <= tantivy::tokenizer::MAX_TOKEN_LEN {
            tokens += 1;
        }
    });
    tokens
}

/// Metadata as `--filter key=value` matches it: a string or bool as its text, a number as a
/// number (Tantivy gives every spelling of one number one term: 1500.0 is 1500), and a list as
/// each of its strings, numbers and bools (`tags: [x, y]` passes `tags=x` and `tags=y`).
/// Mappings, and lists and mappings inside lists, are not indexed.
pub(crate) fn filterable_metadata(
    metadata: &serde_json::Map<String, serde_json::Value>,
) -> std::collections::BTreeMap<String, tantivy::schema::OwnedValue> {
    use serde_json::Value;
    use tantivy::schema::OwnedValue;
    let exact = |value: &Value| match value {
        Value::String(text) => Some(OwnedValue::Str(text.clone())),
        Value::Number(number) => Some(if let Some(number) = number.as_i64() {
            OwnedValue::I64(number)
        } else if let Some(number) = number.as_u64() {
            OwnedValue::U64(number)
        } else {
            OwnedValue::F64(number.as_f64()?)
        }),
        Value::Bool(_) => Some(OwnedValue::Str(value.to_string())),
        _ => None,
    };
    metadata
        .iter()
        .filter_map(|(key, value)| match value {
            Value::Array(items) => {
                let items: Vec<OwnedValue> = items.iter().filter_map(exact).collect();
                (!items.is_empty()).then(|| (key.clone(), OwnedValue::Array(items)))
            }
            other => exact(other).map(|value| (key.clone(), value)),
        })
        .collect()
}

/// The number `text` writes (digits, sign, point and exponent only: not `inf` or `NaN`), in
/// Tantivy's canonical form (an integral float is an integer), or `None`.
pub(crate) fn number(text: &str) -> Option<NumericalValue> {
    let numeric = |c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E');
    if !text.chars().all(numeric) || !text.contains(|c: char| c.is_ascii_digit()) {
        return None;
    }
    match text.parse::<NumericalValue>().ok()?.normalize() {
        NumericalValue::F64(float) if !float.is_finite() => None,
        number => Some(number),
    }
}

#[cfg(test)]
mod tests {
    use super::{NumericalValue, number};

    /// A query of 150,000 distinct words took 26 s: each term was checked against all those
    /// before it. Terms are distinct, in order, and at most `MAX_QUERY_TERMS`.
    #[test]
    fn a_query_searches_its_first_distinct_terms() {
        use super::{MAX_QUERY_TERMS, TextIndex};
        use crate::index::IndexConfig;
        let dir = tempfile::tempdir().unwrap();
        let index = TextIndex::open(dir.path(), &IndexConfig::default()).unwrap();
        assert_eq!(
            index.terms("zebra apple zebra mango"),
            ["zebra", "appl", "mango"]
        );
        let words: String = (0..200_000).map(|i| format!("w{i} ")).collect();
        let terms = index.terms(&words);
        assert_eq!(terms.len(), MAX_QUERY_TERMS);
        assert_eq!(terms[..2], ["w0", "w1"]);
    }

    /// The token counts stored with each chunk total what Tantivy counts in a segment it wrote
    /// at once (exact there), for every searched field: stop words, stems, CJK bigrams, accents,
    /// over-long words, a chunk without title or section.
    #[test]
    fn stored_token_counts_are_what_tantivy_counts() {
        use super::{StoredHit, TextIndex};
        use crate::index::{Entry, IndexConfig};
        let dir = tempfile::tempdir().unwrap();
        let index = TextIndex::open(dir.path(), &IndexConfig::default()).unwrap();
        let long_word = "x".repeat(300);
        let texts = [
            "The quick brown foxes were running over the lazy dogs, and the dogs ran.".to_owned(),
            "Café naïve résumé: 東京都の天気は晴れです。 mixed 中文文本 words".to_owned(),
            format!("a {long_word} word too long to index, and it is not the only one"),
            "of the and a an to in".to_owned(),
            String::new(),
        ];
        let mut writer = index.writer().unwrap();
        for (i, text) in texts.iter().enumerate() {
            let entry = Entry {
                hit: StoredHit {
                    chunk_id: format!("d#{i}"),
                    doc_id: "d".to_owned(),
                    source: "/d".to_owned(),
                    title: (i % 2 == 0).then(|| format!("The title of chunks number {i}")),
                    section: ["Intro", "Getting started"][..i % 3]
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                    page: None,
                    text: text.clone(),
                },
                metadata: serde_json::Map::new(),
                pages: None,
                sections: Vec::new(),
                vector: Vec::new(),
            };
            writer.add(&entry, i as u64, false).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader.searcher();
        let statistics = super::Statistics::of(&searcher, &index.fields).unwrap();
        for (field, total) in statistics.tokens {
            let tantivy: u64 = (searcher.segment_readers().iter())
                .map(|segment| segment.inverted_index(field).unwrap().total_num_tokens())
                .sum();
            assert!(tantivy > 0);
            assert_eq!(
                total,
                tantivy,
                "{}",
                searcher.schema().get_field_name(field)
            );
        }
    }

    #[test]
    fn every_spelling_of_a_number_is_one() {
        use NumericalValue::{F64, I64, U64};
        for (text, value) in [
            ("1500", I64(1500)),
            ("1500.0", I64(1500)),
            ("+1500", I64(1500)),
            ("1.5e3", I64(1500)),
            ("01500", I64(1500)),
            ("1.10", F64(1.1)),
            ("-0.0", I64(0)),
            ("18446744073709551615", U64(u64::MAX)),
            ("-9223372036854775808", I64(i64::MIN)),
        ] {
            assert_eq!(number(text), Some(value), "{text}");
        }
        for text in [
            "",
            "abc",
            "inf",
            "NaN",
            "1e999",
            "e",
            "2020-01-01",
            "1,5",
            " 7",
        ] {
            assert_eq!(number(text), None, "{text}");
        }
    }
}
