//! Loading and checking on small in-memory knowledge bases.

use super::*;

fn file(relative: &str, text: &str) -> SourceFile {
    SourceFile {
        display: format!("k/{relative}"),
        relative: relative.to_string(),
        text: text.to_string(),
    }
}

const REPLIES: &str = "greeting: hi\nthanks: t\ngoodbye: b\nhelp: h\nunknown: u\nhuman: hu\nhuman_offline: ho\n\
ask_country: a\nmoderator_told: m\nmoderator_offline: mo\nmoderator_command: mc\nforget: f\nguidance_footer: g\n\
claimed: c\nrelayed: r\nreminder: re\nroom_note: rn\nslow_down: s\n";

fn entry(id: &str, related: &str) -> String {
    format!(
        "id: {id}\naudience: young_person\ntitle: T\nquestions: [a, b, c]\nkeywords: []\nanswer: An answer.\n\
sources: [{{title: S, url: https://example.org}}]\nreviewed: 2026-11-01\nrelated: [{related}]\n"
    )
}

fn safety(category: &str) -> String {
    let word = format!("qx{}", category.replace("_", ""));
    format!(
        "category: {category}\nseverity: high\nreviewed: 2026-11-01\nsources: [{{title: S, url: https://example.org}}]\n\
entries: {{young_person: [yp-a], practitioner: [yp-a]}}\nreply: {{young_person: calm, practitioner: steps}}\n\
patterns: ['\\b{word}\\b']\nunless: ['\\bwhat is\\b']\nexamples: ['{word}', 'my {word} now', 'x {word}']\n\
not: ['what is {word}', 'nothing', 'else']\n"
    )
}

fn base() -> Vec<SourceFile> {
    let mut files = vec![
        file("replies.yaml", REPLIES),
        file("entries/yp-a.yaml", &entry("yp-a", "yp-b")),
        file("entries/yp-b.yaml", &entry("yp-b", "")),
        file(
            "helplines/GB.yaml",
            "country: GB\nname: United Kingdom\nnames: [uk, england]\nemergency: ['999']\nservices:\n  - name: Childline\n    phone: '0800 1111'\n    confidence: high\n    sources: [https://example.org]\nreviewed: 2026-11-01\n",
        ),
        file(
            "helplines/international.yaml",
            "country: international\nname: International\nemergency: []\nservices:\n  - name: CHI\n    url: https://example.org\n    confidence: high\n    sources: [https://example.org]\nreviewed: 2026-11-01\n",
        ),
    ];
    for c in RiskCategory::ALL {
        files.push(file(
            &format!("safety/{}.yaml", c.as_str()),
            &safety(c.as_str()),
        ));
    }
    files
}

fn day(s: &str) -> jiff::civil::Date {
    s.parse().expect("date")
}

#[test]
fn a_valid_base_loads() {
    let loaded = Knowledge::check_files(base(), day("2026-11-28"));
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let k = loaded.knowledge.expect("loaded");
    assert_eq!(k.entries().len(), 2);
    assert_eq!(
        k.country("gb").map(|c| c.name.as_str()),
        Some("United Kingdom")
    );
    assert!(k.has_id("helpline-GB"));
}

#[test]
fn errors_carry_file_line_and_column() {
    let mut files = base();
    files[1] = file("entries/yp-a.yaml", &entry("yp-a", "yp-missing"));
    let loaded = Knowledge::check_files(files, day("2026-11-28"));
    assert!(loaded.knowledge.is_none());
    let p = loaded
        .problems
        .iter()
        .find(|p| p.message.contains("yp-missing"))
        .expect("related error");
    assert_eq!(p.path, "k/entries/yp-a.yaml");
    assert_eq!(p.line, 9);
    assert!(p.to_string().starts_with("k/entries/yp-a.yaml:9:"));
}

