//! The binary's commands, driven as a user would: piped stdin, arguments, exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub fn waymark() -> Command {
    Command::new(env!("CARGO_BIN_EXE_waymark"))
}

pub fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = waymark()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn waymark");
    {
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin).expect("write stdin");
    }
    child.wait_with_output().expect("wait for waymark")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn no_arguments_starts_the_console_chat() {
    let out = run_with_stdin(&[], b"hello\n/quit\n");
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("waymark>"), "{text}");
    assert!(
        text.contains("I'm waymark"),
        "greeting reply expected: {text}"
    );
}

#[test]
fn chat_sets_country_and_signposts_it() {
    let out = run_with_stdin(
        &["chat"],
        b"/country KE\nwho can i call\n/quit\nthis line is never read\n",
    );
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("Country set to Kenya"), "{text}");
    assert!(text.contains("Help in Kenya"), "{text}");
    assert!(text.contains("116"), "{text}");
    assert!(
        !text.contains("**"),
        "Markdown must be rendered, not shown raw: {text}"
    );
    assert!(!text.contains("never read"));
}

#[test]
fn chat_audience_command_switches_to_practitioner_guidance() {
    let question = b"what are the signs of online grooming\n";
    let young = stdout(&run_with_stdin(
        &["chat"],
        &[question.as_slice(), b"/quit\n"].concat(),
    ));
    assert!(
        young.contains("Signs someone might be grooming you"),
        "{young}"
    );
    let out = run_with_stdin(
        &["chat"],
        &[b"/audience practitioner\n".as_slice(), question, b"/quit\n"].concat(),
    );
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("Audience set to practitioner"), "{text}");
    assert!(
        text.contains("Recognising and acting on online grooming"),
        "{text}"
    );
}

#[test]
fn chat_help_lists_the_console_commands() {
    let text = stdout(&run_with_stdin(&["chat"], b"/help\n/quit\n"));
    let listed = text
        .lines()
        .find(|l| l.starts_with("Console commands:"))
        .unwrap_or_else(|| panic!("no command list: {text}"));
    for command in ["/country XX", "/audience", "/help", "/quit"] {
        assert!(listed.contains(command), "{command}: {listed}");
    }
}

#[test]
fn knowledge_flag_reads_another_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let from = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge"));
    copy(from, dir.path());
    let entry = dir
        .path()
        .join("entries/young-people/yp-grooming-signs.yaml");
    let text = std::fs::read_to_string(&entry).expect("entry");
    let edited = text.replacen(
        "title: Signs someone might be grooming you",
        "title: Signs from the other folder",
        1,
    );
    assert_ne!(text, edited, "the title to edit is there");
    std::fs::write(&entry, edited).expect("write entry");
    let folder = dir.path().to_str().expect("utf-8 path");
    let out = run_with_stdin(
        &[
            "ask",
            "--knowledge",
            folder,
            "what are the signs of online grooming",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).contains("Signs from the other folder"),
        "{}",
        stdout(&out)
    );
    // Without the flag, the knowledge built into the binary.
    let out = run_with_stdin(&["ask", "what are the signs of online grooming"], b"");
    assert!(stdout(&out).contains("Signs someone might be grooming you"));
}

