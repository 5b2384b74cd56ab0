//! The knowledge base: loading the YAML files, checking them, and the checked result.
//!
//! Loading never stops at the first problem: every file is read and every problem is collected as
//! a [`Problem`] with its file, line and column, so that `waymark check` can list them all at once.

mod model;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

pub use model::{
    Audience, Confidence, Country, Entry, PerAudience, Replies, RiskCategory, SafetyCategory,
    Service, Severity, Source,
};
use model::{CountryFile, EntryFile, LabelledFile, SafetyFile, TermsFile};
use serde_saphyr::{Location, Spanned};

/// A category's patterns, `unless` patterns, combinations and `overrides`, with their terms
/// expanded.
type ExpandedPatterns = (Vec<String>, Vec<String>, Vec<Vec<String>>, Vec<String>);

use crate::safety::SafetyRules;
use crate::{Error, Result};

/// The knowledge base bundled into the binary at build time.
static BUNDLED: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/knowledge");

/// How old a review may be before `check` warns, in months.
pub const REVIEW_MONTHS: i32 = 12;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Worth fixing; does not stop the bot.
    Warning,
    /// Must be fixed; the knowledge base is not loaded.
    Error,
}

/// One problem found in the knowledge base, printed as `path:line:column: level: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the knowledge folder's parent as given.
    pub path: String,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
    /// Error or warning.
    pub level: Level,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.path,
            self.line.max(1),
            self.column.max(1),
            level,
            self.message
        )
    }
}

/// One file of a knowledge base: its path for messages and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path shown in problems.
    pub display: String,
    /// Path relative to the knowledge folder, with `/` separators.
    pub relative: String,
    /// Contents.
    pub text: String,
}

/// The checked knowledge base.
#[derive(Debug, Clone)]
pub struct Knowledge {
    rules: SafetyRules,
    labelled: Vec<(Option<RiskCategory>, String)>,
    entries: Vec<Entry>,
    countries: Vec<Country>,
    international: Country,
    safety: Vec<SafetyCategory>,
    replies: Replies,
    by_id: HashMap<String, usize>,
    country_by_code: HashMap<String, usize>,
}

/// The result of loading: the knowledge (when there was no error) and every problem found.
#[derive(Debug)]
pub struct Loaded {
    /// The knowledge, or `None` when any problem is an error.
    pub knowledge: Option<Knowledge>,
    /// Every error and warning, in file order.
    pub problems: Vec<Problem>,
}

impl Knowledge {
    /// The knowledge base bundled into the binary.
    /// Loading checks everything except the safety `examples` and `not` lists, which
    /// `waymark check` runs (and the tests run it on the bundled knowledge).
    pub fn bundled() -> Result<Knowledge> {
        Self::from_loaded(Self::build(bundled_files(), today(), false))
    }

    /// Reads a knowledge folder from disk (without running the safety examples; see [`Knowledge::check_dir`]).
    pub fn from_dir(dir: &Path) -> Result<Knowledge> {
        Self::from_loaded(Self::build(read_dir_files(dir)?, today(), false))
    }

    fn from_loaded(loaded: Loaded) -> Result<Knowledge> {
        match loaded.knowledge {
            Some(k) => Ok(k),
            None => Err(Error::Knowledge(
                loaded
                    .problems
                    .into_iter()
                    .filter(|p| p.level == Level::Error)
                    .collect(),
            )),
        }
    }

    /// Checks the bundled knowledge.
    pub fn check_bundled() -> Loaded {
        Self::check_files(bundled_files(), today())
    }

    /// Checks a folder on disk.
    pub fn check_dir(dir: &Path) -> Result<Loaded> {
        Ok(Self::check_files(read_dir_files(dir)?, today()))
    }

    /// Parses and checks a set of files, as of the day `today` (for review-date warnings).
    pub fn check_files(files: Vec<SourceFile>, today: jiff::civil::Date) -> Loaded {
        Self::build(files, today, true)
    }

