//! Safety rules: the risk patterns of the knowledge base, a `RegexSet` per category, run first on
//! every message.
//!
//! A category is detected when one of its patterns matches the normalised text and none of its
//! `unless` patterns does. Each category's patterns run in a single pass over the text.

use std::collections::BTreeMap;

use regex::bytes::{RegexSet, RegexSetBuilder};

use crate::knowledge::{RiskCategory, SafetyCategory};

/// Size limit for compiled patterns, generous for hand-written rules but bounded.
const SIZE_LIMIT: usize = 64 << 20;

/// The compiled safety patterns of a knowledge base: one `RegexSet` per category, so that a large
/// category never pushes the others over the compiled-size limit.
#[derive(Debug, Clone)]
pub struct SafetyRules {
    categories: Vec<CompiledCategory>,
}

#[derive(Debug, Clone)]
struct CompiledCategory {
    category: RiskCategory,
    patterns: RegexSet,
    combinations: Option<Combinations>,
    unless: Option<RegexSet>,
}

/// One detected category and the pattern that found it, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The category.
    pub category: RiskCategory,
    /// The pattern that matched.
    pub pattern: String,
}

/// Patterns are compiled over bytes with Unicode classes off: the normalised text is lower-case
/// ASCII words, so `.`, `\w`, `\d` and `\b` mean their ASCII selves. That keeps large hand-written
/// sets small and fast to compile; literal non-ASCII characters (`£`, `é`) still match.
fn build(patterns: &[String]) -> Result<RegexSet, regex::Error> {
    RegexSetBuilder::new(patterns)
        .unicode(false)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
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
    /// Each distinct part, compiled on its own, and its source for explanations.
    single: Vec<regex::bytes::Regex>,
    sources: Vec<String>,
    groups: Vec<Vec<usize>>,
}

impl Combinations {
    /// The first combination whose parts all match the text. Each part is its own regex, tried at
    /// most once and only when a group still needs it: most messages fail a group's first part.
    fn first(&self, text: &[u8]) -> Option<usize> {
        let mut known: Vec<Option<bool>> = vec![None; self.single.len()];
        self.groups.iter().position(|g| {
            g.iter()
                .all(|&i| *known[i].get_or_insert_with(|| self.single[i].is_match(text)))
        })
    }
}

impl SafetyRules {
    /// Checks that one pattern compiles.
    pub fn check_pattern(pattern: &str) -> Result<(), regex::Error> {
        build(&[pattern.to_string()]).map(drop)
    }

    /// Compiles the patterns of the given categories.
    pub fn new(categories: &[SafetyCategory]) -> Result<SafetyRules, regex::Error> {
        let mut compiled = Vec::with_capacity(categories.len());
        for category in categories {
            let unless = if category.unless.is_empty() {
                None
            } else {
                Some(build(&category.unless)?)
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
                let single = parts
                    .iter()
                    .map(|p| {
                        regex::bytes::RegexBuilder::new(p)
                            .unicode(false)
                            .size_limit(SIZE_LIMIT)
                            .dfa_size_limit(SIZE_LIMIT)
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Some(Combinations {
                    single,
                    sources: parts,
                    groups,
                })
            };
            compiled.push(CompiledCategory {
                category: category.category,
                patterns: build(&category.patterns)?,
                combinations,
                unless,
            });
        }
        compiled.sort_by_key(|c| RiskCategory::ALL.iter().position(|x| *x == c.category));
        Ok(SafetyRules {
            categories: compiled,
        })
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
        let Some(unless) = self
            .categories
            .iter()
            .find(|c| c.category == category)
            .and_then(|c| c.unless.as_ref())
        else {
            return false;
        };
        if !unless.is_match(normalized.as_bytes()) {
            return false;
        }
        let sentences = sentences();
        sentences.is_empty() || sentences.iter().all(|s| unless.is_match(s.as_bytes()))
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
            // `is_match` stops at the first match; which pattern it was is looked up only for a hit.
            if !c.is_match(normalized.as_bytes()) {
                continue;
            }
            let cancels = |text: &str| {
                c.unless
                    .as_ref()
                    .is_some_and(|u| u.is_match(text.as_bytes()))
            };
            // Sentences matter only when an `unless` is somewhere in the message.
            let cancelled = cancels(normalized) && {
                let matching: Vec<&String> = sentences()
                    .iter()
                    .filter(|t| c.is_match(t.as_bytes()))
                    .collect();
                matching.is_empty() || matching.iter().all(|t| cancels(t))
            };
            if !cancelled {
                hits.push(Hit {
                    category: c.category,
                    pattern: c.first_match(normalized.as_bytes()).unwrap_or_default(),
                });
            }
        }
        hits
    }
}

impl CompiledCategory {
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
        if let Some(first) = self.patterns.matches(text).iter().next() {
            return Some(self.patterns.patterns()[first].clone());
        }
        let combinations = self.combinations.as_ref()?;
        let group = combinations.first(text)?;
        let parts: Vec<&str> = combinations.groups[group]
            .iter()
            .map(|&i| combinations.sources[i].as_str())
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

    #[test]
    fn ascii_classes_still_match_non_ascii_literals() {
        let set = build(&[r"£\d+".to_string(), r"\bespaña\b".to_string()]).expect("compiles");
        assert!(set.is_match("pay £200".as_bytes()));
        assert!(set.is_match("helpline in españa".as_bytes()));
    }
}
