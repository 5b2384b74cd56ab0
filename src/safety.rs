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
//! the literal words every match of it must contain: one of its trigger words (where a match
//! begins, when they are its prefixes) and one word from each of its gates, sets read from its
//! other parts ("my .{0,10}(pics|vids)" is tried only where "my" is, and only if "pics" or "vids"
//! is somewhere). A pattern written `a|b` is read branch by branch, and so is one that begins
//! with a choice between sequences (`(a b|c d).{0,40}e` as `a b.{0,40}e` and `c d.{0,40}e`); a
//! word after `\b` counts only where a word begins. One Aho-Corasick pass finds the words of every pattern of every
//! category at once. The result is the same as running every pattern.

use std::collections::{BTreeMap, HashMap};

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
    /// Built on first use (or by [`SafetyRules::compile_all`]); `None` if it could not be.
    scanner: Arc<OnceLock<Option<Scanner>>>,
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
    /// Per pattern, the literals a text needs before it is worth trying (see [`Required`]).
    required: Arc<[Required]>,
    /// The patterns that need no literal, tried on every message (read once from `required`).
    always: Arc<[usize]>,
    /// This list's number in the [`Scanner`] of the rules it belongs to.
    list: u32,
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
        let required = sources
            .iter()
            .map(|source| {
                let hir = regex_syntax::ParserBuilder::new()
                    .unicode(false)
                    .utf8(false)
                    .build()
                    .parse(source)
                    .map_err(|e| regex::Error::Syntax(e.to_string()))?;
                Ok(required_literals(&hir))
            })
            .collect::<Result<Arc<[Required]>, regex::Error>>()?;
        let always = (required.iter().enumerate())
            .filter(|(_, r)| r.is_empty())
            .map(|(i, _)| i)
            .collect();
        Ok(Patterns {
            regexes: sources.iter().map(|s| LazyRegex::new(s)).collect(),
            required,
            always,
            list: 0,
            on_error,
        })
    }

    /// The patterns that may match the scanned text and where, sorted by pattern (the order
    /// written).
    fn candidates(&self, scan: &Scan) -> Vec<Candidate> {
        if scan.everything {
            return (0..self.regexes.len()).map(|i| (i, None)).collect();
        }
        let mut found: Vec<Candidate> = self.always.iter().map(|&i| (i, None)).collect();
        let list = self.list;
        let from = scan.candidates.partition_point(|t| t.0 < list);
        let to = scan.candidates.partition_point(|t| t.0 <= list);
        found.extend(
            scan.candidates[from..to]
                .iter()
                .map(|&(_, pattern, at)| (pattern as usize, at.map(|at| at as usize))),
        );
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

    fn is_match(&self, scan: &Scan) -> bool {
        self.first(scan).is_some()
    }

    /// The first pattern (in the order written) that matches.
    fn first(&self, scan: &Scan) -> Option<&str> {
        let candidates = self.candidates(scan);
        candidates
            .chunk_by(|a, b| a.0 == b.0)
            .find(|places| self.try_one(places[0].0, places, scan.text))
            .map(|places| self.regexes[places[0].0].source.as_str())
    }

    /// Every pattern that matches, in order (for tests).
    #[cfg(test)]
    fn all(&self, scan: &Scan) -> Vec<usize> {
        self.candidates(scan)
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|places| self.try_one(places[0].0, places, scan.text))
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

/// The literals of every pattern list of a [`SafetyRules`], all found in a text by one
/// Aho-Corasick pass: one walk through one automaton per message, rather than one per list.
///
/// A branch with gates is looked at only once all its gates are open, which the rare words
/// decide; so the common words that trigger it ("my", "he") cost nothing on most messages.
#[derive(Debug)]
struct Scanner {
    automaton: AhoCorasick,
    /// Per literal (and one past the last), where its part of `plain`, `gates` and `triggers`
    /// begins: literal `l` has `plain[at[l][0]..at[l + 1][0]]` and so on. One array, so that a
    /// literal found costs one memory read to place, not three.
    at: Vec<[u32; 3]>,
    /// The ungated branches each literal triggers.
    plain: Vec<Trigger>,
    /// The gates (by number) each literal is one of. Gates are shared: the branches read from
    /// one pattern often need the same words.
    gates: Vec<u32>,
    /// Per gate: whether its literals count only where they begin a word.
    gate_at_word: Vec<bool>,
    /// The gated branches (by number in `gated`) each literal triggers.
    triggers: Vec<u32>,
    /// The branches that have gates.
    gated: Vec<GatedBranch>,
}

/// Distinct values, numbered in the order first seen.
struct Numbered<K> {
    values: Vec<K>,
    numbers: std::collections::HashMap<K, usize>,
}

impl<K> Default for Numbered<K> {
    fn default() -> Self {
        Numbered {
            values: Vec::new(),
            numbers: std::collections::HashMap::new(),
        }
    }
}

impl<K: Clone + Eq + std::hash::Hash> Numbered<K> {
    /// The value's number, given it the first time it is seen.
    fn number(&mut self, value: K) -> usize {
        *self.numbers.entry(value.clone()).or_insert_with(|| {
            self.values.push(value);
            self.values.len() - 1
        })
    }
}

/// An ungated branch a literal triggers.
#[derive(Debug, Clone, Copy)]
struct Trigger {
    list: u32,
    pattern: u32,
    /// The literal counts only where it begins a word.
    at_word: bool,
    /// The literal begins every match: the pattern is tried anchored where it is.
    prefix: bool,
}

/// A branch with gates: the pattern it belongs to, its gates (by number) and its trigger.
#[derive(Debug)]
struct GatedBranch {
    list: u32,
    pattern: u32,
    gates: [u32; MAX_GATES],
    gate_count: u8,
    at_word: bool,
    prefix: bool,
}

impl Scanner {
    /// The automaton over the literals of these lists (numbered as given).
    fn build(lists: &[&Patterns]) -> Result<Scanner, ScannerError> {
        let mut literals: Numbered<&[u8]> = Numbered::default();
        let mut gate_sets: Numbered<&Literals> = Numbered::default();
        // (literal number, what it leads to), gathered per literal at the end.
        let mut plain: Vec<(usize, Trigger)> = Vec::new();
        let mut triggers: Vec<(usize, u32)> = Vec::new();
        let mut gated = Vec::new();
        for patterns in lists {
            for (pattern, required) in patterns.required.iter().enumerate() {
                for b in required {
                    let ids: Vec<usize> = (b.trigger.words.iter())
                        .map(|w| literals.number(w))
                        .collect();
                    if b.gates.is_empty() {
                        let trigger = Trigger {
                            list: patterns.list,
                            pattern: pattern as u32,
                            at_word: b.trigger.at_word,
                            prefix: b.prefixes,
                        };
                        plain.extend(ids.iter().map(|&l| (l, trigger)));
                        continue;
                    }
                    let mut gates = [0; MAX_GATES];
                    for (slot, gate) in gates.iter_mut().zip(&b.gates) {
                        *slot = gate_sets.number(gate) as u32;
                    }
                    triggers.extend(ids.iter().map(|&l| (l, gated.len() as u32)));
                    gated.push(GatedBranch {
                        list: patterns.list,
                        pattern: pattern as u32,
                        gates,
                        gate_count: b.gates.len().min(MAX_GATES) as u8,
                        at_word: b.trigger.at_word,
                        prefix: b.prefixes,
                    });
                }
            }
        }
        let mut gates: Vec<(usize, u32)> = Vec::new();
        for (g, gate) in gate_sets.values.iter().enumerate() {
            for literal in gate.words.iter() {
                gates.push((literals.number(literal), g as u32));
            }
        }
        let gate_at_word = gate_sets.values.iter().map(|g| g.at_word).collect();
        let automaton = AhoCorasick::new(&literals.values)?;
        let count = literals.values.len();
        let (plain_at, plain) = per_literal(count, plain)?;
        let (gates_at, gates) = per_literal(count, gates)?;
        let (triggers_at, triggers) = per_literal(count, triggers)?;
        let at = (plain_at.iter().zip(&gates_at).zip(&triggers_at))
            .map(|((&p, &g), &t)| [p, g, t])
            .collect();
        Ok(Scanner {
            automaton,
            at,
            plain,
            gates,
            gate_at_word,
            triggers,
            gated,
        })
    }

    /// Literal `l`'s part of a per-literal list (`which` of the three in `at`).
    fn part<'s, T>(&self, list: &'s [T], l: u32, which: usize) -> &'s [T] {
        let l = l as usize;
        match (self.at.get(l), self.at.get(l + 1)) {
            (Some(from), Some(to)) => list.get(from[which] as usize..to[which] as usize),
            _ => None,
        }
        .unwrap_or_default()
    }

    /// Which patterns may match the text, and where.
    fn scan<'t>(&self, text: &'t [u8]) -> Scan<'t> {
        // Every literal found (by number), where, and whether a word begins there.
        let found: Vec<(u32, u32, bool)> = self
            .automaton
            .find_overlapping_iter(text)
            .map(|m| {
                let at = m.start();
                (m.pattern().as_u32(), at as u32, at_boundary(text, at))
            })
            .collect();
        // The gates open in this text, a bit each.
        let mut open = vec![0u64; self.gate_at_word.len().div_ceil(64)];
        for &(l, _, word) in &found {
            for &g in self.part(&self.gates, l, 1) {
                let g = g as usize;
                if (word || !self.gate_at_word.get(g).copied().unwrap_or(false))
                    && let Some(bits) = open.get_mut(g / 64)
                {
                    *bits |= 1 << (g % 64);
                }
            }
        }
        let is_open = |g: u32| {
            open.get(g as usize / 64)
                .is_some_and(|b| b & (1 << (g % 64)) != 0)
        };
        let mut candidates: Vec<(u32, u32, Option<u32>)> = Vec::new();
        for &(l, at, word) in &found {
            for t in self.part(&self.plain, l, 0) {
                if word || !t.at_word {
                    candidates.push((t.list, t.pattern, t.prefix.then_some(at)));
                }
            }
            for &b in self.part(&self.triggers, l, 2) {
                if let Some(branch) = self.gated.get(b as usize)
                    && (word || !branch.at_word)
                    && (branch.gates.iter())
                        .take(branch.gate_count.into())
                        .all(|&g| is_open(g))
                {
                    candidates.push((branch.list, branch.pattern, branch.prefix.then_some(at)));
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        Scan {
            text,
            everything: false,
            candidates,
        }
    }
}

/// (literal, value) pairs as one list ordered by literal, and where each literal's part begins
/// (and the last ends): literal `l` has `values[at[l]..at[l + 1]]`. The lists are a few hundred
/// thousand long: u32 offsets keep the table small, and a longer list is an error, not a wrap.
fn per_literal<T>(
    count: usize,
    mut pairs: Vec<(usize, T)>,
) -> Result<(Vec<u32>, Vec<T>), ScannerError> {
    if u32::try_from(pairs.len()).is_err() {
        return Err(ScannerError::TooLarge(pairs.len()));
    }
    pairs.sort_by_key(|(l, _)| *l);
    let mut at = Vec::with_capacity(count + 1);
    let mut values = Vec::with_capacity(pairs.len());
    let mut pairs = pairs.into_iter().peekable();
    for l in 0..count {
        at.push(values.len() as u32);
        while let Some((_, value)) = pairs.next_if(|(owner, _)| *owner == l) {
            values.push(value);
        }
    }
    at.push(values.len() as u32);
    Ok((at, values))
}

/// Why the literal scanner could not be built (the rules then try every pattern: slower, never
/// wrong).
#[derive(Debug, thiserror::Error)]
enum ScannerError {
    /// The automaton over the literals could not be built.
    #[error("the literal automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
    /// A per-literal list is longer than its `u32` offsets can place.
    #[error("{0} entries in a per-literal list, more than u32 offsets can place")]
    TooLarge(usize),
}

/// What the scanner found in one text.
struct Scan<'t> {
    text: &'t [u8],
    /// No scanner could be built: every pattern is a candidate everywhere (slow, never wrong).
    everything: bool,
    /// The patterns that may match: (list, pattern, where a match would begin if known),
    /// sorted.
    candidates: Vec<(u32, u32, Option<u32>)>,
}