    fn build(files: Vec<SourceFile>, today: jiff::civil::Date, verify_examples: bool) -> Loaded {
        let mut builder = Builder {
            today: Some(today),
            verify_examples,
            ..Builder::default()
        };
        for file in &files {
            builder.add_file(file);
        }
        builder.finish()
    }

    /// Every guidance entry (including `reporting-services`), in id order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// A guidance entry by id.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.by_id.get(id).map(|&i| &self.entries[i])
    }

    /// Every country with a helpline file, in code order.
    pub fn countries(&self) -> &[Country] {
        &self.countries
    }

    /// A country by ISO code (any case).
    pub fn country(&self, code: &str) -> Option<&Country> {
        self.country_by_code
            .get(&code.to_ascii_uppercase())
            .map(|&i| &self.countries[i])
    }

    /// The services for anyone, anywhere.
    pub fn international(&self) -> &Country {
        &self.international
    }

    /// The safety categories, in [`RiskCategory::ALL`] order.
    pub fn safety(&self) -> &[SafetyCategory] {
        &self.safety
    }

    /// One safety category.
    pub fn safety_category(&self, category: RiskCategory) -> Option<&SafetyCategory> {
        self.safety.iter().find(|s| s.category == category)
    }

    /// Labelled messages for the nearest-example net (`safety/labelled.yaml`): a category, or
    /// `None` for a benign message.
    pub fn labelled(&self) -> &[(Option<RiskCategory>, String)] {
        &self.labelled
    }

    /// The compiled safety patterns.
    pub fn rules(&self) -> &SafetyRules {
        &self.rules
    }

    /// The fixed replies.
    pub fn replies(&self) -> &Replies {
        &self.replies
    }

    /// Whether an id names an entry or a country (`helpline-XX`).
    pub fn has_id(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
            || id
                .strip_prefix("helpline-")
                .is_some_and(|code| self.country(code).is_some())
    }
}

/// Today's date in UTC.
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

fn bundled_files() -> Vec<SourceFile> {
    let mut files = Vec::new();
    collect_bundled(&BUNDLED, &mut files);
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    files
}

fn collect_bundled(dir: &include_dir::Dir<'static>, files: &mut Vec<SourceFile>) {
    for file in dir.files() {
        let relative = file.path().to_string_lossy().replace('\\', "/");
        if !relative.ends_with(".yaml") && !relative.ends_with(".yml") {
            continue;
        }
        files.push(SourceFile {
            display: format!("knowledge/{relative}"),
            relative,
            text: String::from_utf8_lossy(file.contents()).into_owned(),
        });
    }
    for sub in dir.dirs() {
        collect_bundled(sub, files);
    }
}

