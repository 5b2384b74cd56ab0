//! The shapes of the YAML files, as serde reads them, and the checked knowledge they become.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

/// Who an entry is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// 11–17 year olds: plain, warm words.
    YoungPerson,
    /// Teachers, youth workers, social workers: a practitioner's register.
    Practitioner,
    /// The community's trusted moderators.
    Moderator,
}

impl Audience {
    /// The name used in files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::YoungPerson => "young_person",
            Audience::Practitioner => "practitioner",
            Audience::Moderator => "moderator",
        }
    }

    /// Parses `young_person`, `practitioner` or `moderator` (also `yp`, `pr`, `mod`).
    pub fn parse(text: &str) -> Option<Audience> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "young_person" | "yp" | "young" | "youth" => Some(Audience::YoungPerson),
            "practitioner" | "pr" | "professional" => Some(Audience::Practitioner),
            "moderator" | "mod" => Some(Audience::Moderator),
            _ => None,
        }
    }
}

/// A risk category of `spec/decisions.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskCategory {
    /// A child is in danger now or very soon.
    ImmediateDanger,
    /// Suicidal thoughts, self-harm.
    SelfHarm,
    /// Threats to share sexual images unless the child pays or sends more.
    Sextortion,
    /// A child's intimate image was shared, leaked or faked.
    ImageAbuse,
    /// A child says they (or a child they know) are being or were sexually abused.
    AbuseDisclosure,
    /// An adult builds secrecy, sexual talk, gifts, or pushes to meet.
    Grooming,
}

impl RiskCategory {
    /// Every category, in the order that decides which one leads when a message shows several.
    pub const ALL: [RiskCategory; 6] = [
        RiskCategory::ImmediateDanger,
        RiskCategory::SelfHarm,
        RiskCategory::Sextortion,
        RiskCategory::ImageAbuse,
        RiskCategory::AbuseDisclosure,
        RiskCategory::Grooming,
    ];

    /// The name used in files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskCategory::ImmediateDanger => "immediate_danger",
            RiskCategory::SelfHarm => "self_harm",
            RiskCategory::Sextortion => "sextortion",
            RiskCategory::ImageAbuse => "image_abuse",
            RiskCategory::AbuseDisclosure => "abuse_disclosure",
            RiskCategory::Grooming => "grooming",
        }
    }

    /// Parses a category name.
    pub fn parse(text: &str) -> Option<RiskCategory> {
        RiskCategory::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// How urgent a risk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Needs a person soon.
    Medium,
    /// Needs a person now.
    High,
}

impl Severity {
    /// The name used in files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// How sure the sources are about a helpline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// A single secondary or old source: shown only as unverified.
    Low,
    /// A reputable secondary source or an older official page.
    Medium,
    /// The operator's own page or a government page.
    High,
}

/// A source an entry cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// What the source is called.
    pub title: String,
    /// Where to find it.
    pub url: String,
}

/// A guidance entry file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryFile {
    pub id: Spanned<String>,
    pub audience: Audience,
    pub title: String,
    #[serde(default = "default_locale")]
    pub locale: String,
    pub questions: Spanned<Vec<String>>,
    pub keywords: Vec<String>,
    pub answer: Spanned<String>,
    pub sources: Spanned<Vec<Source>>,
    pub reviewed: Spanned<String>,
    #[serde(default)]
    pub related: Vec<Spanned<String>>,
}

fn default_locale() -> String {
    "en".to_string()
}

/// One helpline or service in a country file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The service's name.
    pub name: String,
    /// Phone number, exactly as the source gives it.
    #[serde(default)]
    pub phone: Option<String>,
    /// How to text it.
    #[serde(default)]
    pub sms: Option<String>,
    /// Web chat address or description.
    #[serde(default)]
    pub chat: Option<String>,
    /// The service's own site.
    #[serde(default)]
    pub url: Option<String>,
    /// Opening hours, indicative.
    #[serde(default)]
    pub hours: Option<String>,
    /// Who it serves by age.
    #[serde(default)]
    pub ages: Option<String>,
    /// Who it is for, in one sentence.
    #[serde(default)]
    pub about: Option<String>,
    /// How sure the sources are.
    pub confidence: Confidence,
    /// Where the facts come from.
    pub sources: Vec<String>,
}

/// A country file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CountryFile {
    pub country: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub adjectives: Vec<String>,
    #[serde(default)]
    pub known_by: Option<Spanned<Vec<String>>>,
    pub emergency: Vec<String>,
    pub services: Spanned<Vec<Service>>,
    pub reviewed: Spanned<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A value for young people and one for practitioners (moderators get the practitioner one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerAudience<T> {
    /// For young people.
    pub young_person: T,
    /// For practitioners and moderators.
    pub practitioner: T,
}

impl<T> PerAudience<T> {
    /// The value for an audience.
    pub fn get(&self, audience: Audience) -> &T {
        match audience {
            Audience::YoungPerson => &self.young_person,
            Audience::Practitioner | Audience::Moderator => &self.practitioner,
        }
    }
}

/// A safety file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SafetyFile {
    pub category: Spanned<RiskCategory>,
    pub severity: Severity,
    pub reviewed: Spanned<String>,
    pub sources: Spanned<Vec<Source>>,
    pub entries: PerAudience<Vec<Spanned<String>>>,
    pub reply: PerAudience<String>,
    pub patterns: Vec<Spanned<String>>,
    /// Groups of two or three patterns that must all match the message, in any order.
    #[serde(default)]
    pub combinations: Vec<Spanned<Vec<String>>>,
    #[serde(default)]
    pub unless: Vec<Spanned<String>>,
    /// Patterns that keep the risk in a sentence even when an `unless` matches there.
    #[serde(default)]
    pub overrides: Vec<Spanned<String>>,
    pub examples: Spanned<Vec<Spanned<String>>>,
    pub not: Spanned<Vec<Spanned<String>>>,
}