/// What a pattern needs in a text before it is worth trying: what one of its branches (the
/// alternatives of a pattern written `a|b|c`, or the whole pattern) needs. Empty when some
/// branch needs no literal at all: the pattern is then always tried.
type Required = Vec<Branch>;

/// What one branch of a pattern needs in a text.
#[derive(Debug, PartialEq)]
struct Branch {
    /// Literals of which every match of the branch contains one.
    trigger: Literals,
    /// Whether the trigger's literals are prefixes: every match of the branch begins with one.
    prefixes: bool,
    /// Other sets of literals, read from other parts of the branch, each of which must also have
    /// one in the text: "my .{0,10}(pics|vids)" needs "my" and one of "pics" or "vids", and the
    /// common word alone no longer costs an attempt wherever it is.
    gates: Vec<Literals>,
}

/// Most branches read from one pattern; a pattern with more is one branch.
const MAX_BRANCHES: usize = 256;

/// Most gates per branch (the rarest are kept).
const MAX_GATES: usize = 4;

/// The literals a pattern needs (see [`Required`]).
///
/// Its alternatives are read as branches, and so is a sequence that begins with a choice:
/// `(a|b).{0,100}c` is read as `a.{0,100}c` and `b.{0,100}c`, whose own prefixes are longer
/// and rarer than those of the whole (which the extractor shortens when there are many). The
/// branches share their parts, so each part's literals are read once.
fn required_literals(hir: &Hir) -> Required {
    let mut reader = Reader::default();
    let mut branches: Vec<Vec<&Hir>> = Vec::new();
    let mut pending = vec![flat(hir)];
    while let Some(parts) = pending.pop() {
        match leading_alternation(&parts) {
            Some((i, alternatives))
                if branches.len() + pending.len() + alternatives.len() <= MAX_BRANCHES =>
            {
                for alternative in alternatives.iter().rev() {
                    let mut distributed = parts[..i].to_vec();
                    distributed.extend(flat(alternative));
                    distributed.extend_from_slice(&parts[i + 1..]);
                    pending.push(distributed);
                }
            }
            _ => branches.push(parts),
        }
    }
    let mut required = Vec::with_capacity(branches.len());
    for parts in &branches {
        match reader.branch(parts) {
            Some(found) => required.push(found),
            None => return Vec::new(),
        }
    }
    required
}

