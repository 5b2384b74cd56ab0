//! Finding the country a message is about: names, native names, adjectives and abbreviations
//! from the helpline files, matched as whole words in the normalised text.

use std::collections::HashMap;

use crate::knowledge::Knowledge;

/// Two-letter codes that are also English words or chat shorthand: never read as a country on
/// their own.
const WORD_CODES: &[&str] = &[
    "am", "an", "as", "at", "be", "by", "do", "go", "hi", "id", "if", "in", "is", "it", "me", "my",
    "no", "of", "oh", "ok", "on", "or", "so", "to", "up", "us", "we", "tv", "pa", "ma", "la", "ai",
    "al", "ps", "pe", "ne", "mo", "im", "ie", "ng", "sh", "bf", "gf", "fr", "ig", "re", "ga", "co",
    "de", "es", "ca", "mt", "tn", "sm", "st", "ms", "dm",
];

/// Names that are a country only right beside the word "childline" ("sa childline", "childline
/// sa"): "sa" is also "sexual assault" ("an sa helpline"), and "in sa" may be South Australia.
const HELPLINE_ONLY: &[&str] = &["sa"];

/// Names that are also ordinary words or people's names: read as a country only after "in",
/// "from", "to" or "helpline".
const AMBIGUOUS: &[&str] = &[
    "jordan", "georgia", "turkey", "chad", "jersey", "guinea", "niger", "china", "india", "us",
    "kl", "cork",
];

/// Finds countries in normalised text.
#[derive(Debug, Clone)]
pub struct CountryMatcher {
    names: HashMap<String, String>,
    adjectives: HashMap<String, String>,
    codes: HashMap<String, String>,
    longest: usize,
    /// The first word of every name: where none begins, no name is looked for.
    starts: std::collections::HashSet<String>,
    /// Service names only one country has ("kindertelefoon"), padded with spaces, and its code.
    known_by: Vec<(String, String)>,
}

impl CountryMatcher {
    /// Builds the matcher from the knowledge's helpline files.
    pub fn new(knowledge: &Knowledge) -> CountryMatcher {
        let mut names = HashMap::new();
        let mut adjectives = HashMap::new();
        let mut codes = HashMap::new();
        let mut longest = 1;
        let mut known_by = Vec::new();
        for country in knowledge.countries() {
            for name in &country.known_by {
                known_by.push((format!(" {name} "), country.code.clone()));
            }
            let mut all = country.names.clone();
            all.push(crate::normalize::normalize(&country.name));
            for name in all {
                longest = longest.max(name.split(' ').count());
                names.entry(name).or_insert_with(|| country.code.clone());
            }
            codes.insert(country.code.to_ascii_lowercase(), country.code.clone());
            for adjective in &country.adjectives {
                adjectives
                    .entry(adjective.clone())
                    .or_insert_with(|| country.code.clone());
            }
        }
        let starts = (names.keys())
            .filter_map(|name| name.split(' ').next())
            .map(str::to_string)
            .collect();
        CountryMatcher {
            names,
            adjectives,
            codes,
            longest,
            starts,
            known_by,
        }
    }

    /// The first country named in the text, as an ISO code. `raw` is the text as typed, used to
    /// tell "US" (the country) from "us" (the word).
    pub fn find(&self, raw: &str, normalized: &str) -> Option<String> {
        self.mention(raw, normalized).map(|m| m.code)
    }

    /// The first country named in the text, with where it is and whether the writer places
    /// themselves there ("im in kenya", "helpline in kenya") rather than someone else ("a guy from
    /// india").
    pub fn mention(&self, raw: &str, normalized: &str) -> Option<Mention> {
        // "my family is from pakistan but we live in germany": the place the writer is wins.
        let mut first: Option<Mention> = None;
        let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
        let mut start = 0;
        while start < words.len() {
            let Some((found, at)) = self.first_mention(raw, &words, start) else {
                break;
            };
            if found.self_located {
                return Some(found);
            }
            // "we moved from the uk to australia": a place left behind is not where the writer
            // is, and its helpline may not reach them, so it never counts.
            if !left_behind(&words, at) {
                first.get_or_insert(found);
            }
            start = at + 1;
        }
        // "kindertelefoon nummer?": a service only one country has places a writer who names
        // no country. It does not replace a country the writer gave before (not self-located):
        // asking what another country's service is says nothing about where they are.
        first.or_else(|| {
            let padded = format!(" {normalized} ");
            (self.known_by.iter())
                .find(|(name, _)| padded.contains(name.as_str()))
                .map(|(_, code)| Mention {
                    code: code.clone(),
                    self_located: false,
                })
        })
    }

