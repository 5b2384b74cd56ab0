//! Safety rules: the risk patterns of the knowledge base, a `RegexSet` per category, run first on
//! every message.
//!
//! A category is detected when one of its patterns matches the normalised text and none of its
//! `unless` patterns does. Each category's patterns run in a single pass over the text.

use regex::{Regex, RegexSet, RegexSetBuilder};

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

fn build(patterns: &[String]) -> Result<RegexSet, regex::Error> {
    RegexSetBuilder::new(patterns)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
}

impl SafetyRules {
    /// Checks that one pattern compiles.
    pub fn check_pattern(pattern: &str) -> Result<(), regex::Error> {
        regex::RegexBuilder::new(pattern)
            .size_limit(SIZE_LIMIT)
            .build()
            .map(|_: Regex| ())
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

    /// The categories detected in normalised text, in [`RiskCategory::ALL`] order.
    pub fn detect(&self, normalized: &str) -> Vec<RiskCategory> {
        self.hits(normalized)
            .into_iter()
            .map(|h| h.category)
            .collect()
    }

    /// The categories detected in normalised text, each with the first pattern that found it.
    pub fn hits(&self, normalized: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        for c in &self.categories {
            let Some(first) = c.patterns.matches(normalized).iter().next() else {
                continue;
            };
            if c.unless.as_ref().is_some_and(|u| u.is_match(normalized)) {
                continue;
            }
            hits.push(Hit {
                category: c.category,
                pattern: c.patterns.patterns()[first].clone(),
            });
        }
        hits
    }
}