/// A pattern as the sequence of its parts, with groups (which match what they hold) opened:
/// `(\bmy (pics|vids))` is `\b`, `my `, `(pics|vids)`.
fn flat(hir: &Hir) -> Vec<&Hir> {
    match hir.kind() {
        HirKind::Capture(capture) => flat(&capture.sub),
        HirKind::Concat(parts) => parts.iter().flat_map(flat).collect(),
        _ => vec![hir],
    }
}

/// The first part of a sequence that matches any text, when it is a choice between sequences
/// (a choice between words, `(my|our)`, reads as well whole): where it is, and its
/// alternatives.
fn leading_alternation<'h>(parts: &[&'h Hir]) -> Option<(usize, &'h [Hir])> {
    let i = parts
        .iter()
        .position(|part| !matches!(part.kind(), HirKind::Look(_)))?;
    match parts[i].kind() {
        HirKind::Alternation(alternatives)
            if alternatives.iter().any(|a| {
                let parts = flat(a);
                parts.len() > 1
                    || parts
                        .first()
                        .is_some_and(|p| matches!(p.kind(), HirKind::Alternation(_)))
            }) =>
        {
            Some((i, alternatives.as_slice()))
        }
        _ => None,
    }
}

/// Reads the literals of one pattern's branches, remembering what it read: the branches of a
/// pattern share most of their parts, and often the parts their prefixes or suffixes come from.
/// Parts are known by their address, so a reader must live within one [`required_literals`]
/// call, while the pattern it reads is alive (a later pattern could reuse the addresses).
#[derive(Default)]
struct Reader {
    /// Per part (by address) and way of reading, its literal sequence.
    parts: HashMap<(*const Hir, Reading), Seq>,
    /// Per part, its literals as a gate reads them (see [`Reader::gate`]).
    gates: HashMap<*const Hir, Option<(Words, bool)>>,
    /// Per way of reading and first part read, the sequences read (see [`Read`]).
    sequences: HashMap<(Reading, *const Hir), Vec<Read>>,
}

