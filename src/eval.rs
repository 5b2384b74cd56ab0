//! The evaluation harness: runs labelled messages through the engine and measures it the way an
//! NLU toolkit does — per-intent precision, recall and F1, risk recall and false alarms, a confusion
//! matrix over risk categories, entry top-1/top-3, country accuracy, reply checks, and every miss.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::{ConversationState, Engine, Intent};
use crate::knowledge::Audience;
use crate::{Error, Result};

/// One value or a list of acceptable values.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// Any of these.
    Many(Vec<T>),
}

impl<T: PartialEq + Clone> OneOrMany<T> {
    /// All acceptable values.
    pub fn values(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// What a labelled message should produce.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Acceptable intents.
    pub intent: Option<OneOrMany<String>>,
    /// Acceptable risk categories, `none` for no risk.
    pub risk: Option<OneOrMany<String>>,
    /// Acceptable escalate values.
    pub escalate: Option<OneOrMany<bool>>,
    /// Acceptable entries (top-1 must be one of them; top-3 must hold one).
    pub entries: Option<Vec<String>>,
    /// The country the engine should use.
    pub country: Option<String>,
    /// Strings the reply must contain.
    pub reply_has: Option<Vec<String>>,
}

/// One labelled message.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The message.
    pub text: String,
    /// The audience the user set.
    pub audience: Option<String>,
    /// The country the user set.
    pub country: Option<String>,
    /// Optional user key (ignored: each case is a fresh conversation).
    pub user: Option<String>,
    /// What should come out.
    pub expect: Expect,
}

/// Reads an evaluation file (a YAML list of cases).
pub fn load(path: &Path) -> Result<Vec<Case>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(&text).map_err(|message| Error::Eval {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses evaluation cases from YAML text; the error says where.
pub fn load_str(text: &str) -> std::result::Result<Vec<Case>, String> {
    serde_saphyr::from_str::<Vec<Case>>(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!("{}:{}: ", l.line(), l.column()))
            .unwrap_or_default();
        format!("{at}{}", e.to_string().lines().next().unwrap_or(""))
    })
}

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Prf {
    /// Messages labelled with it.
    pub support: usize,
    /// Messages predicted as it.
    pub predicted: usize,
    /// Both.
    pub correct: usize,
    /// correct / predicted.
    pub precision: f64,
    /// correct / support.
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
}

/// A miss: a case where some check failed.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    /// 1-based position in the file.
    pub index: usize,
    /// The message.
    pub text: String,
    /// Which checks failed, each "check: expected X, got Y".
    pub failed: Vec<String>,
}

/// A fraction with its counts.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Ratio {
    /// Passing cases.
    pub hits: usize,
    /// Cases measured.
    pub total: usize,
    /// hits / total (1.0 when nothing was measured).
    pub value: f64,
}

impl Ratio {
    fn add(&mut self, ok: bool) {
        self.total += 1;
        if ok {
            self.hits += 1;
        }
    }

    fn finish(&mut self) {
        self.value = if self.total == 0 {
            1.0
        } else {
            self.hits as f64 / self.total as f64
        };
    }
}

/// The whole report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Cases run.
    pub cases: usize,
    /// Headline metrics by name (the names `--min` accepts).
    pub metrics: BTreeMap<String, Ratio>,
    /// Per-intent precision, recall, F1.
    pub intents: BTreeMap<String, Prf>,
    /// Per-risk-category precision, recall, F1 (`none` included).
    pub risk_categories: BTreeMap<String, Prf>,
    /// Confusion matrix over risk categories: expected → predicted → count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Every miss.
    pub misses: Vec<Miss>,
}

/// The metric names, in report order.
pub const METRICS: &[(&str, &str)] = &[
    (
        "risk_recall",
        "risk recall (risky messages detected as risk)",
    ),
    ("risk_category", "risk category correct (of risky messages)"),
    (
        "benign_no_false_alarm",
        "benign messages with no false alarm",
    ),
    ("intent_accuracy", "intent accuracy"),
    ("escalate_accuracy", "escalate accuracy"),
    ("entry_top1", "entry top-1"),
    ("entry_top3", "entry top-3"),
    ("country", "country"),
    ("reply_checks", "reply checks"),
];

