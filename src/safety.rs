//! Safety rules: the risk patterns of the knowledge base, per category, run first on every
//! message.
//!
//! A category is detected when one of its patterns matches the normalised text and none of its
//! `unless` patterns does.
//!
//! The patterns are many (over a thousand) and full of bounded windows (`a.{0,40}b`). Compiled
//! into one big set, a lazy DFA would build new states for nearly every new message, costing
//! milliseconds each, and compiling it would be most of the start-up time. So each pattern is its
//! own small regex, compiled the first time it is needed, and is tried only when the text holds
//! one of the literal words every match of it must contain (found for all patterns at once by
//! one Aho-Corasick pass). The result is the same as running every pattern.

use std::collections::BTreeMap;

use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Hir, HirKind};

use crate::knowledge::{RiskCategory, SafetyCategory};

/// Size limit for compiled patterns, generous for hand-written rules but bounded.
const SIZE_LIMIT: usize = 64 << 20;

/// Memory each pattern's lazy DFA may use for the states it builds; there are over a thousand.
const CACHE_LIMIT: usize = 8 << 20;

/// The safety patterns of a knowledge base, per category: each pattern its own regex, compiled
/// on first use or by [`SafetyRules::compile_all`]; clones share them.
#[derive(Debug, Clone)]
pub struct SafetyRules {
    categories: Vec<CompiledCategory>,
}

#[derive(Debug, Clone)]
struct CompiledCategory {
    category: RiskCategory,
    patterns: Patterns,
    combinations: Option<Combinations>,
    unless: Option<Patterns>,
    overrides: Option<Patterns>,
}

/// One pattern, compiled the first time it is needed.
#[derive(Debug, Clone)]
struct LazyRegex {
    source: String,
    compiled: OnceLock<Result<Regex, regex::Error>>,
}

impl LazyRegex {
    fn new(source: &str) -> LazyRegex {
        LazyRegex {
            source: source.to_string(),
            compiled: OnceLock::new(),
        }
    }

    fn compiled(&self) -> &Result<Regex, regex::Error> {
        self.compiled.get_or_init(|| single(&self.source))
    }

    /// Whether the pattern matches the text, anywhere or (`Some(at)`) starting exactly at `at`.
    /// Every pattern parsed when the rules were built and `waymark check` compiles them all, so
    /// a failure here is a pattern too big to compile in a knowledge folder that was never
    /// checked. It is logged and answers `on_error`: the answer that errs towards raising the
    /// risk (a match for a pattern, no match for an `unless`).
    fn is_match(&self, text: &[u8], at: Option<usize>, on_error: bool) -> bool {
        match self.compiled() {
            Ok(regex) => match at {
                None => regex.is_match(text),
                Some(at) => regex.is_match(Input::new(text).range(at..).anchored(Anchored::Yes)),
            },
            Err(err) => {
                tracing::error!(pattern = %self.source, %err, "a safety pattern does not compile");
                on_error
            }
        }
    }
}

/// A list of patterns that behaves like one set of them (see the module documentation).
#[derive(Debug, Clone)]
struct Patterns {
    /// Shared by clones, so that a pattern is compiled once (see [`SafetyRules::compile_all`]).
    regexes: Arc<[LazyRegex]>,
    /// The literals: a match of pattern `owner[i]` contains one of its literals.
    literals: Option<AhoCorasick>,
    owner: Vec<usize>,
    /// Per pattern: its literals are the ways a match can begin, so it is tried only where one
    /// is, anchored there; otherwise a literal anywhere means a search of the whole text.
    starts: Vec<bool>,
    /// Patterns with no literals, always tried.
    always: Vec<usize>,
    /// What a pattern that cannot be compiled answers (see [`LazyRegex::is_match`]).
    on_error: bool,
}

/// Most prefixes read from one pattern: enough for the large alternations that terms expand to.
const PREFIX_LIMIT: usize = 1000;

/// Literals are cut to this many bytes (a prefix of a prefix is still one): far fewer distinct
/// literals to build the Aho-Corasick automaton from at start-up (the extractor spells out every
/// way a large alternation can begin), for a few more anchored attempts per message.
const LITERAL_BYTES: usize = 12;