/// A sequence read: the run of its parts read (in reading order, by address), whether the
/// reading stopped there because the literals were no longer exact (rather than at the
/// sequence's end), and the literals.
struct Read {
    run: Vec<*const Hir>,
    stopped: bool,
    words: Option<Words>,
}

/// Literals, shared by the branches and gates that need them.
type Words = Arc<[Vec<u8>]>;

/// How a part's literals are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Reading {
    /// Prefixes, as many as [`PREFIX_LIMIT`].
    Trigger,
    /// Prefixes, as many as the extractor keeps by default.
    Gate,
    /// Suffixes.
    Suffix,
}

/// The extractor's default limit on a sequence's literals.
const EXTRACTOR_LIMIT: usize = 250;

impl Reader {
    /// A part's literal sequence, read once.
    fn part(&mut self, part: &Hir, how: Reading) -> &Seq {
        self.parts
            .entry((part as *const Hir, how))
            .or_insert_with(|| {
                let mut extractor = Extractor::new();
                match how {
                    Reading::Trigger => extractor
                        .kind(ExtractKind::Prefix)
                        .limit_total(PREFIX_LIMIT),
                    Reading::Gate => extractor.kind(ExtractKind::Prefix),
                    Reading::Suffix => extractor.kind(ExtractKind::Suffix),
                };
                extractor.extract(part)
            })
    }

    /// A part's literals as a gate: its prefixes, or, when it has none that can be listed
    /// (`\w+ teacher`), its suffixes; and whether they are prefixes.
    fn gate(&mut self, part: &Hir) -> Option<(Words, bool)> {
        if let Some(words) = self.gates.get(&(part as *const Hir)) {
            return words.clone();
        }
        let prefixes = literals(self.part(part, Reading::Gate).clone());
        let words = match prefixes {
            Some(words) => Some((Words::from(words), true)),
            None => literals(self.part(part, Reading::Suffix).clone())
                .map(|words| (Words::from(words), false)),
        };
        self.gates.insert(part as *const Hir, words.clone());
        words
    }