/// Runs every case through the engine and measures.
pub fn run(engine: &Engine, cases: &[Case]) -> Report {
    let mut report = Report {
        cases: cases.len(),
        ..Report::default()
    };
    let mut m: BTreeMap<&str, Ratio> = METRICS
        .iter()
        .map(|(k, _)| (*k, Ratio::default()))
        .collect();
    let mut intent_pairs: Vec<(String, String)> = Vec::new();
    let mut risk_pairs: Vec<(String, String)> = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let state = ConversationState {
            country: case.country.as_ref().map(|c| c.to_ascii_uppercase()),
            audience: case.audience.as_deref().and_then(Audience::parse),
            ..ConversationState::default()
        };
        let d = engine.decide(&case.text, &state);
        let mut failed = Vec::new();
        let e = &case.expect;
        let got_intent = d.intent.as_str().to_string();
        if let Some(intent) = &e.intent {
            let ok = intent.values().contains(&got_intent);
            if let Some(metric) = m.get_mut("intent_accuracy") {
                metric.add(ok);
            }
            let gold = if ok {
                got_intent.clone()
            } else {
                intent.values()[0].clone()
            };
            intent_pairs.push((gold.clone(), got_intent.clone()));
            if !ok {
                failed.push(format!(
                    "intent: expected {}, got {got_intent}",
                    intent.values().join("|")
                ));
            }
        }
        let got_risk = d
            .risk
            .map(|r| r.category.as_str().to_string())
            .unwrap_or_else(|| "none".into());
        if let Some(risk) = &e.risk {
            let values = risk.values();
            let risky = !values.iter().any(|v| v == "none");
            let benign = values.iter().all(|v| v == "none");
            let ok = values.contains(&got_risk);
            if risky {
                if let Some(metric) = m.get_mut("risk_recall") {
                    metric.add(got_risk != "none");
                }
                if let Some(metric) = m.get_mut("risk_category") {
                    metric.add(ok);
                }
            }
            if benign && let Some(metric) = m.get_mut("benign_no_false_alarm") {
                metric.add(got_risk == "none");
            }
            let gold = if ok {
                got_risk.clone()
            } else {
                values[0].clone()
            };
            risk_pairs.push((gold, got_risk.clone()));
            if !ok {
                failed.push(format!(
                    "risk: expected {}, got {got_risk}",
                    values.join("|")
                ));
            }
        }
        if let Some(escalate) = &e.escalate {
            let ok = escalate.values().contains(&d.escalate);
            if let Some(metric) = m.get_mut("escalate_accuracy") {
                metric.add(ok);
            }
            if !ok {
                failed.push(format!(
                    "escalate: expected {:?}, got {}",
                    escalate.values(),
                    d.escalate
                ));
            }
        }
        if let Some(entries) = &e.entries {
            let top1 = d.entries.first().is_some_and(|id| entries.contains(id));
            let top3 = d.entries.iter().take(3).any(|id| entries.contains(id));
            if let Some(metric) = m.get_mut("entry_top1") {
                metric.add(top1);
            }
            if let Some(metric) = m.get_mut("entry_top3") {
                metric.add(top3);
            }
            if !top1 {
                failed.push(format!(
                    "entries: expected one of [{}] first, got [{}]",
                    entries.join(", "),
                    d.entries.join(", ")
                ));
            }
        }
        if let Some(country) = &e.country {
            let ok = d.country.as_deref() == Some(country.as_str());
            if let Some(metric) = m.get_mut("country") {
                metric.add(ok);
            }
            if !ok {
                failed.push(format!(
                    "country: expected {country}, got {}",
                    d.country.as_deref().unwrap_or("none")
                ));
            }
        }
        if let Some(needles) = &e.reply_has {
            let missing: Vec<&String> = needles
                .iter()
                .filter(|n| !d.reply.contains(n.as_str()))
                .collect();
            if let Some(metric) = m.get_mut("reply_checks") {
                metric.add(missing.is_empty());
            }
            if !missing.is_empty() {
                failed.push(format!("reply: missing {missing:?}"));
            }
        }
        if !failed.is_empty() {
            report.misses.push(Miss {
                index: i + 1,
                text: case.text.clone(),
                failed,
            });
        }
    }
    for (name, mut ratio) in m {
        ratio.finish();
        report.metrics.insert(name.to_string(), ratio);
    }
    report.intents = prf(&intent_pairs);
    report.risk_categories = prf(&risk_pairs);
    for (gold, got) in &risk_pairs {
        *report
            .confusion
            .entry(gold.clone())
            .or_default()
            .entry(got.clone())
            .or_default() += 1;
    }
    report
}

