//! A second, softer safety net: nearest labelled examples.
//!
//! Every safety category's `examples` (disclosures) and `not` lists (the traps), and the messages
//! of `safety/labelled.yaml`, are labelled sentences. A message that no pattern caught is compared with all of them (idf-weighted cosine
//! over stemmed words); when its nearest neighbours are clearly disclosures of one category, and
//! clearly closer than any trap, it is treated as that risk. The patterns stay the first and main
//! rule; this catches the phrasings they have not met yet, and every trap added to a `not` list
//! makes it more careful.

use std::collections::HashMap;

use crate::index::Analyzer;
use crate::knowledge::{Knowledge, RiskCategory};

/// How many neighbours vote.
const K: usize = 5;
/// The nearest disclosure must be at least this similar.
const MIN_SIMILARITY: f32 = 0.30;
/// Distinct words the message must share with the nearest disclosure.
const MIN_SHARED: usize = 3;
/// The winning category's votes must exceed the traps' votes by this factor.
const MARGIN: f32 = 1.6;
/// A message this similar to a labelled disclosure is that disclosure, whatever look-alike
/// traps are near it too (a trap written to mirror it is, by design, close to both).
const SAME: f32 = 0.95;

#[derive(Debug, Clone)]
struct Example {
    /// `None` for a trap (`not` list).
    label: Option<RiskCategory>,
    text: String,
    terms: std::collections::HashSet<String>,
}

/// The labelled examples, indexed by word.
#[derive(Debug, Clone, Default)]
pub struct SimilarExamples {
    examples: Vec<Example>,
    /// Each example's norm, apart from the rest so that scoring reads them close together.
    norms: Vec<f32>,
    /// Per word: its idf, and the examples that have it with its weight there.
    words: HashMap<String, Word, rustc_hash::FxBuildHasher>,
}