    /// A sequence's prefixes or suffixes, read as the extractor reads a sequence: its parts'
    /// crossed, in order (from the end for suffixes), while they are exact.
    fn sequence(&mut self, parts: &[&Hir], how: Reading) -> Option<Words> {
        let ordered: Vec<&Hir> = match how {
            Reading::Suffix => parts.iter().rev().copied().collect(),
            _ => parts.to_vec(),
        };
        let order: Vec<*const Hir> = ordered.iter().map(|p| *p as *const Hir).collect();
        // A run of the same parts read before gives the same literals, if the reading stopped
        // there or the run is the whole sequence.
        let first = *order.first()?;
        let earlier = (self.sequences.get(&(how, first)).into_iter().flatten()).find(|read| {
            order.starts_with(&read.run) && (read.stopped || read.run.len() == order.len())
        });
        if let Some(read) = earlier {
            return read.words.clone();
        }
        let limit = match how {
            Reading::Trigger => PREFIX_LIMIT,
            _ => EXTRACTOR_LIMIT,
        };
        let mut seq = Seq::singleton(regex_syntax::hir::literal::Literal::exact(vec![]));
        let mut end = 0;
        for part in &ordered {
            if seq.is_inexact() {
                break;
            }
            let mut next = self.part(part, how).clone();
            if seq.max_cross_len(&next).is_some_and(|len| len > limit) {
                next.make_infinite();
            }
            match how {
                Reading::Suffix => seq.cross_reverse(&mut next),
                _ => seq.cross_forward(&mut next),
            }
            end += 1;
        }
        let words = literals(seq).map(Words::from);
        self.sequences.entry((how, first)).or_default().push(Read {
            run: order[..end].to_vec(),
            stopped: end < order.len(),
            words: words.clone(),
        });
        words
    }

    /// What one branch (its parts) needs, or `None` when it needs no literal.
    fn branch(&mut self, parts: &[&Hir]) -> Option<Branch> {
        // Every part of a sequence must match: "\w+ (cut|burn)" needs "cut" or "burn" somewhere.
        let mut sets: Vec<Literals> = Vec::new();
        let suffixes = self.sequence(parts, Reading::Suffix);
        sets.extend(suffixes.map(|words| Literals {
            words,
            at_word: false,
        }));
        for (i, part) in parts.iter().enumerate() {
            let after_boundary = i > 0 && is_word_boundary(parts[i - 1]);
            if let Some((words, prefixes)) = self.gate(part) {
                sets.push(Literals {
                    words,
                    at_word: prefixes && (after_boundary || starts_at_word(part)),
                });
            }
        }
        sets.sort_by_key(|set| std::cmp::Reverse(set.rarity()));
        // Prefixes trigger best: the pattern is then run only where one is, and only that far.
        // The extractor keeps them finite by shortening them (still prefixes) when there are
        // many.
        let (trigger, prefixes) = match self.sequence(parts, Reading::Trigger) {
            Some(words) => {
                let at_word = parts.first().is_some_and(|p| starts_at_word(p));
                (Literals { words, at_word }, true)
            }
            None if sets.is_empty() => return None,
            None => (sets.remove(0), false),
        };
        // A gate of short, common words ("me", "a") would open nearly always and only slow the
        // scan, unless the trigger is commoner still.
        let mut gates: Vec<Literals> = Vec::new();
        for set in sets {
            let useful = set.rarity().0 >= 3 || set.rarity() > trigger.rarity();
            let new = set.words != trigger.words && !gates.iter().any(|g| g.words == set.words);
            if useful && new && gates.len() < MAX_GATES {
                gates.push(set);
            }
        }
        Some(Branch {
            trigger,
            prefixes,
            gates,
        })
    }
}

/// Literals of which a match (of a branch, or of a part of it) contains one.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Literals {
    words: Words,
    /// Whether they count only where they begin a word (a `\b` comes first): "od" for an
    /// overdose, not the "od" in "good".
    at_word: bool,
}

impl Literals {
    /// How rare these are likely to be in a text: the longer their shortest (up to 6 bytes,
    /// beyond which all are rare; two more if they must begin a word), then the fewer.
    fn rarity(&self) -> (usize, std::cmp::Reverse<usize>) {
        let shortest = self.words.iter().map(Vec::len).min().unwrap_or(0);
        let shortest = shortest + if self.at_word { 2 } else { 0 };
        (shortest.min(6), std::cmp::Reverse(self.words.len()))
    }
}