/// Where in a text a pattern might match: starting at a place, or anywhere.
type Candidate = (usize, Option<usize>);

impl Patterns {
    /// Patterns that raise a risk (or parts of a combination that does).
    fn new(sources: &[String]) -> Result<Patterns, regex::Error> {
        Patterns::build(sources, true)
    }

    /// `unless` patterns, which cancel one.
    fn cancelling(sources: &[String]) -> Result<Patterns, regex::Error> {
        Patterns::build(sources, false)
    }

    fn build(sources: &[String], on_error: bool) -> Result<Patterns, regex::Error> {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owner = Vec::new();
        let mut starts = Vec::with_capacity(sources.len());
        let mut always = Vec::new();
        for (i, source) in sources.iter().enumerate() {
            let hir = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(source)
                .map_err(|e| regex::Error::Syntax(e.to_string()))?;
            let (words, prefixes) = match required_literals(&hir) {
                Some(found) => found,
                None => {
                    always.push(i);
                    (Vec::new(), false)
                }
            };
            owner.extend(std::iter::repeat_n(i, words.len()));
            literals.extend(words);
            starts.push(prefixes);
        }
        let literals = if literals.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::new(&literals)
                    .map_err(|e| regex::Error::Syntax(format!("literals of the patterns: {e}")))?,
            )
        };
        Ok(Patterns {
            regexes: sources.iter().map(|s| LazyRegex::new(s)).collect(),
            literals,
            owner,
            starts,
            always,
            on_error,
        })
    }

    /// The patterns that may match the text and where, sorted by pattern (the order written).
    fn candidates(&self, text: &[u8]) -> Vec<Candidate> {
        let mut found: Vec<Candidate> = self.always.iter().map(|&i| (i, None)).collect();
        if let Some(literals) = &self.literals {
            found.extend(literals.find_overlapping_iter(text).map(|m| {
                let i = self.owner[m.pattern().as_usize()];
                (i, self.starts[i].then_some(m.start()))
            }));
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Whether pattern `i` matches, given the candidates for it (all with pattern `i`).
    fn try_one(&self, i: usize, places: &[Candidate], text: &[u8]) -> bool {
        let regex = &self.regexes[i];
        if places.iter().any(|(_, at)| at.is_none()) {
            return regex.is_match(text, None, self.on_error);
        }
        places
            .iter()
            .any(|&(_, at)| regex.is_match(text, at, self.on_error))
    }

    fn is_match(&self, text: &[u8]) -> bool {
        self.first(text).is_some()
    }

    /// The first pattern (in the order written) that matches.
    fn first(&self, text: &[u8]) -> Option<&str> {
        let candidates = self.candidates(text);
        candidates
            .chunk_by(|a, b| a.0 == b.0)
            .find(|places| self.try_one(places[0].0, places, text))
            .map(|places| self.regexes[places[0].0].source.as_str())
    }

    /// Every pattern that matches, in order (for tests).
    #[cfg(test)]
    fn all(&self, text: &[u8]) -> Vec<usize> {
        self.candidates(text)
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|places| self.try_one(places[0].0, places, text))
            .map(|places| places[0].0)
            .collect()
    }

    /// Compiles every pattern now, returning the first that fails.
    fn compile_all(&self) -> Result<(), (String, regex::Error)> {
        for regex in self.regexes.iter() {
            if let Err(err) = regex.compiled() {
                return Err((regex.source.clone(), err.clone()));
            }
        }
        Ok(())
    }
}

