//! The search index: the guidance entries in an in-memory tantivy index, built once at start.
//!
//! Each entry is indexed twice: once as a whole (title, keywords, answer) and once per example
//! question, so that a message close to one way of asking finds its entry even when the entry
//! has many questions. Words are English-stemmed with stop words removed. A search scores each
//! entry by its best question plus its whole-entry match; when nothing matches, a fuzzy search
//! (one edit) over titles, questions and keywords catches misspellings.

use std::collections::{HashMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexWriter, Searcher, TantivyDocument, Term};

use crate::Result;
use crate::knowledge::{Audience, Knowledge};

const TOKENIZER: &str = "waymark_en";

/// The index's fields, as typed handles.
#[derive(Debug, Clone)]
pub struct Fields {
    /// Entry id (stored, exact).
    pub id: Field,
    /// `young_person`, `practitioner` or `moderator` (exact, for filtering).
    pub audience: Field,
    /// `entry` or `question` (exact).
    pub kind: Field,
    /// Title and keywords (entry documents).
    pub title: Field,
    /// One example question (question documents).
    pub question: Field,
    /// The answer text (entry documents).
    pub answer: Field,
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let fields = Fields {
            id: builder.add_text_field("id", STRING | STORED),
            audience: builder.add_text_field("audience", STRING),
            kind: builder.add_text_field("kind", STRING | STORED),
            title: builder.add_text_field("title", text.clone()),
            question: builder.add_text_field("question", text.clone()),
            answer: builder.add_text_field("answer", text),
        };
        (builder.build(), fields)
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Entry id.
    pub id: String,
    /// Combined score (higher is better).
    pub score: f32,
    /// Whether it was found by the fuzzy fallback (a misspelling) rather than exact words.
    pub fuzzy: bool,
}

/// The in-memory search index over a knowledge base's guidance entries.
pub struct KnowledgeIndex {
    searcher: Searcher,
    analyzer: Analyzer,
    fields: Fields,
    /// Each entry's vocabulary: the analysed terms of its title, questions and keywords.
    vocabulary: HashMap<String, HashSet<String>>,
    /// In how many entries' vocabularies each term appears.
    entry_frequency: HashMap<String, usize>,
    /// Per segment, per document: the entry id and whether the document is the whole entry (not
    /// one question). Read once at build time, so searches never touch the document store.
    documents: Vec<Vec<(std::sync::Arc<str>, bool)>>,
    /// Per searched field, the terms it holds: a message's other words match nothing there, so
    /// they are left out of its query (two term-dictionary lookups each, for no score).
    held: HashMap<Field, rustc_hash::FxHashSet<String>>,
}

impl std::fmt::Debug for KnowledgeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeIndex")
            .field("docs", &self.searcher.num_docs())
            .finish()
    }
}

/// The analyser the index, retrieval and the nearest-example net share: words, lower case, no
/// stop words, English stems.
#[derive(Clone)]
pub struct Analyzer(TextAnalyzer);

impl Default for Analyzer {
    fn default() -> Analyzer {
        Analyzer(analyzer())
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Analyzer")
    }
}

impl Analyzer {
    /// Every analysed term of a text, in order, repeats included.
    fn every_term(&self, text: &str) -> Vec<String> {
        let mut analyzer = self.0.clone();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    /// The analysed terms of a text (stemmed, stop words removed), deduplicated, at most 32.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut analyzer = self.0.clone();
        let mut stream = analyzer.token_stream(text);
        let mut out: Vec<String> = Vec::new();
        while let Some(token) = stream.next() {
            if !out.contains(&token.text) {
                out.push(token.text.clone());
            }
            if out.len() >= 32 {
                break;
            }
        }
        out
    }
}

fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