    /// The first mention in the words from `from` on, and the index of the word where it
    /// starts. The words before `from` still tell where the writer is ("we moved from the uk to
    /// australia").
    fn first_mention(&self, raw: &str, words: &[&str], from: usize) -> Option<(Mention, usize)> {
        let cue = |i: usize| {
            i > 0
                && matches!(
                    words[i - 1],
                    "in" | "from"
                        | "to"
                        | "helpline"
                        | "helplines"
                        | "childline"
                        | "the"
                        | "visiting"
                )
        };
        let mut i = from;
        while i < words.len() {
            let may_start = self.starts.contains(words[i]);
            for len in (1..=self.longest.min(words.len() - i)).rev() {
                if !may_start && len > 1 {
                    continue;
                }
                let candidate = words[i..i + len].join(" ");
                if may_start && let Some(code) = self.names.get(&candidate) {
                    // "us crisis line", "india helpline": a helpline word right after settles it.
                    // Within the next three words: "us child abuse hotline".
                    let helpline_next = words.iter().skip(i + len).take(3).any(|w| {
                        matches!(
                            *w,
                            "crisis"
                                | "helpline"
                                | "helplines"
                                | "hotline"
                                | "number"
                                | "numbers"
                                | "childline"
                                | "suicide"
                        )
                    });
                    let beside_childline = (i > 0 && words[i - 1] == "childline")
                        || words.get(i + len) == Some(&"childline");
                    if HELPLINE_ONLY.contains(&candidate.as_str()) && !beside_childline {
                        continue;
                    }
                    if len == 1
                        && AMBIGUOUS.contains(&candidate.as_str())
                        && !cue(i)
                        && !raw_upper(raw, "US", &candidate)
                        && !helpline_next
                        && !after_place(raw, &candidate)
                    {
                        continue;
                    }
                    let after_the = i > 0 && words[i - 1] == "the";
                    let plainly_us = raw_upper(raw, "US", "us") || after_the || helpline_next;
                    if candidate == "us" && !plainly_us {
                        continue;
                    }
                    return Some((Mention::new(code, words, i, len), i));
                }
                if len == 1
                    && let Some(code) = self.codes.get(&candidate)
                {
                    let short = words.len() - from <= 6;
                    let word_like = WORD_CODES.contains(&candidate.as_str());
                    if (!word_like && (short || cue(i)))
                        || raw_upper(raw, &code.to_ascii_uppercase(), &candidate) && cue(i)
                    {
                        return Some((Mention::new(code, words, i, len), i));
                    }
                }
            }
            i += 1;
        }
        // "im german", "we are french", "spanish kid here": a people's word used of oneself.
        for (i, word) in words.iter().enumerate().skip(from) {
            let Some(code) = self.adjectives.get(*word) else {
                continue;
            };
            let before = words[i.saturating_sub(2)..i].join(" ");
            let after = words.get(i + 1).copied().unwrap_or("");
            let of_self = [
                "im", "i am", "am", "were", "we are", "im a", "im an", "am a", "am an", "as a",
                "as an",
            ]
            .iter()
            .any(|cue| before == *cue || before.ends_with(&format!(" {cue}")));
            let of_self = of_self
                || matches!(
                    after,
                    "kid" | "teen" | "girl" | "boy" | "here" | "student" | "family"
                );
            if of_self {
                let found = Mention {
                    code: code.clone(),
                    self_located: true,
                };
                return Some((found, i));
            }
        }
        None
    }
}

/// A country named in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// ISO code.
    pub code: String,
    /// Whether the writer places themselves there, or asks for help there.
    pub self_located: bool,
}

impl Mention {
    fn new(code: &str, words: &[&str], at: usize, len: usize) -> Mention {
        static CUE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"\b(im|i am|i live|we live|were|we are|i stay|staying|living|from here|based|moved|moving|move|relocating|exchange|holiday|visiting|trip|travelling|traveling|abroad|helplines?|hotlines?|numbers?|childline|call|phone|ring|text|help|support|services?|kids|teens|children|youth|child)\b",
            )
            .unwrap_or_else(|e| panic!("built-in pattern: {e}"))
        });
        let before = words[at.saturating_sub(5)..at].join(" ");
        let after = words[(at + len).min(words.len())..(at + len + 3).min(words.len())].join(" ");
        static AFTER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"\b(helplines?|hotlines?|numbers?|childline|crisis|kids|teens|children|youth|child|help|support)\b")
                .unwrap_or_else(|e| panic!("built-in pattern: {e}"))
        });
        // "at eaton centre toronto and he…", "in sydney rn": a message that opens with where it is.
        let opens_with_place = at <= 4 && matches!(words.first(), Some(&("at" | "in")));
        // "we moved from the uk to australia": the place left is not where the writer is.
        let self_located = !left_behind(words, at)
            && (CUE.is_match(&before) || AFTER.is_match(&after) || opens_with_place);
        Mention {
            code: code.to_string(),
            self_located,
        }
    }
}

/// Whether the words before `at` say the writer left the place named there ("we moved from the
/// uk", "came over from poland").
fn left_behind(words: &[&str], at: usize) -> bool {
    static LEFT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"\b(moved|moving|move|relocated|relocating|came|come|emigrated|fled)( here| over| away)? from( the)?$",
        )
        .unwrap_or_else(|e| panic!("built-in pattern: {e}"))
    });
    LEFT.is_match(&words[at.saturating_sub(5)..at.min(words.len())].join(" "))
}

/// Whether the raw text names the country after a place and a comma, capitalised ("from
/// Chennai, India"): the way people write where they are.
fn after_place(raw: &str, candidate: &str) -> bool {
    let mut name = candidate.to_string();
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    raw.match_indices(&format!(", {name}")).any(|(at, m)| {
        let end = at + m.len();
        !raw[end..].starts_with(|c: char| c.is_alphanumeric())
    })
}

/// Whether the raw text has the code in capitals as a word ("in the US").
fn raw_upper(raw: &str, upper: &str, candidate: &str) -> bool {
    candidate.len() == upper.len()
        && raw
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == upper)
}
