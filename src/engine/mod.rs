//! The intent engine: a pure, synchronous function of (message, conversation state, knowledge) →
//! [`Decision`].
//!
//! The order is fixed and matters: normalise; safety rules first (a risk always gets the safety
//! reply and signposting); then commands; then asking for a person, the menu, helplines and
//! greetings; then retrieval from the index with score thresholds. A message can be a question and
//! a disclosure at once: the intent is then `risk` and `entries` holds the guidance.

mod reply;
pub use reply::render_country;
pub mod rules;

use serde::Serialize;

use crate::Result;
use crate::country::CountryMatcher;
use crate::index::KnowledgeIndex;
use crate::knowledge::{Audience, Knowledge, RiskCategory, Severity};
use crate::safety::SafetyRules;

/// What a message is (see `spec/decisions.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Hello, thanks, bye.
    Greeting,
    /// What can the bot do; the menu.
    Help,
    /// A question a knowledge entry answers.
    Guidance,
    /// Who to call, where to report.
    Signposting,
    /// A disclosure of harm or danger to a child.
    Risk,
    /// Asking for a real person.
    Human,
    /// A moderator command such as `!cases`.
    ModeratorCommand,
    /// None of the above.
    Unknown,
}

impl Intent {
    /// Every intent, in the order of the spec.
    pub const ALL: [Intent; 8] = [
        Intent::Greeting,
        Intent::Help,
        Intent::Guidance,
        Intent::Signposting,
        Intent::Risk,
        Intent::Human,
        Intent::ModeratorCommand,
        Intent::Unknown,
    ];

    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Greeting => "greeting",
            Intent::Help => "help",
            Intent::Guidance => "guidance",
            Intent::Signposting => "signposting",
            Intent::Risk => "risk",
            Intent::Human => "human",
            Intent::ModeratorCommand => "moderator_command",
            Intent::Unknown => "unknown",
        }
    }

    /// Parses an intent name.
    pub fn parse(text: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == text)
    }
}

/// A detected risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// The leading category.
    pub category: RiskCategory,
    /// Its severity.
    pub severity: Severity,
}

/// A command typed with `!`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum Command {
    /// A moderator command: name and the rest of the line.
    Moderator {
        /// `cases`, `case`, `claim`, `note`, `reply`, `resolve` or `reopen`.
        name: String,
        /// Everything after the command name.
        args: String,
    },
    /// `!human`: ask for a person.
    Human,
    /// `!forget`: delete what is stored about me.
    Forget,
    /// `!help`.
    Help,
}

/// What the engine knows about a conversation with one user, carried between messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConversationState {
    /// The user's country, once known (ISO code).
    pub country: Option<String>,
    /// The audience the user set or the engine inferred.
    pub audience: Option<Audience>,
    /// The last entry the user was shown.
    pub last_topic: Option<String>,
    /// The bot asked for the country in its last reply.
    pub awaiting_country: bool,
}

/// Switches that change how replies read, not what is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Whether moderators are connected, so that a risk reply may say "a trusted moderator has
    /// been told". Off in the console.
    pub escalation: bool,
    /// Whether the nearest-example net runs after the patterns (see [`crate::similar`]). On by
    /// default; off only to measure what the patterns alone catch.
    pub similar_examples: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            escalation: true,
            similar_examples: true,
        }
    }
}

/// Everything the engine decided about one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// What the message is.
    pub intent: Intent,
    /// The leading risk, if any.
    pub risk: Option<Risk>,
    /// Every risk category detected, leading first.
    pub risks: Vec<RiskCategory>,
    /// Whether a moderator case would be opened.
    pub escalate: bool,
    /// Knowledge ids the reply draws on, best first.
    pub entries: Vec<String>,
    /// The country used for signposting.
    pub country: Option<String>,
    /// The audience the reply is written for.
    pub audience: Audience,
    /// The reply, in Markdown, exactly as an adapter would send it.
    pub reply: String,
    /// A command to carry out, for the runtime.
    pub command: Option<Command>,
    /// The state to keep for the next message.
    pub state: ConversationState,
    /// Why: the rules and entries behind the decision, for `classify --explain`.
    pub why: Vec<String>,
    /// The normalised text the rules saw.
    pub normalized: String,
}

/// Longest part of a message the engine reads in full. Beyond it only the safety patterns run, in
/// windows of this size, so that a disclosure at the end of a long paste is never missed.
pub const MAX_TEXT: usize = 16 * 1024;

/// How much consecutive safety windows overlap, so that a phrase across a window edge is seen.
const WINDOW_OVERLAP: usize = 1024;

/// Minimum retrieval score for a guidance answer.
const GUIDANCE_THRESHOLD: f32 = 7.0;