impl KnowledgeIndex {
    /// Builds the index in memory from the knowledge's guidance entries.
    pub fn build(knowledge: &Knowledge) -> Result<KnowledgeIndex> {
        let (schema, fields) = Fields::schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(TOKENIZER, analyzer());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
        for entry in knowledge.entries() {
            let audience = entry.audience.as_str();
            let mut doc = TantivyDocument::default();
            doc.add_text(fields.id, &entry.id);
            doc.add_text(fields.audience, audience);
            doc.add_text(fields.kind, "entry");
            doc.add_text(fields.title, crate::normalize::normalize(&entry.title));
            doc.add_text(
                fields.title,
                crate::normalize::normalize(&entry.keywords.join(" , ")),
            );
            doc.add_text(fields.answer, crate::normalize::normalize(&entry.answer));
            writer.add_document(doc)?;
            for question in &entry.questions {
                let mut doc = TantivyDocument::default();
                doc.add_text(fields.id, &entry.id);
                doc.add_text(fields.audience, audience);
                doc.add_text(fields.kind, "question");
                doc.add_text(fields.question, crate::normalize::normalize(question));
                writer.add_document(doc)?;
            }
        }
        writer.commit()?;
        let reader = index.reader()?;
        let mut built = KnowledgeIndex {
            searcher: reader.searcher(),
            analyzer: Analyzer::default(),
            fields,
            vocabulary: HashMap::new(),
            entry_frequency: HashMap::new(),
            documents: Vec::new(),
            held: HashMap::new(),
        };
        built.documents = built.read_documents();
        for field in [
            built.fields.title,
            built.fields.question,
            built.fields.answer,
        ] {
            let held = built.read_terms(field)?;
            built.held.insert(field, held);
        }
        for entry in knowledge.entries() {
            let mut text = entry.title.clone();
            for q in entry.questions.iter().chain(&entry.keywords) {
                text.push_str(" , ");
                text.push_str(q);
            }
            let terms: HashSet<String> = built
                .analyzer
                .every_term(&crate::normalize::normalize(&text))
                .into_iter()
                .collect();
            for t in &terms {
                *built.entry_frequency.entry(t.clone()).or_default() += 1;
            }
            built.vocabulary.insert(entry.id.clone(), terms);
        }
        Ok(built)
    }

    /// How much of a message an entry's vocabulary covers, from 0 to 1: the inverse-entry-frequency
    /// weight of the message's terms that the entry knows, over the weight of all its terms. Words
    /// no entry knows ("salon", "geography") count fully against; words every entry knows count little.
    pub fn coverage(&self, terms: &[String], entry_id: &str) -> f32 {
        let Some(vocabulary) = self.vocabulary.get(entry_id) else {
            return 0.0;
        };
        let n = self.vocabulary.len().max(1) as f32;
        let mut total = 0.0;
        let mut matched = 0.0;
        for term in terms {
            let df = self.entry_frequency.get(term).copied().unwrap_or(0) as f32;
            let weight = (1.0 + n / (1.0 + df)).ln();
            total += weight;
            if vocabulary.contains(term) {
                matched += weight;
            }
        }
        if total == 0.0 { 0.0 } else { matched / total }
    }