fn copy(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn chat_asks_for_the_country_then_uses_the_answer() {
    let out = run_with_stdin(&["chat"], b"is there a helpline\ngermany\n");
    let text = stdout(&out);
    assert!(text.contains("Which country are you in?"), "{text}");
    assert!(text.contains("Help in Germany"), "{text}");
    assert!(text.contains("116 111"), "{text}");
}

#[test]
fn chat_in_the_console_does_not_claim_a_moderator_was_told() {
    let out = run_with_stdin(
        &["chat", "--country", "GB"],
        b"someone says theyll post my nudes unless i pay them\n",
    );
    let text = stdout(&out);
    assert!(text.contains("0800 1111"), "{text}");
    assert!(text.contains("no moderator connected"), "{text}");
    assert!(!text.contains("I've let a trusted moderator"), "{text}");
}

#[test]
fn ask_answers_once() {
    let out = waymark()
        .args(["ask", "--markdown", "what even is sextortion"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("_Sources:"),
        "a guidance answer names its sources: {text}"
    );
}

#[test]
fn ask_rejects_a_bad_audience_by_name() {
    let out = waymark()
        .args(["ask", "--audience", "alien", "hi"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--audience"));
}

#[test]
fn every_command_has_help() {
    for cmd in ["chat", "ask", "classify", "eval", "check", "run", "cases"] {
        let out = waymark().args([cmd, "--help"]).output().expect("run");
        assert!(out.status.success(), "{cmd} --help");
        assert!(stdout(&out).contains("Usage"), "{cmd} --help prints usage");
    }
}

#[test]
fn classify_answers_every_line_in_order_with_error_lines() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"text\": \"someone says they'll post my pics unless i pay\", \"country\": \"GB\", \"user\": \"u1\"}\n");
    input.extend_from_slice(b"not json at all\n");
    input.extend_from_slice(b"{\"audience\": \"practitioner\"}\n");
    input.extend_from_slice(b"{\"text\": \"\xff\xfe broken utf8\"}\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"{\"text\": 42}\n");
    input.extend_from_slice(b"{\"text\": \"who can i call\", \"user\": \"u1\"}\n");
    input.extend_from_slice(b"{\"text\": \"hi\", \"audience\": \"robot\"}\n");
    input.extend_from_slice(b"{\"text\": \"!cases\", \"audience\": \"moderator\"}");
    let out = run_with_stdin(&["classify"], &input);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    assert_eq!(lines.len(), 9, "one output line per input line");
    let first = &lines[0];
    assert_eq!(first["intent"], "risk");
    assert_eq!(first["risk"]["category"], "sextortion");
    assert_eq!(first["risk"]["severity"], "high");
    assert_eq!(first["escalate"], true);
    assert_eq!(first["country"], "GB");
    assert!(
        first["reply"]
            .as_str()
            .is_some_and(|r| r.contains("0800 1111"))
    );
    let keys: Vec<&String> = first.as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 6, "exactly the spec's fields: {keys:?}");
    for i in [1, 2, 3, 4, 5, 7] {
        assert!(
            lines[i]["error"].is_string(),
            "line {} should be an error: {}",
            i + 1,
            lines[i]
        );
    }
    // The user's country carries over to the same user's later message.
    assert_eq!(lines[6]["intent"], "signposting");
    assert_eq!(lines[6]["country"], "GB");
    assert_eq!(lines[8]["intent"], "moderator_command");
}

#[test]
fn classify_explain_says_why() {
    let out = run_with_stdin(
        &["classify", "--explain"],
        b"{\"text\":\"i w4nt 2 k1ll mys3lf\"}\n",
    );
    let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    assert_eq!(line["normalized"], "i want to kill myself");
    assert!(
        line["why"][0]
            .as_str()
            .is_some_and(|w| w.contains("self_harm")),
        "{line}"
    );
}

#[test]
fn eval_reports_metrics_and_gates_on_minimums() {
    let dev = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eval/dev.yaml");
    let out = waymark()
        .args(["eval", dev, "--json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert!(report["cases"].as_u64().is_some_and(|n| n > 100));
    for metric in [
        "risk_recall",
        "benign_no_false_alarm",
        "intent_accuracy",
        "entry_top1",
        "entry_top3",
        "country",
        "reply_checks",
    ] {
        let v = report["metrics"][metric]["value"].as_f64().expect(metric);
        assert!((0.0..=1.0).contains(&v));
    }
    assert!(report["intents"]["risk"]["f1"].is_number());
    assert!(report["confusion"]["sextortion"].is_object());
    // An impossible minimum fails with exit status 1 and names the metric.
    let out = waymark()
        .args(["eval", dev, "--min", "entry_top1=1.01"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("entry_top1"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("precision") && text.contains("confusion"),
        "{text}"
    );
    // An unknown metric is refused by name.
    let out = waymark()
        .args(["eval", dev, "--min", "vibes=0.5"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("vibes"));
}

#[test]
fn check_passes_on_the_bundled_knowledge() {
    let out = waymark().arg("check").output().expect("run");
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout(&out).contains("error:"));
}
