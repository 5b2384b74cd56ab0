//! Safety rules: every risk pattern of the knowledge base in one `RegexSet`, run first on every
//! message.
//!
//! A category is detected when one of its patterns matches the normalised text and none of its
//! `unless` patterns does. All patterns run in a single pass over the text.

use regex::{Regex, RegexSet, RegexSetBuilder};

use crate::knowledge::{RiskCategory, SafetyCategory};

/// Size limit for compiled patterns, generous for hand-written rules but bounded.
const SIZE_LIMIT: usize = 32 << 20;

/// The compiled safety patterns of a knowledge base.
#[derive(Debug, Clone)]
pub struct SafetyRules {
    patterns: RegexSet,
    owner: Vec<RiskCategory>,
    sources: Vec<String>,
    unless: Vec<(RiskCategory, RegexSet)>,
}

/// One detected category and the pattern that found it, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The category.
    pub category: RiskCategory,
    /// The pattern that matched.
    pub pattern: String,
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
        let mut sources = Vec::new();
        let mut owner = Vec::new();
        let mut unless = Vec::new();
        for category in categories {
            for pattern in &category.patterns {
                sources.push(pattern.clone());
                owner.push(category.category);
            }
            if !category.unless.is_empty() {
                let set = RegexSetBuilder::new(&category.unless)
                    .size_limit(SIZE_LIMIT)
                    .build()?;
                unless.push((category.category, set));
            }
        }
        let patterns = RegexSetBuilder::new(&sources)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(SIZE_LIMIT)
            .build()?;
        Ok(SafetyRules {
            patterns,
            owner,
            sources,
            unless,
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
        let matches = self.patterns.matches(normalized);
        let mut hits: Vec<Hit> = Vec::new();
        for index in matches.iter() {
            let category = self.owner[index];
            if hits.iter().any(|h| h.category == category) {
                continue;
            }
            let cancelled = self
                .unless
                .iter()
                .any(|(c, set)| *c == category && set.is_match(normalized));
            if !cancelled {
                hits.push(Hit {
                    category,
                    pattern: self.sources[index].clone(),
                });
            }
        }
        hits.sort_by_key(|h| RiskCategory::ALL.iter().position(|c| *c == h.category));
        hits
    }
}