/// `safety/labelled.yaml`: labelled messages for the nearest-example net.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelledFile {
    pub messages: Vec<LabelledMessage>,
}

/// One labelled message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelledMessage {
    pub risk: Spanned<String>,
    pub text: String,
}

/// `safety/terms.yaml`: named building blocks that patterns use as `{NAME}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TermsFile {
    pub terms: std::collections::BTreeMap<String, Spanned<String>>,
}

/// The fixed replies of `replies.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replies {
    /// Answer to hello.
    pub greeting: String,
    /// Answer to thanks.
    pub thanks: String,
    /// Answer to goodbye.
    pub goodbye: String,
    /// The menu: topics, commands, how to reach a person.
    pub help: String,
    /// When the bot did not understand.
    pub unknown: String,
    /// When someone asks for a person and moderators are connected.
    pub human: String,
    /// When someone asks for a person and no moderators are connected.
    pub human_offline: String,
    /// Asking which country the user is in.
    pub ask_country: String,
    /// Added to a risk reply when a moderator has been told.
    pub moderator_told: String,
    /// Added to a risk reply when no moderator is connected (the console).
    pub moderator_offline: String,
    /// Reply to a moderator command that the engine alone cannot run.
    pub moderator_command: String,
    /// Reply to `!forget`.
    pub forget: String,
    /// Added under a guidance answer for a young person: they can tell the bot if it is happening to them.
    pub guidance_footer: String,
    /// To the young person when a moderator claims their case.
    pub claimed: String,
    /// Heading of a moderator's reply relayed to the young person.
    pub relayed: String,
    /// To the young person when nobody has claimed their high-severity case in time.
    pub reminder: String,
    /// The neutral note left in a shared room when the real reply went privately.
    pub room_note: String,
    /// Once, when a user sends messages too fast.
    pub slow_down: String,
}

/// A guidance entry, checked and ready to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Unique id (`yp-sextortion`).
    pub id: String,
    /// Who it is for.
    pub audience: Audience,
    /// Heading.
    pub title: String,
    /// Language code.
    pub locale: String,
    /// Example phrasings.
    pub questions: Vec<String>,
    /// Extra search words.
    pub keywords: Vec<String>,
    /// The answer, in Markdown.
    pub answer: String,
    /// Where the facts come from.
    pub sources: Vec<Source>,
    /// When it was last reviewed (`YYYY-MM-DD`).
    pub reviewed: String,
    /// Ids of related entries.
    pub related: Vec<String>,
}

/// A country's signposting, checked and ready to use. Its entry id is `helpline-XX`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code, upper case (`GB`), or `international`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Names people use for it, lower case and normalised.
    pub names: Vec<String>,
    /// Words for its people and language ("german", "deutsch"), normalised: they name the
    /// country only when the writer uses them of themselves ("im german"), since "my german
    /// teacher" says nothing about where a child is.
    pub adjectives: Vec<String>,
    /// Names of its own services that no other country's service has ("kindertelefoon"),
    /// normalised: a message that names one and no country is taken to be from here.
    pub known_by: Vec<String>,
    /// Emergency numbers, most familiar first.
    pub emergency: Vec<String>,
    /// Services, verified ones first.
    pub services: Vec<Service>,
    /// When it was last reviewed.
    pub reviewed: String,
    /// Shown under the list.
    pub note: Option<String>,
}

impl Country {
    /// The entry id, `helpline-XX`.
    pub fn entry_id(&self) -> String {
        format!("helpline-{}", self.code)
    }
}

/// A risk category's rules and reply, checked and ready to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SafetyCategory {
    /// Which category.
    pub category: RiskCategory,
    /// How urgent.
    pub severity: Severity,
    /// Guidance entries to attach, best first.
    pub entries: PerAudience<Vec<String>>,
    /// The fixed reply.
    pub reply: PerAudience<String>,
    /// Patterns that detect it (on normalised text).
    pub patterns: Vec<String>,
    /// Groups of 2 or 3 patterns that detect it when all match, in any order.
    pub combinations: Vec<Vec<String>>,
    /// Patterns that cancel a detection in their sentence.
    pub unless: Vec<String>,
    /// Patterns that keep a detection in their sentence whatever `unless` says: harm that no
    /// trap explains away ("touched my privates", "my nudes", "unless i pay").
    pub overrides: Vec<String>,
    /// Where the reply's advice comes from.
    pub sources: Vec<Source>,
    /// Messages that must be detected (also the nearest-example net's disclosures).
    pub examples: Vec<String>,
    /// Messages that must not be detected (also the nearest-example net's traps).
    pub not: Vec<String>,
}
