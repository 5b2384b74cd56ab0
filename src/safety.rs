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

/// Most parts a combination may have: its pattern lists every order, so it grows factorially.
pub const MAX_COMBINATION: usize = 3;

/// One pattern that matches when every part matches somewhere in the text, in any order:
/// `[a, b]` becomes `(?:(?:a).*(?:b)|(?:b).*(?:a))`. Order-free rules generalise where a fixed
/// order and distance ("pics … unless … money") would miss "he wants money, or my pics go out".
pub fn any_order(parts: &[String]) -> Result<String, String> {
    if parts.len() < 2 || parts.len() > MAX_COMBINATION {
        return Err(format!(
            "needs 2 to {MAX_COMBINATION} patterns, has {}",
            parts.len()
        ));
    }
    let mut orders: Vec<Vec<usize>> = vec![vec![]];
    for _ in 0..parts.len() {
        orders = orders
            .into_iter()
            .flat_map(|order| {
                (0..parts.len())
                    .filter(|i| !order.contains(i))
                    .map(|i| {
                        let mut next = order.clone();
                        next.push(i);
                        next
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    let alternatives: Vec<String> = orders
        .iter()
        .map(|order| {
            order
                .iter()
                .map(|&i| format!("(?:{})", parts[i]))
                .collect::<Vec<_>>()
                .join(".*")
        })
        .collect();
    Ok(format!("(?:{})", alternatives.join("|")))
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
            compiled.push(CompiledCategory {
                category: category.category,
                patterns: build(&category.patterns)?,
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
    pub fn cancels(&self, category: RiskCategory, normalized: &str, sentences: &[String]) -> bool {
        let Some(unless) = self
            .categories
            .iter()
            .find(|c| c.category == category)
            .and_then(|c| c.unless.as_ref())
        else {
            return false;
        };
        if sentences.is_empty() {
            unless.is_match(normalized.as_bytes())
        } else {
            sentences.iter().all(|s| unless.is_match(s.as_bytes()))
        }
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
        self.hits_in(normalized, &[])
    }

    /// Like [`SafetyRules::hits`], with the message's sentences (each normalised) as well. An
    /// `unless` cancels a category only in the sentence it is in: "what are the signs of grooming?
    /// a 25 year old keeps asking me to keep our chats secret" is a question *and* a disclosure.
    /// When no single sentence holds a match (it spans sentences), `unless` is judged on the whole.
    pub fn hits_in(&self, normalized: &str, sentences: &[String]) -> Vec<Hit> {
        let mut hits = Vec::new();
        for c in &self.categories {
            let Some(first) = c.patterns.matches(normalized.as_bytes()).iter().next() else {
                continue;
            };
            let cancels = |text: &str| {
                c.unless
                    .as_ref()
                    .is_some_and(|u| u.is_match(text.as_bytes()))
            };
            let matching: Vec<&String> = sentences
                .iter()
                .filter(|t| c.patterns.is_match(t.as_bytes()))
                .collect();
            let cancelled = if matching.is_empty() {
                cancels(normalized)
            } else {
                matching.iter().all(|t| cancels(t))
            };
            if !cancelled {
                hits.push(Hit {
                    category: c.category,
                    pattern: c.patterns.patterns()[first].clone(),
                });
            }
        }
        hits
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
    fn combinations_match_in_any_order_and_need_every_part() {
        let parts = vec![r"\bpics?\b".to_string(), r"\bmoney\b".to_string()];
        let full = any_order(&parts).expect("two parts");
        let re = regex::Regex::new(&full).expect("compiles");
        assert!(re.is_match("he has my pics and wants money"));
        assert!(re.is_match("he wants money or my pics go out"));
        assert!(!re.is_match("he wants money"));
        assert!(!re.is_match("nice pics"));
        let three: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let re = regex::Regex::new(&any_order(&three).expect("three parts")).expect("compiles");
        for text in ["a b c", "c a b", "b c a", "c b a"] {
            assert!(re.is_match(text), "{text}");
        }
        assert!(!re.is_match("a c"));
        assert!(any_order(&parts[..1]).is_err());
        let four: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        assert!(any_order(&four).is_err());
    }

    #[test]
    fn unless_cancels_only_in_its_own_sentence() {
        let category = SafetyCategory {
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
            patterns: vec![r"\bkeep (it|our chats) secret\b".into()],
            unless: vec![r"\bsigns of grooming\b".into()],
            sources: vec![],
            examples: vec![],
            not: vec![],
        };
        let rules = SafetyRules::new(&[category]).expect("compiles");
        let text = "what are the signs of grooming a guy keeps asking me to keep our chats secret";
        let sentences = vec![
            "what are the signs of grooming".to_string(),
            "a guy keeps asking me to keep our chats secret".to_string(),
        ];
        assert!(
            rules.hits(text).is_empty(),
            "judged whole, the question cancels it"
        );
        assert_eq!(
            rules.hits_in(text, &sentences).len(),
            1,
            "judged by sentence, the disclosure stands"
        );
        let one = vec!["what are the signs of grooming when they say keep it secret".to_string()];
        assert!(
            rules.hits_in(&one[0], &one).is_empty(),
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
