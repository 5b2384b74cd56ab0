//! `waymark check` on copies of the knowledge base with planted errors: each names file and line.

use std::path::Path;

use crate::cli::waymark;

/// Copies the bundled knowledge folder into a temporary directory.
fn copy_knowledge() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge")),
        dir.path(),
    );
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for item in std::fs::read_dir(from).expect("read_dir") {
        let item = item.expect("entry");
        let target = to.join(item.file_name());
        if item.path().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).expect("copy");
        }
    }
}

fn check(dir: &Path) -> (i32, String) {
    let out = waymark().arg("check").arg(dir).output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).expect("read");
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle present")
        + 1
}

#[test]
fn a_clean_copy_passes() {
    let dir = copy_knowledge();
    let (code, out) = check(dir.path());
    assert_eq!(code, 0, "{out}");
}

#[test]
fn yaml_syntax_error_names_file_and_line() {
    let dir = copy_knowledge();
    let file = dir.path().join("entries/young-people/yp-sextortion.yaml");
    edit(&file, "\ntitle:", "\ntitle: [unclosed\nbroken: {");
    let (code, out) = check(dir.path());
    assert_eq!(code, 1);
    let shown = format!("{}:", file.display());
    assert!(
        out.lines()
            .any(|l| l.starts_with(&shown) && l.contains("error")),
        "{out}"
    );
}

#[test]
fn unknown_field_names_file_line_and_field() {
    let dir = copy_knowledge();
    let file = dir
        .path()
        .join("entries/young-people/yp-cyberbullying.yaml");
    edit(&file, "\nkeywords:", "\nkeywrods: [typo]\nkeywords:");
    let line = line_of(&file, "keywrods:");
    let (code, out) = check(dir.path());
    assert_eq!(code, 1);
    let expected = format!("{}:{line}:", file.display());
    assert!(
        out.lines()
            .any(|l| l.starts_with(&expected) && l.contains("keywrods")),
        "want {expected} in:\n{out}"
    );
}

#[test]
fn duplicate_id_and_unknown_related_are_errors() {
    let dir = copy_knowledge();
    let file = dir
        .path()
        .join("entries/young-people/yp-cyberbullying.yaml");
    edit(&file, "id: yp-cyberbullying", "id: yp-sextortion");
    let other = dir.path().join("entries/young-people/yp-ai-fakes.yaml");
    edit(&other, "related: [", "related: [yp-does-not-exist, ");
    let related_line = line_of(&other, "yp-does-not-exist");
    let (code, out) = check(dir.path());
    assert_eq!(code, 1);
    assert!(out.contains("duplicate id `yp-sextortion`"), "{out}");
    let expected = format!("{}:{related_line}:", other.display());
    assert!(
        out.lines()
            .any(|l| l.starts_with(&expected) && l.contains("yp-does-not-exist")),
        "{out}"
    );
}

#[test]
fn a_known_by_name_must_be_a_service_of_that_country_alone() {
    let dir = copy_knowledge();
    let nl = dir.path().join("helplines/NL.yaml");
    edit(
        &nl,
        "known_by: [kindertelefoon]",
        "known_by: [kindertelefoon, kids line]",
    );
    // Childhelp answers in the United States and Canada: a name two countries share places no one.
    for code in ["US", "CA"] {
        let file = dir.path().join(format!("helplines/{code}.yaml"));
        edit(&file, "\nemergency:", "\nknown_by: [childhelp]\nemergency:");
    }
    let (code, out) = check(dir.path());
    assert_eq!(code, 1);
    let nl_line = format!("{}:{}:", nl.display(), line_of(&nl, "known_by"));
    assert!(
        out.lines().any(|l| l.starts_with(&nl_line)
            && l.contains(
                "`known_by: kids line` is not part of any of this country's service names"
            )),
        "{out}"
    );
    assert!(
        out.contains("`known_by: childhelp` is already claimed by"),
        "{out}"
    );
    // Pro Juventute answers in Switzerland and Liechtenstein: it places no one.
    let ch = dir.path().join("helplines/CH.yaml");
    edit(
        &ch,
        "\nemergency:",
        "\nknown_by: [pro juventute]\nemergency:",
    );
    let (_, out) = check(dir.path());
    assert!(
        out.contains("`known_by: pro juventute` is also part of a service name in LI"),
        "{out}"
    );
}

#[test]
fn broken_and_wrong_safety_patterns_are_errors() {
    let dir = copy_knowledge();
    let file = dir.path().join("safety/sextortion.yaml");
    edit(&file, "patterns:\n", "patterns:\n  - '(unclosed'\n");
    let (code, out) = check(dir.path());
    assert_eq!(code, 1);
    let line = line_of(&file, "(unclosed");
    assert!(
        out.contains(&format!("{}:{line}:", file.display())) && out.contains("does not compile"),
        "{out}"
    );

    // A `not` example that the patterns match is an error on that example's line.
    let dir = copy_knowledge();
    let file = dir.path().join("safety/sextortion.yaml");
    edit(
        &file,
        "not:\n",
        "not:\n  - someone says theyll post my nudes unless i pay them\n",
    );
    let line = line_of(&file, "someone says theyll post my nudes unless i pay them");
    let (code, out) = check(dir.path());
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("{}:{line}:", file.display())) && out.contains("`not` example"),
        "{out}"
    );
}

#[test]
fn old_review_is_a_warning_not_an_error() {
    let dir = copy_knowledge();
    let file = dir
        .path()
        .join("entries/young-people/yp-cyberbullying.yaml");
    edit(&file, "reviewed: 2026-11-28", "reviewed: 2020-01-01");
    let (code, out) = check(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning: review is overdue"), "{out}");
}

#[test]
fn empty_answer_and_missing_source_are_errors() {
    let dir = copy_knowledge();
    let file = dir
        .path()
        .join("entries/young-people/yp-cyberbullying.yaml");
    let text = std::fs::read_to_string(&file).expect("read");
    let cut = text.find("\nanswer:").expect("answer");
    let end = text.find("\nsources:").expect("sources");
    let after = text[end..]
        .find("\nreviewed:")
        .map(|i| end + i)
        .expect("reviewed");
    let broken = format!(
        "{}\nanswer: \"\"\nsources: []{}",
        &text[..cut],
        &text[after..]
    );
    std::fs::write(&file, broken).expect("write");
    let (code, out) = check(dir.path());
    assert_eq!(code, 1);
    assert!(out.contains("the answer is empty"), "{out}");
    assert!(out.contains("at least one source"), "{out}");
}