/// Share of a question's words the best entry must know (see [`KnowledgeIndex::coverage`]).
const MIN_COVERAGE_QUESTION: f32 = 0.2;

/// Share of a statement's words the best entry must know: statements need more, since chat is
/// full of statements that merely mention a topic word.
const MIN_COVERAGE_STATEMENT: f32 = 0.58;

/// The engine: knowledge, index and compiled rules, built once and shared read-only.
#[derive(Debug)]
pub struct Engine {
    knowledge: Knowledge,
    index: KnowledgeIndex,
    safety: SafetyRules,
    /// The example net, built in the background (see [`Engine::new`]).
    similar: std::sync::Arc<std::sync::OnceLock<crate::similar::SimilarExamples>>,
    countries: CountryMatcher,
    options: EngineOptions,
}

impl Engine {
    /// Builds the engine: compiles the safety rules and builds the search index.
    pub fn new(knowledge: Knowledge, options: EngineOptions) -> Result<Engine> {
        let safety = knowledge.rules().clone();
        // The example net (ten thousand labelled messages to analyse) takes longest to build and
        // is not needed until the first message: it is built on a thread of its own, and a
        // message that comes first waits for it. Without that thread, the first message builds it.
        let similar = std::sync::Arc::new(std::sync::OnceLock::new());
        if options.similar_examples {
            let net = std::sync::Arc::clone(&similar);
            let for_net = knowledge.clone();
            let _ = std::thread::Builder::new()
                .name("waymark-net".into())
                .spawn(move || {
                    net.get_or_init(|| build_net(&for_net));
                })
                .inspect_err(|err| tracing::warn!(%err, "no thread to build the example net"));
        }
        let index = KnowledgeIndex::build(&knowledge)?;
        let countries = CountryMatcher::new(&knowledge);
        Ok(Engine {
            knowledge,
            index,
            safety,
            similar,
            countries,
            options,
        })
    }

    /// Compiles every safety pattern on a background thread, then waits there for the example
    /// net. Patterns are otherwise compiled the first time a message needs them, which costs
    /// that message milliseconds; a long-running bot (or the console, while the user types)
    /// starts this at once, and joining the thread means both are ready. Returns the thread, or
    /// `None` if none could be started (the patterns then compile on first use).
    pub fn warm_up(&self) -> Option<std::thread::JoinHandle<()>> {
        let safety = self.safety.clone();
        let net = std::sync::Arc::clone(&self.similar);
        let knowledge = self.knowledge.clone();
        let similar_examples = self.options.similar_examples;
        std::thread::Builder::new()
            .name("waymark-warm-up".into())
            .spawn(move || {
                if let Err((pattern, err)) = safety.compile_all() {
                    tracing::error!(%pattern, %err, "a safety pattern does not compile");
                }
                // The example net too, so that joining this thread means everything is ready.
                if similar_examples {
                    net.get_or_init(|| build_net(&knowledge));
                }
            })
            .inspect_err(|err| tracing::warn!(%err, "no thread to compile the safety patterns"))
            .ok()
    }

    /// The example net, waiting for the thread building it if it is not ready yet.
    fn net(&self) -> &crate::similar::SimilarExamples {
        self.similar.get_or_init(|| build_net(&self.knowledge))
    }

    /// The knowledge the engine answers from.
    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// The search index.
    pub fn index(&self) -> &KnowledgeIndex {
        &self.index
    }

    /// The options.
    pub fn options(&self) -> EngineOptions {
        self.options
    }