/// Reads every `.yaml` file under `dir`.
fn read_dir_files(dir: &Path) -> Result<Vec<SourceFile>> {
    let mut paths = Vec::new();
    walk(dir, &mut paths)?;
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let relative = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        files.push(SourceFile {
            display: path.to_string_lossy().into_owned(),
            relative,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        });
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let read = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for item in read {
        let item = item.map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = item.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// A line and column (1-based; 0 when unknown).
#[derive(Debug, Clone, Copy)]
struct At(u64, u64);

impl At {
    const UNKNOWN: At = At(0, 0);
}

impl From<Location> for At {
    fn from(l: Location) -> At {
        At(l.line(), l.column())
    }
}

/// Collects parsed files and problems, then cross-checks them.
#[derive(Default)]
struct Builder {
    today: Option<jiff::civil::Date>,
    problems: Vec<Problem>,
    entries: Vec<(String, Entry, Vec<Spanned<String>>)>,
    countries: Vec<Country>,
    international: Option<Country>,
    safety: Vec<(String, SafetyFile)>,
    replies: Option<Replies>,
    ids: HashMap<String, String>,
    /// `known_by` names, the country that claims each, and where.
    known_by: HashMap<String, (String, String, At)>,
    terms: std::collections::BTreeMap<String, (String, Spanned<String>)>,
    labelled: Vec<(Option<RiskCategory>, String)>,
    verify_examples: bool,
}

impl Builder {
    fn error(&mut self, path: &str, at: impl Into<At>, message: impl Into<String>) {
        self.push(path, at.into(), Level::Error, message.into());
    }

    fn push(&mut self, path: &str, at: impl Into<At>, level: Level, message: String) {
        let At(line, column) = at.into();
        self.problems.push(Problem {
            path: path.to_string(),
            line,
            column,
            level,
            message,
        });
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self, file: &SourceFile) -> Option<T> {
        match serde_saphyr::from_str::<T>(&file.text) {
            Ok(value) => Some(value),
            Err(err) => {
                let message = yaml_message(&err);
                let at = field_location(&file.text, &message)
                    .or_else(|| err.location().map(At::from))
                    .unwrap_or(At::UNKNOWN);
                self.error(&file.display, at, message);
                None
            }
        }
    }

    fn add_file(&mut self, file: &SourceFile) {
        let rel = file.relative.as_str();
        if rel == "replies.yaml" {
            self.replies = self.parse::<Replies>(file);
        } else if rel.starts_with("entries/") {
            if let Some(entry) = self.parse::<EntryFile>(file) {
                self.add_entry(file, entry);
            }
        } else if let Some(name) = rel.strip_prefix("helplines/") {
            if let Some(country) = self.parse::<CountryFile>(file) {
                self.add_country(file, name, country);
            }
        } else if rel == "safety/labelled.yaml" {
            if let Some(labelled) = self.parse::<LabelledFile>(file) {
                for message in labelled.messages {
                    let label = match message.risk.value.as_str() {
                        "none" => None,
                        name => match RiskCategory::parse(name) {
                            Some(category) => Some(category),
                            None => {
                                let text = format!(
                                    "`risk` must be a risk category or `none`, found `{name}`"
                                );
                                self.error(&file.display, message.risk.referenced, text);
                                continue;
                            }
                        },
                    };
                    self.labelled.push((label, message.text));
                }
            }
        } else if rel == "safety/terms.yaml" {
            if let Some(terms) = self.parse::<TermsFile>(file) {
                for (name, value) in terms.terms {
                    if !crate::safety::is_term_name(&name) {
                        let message = format!(
                            "term name `{name}` must be upper-case letters, digits and `_`"
                        );
                        self.error(&file.display, value.referenced, message);
                    }
                    self.terms.insert(name, (file.display.clone(), value));
                }
            }
        } else if rel.starts_with("safety/") {
            if let Some(safety) = self.parse::<SafetyFile>(file) {
                self.add_safety(file, safety);
            }
        } else {
            self.error(
                &file.display,
                At::UNKNOWN,
                "unexpected file: YAML files belong in entries/, helplines/, safety/ or replies.yaml",
            );
        }
    }

    fn claim_id(&mut self, path: &str, id: &Spanned<String>) -> bool {
        if let Some(first) = self.ids.get(&id.value) {
            let message = format!("duplicate id `{}` (first defined in {first})", id.value);
            self.error(path, id.referenced, message);
            return false;
        }
        self.ids.insert(id.value.clone(), path.to_string());
        true
    }

    fn check_reviewed(&mut self, path: &str, reviewed: &Spanned<String>) {
        let date = match reviewed.value.trim().parse::<jiff::civil::Date>() {
            Ok(d) => d,
            Err(_) => {
                let message = format!(
                    "`reviewed` must be a date YYYY-MM-DD, found `{}`",
                    reviewed.value
                );
                self.error(path, reviewed.referenced, message);
                return;
            }
        };
        if let Some(today) = self.today {
            let limit = today
                .checked_sub(jiff::Span::new().months(REVIEW_MONTHS))
                .unwrap_or(today);
            if date < limit {
                let message = format!(
                    "review is overdue: last reviewed {date}, more than {REVIEW_MONTHS} months ago"
                );
                self.push(path, reviewed.referenced, Level::Warning, message);
            }
            if date > today {
                let message = format!("`reviewed` date {date} is in the future");
                self.push(path, reviewed.referenced, Level::Warning, message);
            }
        }
    }

    fn check_sources(&mut self, path: &str, sources: &Spanned<Vec<Source>>) {
        if sources.value.is_empty() {
            self.error(
                path,
                sources.referenced,
                "every entry needs at least one source",
            );
        }
        for source in &sources.value {
            if !(source.url.starts_with("https://") || source.url.starts_with("http://")) {
                let message = format!(
                    "source `{}` needs an http(s) url, found `{}`",
                    source.title, source.url
                );
                self.error(path, sources.referenced, message);
            }
        }
    }

    fn add_entry(&mut self, file: &SourceFile, entry: EntryFile) {
        let path = file.display.as_str();
        let id_ok = valid_id(&entry.id.value);
        if !id_ok {
            let message = format!(
                "id `{}` must be lower-case letters, digits and dashes",
                entry.id.value
            );
            self.error(path, entry.id.referenced, message);
        }
        let fresh = self.claim_id(path, &entry.id);
        if entry.questions.value.len() < 3 {
            let message = format!(
                "an entry needs at least 3 example questions, found {}",
                entry.questions.value.len()
            );
            self.error(path, entry.questions.referenced, message);
        }
        if entry.answer.value.trim().is_empty() {
            self.error(path, entry.answer.referenced, "the answer is empty");
        }
        if entry.title.trim().is_empty() {
            self.error(path, entry.id.referenced, "the title is empty");
        }
        self.check_sources(path, &entry.sources);
        self.check_reviewed(path, &entry.reviewed);
        if !fresh || !id_ok {
            return;
        }
        let checked = Entry {
            id: entry.id.value.clone(),
            audience: entry.audience,
            title: entry.title.trim().to_string(),
            locale: entry.locale,
            questions: entry.questions.value,
            keywords: entry.keywords,
            answer: entry.answer.value.trim().to_string(),
            sources: entry.sources.value,
            reviewed: entry.reviewed.value.trim().to_string(),
            related: entry.related.iter().map(|r| r.value.clone()).collect(),
        };
        self.entries
            .push((file.display.clone(), checked, entry.related));
    }

    fn add_country(&mut self, file: &SourceFile, name: &str, country: CountryFile) {
        let path = file.display.as_str();
        let stem = name.trim_end_matches(".yaml").trim_end_matches(".yml");
        let code = country.country.value.trim().to_string();
        let international = code == "international";
        if code != stem {
            let message = format!("`country: {code}` must match the file name `{stem}`");
            self.error(path, country.country.referenced, message);
        } else if !international && !is_country_code(&code) {
            let message =
                format!("`country` must be an upper-case ISO 3166-1 alpha-2 code, found `{code}`");
            self.error(path, country.country.referenced, message);
        } else if !international {
            let id = Spanned::new(
                format!("helpline-{code}"),
                country.country.referenced,
                country.country.defined,
            );
            self.claim_id(path, &id);
        }
        if !international && country.names.is_empty() {
            self.error(
                path,
                country.country.referenced,
                "`names` must list at least the country's name",
            );
        }
        if country.services.value.is_empty() {
            self.error(
                path,
                country.services.referenced,
                "a country needs at least one service",
            );
        }
        for service in &country.services.value {
            if service.sources.is_empty() {
                let message = format!("service `{}` has no source", service.name);
                self.error(path, country.services.referenced, message);
            }
            if service
                .phone
                .as_deref()
                .is_some_and(|p| !p.chars().any(|c| c.is_ascii_digit()))
            {
                let message = format!("service `{}`: phone has no digits", service.name);
                self.error(path, country.services.referenced, message);
            }
        }
        self.check_reviewed(path, &country.reviewed);
        let known_by = self.check_known_by(path, &code, &country);
        let mut services = country.services.value;
        // Verified services first; a low-confidence service is never listed first.
        services.sort_by_key(|s| std::cmp::Reverse(s.confidence));
        let checked = Country {
            code: code.clone(),
            name: country.name,
            names: country
                .names
                .iter()
                .map(|n| crate::normalize::normalize(n))
                .filter(|n| !n.is_empty())
                .collect(),
            adjectives: country
                .adjectives
                .iter()
                .map(|n| crate::normalize::normalize(n))
                .filter(|n| !n.is_empty())
                .collect(),
            known_by,
            emergency: country.emergency,
            services,
            reviewed: country.reviewed.value,
            note: country.note,
        };
        if international {
            self.international = Some(checked);
        } else {
            self.countries.push(checked);
        }
    }

    /// A country's `known_by` names, normalised: each must be part of one of its own services'
    /// names (so none is invented) and no other country may claim it (a wrong country's
    /// helpline is the worst answer the bot can give).
    fn check_known_by(&mut self, path: &str, code: &str, country: &CountryFile) -> Vec<String> {
        let services: Vec<String> = (country.services.value.iter())
            .map(|s| format!(" {} ", crate::normalize::normalize(&s.name)))
            .collect();
        let mut known_by = Vec::new();
        let Some(names) = &country.known_by else {
            return known_by;
        };
        for name in &names.value {
            let normalized = crate::normalize::normalize(name);
            let at = names.referenced;
            if normalized.is_empty() {
                self.error(path, at, "`known_by` has an empty name");
                continue;
            }
            if !services
                .iter()
                .any(|s| s.contains(&format!(" {normalized} ")))
            {
                let message = format!(
                    "`known_by: {name}` is not part of any of this country's service names"
                );
                self.error(path, at, message);
                continue;
            }
            let (owner, _, _) = (self.known_by)
                .entry(normalized.clone())
                .or_insert_with(|| (code.to_string(), path.to_string(), at.into()));
            if owner != code {
                let message = format!("`known_by: {name}` is already claimed by {owner}");
                self.error(path, at, message);
                continue;
            }
            known_by.push(normalized);
        }
        known_by
    }

    fn add_safety(&mut self, file: &SourceFile, safety: SafetyFile) {
        let path = file.display.as_str();
        let stem = file
            .relative
            .trim_start_matches("safety/")
            .trim_end_matches(".yaml");
        if stem != safety.category.value.as_str() {
            let message = format!(
                "the file for `{}` must be named safety/{}.yaml",
                safety.category.value.as_str(),
                safety.category.value.as_str()
            );
            self.error(path, safety.category.referenced, message);
        }
        if self
            .safety
            .iter()
            .any(|(_, s)| s.category.value == safety.category.value)
        {
            let message = format!(
                "category `{}` is defined twice",
                safety.category.value.as_str()
            );
            self.error(path, safety.category.referenced, message);
            return;
        }
        self.check_reviewed(path, &safety.reviewed);
        self.check_sources(path, &safety.sources);
        if safety.patterns.is_empty() {
            self.error(
                path,
                safety.category.referenced,
                "a safety category needs at least one pattern",
            );
        }
        if safety.examples.value.len() < 3 {
            self.error(
                path,
                safety.examples.referenced,
                "a safety category needs at least 3 `examples`",
            );
        }
        if safety.not.value.len() < 3 {
            self.error(
                path,
                safety.not.referenced,
                "a safety category needs at least 3 `not` examples",
            );
        }
        for reply in [&safety.reply.young_person, &safety.reply.practitioner] {
            if reply.trim().is_empty() {
                self.error(path, safety.category.referenced, "the risk reply is empty");
            }
        }
        self.safety.push((file.display.clone(), safety));
    }

    /// Runs a category's `examples` and `not` through the normaliser and its patterns.
    fn run_examples(&mut self, path: &str, file: &SafetyFile, rules: &SafetyRules) {
        let category = file.category.value;
        for example in &file.examples.value {
            if !rules.detect_message(&example.value).contains(&category) {
                let message = format!(
                    "example is not detected as {}: {:?}",
                    category.as_str(),
                    example.value
                );
                self.error(path, example.referenced, message);
            }
        }
        for example in &file.not.value {
            if rules.detect_message(&example.value).contains(&category) {
                let message = format!(
                    "`not` example is detected as {}: {:?}",
                    category.as_str(),
                    example.value
                );
                self.error(path, example.referenced, message);
            }
        }
    }

    fn finish(mut self) -> Loaded {
        // A `known_by` name must not be part of another country's service name either (Pro
        // Juventute answers in Switzerland and Liechtenstein).
        let mut shared = Vec::new();
        if !self.known_by.is_empty() {
            // Every service name normalised once, padded to match whole words.
            let services: Vec<(&str, String)> = (self.countries.iter())
                .flat_map(|c| c.services.iter().map(move |s| (c.code.as_str(), &s.name)))
                .map(|(code, name)| (code, format!(" {} ", crate::normalize::normalize(name))))
                .collect();
            for (name, (code, path, at)) in &self.known_by {
                let padded = format!(" {name} ");
                let mut others: Vec<&str> = (services.iter())
                    .filter(|(other, service)| other != code && service.contains(&padded))
                    .map(|(other, _)| *other)
                    .collect();
                others.dedup();
                for other in others {
                    let message =
                        format!("`known_by: {name}` is also part of a service name in {other}");
                    shared.push((path.clone(), *at, message));
                }
            }
        }
        for (path, at, message) in shared {
            self.error(&path, at, message);
        }
        // Cross-checks: related ids, safety entries, every category present, patterns and their tests.
        let mut known: HashSet<String> = self.ids.keys().cloned().collect();
        known.extend(self.countries.iter().map(Country::entry_id));
        let entries = std::mem::take(&mut self.entries);
        for (path, entry, related) in &entries {
            for r in related {
                if !known.contains(&r.value) {
                    let message = format!("`related` names unknown id `{}`", r.value);
                    self.error(path, r.referenced, message);
                } else if r.value == entry.id {
                    self.error(path, r.referenced, "an entry cannot be related to itself");
                }
            }
        }
        let safety_files = std::mem::take(&mut self.safety);
        let mut safety = Vec::new();
        for category in RiskCategory::ALL {
            let Some((path, file)) = safety_files
                .iter()
                .find(|(_, s)| s.category.value == category)
            else {
                let message = format!(
                    "no safety file for category `{}` (safety/{}.yaml)",
                    category.as_str(),
                    category.as_str()
                );
                self.error("knowledge/safety", At::UNKNOWN, message);
                continue;
            };
            for id in file
                .entries
                .young_person
                .iter()
                .chain(&file.entries.practitioner)
            {
                if !known.contains(&id.value) {
                    let message = format!("`entries` names unknown id `{}`", id.value);
                    self.error(path, id.referenced, message);
                }
            }
            safety.push((path.clone(), file));
        }
        // Terms: each must expand (no unknown or circular names).
        let terms: std::collections::BTreeMap<String, String> = self
            .terms
            .iter()
            .map(|(k, (_, v))| (k.clone(), v.value.clone()))
            .collect();
        for (name, (path, value)) in self.terms.clone() {
            if let Err(err) = crate::safety::expand_terms(&value.value, &terms) {
                self.error(&path, value.referenced, format!("term `{name}`: {err}"));
            }
        }
        // Expand each category's patterns and prepare them (parse, literals); they compile on
        // first use. Only when a category fails are its patterns checked one by one, to point at
        // the broken one. `check` also compiles every pattern and runs the examples (the tests run
        // it on the bundled knowledge), so that loading stays fast.
        let mut compiled: Vec<SafetyRules> = Vec::new();
        let mut prepared: Vec<(String, &SafetyFile, SafetyCategory, Vec<Location>)> = Vec::new();
        let mut expanded: HashMap<RiskCategory, ExpandedPatterns> = HashMap::new();
        for (path, file) in &safety {
            let mut ok = true;
            // Patterns, unless, overrides.
            let mut lists: [Vec<String>; 3] = Default::default();
            let mut combinations: Vec<Vec<String>> = Vec::new();
            // Where each pattern was written: patterns, unless, overrides, then each
            // combination's parts.
            let mut written: Vec<Location> = Vec::new();
            for (list, pattern) in file
                .patterns
                .iter()
                .map(|p| (0, p))
                .chain(file.unless.iter().map(|p| (1, p)))
                .chain(file.overrides.iter().map(|p| (2, p)))
            {
                match crate::safety::expand_terms(&pattern.value, &terms) {
                    Ok(full) => {
                        lists[list].push(full);
                        written.push(pattern.referenced);
                    }
                    Err(err) => {
                        self.error(path, pattern.referenced, err);
                        ok = false;
                    }
                }
            }
            for group in &file.combinations {
                let count = group.value.len();
                if !(2..=crate::safety::MAX_COMBINATION).contains(&count) {
                    let message = format!(
                        "a combination needs 2 to {} patterns, this one has {count}",
                        crate::safety::MAX_COMBINATION
                    );
                    self.error(path, group.referenced, message);
                    ok = false;
                    continue;
                }
                let mut parts = Vec::with_capacity(count);
                for part in &group.value {
                    match crate::safety::expand_terms(part, &terms) {
                        Ok(full) => {
                            parts.push(full);
                            written.push(group.referenced);
                        }
                        Err(err) => {
                            self.error(path, group.referenced, format!("combination: {err}"));
                            ok = false;
                        }
                    }
                }
                combinations.push(parts);
            }
            if !ok {
                continue;
            }
            let category = SafetyCategory {
                category: file.category.value,
                severity: file.severity,
                entries: PerAudience {
                    young_person: vec![],
                    practitioner: vec![],
                },
                reply: file.reply.clone(),
                patterns: lists[0].clone(),
                combinations: combinations.clone(),
                unless: lists[1].clone(),
                overrides: lists[2].clone(),
                sources: vec![],
                examples: vec![],
                not: vec![],
            };
            let [patterns, unless, overrides] = lists;
            expanded.insert(
                file.category.value,
                (patterns, unless, combinations, overrides),
            );
            prepared.push((path.clone(), file, category, written));
        }
        // Compiling the categories is most of the start-up time: one thread each.
        let results: Vec<std::result::Result<SafetyRules, regex::Error>> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = prepared
                    .iter()
                    .map(|(_, _, category, _)| {
                        scope.spawn(move || SafetyRules::new(std::slice::from_ref(category)))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(regex::Error::Syntax("compiling the patterns failed".into()))
                        })
                    })
                    .collect()
            });
        for ((path, file, category, written), result) in prepared.iter().zip(results) {
            let rules = match result {
                Ok(rules) => rules,
                Err(set_error) => {
                    let mut located = false;
                    let all = category
                        .patterns
                        .iter()
                        .chain(&category.unless)
                        .chain(&category.overrides);
                    for (at, full) in written
                        .iter()
                        .zip(all.chain(category.combinations.iter().flatten()))
                    {
                        if let Err(err) = SafetyRules::check_pattern(full) {
                            self.error(path, *at, format!("pattern does not compile: {err}"));
                            located = true;
                        }
                    }
                    if !located {
                        let message = format!("the patterns do not compile together: {set_error}");
                        self.error(path, file.category.referenced, message);
                    }
                    continue;
                }
            };
            if self.verify_examples {
                if let Err((source, err)) = rules.compile_all() {
                    let all = category
                        .patterns
                        .iter()
                        .chain(&category.unless)
                        .chain(&category.overrides);
                    let at = written
                        .iter()
                        .zip(all.chain(category.combinations.iter().flatten()))
                        .find(|(_, full)| **full == source)
                        .map_or(file.category.referenced, |(at, _)| *at);
                    self.error(path, at, format!("pattern does not compile: {err}"));
                    continue;
                }
                self.run_examples(path, file, &rules);
            }
            compiled.push(rules);
        }
        let rules = SafetyRules::merge(compiled);
        if self.replies.is_none()
            && !self
                .problems
                .iter()
                .any(|p| p.path.ends_with("replies.yaml"))
        {
            self.error(
                "knowledge/replies.yaml",
                At::UNKNOWN,
                "replies.yaml is missing",
            );
        }
        if self.international.is_none()
            && !self
                .problems
                .iter()
                .any(|p| p.path.ends_with("international.yaml"))
        {
            self.error(
                "knowledge/helplines/international.yaml",
                At::UNKNOWN,
                "helplines/international.yaml is missing",
            );
        }

        let has_error = self.problems.iter().any(|p| p.level == Level::Error);
        let problems = self.problems;
        if has_error {
            return Loaded {
                knowledge: None,
                problems,
            };
        }
        let (Some(replies), Some(international)) = (self.replies, self.international) else {
            return Loaded {
                knowledge: None,
                problems,
            };
        };
        let mut entries: Vec<Entry> = entries.into_iter().map(|(_, e, _)| e).collect();
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        let by_id = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        let mut countries = self.countries;
        countries.sort_by(|a, b| a.code.cmp(&b.code));
        let country_by_code = countries
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i))
            .collect();
        let safety = safety
            .into_iter()
            .map(|(_, f)| SafetyCategory {
                category: f.category.value,
                severity: f.severity,
                entries: PerAudience {
                    young_person: f
                        .entries
                        .young_person
                        .iter()
                        .map(|s| s.value.clone())
                        .collect(),
                    practitioner: f
                        .entries
                        .practitioner
                        .iter()
                        .map(|s| s.value.clone())
                        .collect(),
                },
                reply: PerAudience {
                    young_person: f.reply.young_person.trim().to_string(),
                    practitioner: f.reply.practitioner.trim().to_string(),
                },
                patterns: expanded
                    .get(&f.category.value)
                    .map(|e| e.0.clone())
                    .unwrap_or_default(),
                combinations: expanded
                    .get(&f.category.value)
                    .map(|e| e.2.clone())
                    .unwrap_or_default(),
                unless: expanded
                    .get(&f.category.value)
                    .map(|e| e.1.clone())
                    .unwrap_or_default(),
                overrides: expanded
                    .get(&f.category.value)
                    .map(|e| e.3.clone())
                    .unwrap_or_default(),
                sources: f.sources.value.clone(),
                examples: f.examples.value.iter().map(|e| e.value.clone()).collect(),
                not: f.not.value.iter().map(|e| e.value.clone()).collect(),
            })
            .collect();
        let knowledge = Knowledge {
            rules,
            labelled: self.labelled,
            entries,
            countries,
            international,
            safety,
            replies,
            by_id,
            country_by_code,
        };
        Loaded {
            knowledge: Some(knowledge),
            problems,
        }
    }
}

fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The message of a YAML error, without the location (which the problem line already carries).
fn yaml_message(err: &serde_saphyr::Error) -> String {
    static LOCATION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^(error: )?(line \d+,? column \d+: )?|,? at line \d+,? column \d+")
            .unwrap_or_else(|e| panic!("{e}"))
    });
    let text = err.to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    let cleaned = LOCATION.replace_all(first, "");
    if cleaned.trim().is_empty() {
        "invalid YAML".to_string()
    } else {
        cleaned.trim().to_string()
    }
}

/// For "unknown field `x`", the line and column of the key `x:` in the file. serde reports unknown
/// fields at the start of their mapping; a person needs the line of the typo.
fn field_location(text: &str, message: &str) -> Option<At> {
    let rest = message.strip_prefix("unknown field `")?;
    let field = &rest[..rest.find('`')?];
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let key = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        if key
            .strip_prefix(field)
            .is_some_and(|after| after.trim_start().starts_with(':'))
        {
            let column = line.len() - key.len() + 1;
            return Some(At(i as u64 + 1, column as u64));
        }
    }
    None
}

#[cfg(test)]
mod tests;