thread_local! {
    /// Each thread's dot products, one per example, all zero between calls (a message touches
    /// thousands of examples; allocating and clearing them each time cost more than the sums).
    static DOT: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A word the examples use: its idf, and the examples that have it (each weighs it by its idf).
#[derive(Debug, Clone)]
struct Word {
    idf: f32,
    postings: Vec<u32>,
}

/// A match: the category and the nearest example, for explanations.
#[derive(Debug, Clone, PartialEq)]
pub struct Similar {
    /// The category voted for.
    pub category: RiskCategory,
    /// The nearest disclosure of that category.
    pub example: String,
    /// Its similarity (0–1).
    pub similarity: f32,
}

impl SimilarExamples {
    /// Builds the example index from the knowledge's safety files and `labelled.yaml`, with the
    /// search index's analyser (stemming, stop words). Analysing the thousands of examples is
    /// most of the work, so it is shared among the machine's cores.
    pub fn new(knowledge: &Knowledge, analyzer: &Analyzer) -> SimilarExamples {
        let mut labelled: Vec<(Option<RiskCategory>, &String)> = Vec::new();
        for category in knowledge.safety() {
            for (label, list) in [
                (Some(category.category), &category.examples),
                (None, &category.not),
            ] {
                labelled.extend(list.iter().map(|text| (label, text)));
            }
        }
        labelled.extend(
            knowledge
                .labelled()
                .iter()
                .map(|(label, text)| (*label, text)),
        );
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = labelled.len().div_ceil(threads).max(1);
        let analyse = |part: &[(Option<RiskCategory>, &String)]| {
            part.iter()
                .filter_map(|&(label, text)| {
                    let terms = analyzer.terms(&crate::normalize::normalize(text));
                    (!terms.is_empty()).then(|| (label, text.clone(), terms))
                })
                .collect::<Vec<_>>()
        };
        let raw: Vec<(Option<RiskCategory>, String, Vec<String>)> = std::thread::scope(|scope| {
            let parts: Vec<_> = labelled
                .chunks(chunk)
                .map(|part| {
                    std::thread::Builder::new()
                        .spawn_scoped(scope, move || analyse(part))
                        .ok()
                })
                .collect();
            parts
                .into_iter()
                .zip(labelled.chunks(chunk))
                // A part whose thread could not start (or failed) is analysed here.
                .flat_map(|(thread, part)| {
                    thread
                        .and_then(|t| t.join().ok())
                        .unwrap_or_else(|| analyse(part))
                })
                .collect()
        });
        let n = raw.len().max(1) as f32;
        let mut df: HashMap<String, usize> = HashMap::new();
        for (_, _, terms) in &raw {
            for t in terms {
                *df.entry(t.clone()).or_default() += 1;
            }
        }
        let mut words: HashMap<String, Word, rustc_hash::FxBuildHasher> = df
            .into_iter()
            .map(|(t, d)| {
                let idf = (n / d as f32).ln() + 1.0;
                let postings = Vec::new();
                (t, Word { idf, postings })
            })
            .collect();
        let mut examples = Vec::with_capacity(raw.len());
        let mut norms = Vec::with_capacity(raw.len());
        for (i, (label, text, terms)) in raw.into_iter().enumerate() {
            let mut norm = 0.0;
            // Each word once, in a fixed order: a float sum in a hash set's order differs from
            // run to run in the last bit, and two examples that tie would swap places.
            let mut unique: Vec<&String> = terms.iter().collect();
            unique.sort_unstable();
            unique.dedup();
            for t in unique {
                if let Some(word) = words.get_mut(t) {
                    norm += word.idf * word.idf;
                    word.postings.push(i as u32);
                }
            }
            let terms = terms.into_iter().collect();
            norms.push(norm.sqrt());
            examples.push(Example { label, text, terms });
        }
        SimilarExamples {
            examples,
            norms,
            words,
        }
    }

    /// The risk the nearest examples point to, if they clearly agree.
    pub fn classify(&self, terms: &[String]) -> Option<Similar> {
        if terms.len() < 3 {
            return None;
        }
        // Words no example knows still count against similarity.
        let mut unknown = 0usize;
        let mut known: Vec<&Word> = Vec::with_capacity(terms.len());
        for term in terms {
            match self.words.get(term) {
                Some(word) => known.push(word),
                None => unknown += 1,
            }
        }
        let query_norm = known.iter().map(|w| w.idf * w.idf).sum::<f32>() + unknown as f32 * 4.0;
        let query_norm = query_norm.sqrt();
        if known.is_empty() || query_norm == 0.0 {
            return None;
        }
        // Only the K nearest matter: kept best first as the examples are scored.
        let scored = DOT.with_borrow_mut(|dot| {
            // One slot per example, zero between calls.
            dot.resize(self.examples.len(), 0.0);
            for word in &known {
                // The same weight on both sides: the query's word and the example's.
                let product = word.idf * word.idf;
                for &i in &word.postings {
                    if let Some(slot) = dot.get_mut(i as usize) {
                        *slot += product;
                    }
                }
            }
            // Every example's similarity at once, without a branch: which examples a message
            // shares a word with is random, and a branch on it was mispredicted half the time.
            // An example with no word in common stays at zero.
            for (slot, norm) in dot.iter_mut().zip(&self.norms) {
                *slot /= query_norm * norm.max(f32::EPSILON);
            }
            let mut scored: Vec<(usize, f32)> = Vec::with_capacity(K + 1);
            // The K-th best so far; zero until there are K, so that only examples with a word
            // in common enter.
            let mut kth = 0.0;
            for (i, &similarity) in dot.iter().enumerate() {
                if similarity > kth {
                    let at = scored.partition_point(|s| s.1 >= similarity);
                    scored.insert(at, (i, similarity));
                    scored.truncate(K);
                    if scored.len() == K {
                        kth = scored[K - 1].1;
                    }
                }
            }
            dot.fill(0.0);
            scored
        });
        let (first, first_sim) = *scored.first()?;
        let category = self.examples[first].label?;
        if first_sim < MIN_SIMILARITY {
            return None;
        }
        // At least three distinct words in common with the nearest disclosure: one or two shared
        // words ("talk to", "mod") are not a disclosure.
        let shared = terms
            .iter()
            .filter(|t| self.examples[first].terms.contains(*t))
            .count();
        if shared < MIN_SHARED {
            return None;
        }
        if first_sim < SAME {
            let mut votes = 0.0;
            let mut traps = 0.0;
            for &(i, s) in &scored {
                match self.examples[i].label {
                    Some(c) if c == category => votes += s,
                    None => traps += s,
                    Some(_) => {}
                }
            }
            if votes <= traps * MARGIN {
                return None;
            }
        }
        Some(Similar {
            category,
            example: self.examples[first].text.clone(),
            similarity: first_sim,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built twice from the same knowledge, the net is the same to the last bit: two examples
    /// that tie must not swap places from one run to the next.
    #[test]
    fn the_net_is_built_the_same_every_time() {
        let knowledge = crate::Knowledge::bundled().expect("bundled knowledge loads");
        let analyzer = crate::index::Analyzer::default();
        let a = SimilarExamples::new(&knowledge, &analyzer);
        let b = SimilarExamples::new(&knowledge, &analyzer);
        assert_eq!(a.examples.len(), b.examples.len());
        let same = a
            .norms
            .iter()
            .zip(&b.norms)
            .all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "example norms differ between two builds");
    }
}