    /// Decides what one message is and what to reply. Pure: no I/O, no clock, no randomness.
    pub fn decide(&self, text: &str, state: &ConversationState) -> Decision {
        let full = text;
        let text = truncate(text, MAX_TEXT);
        let normalized = crate::normalize::normalize(text);
        let mut why = Vec::new();
        let audience = state.audience.unwrap_or_else(|| {
            if rules::PRACTITIONER.is_match(&normalized) {
                why.push("audience: practitioner (inferred from the wording)".to_string());
                Audience::Practitioner
            } else {
                Audience::YoungPerson
            }
        });
        // A country the user already gave is replaced only when they place themselves somewhere
        // else ("im on holiday in france"), not when they mention someone else's ("a guy from
        // india"): the helpline shown must be the one the child can call.
        let mentioned_country = self
            .countries
            .mention(text, &normalized)
            .filter(|m| state.country.is_none() || m.self_located)
            .map(|m| m.code);
        let country = mentioned_country.clone().or_else(|| state.country.clone());
        let mut next = state.clone();
        next.awaiting_country = false;
        if mentioned_country.is_some() {
            next.country = mentioned_country.clone();
        }
        let mut d = Decision {
            intent: Intent::Unknown,
            risk: None,
            risks: Vec::new(),
            escalate: false,
            entries: Vec::new(),
            country: country.clone(),
            audience,
            reply: String::new(),
            command: None,
            state: next,
            why,
            normalized,
        };

        // The message's words as the index and the example net see them, analysed once.
        let terms = self.index.terms(&d.normalized);

        // 1. Safety first: the patterns, then the nearest labelled examples.
        // The sentences are split and normalised only if an `unless` needs them.
        let split = std::cell::OnceCell::new();
        let sentences = || {
            split
                .get_or_init(|| crate::safety::sentences(text))
                .as_slice()
        };
        let mut hits = self.safety.hits_in(&d.normalized, &sentences);
        if hits.is_empty() && full.len() > text.len() {
            hits = self.safety_beyond(full);
        }
        if hits.is_empty()
            && self.options.similar_examples
            && let Some(similar) = self.net().classify(&terms)
            && !self
                .safety
                .cancels(similar.category, &d.normalized, &sentences)
        {
            hits.push(crate::safety::Hit {
                category: similar.category,
                pattern: format!(
                    "similar ({:.2}) to the example {:?}",
                    similar.similarity, similar.example
                ),
            });
        }
        if let Some(first) = hits.first() {
            for hit in &hits {
                d.why.push(format!(
                    "safety: {} matched /{}/",
                    hit.category.as_str(),
                    hit.pattern
                ));
            }
            d.risks = hits.iter().map(|h| h.category).collect();
            let severity = self
                .knowledge
                .safety_category(first.category)
                .map(|s| s.severity)
                .unwrap_or(Severity::High);
            d.intent = Intent::Risk;
            d.risk = Some(Risk {
                category: first.category,
                severity,
            });
            d.escalate = true;
            self.risk_reply(&mut d, &terms);
            return d;
        }

        // 2. Commands.
        if let Some(command) = parse_command(text) {
            d.why.push(format!("command: {command:?}"));
            match &command {
                Command::Moderator { .. } => {
                    d.intent = Intent::ModeratorCommand;
                    d.reply = self
                        .knowledge
                        .replies()
                        .moderator_command
                        .trim()
                        .to_string();
                }
                Command::Human => self.human_reply(&mut d),
                Command::Forget => {
                    d.intent = Intent::Help;
                    d.reply = self.knowledge.replies().forget.trim().to_string();
                }
                Command::Help => {
                    d.intent = Intent::Help;
                    d.reply = self.knowledge.replies().help.trim().to_string();
                }
            }
            d.command = Some(command);
            return d;
        }
        if d.normalized.is_empty() || !d.normalized.chars().any(char::is_alphanumeric) {
            d.why.push("no words".into());
            d.reply = self.knowledge.replies().unknown.trim().to_string();
            return d;
        }

        // 3. A person, the menu, helplines, greetings.
        if rules::HUMAN.is_match(&d.normalized) {
            d.why.push("rule: asks for a person".into());
            self.human_reply(&mut d);
            return d;
        }
        if rules::HELP.is_match(&d.normalized) {
            d.why.push("rule: asks for the menu".into());
            d.intent = Intent::Help;
            d.reply = self.knowledge.replies().help.trim().to_string();
            return d;
        }
        let words = d.normalized.split(' ').count();
        let country_only =
            mentioned_country.is_some() && words <= 4 && (state.awaiting_country || words <= 2);
        // A question about a framework (UNICEF, ITU) that names no country is not a helpline
        // request, whatever words it shares with one.
        let about_framework =
            || mentioned_country.is_none() && rules::FRAMEWORK.is_match(&d.normalized);
        let whom_to_tell = || {
            mentioned_country.is_none()
                && rules::WHOM_TO_TELL.is_match(&d.normalized)
                && !rules::HELPLINE_WORDS.is_match(&d.normalized)
        };
        let about_a_case = || rules::CASE_HANDLING.is_match(&d.normalized);
        if rules::SIGNPOST.is_match(&d.normalized)
            && !about_framework()
            && !whom_to_tell()
            && !about_a_case()
            || country_only
        {
            d.why.push(if country_only {
                "rule: names a country".into()
            } else {
                "rule: asks for a helpline".into()
            });
            self.signposting_reply(&mut d);
            return d;
        }
        let plain = rules::COURTESY.replace_all(&d.normalized, " ");
        let other_words = plain
            .split(' ')
            .filter(|w| !w.is_empty() && !rules::GREETING_FILLER.contains(w))
            .count();
        let greeting = rules::GREETING.is_match(&d.normalized)
            || plain.len() < d.normalized.len() && rules::GOODBYE.is_match(&d.normalized);
        if plain.split_whitespace().count() <= 8
            && other_words <= 1
            && greeting
            && !rules::SUBSTANCE.is_match(&plain)
        {
            d.why.push("rule: greeting".into());
            d.intent = Intent::Greeting;
            let replies = self.knowledge.replies();
            d.reply = if rules::THANKS.is_match(&d.normalized) {
                replies.thanks.trim().to_string()
            } else if rules::GOODBYE.is_match(&d.normalized) {
                replies.goodbye.trim().to_string()
            } else {
                replies.greeting.trim().to_string()
            };
            return d;
        }

        // 4. Retrieval: a good score, and the entry must know enough of the message's words.
        let hits = self.search(&terms, audience);
        if let Some(best) = hits.first() {
            let coverage = self.index.coverage(&terms, &best.id);
            let question = rules::QUESTION.is_match(&d.normalized) || text.contains('?');
            let needed = if question {
                MIN_COVERAGE_QUESTION
            } else {
                MIN_COVERAGE_STATEMENT
            };
            d.why.push(format!(
                "retrieval: {} (coverage {coverage:.2}, needs {needed:.2}{})",
                hits.iter()
                    .take(3)
                    .map(|h| format!("{} {:.1}", h.id, h.score))
                    .collect::<Vec<_>>()
                    .join(", "),
                if question { ", a question" } else { "" }
            ));
            if best.score >= GUIDANCE_THRESHOLD && coverage >= needed {
                d.intent = Intent::Guidance;
                d.entries = hits
                    .iter()
                    .take(3)
                    .filter(|h| h.score >= best.score * 0.5)
                    .map(|h| h.id.clone())
                    .collect();
                self.guidance_reply(&mut d);
                return d;
            }
        }
        d.reply = self.knowledge.replies().unknown.trim().to_string();
        d
    }