fn prf(pairs: &[(String, String)]) -> BTreeMap<String, Prf> {
    let mut out: BTreeMap<String, Prf> = BTreeMap::new();
    for (gold, got) in pairs {
        out.entry(gold.clone()).or_default().support += 1;
        out.entry(got.clone()).or_default().predicted += 1;
        if gold == got {
            out.entry(gold.clone()).or_default().correct += 1;
        }
    }
    for p in out.values_mut() {
        p.precision = if p.predicted == 0 {
            0.0
        } else {
            p.correct as f64 / p.predicted as f64
        };
        p.recall = if p.support == 0 {
            0.0
        } else {
            p.correct as f64 / p.support as f64
        };
        p.f1 = if p.precision + p.recall == 0.0 {
            0.0
        } else {
            2.0 * p.precision * p.recall / (p.precision + p.recall)
        };
    }
    out
}

impl Report {
    /// The report as text for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} messages\n", self.cases);
        let _ = writeln!(out, "{:<48} {:>7} {:>9}", "metric", "value", "hits");
        for (name, label) in METRICS {
            if let Some(r) = self.metrics.get(*name) {
                let _ = writeln!(
                    out,
                    "{:<48} {:>7.3} {:>4}/{:<4}",
                    format!("{label} [{name}]"),
                    r.value,
                    r.hits,
                    r.total
                );
            }
        }
        if let Some(benign) = self.metrics.get("benign_no_false_alarm") {
            let alarms = benign.total - benign.hits;
            let rate = if benign.total == 0 {
                0.0
            } else {
                alarms as f64 / benign.total as f64
            };
            let _ = writeln!(
                out,
                "{:<48} {:>7.3} {:>4}/{:<4}",
                "false-alarm rate (benign messages raised as risk)", rate, alarms, benign.total
            );
        }
        let table = |out: &mut String, title: &str, rows: &BTreeMap<String, Prf>| {
            let _ = writeln!(
                out,
                "\n{:<20} {:>9} {:>9} {:>9} {:>8}",
                title, "precision", "recall", "f1", "support"
            );
            for (name, p) in rows {
                let _ = writeln!(
                    out,
                    "{:<20} {:>9.3} {:>9.3} {:>9.3} {:>8}",
                    name, p.precision, p.recall, p.f1, p.support
                );
            }
        };
        table(&mut out, "intent", &self.intents);
        table(&mut out, "risk category", &self.risk_categories);
        let labels: Vec<&String> = self.risk_categories.keys().collect();
        let _ = writeln!(out, "\nconfusion (rows expected, columns predicted)");
        let short = |s: &str| s.chars().take(9).collect::<String>();
        let _ = write!(out, "{:<18}", "");
        for l in &labels {
            let _ = write!(out, " {:>9}", short(l));
        }
        let _ = writeln!(out);
        for row in &labels {
            let _ = write!(out, "{:<18}", row);
            for col in &labels {
                let n = self
                    .confusion
                    .get(*row)
                    .and_then(|r| r.get(*col))
                    .copied()
                    .unwrap_or(0);
                let _ = write!(
                    out,
                    " {:>9}",
                    if n == 0 {
                        ".".to_string()
                    } else {
                        n.to_string()
                    }
                );
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "\nmisses: {}", self.misses.len());
        for miss in &self.misses {
            let _ = writeln!(out, "#{} {:?}", miss.index, miss.text);
            for f in &miss.failed {
                let _ = writeln!(out, "    {f}");
            }
        }
        out
    }
}

/// Parses `metric=value` for `--min`.
pub fn parse_min(text: &str) -> std::result::Result<(String, f64), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected metric=value"))?;
    let name = name.trim().replace('-', "_");
    if !METRICS.iter().any(|(m, _)| *m == name) {
        let known: Vec<&str> = METRICS.iter().map(|(m, _)| *m).collect();
        return Err(format!(
            "unknown metric `{name}`; known: {}",
            known.join(", ")
        ));
    }
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number"))?;
    Ok((name, value))
}

/// Intent names, for completeness checks.
pub fn intent_names() -> Vec<&'static str> {
    Intent::ALL.iter().map(|i| i.as_str()).collect()
}