/// Whether the pattern is an ASCII word boundary (`\b`, as the patterns are compiled), which
/// matches only the empty string. A Unicode one (`(?u)\b`) is not: [`at_boundary`] judges words
/// the ASCII way, and "é" would not count as a letter.
fn is_word_boundary(hir: &Hir) -> bool {
    use regex_syntax::hir::Look;
    match hir.kind() {
        HirKind::Look(look) => matches!(look, Look::WordAscii | Look::WordStartAscii),
        HirKind::Capture(capture) => is_word_boundary(&capture.sub),
        _ => false,
    }
}

/// Whether every match of the pattern begins with a word boundary (`\b`).
fn starts_at_word(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(_) => is_word_boundary(hir),
        HirKind::Capture(capture) => starts_at_word(&capture.sub),
        HirKind::Concat(parts) => parts.first().is_some_and(starts_at_word),
        HirKind::Alternation(alternatives) => alternatives.iter().all(starts_at_word),
        _ => false,
    }
}

/// Whether a word boundary (`\b`, ASCII words as the patterns use them) is at `at`.
fn at_boundary(text: &[u8], at: usize) -> bool {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let before = at
        .checked_sub(1)
        .and_then(|i| text.get(i))
        .is_some_and(word);
    let after = text.get(at).is_some_and(word);
    before != after
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
    fn first(&self, scan: &Scan) -> Option<usize> {
        let candidates = self.parts.candidates(scan);
        let mut places: Vec<&[Candidate]> = vec![&[]; self.parts.regexes.len()];
        for chunk in candidates.chunk_by(|a, b| a.0 == b.0) {
            places[chunk[0].0] = chunk;
        }
        let mut known: Vec<Option<bool>> = places
            .iter()
            .map(|p| p.is_empty().then_some(false))
            .collect();
        self.groups.iter().position(|g| {
            g.iter().all(|&i| {
                *known[i].get_or_insert_with(|| self.parts.try_one(i, places[i], scan.text))
            })
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
        Ok(SafetyRules::assemble(compiled))
    }

    /// Rules over these categories, in [`RiskCategory::ALL`] order, their lists numbered for
    /// one scanner.
    fn assemble(mut categories: Vec<CompiledCategory>) -> SafetyRules {
        categories.sort_by_key(|c| RiskCategory::ALL.iter().position(|x| *x == c.category));
        let mut list = 0;
        for c in &mut categories {
            for patterns in c.lists_mut() {
                patterns.list = list;
                list += 1;
            }
        }
        SafetyRules {
            categories,
            scanner: Arc::default(),
        }
    }

    /// The scanner, built the first time it is needed. If it cannot be built (the literals are
    /// too many for an automaton), every pattern is tried on every message instead.
    fn scanner(&self) -> Option<&Scanner> {
        self.scanner
            .get_or_init(|| {
                let lists: Vec<&Patterns> = self.categories.iter().flat_map(|c| c.lists()).collect();
                Scanner::build(&lists)
                    .inspect_err(|err| {
                        tracing::error!(%err, "the safety patterns' literals do not fit an automaton");
                    })
                    .ok()
            })
            .as_ref()
    }

    /// What the scanner finds in a text.
    fn scan<'t>(&self, text: &'t str) -> Scan<'t> {
        match self.scanner() {
            Some(scanner) => scanner.scan(text.as_bytes()),
            None => Scan {
                text: text.as_bytes(),
                everything: true,
                candidates: Vec::new(),
            },
        }
    }

    /// Compiles every pattern now (they are otherwise compiled on first use), so that `waymark
    /// check` finds any that cannot be, and so that no message waits for a pattern to compile
    /// (see [`crate::Engine::warm_up`]); clones of these rules share the compiled patterns.
    /// Returns the first that fails and why.
    pub fn compile_all(&self) -> Result<(), (String, regex::Error)> {
        if self.scanner().is_none() {
            let err = regex::Error::Syntax("too many literals for one automaton".into());
            return Err(("(the literals of every pattern)".into(), err));
        }
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
        SafetyRules::assemble(parts.into_iter().flat_map(|p| p.categories).collect())
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
        if !c.cancels(&self.scan(normalized)) {
            return false;
        }
        let sentences = sentences();
        sentences.is_empty() || sentences.iter().all(|s| c.cancels(&self.scan(s)))
    }

    /// The categories detected in a message as typed, the way the engine's patterns read it:
    /// normalised, with each `unless` cancelling only in its own sentence.
    pub fn detect_message(&self, text: &str) -> Vec<RiskCategory> {
        let split = sentences(text);
        (self.hits_in(&crate::normalize::normalize(text), &|| split.as_slice()))
            .into_iter()
            .map(|h| h.category)
            .collect()
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
        let scan = self.scan(normalized);
        let scanned = std::cell::OnceCell::new();
        for c in &self.categories {
            let Some(pattern) = c.first_match(&scan) else {
                continue;
            };
            // Sentences matter only when an `unless` is somewhere in the message.
            let cancelled = c.cancels(&scan) && {
                let sentences: &Vec<Scan> =
                    scanned.get_or_init(|| sentences().iter().map(|t| self.scan(t)).collect());
                let matching: Vec<&Scan> = sentences.iter().filter(|t| c.is_match(t)).collect();
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

/// The message's sentences, each normalised (only when there is more than one).
pub fn sentences(text: &str) -> Vec<String> {
    let parts: Vec<String> = text
        .split(['.', '?', '!', '\n', ';'])
        .map(crate::normalize::normalize)
        .filter(|s| s.split(' ').count() >= 2)
        .collect();
    if parts.len() > 1 { parts } else { Vec::new() }
}

impl CompiledCategory {
    /// Whether an `unless` cancels the category in this text: one matches and no override does.
    fn cancels(&self, scan: &Scan) -> bool {
        self.unless.as_ref().is_some_and(|u| u.is_match(scan))
            && !self.overrides.as_ref().is_some_and(|o| o.is_match(scan))
    }

    /// Whether a pattern or a combination matches.
    fn is_match(&self, scan: &Scan) -> bool {
        self.patterns.is_match(scan)
            || self
                .combinations
                .as_ref()
                .is_some_and(|c| c.first(scan).is_some())
    }

    /// Its pattern lists, to number them (the scanner reads each list's number from it).
    fn lists_mut(&mut self) -> impl Iterator<Item = &mut Patterns> {
        [
            Some(&mut self.patterns),
            self.unless.as_mut(),
            self.overrides.as_mut(),
        ]
        .into_iter()
        .chain([self.combinations.as_mut().map(|c| &mut c.parts)])
        .flatten()
    }

    /// Its pattern lists: patterns, `unless`, overrides, the parts of combinations.
    fn lists(&self) -> impl Iterator<Item = &Patterns> {
        [
            Some(&self.patterns),
            self.unless.as_ref(),
            self.overrides.as_ref(),
        ]
        .into_iter()
        .chain([self.combinations.as_ref().map(|c| &c.parts)])
        .flatten()
    }

    /// The first pattern, or else the first combination, that matches: for explanations.
    fn first_match(&self, scan: &Scan) -> Option<String> {
        if let Some(first) = self.patterns.first(scan) {
            return Some(first.to_string());
        }
        let combinations = self.combinations.as_ref()?;
        let group = combinations.first(scan)?;
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
            // Branches, and literals that count only at the start of a word.
            r"(\bno)(body|one)\b.{0,10}\bcares|\bi\b.{0,20}\b(od|pills)\b",
            r"£\d+\b|\bgood",
            // A Unicode word boundary: "é" is a letter there, not for `\b` as compiled.
            r"(?u)\bélève",
            // A leading choice between sequences, one of them a choice itself: read branch by
            // branch, the rest of the sequence gating each.
            r"(\bkeep (it|this) secret|(\bhes|shes) (\d\d|old)\b|nobody knows?).{0,20}\b(coach|teacher) (said|says)",
            // A part without prefixes gates by its suffixes, wherever they fall in a word.
            r" \b(\w+ab|c)",
        ]
        .map(String::from)
        .to_vec();
        let mut patterns = Patterns::new(&sources).expect("compiles");
        // The patterns as production compiles them: ASCII classes unless a pattern asks otherwise.
        let set = regex::bytes::RegexSetBuilder::new(&sources)
            .unicode(false)
            .build()
            .expect("compiles");
        // Another list in the same scanner, sharing literals, must not change the answers.
        let mut other =
            Patterns::new(&[r"\bsecret\b".into(), r"\bmy coach\b".into()]).expect("compiles");
        other.list = 0;
        patterns.list = 1;
        let scanner = Scanner::build(&[&other, &patterns]).expect("builds");
        let words = [
            "he", "said", "secret", "my", "coach", "maths", "teacher", "touch", "a", "stranger",
            "hes", "says", "old", "nobody", "knows", "cutting", "burning", "kill", "myself", "end",
            "it", "20", "quid", "pay", "abz", "i", "the", "x", "tell", "keep", "this", "from",
            "parents", "mum", "your",
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
                "nobody cares",
                "a noone really cares",
                "anobody cares",
                "nobody scares",
                "i might od",
                "i might pod",
                "ipods are good",
                "pay£20",
                "pay £20",
                "so good",
                "sogood",
                "un élève",
                "xélève",
                "keep it secret and my coach said",
                "keep this secret my maths teacher says",
                "hes 40 the coach said",
                "shes old but my teacher says",
                "ahes 40 the coach said",
                "nobody know coach says",
                "nobody knows it my teacher said no",
                "keep it secret, the coach is lovely",
                " xab",
                "xab",
                " c",
                " cab",
            ]
            .map(String::from),
        );
        for text in &texts {
            let want: Vec<usize> = set.matches(text.as_bytes()).iter().collect();
            let scan = scanner.scan(text.as_bytes());
            assert_eq!(patterns.all(&scan), want, "{text:?}");
            let first = patterns
                .first(&scan)
                .and_then(|p| sources.iter().position(|s| s == p));
            assert_eq!(first, want.first().copied(), "{text:?}");
            // Without a scanner, every pattern is tried: the same answers.
            let everything = Scan {
                text: text.as_bytes(),
                everything: true,
                candidates: Vec::new(),
            };
            assert_eq!(patterns.all(&everything), want, "{text:?}");
        }
    }

    /// A sequence that begins with a choice between sequences is read as one branch per choice,
    /// each with its own prefixes (longer and rarer than the whole's) and the gates of the rest;
    /// a choice between words reads as well whole.
    #[test]
    fn a_leading_choice_is_read_branch_by_branch() {
        let parse = |pattern: &str| {
            regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(pattern)
                .expect("parses")
        };
        let words = |literals: &Literals| -> Vec<String> {
            (literals.words.iter())
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect()
        };
        let hir = parse(r"(\bkeep (it|this) secret|nobody knows)\b.{0,20}\b(coach|teacher)");
        let required = required_literals(&hir);
        assert_eq!(required.len(), 2);
        // Prefixes are cut to `LITERAL_BYTES`.
        assert_eq!(
            words(&required[0].trigger),
            ["keep it secr", "keep this se"]
        );
        assert!(required[0].prefixes && required[0].trigger.at_word);
        assert_eq!(words(&required[1].trigger), ["nobody knows"]);
        for branch in &required {
            assert!(
                (branch.gates.iter()).any(|g| words(g) == ["coach", "teacher"]),
                "{branch:?}"
            );
        }
        // A part with no prefixes to list gates by its suffixes, wherever they are in a word.
        let hir = parse(r"\b(my|our) (\w+ teacher|coach)\b.{0,20}\bsaid");
        let required = required_literals(&hir);
        assert_eq!(required.len(), 1);
        assert!(
            (required[0].gates.iter()).any(|g| words(g) == [" teacher", "coach"] && !g.at_word),
            "{:?}",
            required[0]
        );
        let hir = parse(r"(my|our) (coach|teacher)");
        let required = required_literals(&hir);
        assert_eq!(required.len(), 1);
        assert_eq!(
            words(&required[0].trigger),
            ["my coach", "my teacher", "our coach", "our teacher"]
        );
    }

    /// A sequence read before answers for another only where the reading stopped, or for the
    /// same sequence: "my " then "mum" is "my mum", and "my mum" then "said" is "my mum said".
    #[test]
    fn a_sequence_read_before_answers_only_for_what_it_read() {
        let (my, mum, said) = (
            Hir::literal(*b"my "),
            Hir::literal(*b"mum"),
            Hir::literal(*b" said"),
        );
        let mut reader = Reader::default();
        let read = |words: Option<Words>| -> Vec<Vec<u8>> {
            words.map(|w| w.to_vec()).unwrap_or_default()
        };
        assert_eq!(
            read(reader.sequence(&[&my, &mum], Reading::Trigger)),
            [b"my mum".to_vec()]
        );
        assert_eq!(
            read(reader.sequence(&[&my, &mum, &said], Reading::Trigger)),
            [b"my mum said".to_vec()]
        );
        assert_eq!(
            read(reader.sequence(&[&my, &mum], Reading::Suffix)),
            [b"my mum".to_vec()]
        );
        // Where the reading stops (a part with no literals), the rest cannot change it.
        let any = Hir::dot(regex_syntax::hir::Dot::AnyByte);
        let gap = Hir::repetition(regex_syntax::hir::Repetition {
            min: 0,
            max: Some(5),
            greedy: true,
            sub: Box::new(any),
        });
        assert_eq!(
            read(reader.sequence(&[&my, &gap], Reading::Trigger)),
            [b"my ".to_vec()]
        );
        assert_eq!(
            read(reader.sequence(&[&my, &gap, &said], Reading::Trigger)),
            [b"my ".to_vec()]
        );
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
        let scanner = Scanner::build(&[&set]).expect("builds");
        assert!(set.is_match(&scanner.scan("pay £200".as_bytes())));
        assert!(set.is_match(&scanner.scan("helpline in españa".as_bytes())));
        assert!(!set.is_match(&scanner.scan("helpline in espana".as_bytes())));
    }
}