    /// Retrieval for an audience: its own entries first, then everyone's. One search over all
    /// entries; an entry for another audience wins only when it matches clearly better, so a young
    /// person asking about UNICEF's six strategies still gets an answer.
    fn search(&self, terms: &[String], audience: Audience) -> Vec<crate::index::Hit> {
        let own: &[Audience] = match audience {
            Audience::YoungPerson => &[Audience::YoungPerson],
            Audience::Practitioner => &[Audience::Practitioner, Audience::YoungPerson],
            Audience::Moderator => &[Audience::Moderator, Audience::Practitioner],
        };
        let all = self.index.search(terms, &[], 12);
        let is_own = |id: &str| {
            self.knowledge
                .entry(id)
                .is_some_and(|e| own.contains(&e.audience))
        };
        let mut hits: Vec<crate::index::Hit> =
            all.iter().filter(|h| is_own(&h.id)).cloned().collect();
        if audience == Audience::Practitioner {
            // A practitioner's own entries win a close call.
            for h in &mut hits {
                if h.id.starts_with("pr-") {
                    h.score *= 1.25;
                }
            }
            hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        }
        hits.truncate(5);
        let own_best = hits.first().map(|h| h.score).unwrap_or(0.0);
        if let Some(best) = all.first()
            && !is_own(&best.id)
            && best.score > own_best * 1.5
        {
            return all.into_iter().take(5).collect();
        }
        hits
    }
}

impl Engine {
    /// The safety patterns over the rest of a message longer than [`MAX_TEXT`], window by window.
    fn safety_beyond(&self, full: &str) -> Vec<crate::safety::Hit> {
        let mut start = MAX_TEXT - WINDOW_OVERLAP;
        while start < full.len() {
            while !full.is_char_boundary(start) {
                start -= 1;
            }
            let window = truncate(&full[start..], MAX_TEXT);
            let split = crate::safety::sentences(window);
            let hits = self
                .safety
                .hits_in(&crate::normalize::normalize(window), &|| &split[..]);
            if !hits.is_empty() {
                return hits;
            }
            start += MAX_TEXT - WINDOW_OVERLAP;
        }
        Vec::new()
    }
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Builds the nearest-example net from the knowledge's labelled messages.
fn build_net(knowledge: &Knowledge) -> crate::similar::SimilarExamples {
    crate::similar::SimilarExamples::new(knowledge, &crate::index::Analyzer::default())
}

/// Parses `!command args`.
pub fn parse_command(text: &str) -> Option<Command> {
    let rest = text.trim().strip_prefix('!')?;
    let mut parts = rest.splitn(2, char::is_whitespace);
    let name = parts.next()?.to_ascii_lowercase();
    let args = parts.next().unwrap_or("").trim().to_string();
    if rules::MODERATOR_COMMANDS.contains(&name.as_str()) {
        return Some(Command::Moderator { name, args });
    }
    match name.as_str() {
        "human" | "person" | "mod" | "moderator" => Some(Command::Human),
        "forget" => Some(Command::Forget),
        "help" | "menu" | "start" => Some(Command::Help),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