#[test]
fn unknown_fields_and_syntax_errors_are_reported() {
    let mut files = base();
    files[1] = file(
        "entries/yp-a.yaml",
        &entry("yp-a", "").replace("keywords:", "keywrods:"),
    );
    files[2] = file("entries/yp-b.yaml", "id: [unclosed\n");
    let loaded = Knowledge::check_files(files, day("2026-11-28"));
    let text: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|p| p.starts_with("k/entries/yp-a.yaml:5:") && p.contains("keywrods")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|p| p.starts_with("k/entries/yp-b.yaml:")),
        "{text:?}"
    );
}

#[test]
fn duplicate_ids_and_empty_answers_are_errors() {
    let mut files = base();
    files[2] = file(
        "entries/yp-b.yaml",
        &entry("yp-a", "").replace("An answer.", "''"),
    );
    let loaded = Knowledge::check_files(files, day("2026-11-28"));
    let text: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|p| p.contains("duplicate id `yp-a`")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|p| p.contains("the answer is empty")),
        "{text:?}"
    );
}

#[test]
fn safety_examples_are_tested_through_the_normaliser() {
    let mut files = base();
    let idx = files
        .iter()
        .position(|f| f.relative == "safety/grooming.yaml")
        .expect("grooming");
    files[idx] = file(
        "safety/grooming.yaml",
        &safety("grooming")
            .replace("'else'", "'qxgr00ming'")
            .replace("'x qxgrooming'", "'x qxgroomin'"),
    );
    let loaded = Knowledge::check_files(files, day("2026-11-28"));
    let text: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|p| p.contains("`not` example is detected") && p.contains("qxgr00ming")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|p| p.contains("example is not detected") && p.contains("qxgroomin")),
        "{text:?}"
    );
}

#[test]
fn a_missing_category_and_a_bad_pattern_are_errors() {
    let mut files = base();
    files.retain(|f| f.relative != "safety/self_harm.yaml");
    let idx = files
        .iter()
        .position(|f| f.relative == "safety/grooming.yaml")
        .expect("grooming");
    files[idx] = file(
        "safety/grooming.yaml",
        &safety("grooming").replace("unless: ['\\bwhat is\\b']", "unless: ['(open']"),
    );
    let loaded = Knowledge::check_files(files, day("2026-11-28"));
    let text: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|p| p.contains("no safety file for category `self_harm`")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|p| p.starts_with("k/safety/grooming.yaml:8:") && p.contains("does not compile")),
        "{text:?}"
    );
}

#[test]
fn an_old_review_warns_and_still_loads() {
    let loaded = Knowledge::check_files(base(), day("2027-12-01"));
    assert!(loaded.knowledge.is_some());
    assert!(loaded.problems.iter().all(|p| p.level == Level::Warning));
    assert!(
        loaded
            .problems
            .iter()
            .any(|p| p.message.contains("review is overdue"))
    );
}

#[test]
fn a_country_file_must_match_its_name_and_low_services_go_last() {
    let mut files = base();
    files[3] = file(
        "helplines/GB.yaml",
        "country: GB\nname: United Kingdom\nnames: [uk]\nemergency: ['999']\nservices:\n  - name: Unsure\n    phone: '123'\n    confidence: low\n    sources: [https://example.org]\n  - name: Sure\n    phone: '456'\n    confidence: high\n    sources: [https://example.org]\nreviewed: 2026-11-01\n",
    );
    files.push(file("helplines/FR.yaml", &files[3].text.clone()));
    let loaded = Knowledge::check_files(files.clone(), day("2026-11-28"));
    assert!(
        loaded
            .problems
            .iter()
            .any(|p| p.path == "k/helplines/FR.yaml"
                && p.message.contains("must match the file name"))
    );
    files.pop();
    let k = Knowledge::check_files(files, day("2026-11-28"))
        .knowledge
        .expect("loads");
    assert_eq!(
        k.country("GB").map(|c| c.services[0].name.as_str()),
        Some("Sure")
    );
}