/// Literal strings of which every match of the pattern contains at least one, and whether they
/// are its prefixes (every match begins with one). `None` when there are none (for example when
/// the pattern can begin with any word and match the empty string).
fn required_literals(hir: &Hir) -> Option<(Vec<Vec<u8>>, bool)> {
    // Prefixes are best: the pattern is then run only where one is, and only that far. The
    // extractor keeps them finite by shortening them (still prefixes) when there are many.
    let prefixes = Extractor::new()
        .kind(ExtractKind::Prefix)
        .limit_total(PREFIX_LIMIT)
        .extract(hir);
    if let Some(found) = literals(prefixes) {
        return Some((found, true));
    }
    // Otherwise every part of a top-level sequence must match: "\w+ (cut|burn)" needs "cut" or
    // "burn" somewhere.
    let mut extractor = Extractor::new();
    let mut top = hir;
    while let HirKind::Capture(capture) = top.kind() {
        top = &capture.sub;
    }
    let mut best = literals(extractor.kind(ExtractKind::Suffix).extract(hir));
    extractor.kind(ExtractKind::Prefix);
    if let HirKind::Concat(parts) = top.kind() {
        for part in parts {
            best = rarer(best, literals(extractor.extract(part)));
        }
    }
    best.map(|found| (found, false))
}

/// A literal sequence's literals, when it is finite and none is empty.
fn literals(mut seq: Seq) -> Option<Vec<Vec<u8>>> {
    if seq.min_literal_len().is_none_or(|len| len == 0) {
        return None;
    }
    seq.keep_first_bytes(LITERAL_BYTES);
    seq.dedup();
    seq.literals()
        .map(|lits| lits.iter().map(|l| l.as_bytes().to_vec()).collect())
}