    /// Every term a field holds.
    fn read_terms(&self, field: Field) -> Result<rustc_hash::FxHashSet<String>> {
        let mut terms = rustc_hash::FxHashSet::default();
        for segment in self.searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted
                .terms()
                .stream()
                .map_err(tantivy::TantivyError::from)?;
            while stream.advance() {
                terms.insert(String::from_utf8_lossy(stream.key()).into_owned());
            }
        }
        Ok(terms)
    }

    /// Reads every document's entry id and kind once, by segment and document number.
    fn read_documents(&self) -> Vec<Vec<(std::sync::Arc<str>, bool)>> {
        let f = &self.fields;
        let mut ids: HashMap<String, std::sync::Arc<str>> = HashMap::new();
        let mut out = Vec::new();
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            let mut docs = Vec::with_capacity(segment.max_doc() as usize);
            for doc_id in 0..segment.max_doc() {
                let address = tantivy::DocAddress::new(ord as u32, doc_id);
                let doc: Option<TantivyDocument> = self.searcher.doc(address).ok();
                let id = doc
                    .as_ref()
                    .and_then(|d| d.get_first(f.id))
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                let kind = doc
                    .as_ref()
                    .and_then(|d| d.get_first(f.kind))
                    .and_then(|v| v.as_str())
                    == Some("entry");
                let shared = ids
                    .entry(id.to_string())
                    .or_insert_with(|| std::sync::Arc::from(id))
                    .clone();
                docs.push((shared, kind));
            }
            out.push(docs);
        }
        out
    }

    /// The analysed terms of a text (stemmed, stop words removed), deduplicated, at most 32.
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.analyzer.terms(text)
    }

    /// A bare tantivy query: the text's terms over the question field, top 5 documents, with no
    /// scoring of entries on top. The floor that benchmarks compare the engine with.
    pub fn bare_query(&self, normalized: &str) -> usize {
        let clauses: Vec<(Occur, Box<dyn Query>)> = self
            .terms(normalized)
            .into_iter()
            .map(|t| {
                let term = Term::from_field_text(self.fields.question, &t);
                (
                    Occur::Should,
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>,
                )
            })
            .collect();
        let query = BooleanQuery::new(clauses);
        self.searcher
            .search(&query, &TopDocs::with_limit(5).order_by_score())
            .map(|t| t.len())
            .unwrap_or(0)
    }

    /// Searches for a text's analysed [`terms`](Self::terms), restricted to the given audiences
    /// (all when empty). Returns entries best first, at most `limit`.
    pub fn search(&self, terms: &[String], audiences: &[Audience], limit: usize) -> Vec<Hit> {
        if terms.is_empty() {
            return Vec::new();
        }
        let hits = self.run(terms, audiences, limit, false);
        if !hits.is_empty() {
            return hits;
        }
        self.run(terms, audiences, limit, true)
    }

    fn run(&self, terms: &[String], audiences: &[Audience], limit: usize, fuzzy: bool) -> Vec<Hit> {
        let f = &self.fields;
        // The answer text adds recall for short messages; long ones carry enough words in their
        // questions and titles, and skipping it there keeps the slowest searches fast.
        let with_answer: &[(Field, f32)] = &[(f.title, 1.4), (f.answer, 0.35), (f.question, 1.0)];
        let without_answer: &[(Field, f32)] = &[(f.title, 1.4), (f.question, 1.0)];
        let field_boosts = if terms.len() <= 10 {
            with_answer
        } else {
            without_answer
        };
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in terms {
            for &(field, boost) in field_boosts {
                if fuzzy && field == f.answer {
                    continue;
                }
                if !fuzzy
                    && self
                        .held
                        .get(&field)
                        .is_some_and(|held| !held.contains(term))
                {
                    continue;
                }
                let t = Term::from_field_text(field, term);
                let q: Box<dyn Query> = if fuzzy {
                    if term.chars().count() < 5 {
                        continue;
                    }
                    Box::new(FuzzyTermQuery::new(t, 1, true))
                } else {
                    Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs))
                };
                should.push((Occur::Should, Box::new(BoostQuery::new(q, boost))));
            }
        }
        if should.is_empty() {
            return Vec::new();
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        if !audiences.is_empty() {
            let filter: Vec<(Occur, Box<dyn Query>)> = audiences
                .iter()
                .map(|a| {
                    let t = Term::from_field_text(f.audience, a.as_str());
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>,
                    )
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(filter))));
        }
        let query = BooleanQuery::new(clauses);
        let Ok(top) = self
            .searcher
            .search(&query, &TopDocs::with_limit(40).order_by_score())
        else {
            return Vec::new();
        };
        // An entry's score: its best question, plus its whole-entry document, plus a little for
        // each further question that matched.
        let mut best: HashMap<std::sync::Arc<str>, (f32, f32, f32)> = HashMap::new();
        for (score, address) in top {
            let Some((id, is_entry)) = self
                .documents
                .get(address.segment_ord as usize)
                .and_then(|segment| segment.get(address.doc_id as usize))
                .cloned()
            else {
                continue;
            };
            if id.is_empty() {
                continue;
            }
            let slot = best.entry(id).or_insert((0.0, 0.0, 0.0));
            if is_entry {
                slot.1 = slot.1.max(score);
            } else if score > slot.0 {
                slot.2 += slot.0 * 0.1;
                slot.0 = score;
            } else {
                slot.2 += score * 0.1;
            }
        }
        let mut hits: Vec<Hit> = best
            .into_iter()
            .map(|(id, (q, e, extra))| Hit {
                id: id.to_string(),
                score: q + 0.6 * e + extra.min(q * 0.3),
                fuzzy,
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(limit);
        hits
    }
}