/// The rarer of two literal sets: the longer shortest literal (up to 6 bytes, beyond which all
/// are rare), then the fewer literals.
fn rarer(a: Option<Vec<Vec<u8>>>, b: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    let score = |set: &Vec<Vec<u8>>| {
        let shortest = set.iter().map(Vec::len).min().unwrap_or(0).min(6);
        (shortest, std::cmp::Reverse(set.len()))
    };
    match (a, b) {
        (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// One pattern, compiled over bytes with Unicode classes off: the normalised text is lower-case
/// ASCII words, so `.`, `\w`, `\d` and `\b` mean their ASCII selves. That keeps hand-written
/// patterns small and fast to compile; literal non-ASCII characters (`£`, `é`) still match.
fn single(pattern: &str) -> Result<Regex, regex::Error> {
    use regex_automata::util::syntax;
    Regex::builder()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            Regex::config()
                .utf8_empty(false)
                .nfa_size_limit(Some(SIZE_LIMIT))
                .hybrid_cache_capacity(CACHE_LIMIT),
        )
        .build(pattern)
        .map_err(|e| regex::Error::Syntax(e.to_string()))
}

/// One detected category and the pattern that found it, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The category.
    pub category: RiskCategory,
    /// The pattern that matched.
    pub pattern: String,
}

/// Whether a term name is valid: upper-case letters, digits and `_`, starting with a letter.
pub fn is_term_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Replaces every `{NAME}` in a pattern with its term from `safety/terms.yaml`, recursively.
/// (`{0,40}` and other repetitions are left alone: names start with a letter.)
pub fn expand_terms(pattern: &str, terms: &BTreeMap<String, String>) -> Result<String, String> {
    let mut text = pattern.to_string();
    for _ in 0..8 {
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        let mut changed = false;
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            match after.find('}').map(|e| &after[..e]) {
                Some(name) if is_term_name(name) => {
                    let term = terms.get(name).ok_or_else(|| {
                        format!("unknown term `{{{name}}}` (define it in safety/terms.yaml)")
                    })?;
                    out.push_str(&rest[..start]);
                    out.push_str(term);
                    rest = &after[name.len() + 1..];
                    changed = true;
                }
                _ => {
                    out.push_str(&rest[..=start]);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        if !changed {
            return Ok(out);
        }
        text = out;
    }
    Err("terms nest too deeply (a term that uses itself?)".into())
}

/// Most parts a combination may have.
pub const MAX_COMBINATION: usize = 3;

/// A category's combinations: each part compiled once, and each combination as the parts it needs.
#[derive(Debug, Clone)]
struct Combinations {
    /// Each distinct part, compiled on its own when first needed.
    parts: Patterns,
    groups: Vec<Vec<usize>>,
}

impl Combinations {
    /// The first combination whose parts all match the text. A part is tried only if the text
    /// holds one of its literals, at most once, and only when a group still needs it.
    fn first(&self, text: &[u8]) -> Option<usize> {
        let candidates = self.parts.candidates(text);
        let mut places: Vec<&[Candidate]> = vec![&[]; self.parts.regexes.len()];
        for chunk in candidates.chunk_by(|a, b| a.0 == b.0) {
            places[chunk[0].0] = chunk;
        }
        let mut known: Vec<Option<bool>> = places
            .iter()
            .map(|p| p.is_empty().then_some(false))
            .collect();
        self.groups.iter().position(|g| {
            g.iter()
                .all(|&i| *known[i].get_or_insert_with(|| self.parts.try_one(i, places[i], text)))
        })
    }
}

impl SafetyRules {
    /// Checks that one pattern compiles.
    pub fn check_pattern(pattern: &str) -> Result<(), regex::Error> {
        single(pattern)?;
        Patterns::new(&[pattern.to_string()]).map(drop)
    }

    /// Compiles the patterns of the given categories.
    pub fn new(categories: &[SafetyCategory]) -> Result<SafetyRules, regex::Error> {
        let mut compiled = Vec::with_capacity(categories.len());
        for category in categories {
            let unless = if category.unless.is_empty() {
                None
            } else {
                Some(Patterns::cancelling(&category.unless)?)
            };
            // An override that cannot compile keeps the risk (it "matches").
            let overrides = if category.overrides.is_empty() {
                None
            } else {
                Some(Patterns::new(&category.overrides)?)
            };
            let combinations = if category.combinations.is_empty() {
                None
            } else {
                let mut parts: Vec<String> = Vec::new();
                let mut groups = Vec::with_capacity(category.combinations.len());
                for group in &category.combinations {
                    if group.len() < 2 || group.len() > MAX_COMBINATION {
                        return Err(regex::Error::Syntax(format!(
                            "a combination needs 2 to {MAX_COMBINATION} patterns, this one has {}",
                            group.len()
                        )));
                    }
                    let mut indices = Vec::with_capacity(group.len());
                    for part in group {
                        let index = match parts.iter().position(|p| p == part) {
                            Some(i) => i,
                            None => {
                                parts.push(part.clone());
                                parts.len() - 1
                            }
                        };
                        indices.push(index);
                    }
                    groups.push(indices);
                }
                Some(Combinations {
                    parts: Patterns::new(&parts)?,
                    groups,
                })
            };
            compiled.push(CompiledCategory {
                category: category.category,
                patterns: Patterns::new(&category.patterns)?,
                combinations,
                unless,
                overrides,
            });
        }
        compiled.sort_by_key(|c| RiskCategory::ALL.iter().position(|x| *x == c.category));
        Ok(SafetyRules {
            categories: compiled,
        })
    }

    /// Compiles every pattern now (they are otherwise compiled on first use), so that `waymark
    /// check` finds any that cannot be, and so that no message waits for a pattern to compile
    /// (see [`crate::Engine::warm_up`]); clones of these rules share the compiled patterns.
    /// Returns the first that fails and why.
    pub fn compile_all(&self) -> Result<(), (String, regex::Error)> {
        for c in &self.categories {
            c.patterns.compile_all()?;
            for list in [&c.unless, &c.overrides].into_iter().flatten() {
                list.compile_all()?;
            }
            if let Some(combinations) = &c.combinations {
                combinations.parts.compile_all()?;
            }
        }
        Ok(())
    }

    /// Joins rules compiled separately (one per category) into one.
    pub fn merge(parts: Vec<SafetyRules>) -> SafetyRules {
        let mut categories: Vec<CompiledCategory> =
            parts.into_iter().flat_map(|p| p.categories).collect();
        categories.sort_by_key(|c| RiskCategory::ALL.iter().position(|x| *x == c.category));
        SafetyRules { categories }
    }

    /// Whether a category's `unless` patterns cancel the whole message: the nearest-example net
    /// does not raise a category whose own traps ("dye my hair") are in every sentence (in the
    /// text itself when it is one sentence, i.e. `sentences` is empty).
    pub fn cancels<'s>(
        &self,
        category: RiskCategory,
        normalized: &str,
        sentences: &dyn Fn() -> &'s [String],
    ) -> bool {
        let Some(c) = self.categories.iter().find(|c| c.category == category) else {
            return false;
        };
        if !c.cancels(normalized) {
            return false;
        }
        let sentences = sentences();
        sentences.is_empty() || sentences.iter().all(|s| c.cancels(s))
    }

    /// The categories detected in normalised text, in [`RiskCategory::ALL`] order.
    pub fn detect(&self, normalized: &str) -> Vec<RiskCategory> {
        self.hits(normalized)
            .into_iter()
            .map(|h| h.category)
            .collect()
    }

    /// The categories detected in normalised text, each with the first pattern that found it.
    pub fn hits(&self, normalized: &str) -> Vec<Hit> {
        self.hits_in(normalized, &|| &[])
    }

    /// Like [`SafetyRules::hits`], with the message's sentences (each normalised) as well. An
    /// `unless` cancels a category only in the sentence it is in: "what are the signs of grooming?
    /// a 25 year old keeps asking me to keep our chats secret" is a question *and* a disclosure.
    /// When no single sentence holds a match (it spans sentences), `unless` is judged on the whole.
    pub fn hits_in<'s>(&self, normalized: &str, sentences: &dyn Fn() -> &'s [String]) -> Vec<Hit> {
        let mut hits = Vec::new();
        for c in &self.categories {
            let Some(pattern) = c.first_match(normalized.as_bytes()) else {
                continue;
            };
            // Sentences matter only when an `unless` is somewhere in the message.
            let cancelled = c.cancels(normalized) && {
                let matching: Vec<&String> = sentences()
                    .iter()
                    .filter(|t| c.is_match(t.as_bytes()))
                    .collect();
                matching.is_empty() || matching.iter().all(|t| c.cancels(t))
            };
            if !cancelled {
                hits.push(Hit {
                    category: c.category,
                    pattern,
                });
            }
        }
        hits
    }
}

impl CompiledCategory {
    /// Whether an `unless` cancels the category in this text: one matches and no override does.
    fn cancels(&self, text: &str) -> bool {
        self.unless
            .as_ref()
            .is_some_and(|u| u.is_match(text.as_bytes()))
            && !self
                .overrides
                .as_ref()
                .is_some_and(|o| o.is_match(text.as_bytes()))
    }

    /// Whether a pattern or a combination matches.
    fn is_match(&self, text: &[u8]) -> bool {
        self.patterns.is_match(text)
            || self
                .combinations
                .as_ref()
                .is_some_and(|c| c.first(text).is_some())
    }

    /// The first pattern, or else the first combination, that matches: for explanations.
    fn first_match(&self, text: &[u8]) -> Option<String> {
        if let Some(first) = self.patterns.first(text) {
            return Some(first.to_string());
        }
        let combinations = self.combinations.as_ref()?;
        let group = combinations.first(text)?;
        let parts: Vec<&str> = combinations.groups[group]
            .iter()
            .map(|&i| combinations.parts.regexes[i].source.as_str())
            .collect();
        Some(format!("all of: {}", parts.join("  +  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_expand_recursively_and_leave_repetitions_alone() {
        let terms: BTreeMap<String, String> = [
            ("PIC".to_string(), "(pics?|photos?)".to_string()),
            ("MY_PIC".to_string(), "my {PIC}".to_string()),
        ]
        .into();
        assert_eq!(
            expand_terms(r"\b{MY_PIC}\b.{0,40}\bleaked", &terms).as_deref(),
            Ok(r"\bmy (pics?|photos?)\b.{0,40}\bleaked")
        );
        assert!(expand_terms("{NOPE}", &terms).is_err_and(|e| e.contains("NOPE")));
        let circular: BTreeMap<String, String> = [("A".to_string(), "{A}".to_string())].into();
        assert!(expand_terms("{A}", &circular).is_err());
    }

    #[test]
    fn combinations_need_every_part_in_any_order_and_respect_unless() {
        let mut category = grooming(vec![r"\bnever matches\b".into()]);
        category.combinations = vec![
            vec![r"\bpics?\b".into(), r"\bmoney\b".into()],
            vec![r"\bx\b".into(), r"\by\b".into(), r"\bz\b".into()],
        ];
        category.unless = vec![r"\bgeography trip\b".into()];
        let rules = SafetyRules::new(&[category]).expect("compiles");
        for text in [
            "he has my pics and wants money",
            "he wants money or my pics go out",
            "z y x",
        ] {
            assert_eq!(rules.detect(text), [RiskCategory::Grooming], "{text}");
        }
        for text in [
            "he wants money",
            "nice pics",
            "x z",
            "money for the pics of the geography trip",
        ] {
            assert!(rules.detect(text).is_empty(), "{text}");
        }
        let mut four = grooming(vec![r"\ba\b".into()]);
        four.combinations = vec![vec!["a".into(), "b".into(), "c".into(), "d".into()]];
        assert!(SafetyRules::new(&[four]).is_err());
    }

    fn grooming(patterns: Vec<String>) -> SafetyCategory {
        SafetyCategory {
            category: RiskCategory::Grooming,
            severity: crate::knowledge::Severity::Medium,
            entries: crate::knowledge::PerAudience {
                young_person: vec![],
                practitioner: vec![],
            },
            reply: crate::knowledge::PerAudience {
                young_person: String::new(),
                practitioner: String::new(),
            },
            patterns,
            combinations: vec![],
            unless: vec![],
            overrides: vec![],
            sources: vec![],
            examples: vec![],
            not: vec![],
        }
    }

    #[test]
    fn unless_cancels_only_in_its_own_sentence() {
        let mut category = grooming(vec![r"\bkeep (it|our chats) secret\b".into()]);
        category.unless = vec![r"\bsigns of grooming\b".into()];
        let rules = SafetyRules::new(&[category]).expect("compiles");
        let text = "what are the signs of grooming a guy keeps asking me to keep our chats secret";
        let sentences = [
            "what are the signs of grooming".to_string(),
            "a guy keeps asking me to keep our chats secret".to_string(),
        ];
        assert!(
            rules.hits(text).is_empty(),
            "judged whole, the question cancels it"
        );
        assert_eq!(
            rules.hits_in(text, &|| &sentences[..]).len(),
            1,
            "judged by sentence, the disclosure stands"
        );
        let one = ["what are the signs of grooming when they say keep it secret".to_string()];
        assert!(
            rules.hits_in(&one[0], &|| &one[..]).is_empty(),
            "in the same sentence, the question wins"
        );
    }

    /// An `unless` cancels a trap, but not a sentence that also holds harm no trap explains away.
    #[test]
    fn an_override_keeps_the_risk_an_unless_would_cancel() {
        let mut category = grooming(vec![r"\bkeep (it|this) secret\b".into()]);
        category.unless = vec![r"\bsurprise (party|for)\b".into()];
        let rules = SafetyRules::new(std::slice::from_ref(&category)).expect("compiles");
        let text = "keep it secret its a surprise for mum and he says age is just a number";
        assert!(
            rules
                .detect("keep it secret its a surprise party")
                .is_empty()
        );
        assert!(
            rules.detect(text).is_empty(),
            "without an override the trap wins"
        );
        category.overrides = vec![r"\bage is just a number\b".into()];
        let rules = SafetyRules::new(&[category]).expect("compiles");
        assert!(
            rules
                .detect("keep it secret its a surprise party")
                .is_empty()
        );
        assert_eq!(rules.detect(text), [RiskCategory::Grooming]);
        assert!(!rules.cancels(RiskCategory::Grooming, text, &|| &[]));
    }

    /// The literal prefilter and the anchored attempts must never change an answer: every
    /// kind of pattern (prefixes, no usable prefix, able to match nothing, alternatives at the
    /// top, windows, look-arounds) against a plain set of the same patterns.
    #[test]
    fn patterns_answer_exactly_as_one_set_would() {
        let sources: Vec<String> = [
            r"\b(he|hes|she) (said|says)\b.{0,20}\b(secret|tell)\b",
            r"\w+ (cut|burn)ing\b",
            r"(x)?",
            r"\bkill (my ?self|me)\b|\bend it\b",
            r"((my|our) (coach|\w+ teacher)|a stranger)\b.{0,30}\btouch",
            r"\d+ ?(quid|pounds)\b",
            r"(?:^|\s)pay\b",
            r"[a-c]{2}z",
            r"\bi\b",
            // Prefixes longer than the literals kept (`LITERAL_BYTES`).
            r"\bkeep (it|this) (a )?secret from (my|your) (parents|mum)\b",
        ]
        .map(String::from)
        .to_vec();
        let patterns = Patterns::new(&sources).expect("compiles");
        let set = regex::bytes::RegexSet::new(&sources).expect("compiles");
        let words = [
            "he", "said", "secret", "my", "coach", "maths", "teacher", "touch", "a", "stranger",
            "cutting", "burning", "kill", "myself", "end", "it", "20", "quid", "pay", "abz", "i",
            "the", "x", "tell", "keep", "this", "from", "parents", "mum", "your",
        ];
        // Every text of up to four of these words, and some longer ones.
        let mut texts: Vec<String> = vec![String::new()];
        let mut state = 7u64;
        for _ in 0..4000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = 1 + (state >> 60) as usize;
            let mut text = Vec::new();
            let mut s = state;
            for _ in 0..len {
                text.push(words[(s % words.len() as u64) as usize]);
                s /= words.len() as u64;
                if s == 0 {
                    s = state.rotate_left(17);
                }
            }
            texts.push(text.join(" "));
        }
        texts.extend(
            [
                "keep it a secret from my parents",
                "he said keep this secret from your mum",
                "x keep this a secret from my mu",
            ]
            .map(String::from),
        );
        for text in &texts {
            let want: Vec<usize> = set.matches(text.as_bytes()).iter().collect();
            assert_eq!(patterns.all(text.as_bytes()), want, "{text:?}");
            let first = patterns
                .first(text.as_bytes())
                .and_then(|p| sources.iter().position(|s| s == p));
            assert_eq!(first, want.first().copied(), "{text:?}");
        }
    }

    /// Clones of the rules (the engine's, the warm-up thread's) share the compiled patterns, so
    /// compiling them all in the background spares every later message the wait.
    #[test]
    fn clones_share_the_compiled_patterns() {
        let rules = SafetyRules::new(&[grooming(vec![
            r"\bkeep (it|this) secret\b".into(),
            r"\bour little secret\b".into(),
        ])])
        .expect("compiles");
        let compiled = |rules: &SafetyRules| {
            rules.categories[0]
                .patterns
                .regexes
                .iter()
                .filter(|r| r.compiled.get().is_some())
                .count()
        };
        assert_eq!(compiled(&rules), 0, "compiled on first use, not before");
        rules.clone().compile_all().expect("compiles");
        assert_eq!(compiled(&rules), 2);
    }

    /// A pattern too big to compile (possible in a folder `waymark check` never saw) errs towards
    /// raising the risk: as a pattern it matches, as an `unless` it cancels nothing.
    #[test]
    fn a_pattern_that_cannot_compile_errs_towards_the_risk() {
        let huge = r"(?:(?:\w{100}){100}){1000}".to_string();
        let mut category = grooming(vec![r"\bkeep (it|this) secret\b".into()]);
        category.unless = vec![format!(r"\bjust kidding\b|{huge}")];
        let rules = SafetyRules::new(&[category]).expect("parses");
        assert_eq!(
            rules.detect("he told me to keep it secret"),
            [RiskCategory::Grooming]
        );
        assert!(rules.compile_all().is_err(), "check reports it");
        let rules = SafetyRules::new(&[grooming(vec![huge])]).expect("parses");
        assert_eq!(rules.detect("hello"), [RiskCategory::Grooming]);
    }

    #[test]
    fn ascii_classes_still_match_non_ascii_literals() {
        let set =
            Patterns::new(&[r"£\d+".to_string(), r"\bespaña\b".to_string()]).expect("compiles");
        assert!(set.is_match("pay £200".as_bytes()));
        assert!(set.is_match("helpline in españa".as_bytes()));
    }
}
