//! Transcript tests: `waymark run --adapter stdio` as a child process, driven line by line as the
//! stdio spec describes.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const DISCLOSURE: &str = "someone says theyll post my nudes unless i pay them £200 tonight";

/// A running bot and its output lines.
struct Bot {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
    seen: Vec<Value>,
}

impl Bot {
    fn start(data: &Path) -> Bot {
        Bot::start_with(data, &[], None)
    }

    fn start_with(data: &Path, env: &[(&str, &str)], config: Option<&Path>) -> Bot {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_waymark"));
        cmd.args(["run", "--adapter", "stdio", "--data"]).arg(data);
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn waymark run");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("output line is not JSON ({e}): {line}"));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Bot {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, event: Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{event}").expect("write event");
        stdin.flush().expect("flush");
    }

    fn say(&mut self, conversation: &str, kind: &str, sender: &str, text: &str) {
        self.send(json!({"type": "message", "conversation": conversation, "kind": kind, "message_id": format!("m{}", self.seen.len()),
            "sender": {"id": sender}, "text": text}));
    }

    fn moderator(&mut self, text: &str) {
        self.send(
            json!({"type": "message", "conversation": "moderators", "kind": "moderators",
            "sender": {"id": "mod-alex", "name": "Alex", "moderator": true}, "text": text}),
        );
    }

    fn tick(&mut self, at: jiff::Timestamp) {
        self.send(json!({"type": "tick", "now": at.to_string()}));
    }

    /// Waits for a line matching `pred`; returns it. Lines seen on the way are kept.
    fn expect(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(found) = self
                .seen
                .iter()
                .find(|v| pred(v) && !v.get("_taken").is_some_and(|t| t == true))
            {
                let found = found.clone();
                if let Some(slot) = self.seen.iter_mut().find(|v| **v == found) {
                    slot["_taken"] = json!(true);
                }
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => self.seen.push(v),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out waiting for {what}; saw:\n{}", self.dump())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("bot exited before {what}; saw:\n{}", self.dump())
                }
            }
        }
    }

    /// Closes stdin and collects every remaining line until the bot exits.
    fn finish(mut self) -> Vec<Value> {
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Ok(v) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(v);
        }
        let status = self.child.wait().expect("wait");
        assert!(
            status.success(),
            "graceful exit at end of input: {status:?}"
        );
        self.seen
    }

    fn kill9(mut self) -> Vec<Value> {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
        while let Ok(v) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(v);
        }
        self.seen
    }

    /// Waits for the bot to die on its own (the fault hook aborts it), collecting its lines.
    fn wait_crash(mut self) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(!status.success(), "expected a crash, got {status:?}");
                break;
            }
            assert!(Instant::now() < deadline, "the bot did not crash");
            std::thread::sleep(Duration::from_millis(20));
        }
        while let Ok(v) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.seen.push(v);
        }
        self.seen
    }

    fn dump(&self) -> String {
        self.seen
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn is_case(event: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == "case" && v["event"] == event
}

fn sent_to(conversation: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == "send" && v["conversation"] == conversation
}

fn direct_to(user: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == "send_direct" && v["user"] == user
}

fn text(v: &Value) -> &str {
    v["text"].as_str().unwrap_or("")
}

#[test]
fn a_disclosure_in_a_group_room_goes_private_and_to_the_moderators() {
    let data = tempfile::tempdir().expect("tmp");
    let mut bot = Bot::start(data.path());
    bot.say("room-1", "group", "u1", DISCLOSURE);
    let private = bot.expect("private reply", direct_to("u1"));
    assert!(text(&private).contains("not your fault"), "{private}");
    assert!(
        text(&private).contains("moderator"),
        "says a moderator was told: {private}"
    );
    let note = bot.expect("room note", sent_to("room-1"));
    for word in ["nudes", "pay", "post", "200"] {
        assert!(
            !text(&note).contains(word),
            "the room note must not hint at the disclosure: {note}"
        );
    }
    let opened = bot.expect("case opened", is_case("opened"));
    assert_eq!(
        (&opened["category"], &opened["severity"]),
        (&json!("sextortion"), &json!("high"))
    );
    let case = opened["case"].as_str().expect("case id").to_string();
    let notice = bot.expect("moderators notice", sent_to("moderators"));
    assert!(
        text(&notice).contains(&case)
            && text(&notice).contains("sextortion")
            && text(&notice).contains("stdio")
    );
    assert!(
        text(&notice).contains("nudes unless i pay"),
        "the excerpt goes to moderators only: {notice}"
    );
    assert!(
        !text(&notice).contains("u1"),
        "moderators see a pseudonymous reference, not the user id: {notice}"
    );
    let rest = bot.finish();
    assert!(
        !rest.iter().any(|v| v["type"] == "send"
            && v["conversation"] == "room-1"
            && text(v).contains("nudes")),
        "the room never sees the text"
    );
}

#[test]
fn moderators_claim_note_reply_and_resolve() {
    let data = tempfile::tempdir().expect("tmp");
    let mut bot = Bot::start(data.path());
    bot.say("dm-u1", "direct", "u1", DISCLOSURE);
    let case = bot.expect("opened", is_case("opened"))["case"]
        .as_str()
        .expect("id")
        .to_string();
    bot.moderator("!cases");
    let list = bot.expect("case list", |v| {
        sent_to("moderators")(v) && text(v).contains("Open cases")
    });
    assert!(text(&list).contains(&case));
    bot.moderator(&format!("!claim {case}"));
    let claimed = bot.expect("claimed", is_case("claimed"));
    assert_eq!(claimed["by"], "mod-alex");
    bot.expect("user told a moderator has it", |v| {
        direct_to("u1")(v) && text(v).contains("picked up")
    });
    bot.moderator(&format!("!note {} called the school", case.to_lowercase()));
    bot.expect("noted", is_case("noted"));
    bot.moderator(&format!(
        "!reply {case} You did the right thing. Are you safe right now?"
    ));
    let relayed = bot.expect("relayed to user", |v| {
        direct_to("u1")(v) && text(v).contains("Are you safe right now?")
    });
    assert!(
        text(&relayed).contains("A moderator from this community says"),
        "{relayed}"
    );
    assert!(
        !text(&relayed).contains("mod-alex") && !text(&relayed).contains("Alex"),
        "not from the moderator's own account"
    );
    bot.expect("relayed event", is_case("relayed"));
    bot.moderator(&format!("!case {case}"));
    let details = bot.expect("details", |v| {
        sent_to("moderators")(v) && text(v).contains("**History**")
    });
    assert!(text(&details).contains("called the school") && text(&details).contains("claimed"));
    bot.moderator(&format!("!resolve {case} safe, school DSL involved"));
    bot.expect("resolved", is_case("resolved"));
    bot.moderator(&format!("!reopen {case}"));
    bot.expect("reopened", is_case("reopened"));
    bot.moderator("!claim C-NOPE9");
    bot.expect("unknown case", |v| {
        sent_to("moderators")(v) && text(v).contains("No case")
    });
    bot.finish();

    // The audit trail is in the export, and raw user ids are not.
    let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["cases", "export", "--data"])
        .arg(data.path())
        .output()
        .expect("export");
    assert!(out.status.success());
    let export: Value = serde_json::from_slice(&out.stdout).expect("export is JSON");
    let actions: Vec<&str> = export["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "opened", "claimed", "noted", "relayed", "resolved", "reopened"
        ]
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("\"u1\""),
        "no raw user id in the export"
    );
}

#[test]
fn a_non_moderator_or_a_public_room_gets_no_case_data() {
    let data = tempfile::tempdir().expect("tmp");
    let mut bot = Bot::start(data.path());
    bot.say("dm-u1", "direct", "u1", DISCLOSURE);
    let case = bot.expect("opened", is_case("opened"))["case"]
        .as_str()
        .expect("id")
        .to_string();
    // Not a moderator, in the moderators' room.
    bot.send(json!({"type": "message", "conversation": "moderators", "kind": "moderators", "sender": {"id": "u9"}, "text": "!cases"}));
    // A moderator, but in a public room.
    bot.send(json!({"type": "message", "conversation": "room-2", "kind": "group", "sender": {"id": "mod-alex", "moderator": true}, "text": format!("!case {case}")}));
    bot.send(json!({"type": "message", "conversation": "room-2", "kind": "group", "sender": {"id": "u9"}, "text": format!("!claim {case}")}));
    let all = bot.finish();
    let refusals: Vec<&Value> = all
        .iter()
        .filter(|v| v["type"] == "send" && text(v).contains("moderators' command"))
        .collect();
    assert_eq!(refusals.len(), 3, "{all:?}");
    for v in &all {
        if v["conversation"] == "room-2"
            || (v["conversation"] == "moderators" && text(v).contains("moderators' command"))
        {
            assert!(
                !text(v).contains(&case) && !text(v).contains("sextortion"),
                "a refusal reveals nothing: {v}"
            );
        }
    }
    assert!(
        !all.iter()
            .any(|v| v["type"] == "case" && v["event"] == "claimed")
    );
}

#[test]
fn kill_9_mid_delivery_loses_nothing_and_duplicates_nothing() {
    let data = tempfile::tempdir().expect("tmp");
    // The process dies (SIGABRT, no clean-up) right after its second confirmed delivery.
    let mut bot = Bot::start_with(data.path(), &[("WAYMARK_FAULT_ABORT_AFTER", "2")], None);
    bot.say("room-1", "group", "u1", DISCLOSURE);
    let first = bot.wait_crash();
    assert_eq!(first.len(), 2, "crashed after two deliveries: {first:?}");
    assert!(direct_to("u1")(&first[0]) && sent_to("room-1")(&first[1]));

    // After a restart the rest is delivered, and the user does not get the reply twice.
    let bot = Bot::start(data.path());
    let second = bot.finish();
    assert!(second.iter().any(is_case("opened")), "{second:?}");
    assert!(
        second
            .iter()
            .any(|v| sent_to("moderators")(v) && text(v).contains("New case")),
        "{second:?}"
    );
    assert!(
        !second.iter().any(direct_to("u1")),
        "nothing duplicated to the user: {second:?}"
    );

    // A real kill -9 the moment the private reply appears, several times: the young person never
    // gets it twice, and the moderators' notice is never lost.
    for round in 0..4 {
        let user = format!("u-kill-{round}");
        let mut bot = Bot::start(data.path());
        bot.send(
            json!({"type": "message", "conversation": format!("dm-{user}"), "kind": "direct",
            "sender": {"id": user}, "text": "my stepdad comes in my room at night and touches me"}),
        );
        bot.expect("the private reply", |v| v["type"] == "send");
        let before = bot.kill9();
        let after = Bot::start(data.path()).finish();
        let all: Vec<&Value> = before.iter().chain(after.iter()).collect();
        let replies = all
            .iter()
            .filter(|v| v["type"] == "send" && v["conversation"] == format!("dm-{user}").as_str())
            .count();
        assert_eq!(
            replies, 1,
            "round {round}: the young person sees the reply exactly once: {all:?}"
        );
        assert!(
            all.iter()
                .any(|v| sent_to("moderators")(v) && text(v).contains("abuse_disclosure")),
            "round {round}: the moderators' notice arrives: {all:?}"
        );
    }
}

#[test]
fn a_disclosure_after_asking_for_a_person_raises_the_case() {
    let data = tempfile::tempdir().expect("tmp");
    let mut bot = Bot::start(data.path());
    bot.say("dm-u1", "direct", "u1", "can i talk to a real person");
    let opened = bot.expect("human case", is_case("opened"));
    assert_eq!(
        (&opened["category"], &opened["severity"]),
        (&json!("human"), &json!("medium"))
    );
    bot.say("dm-u1", "direct", "u1", DISCLOSURE);
    let raised = bot.expect("raised", is_case("realerted"));
    assert_eq!(raised["case"], opened["case"]);
    assert_eq!(
        (&raised["category"], &raised["severity"]),
        (&json!("sextortion"), &json!("high"))
    );
    bot.expect("moderators told", |v| {
        sent_to("moderators")(v) && text(v).contains("is now high")
    });
    let all = bot.finish();
    assert_eq!(
        all.iter().filter(|v| is_case("opened")(v)).count(),
        1,
        "one case per user"
    );
}

#[test]
fn forget_in_a_shared_room_answers_privately() {
    let data = tempfile::tempdir().expect("tmp");
    let mut bot = Bot::start(data.path());
    bot.say("room-1", "group", "u1", "i want to kill myself");
    bot.expect("case", is_case("opened"));
    bot.say("room-1", "group", "u1", "!forget");
    let reply = bot.expect("forget reply", |v| {
        direct_to("u1")(v) && text(v).contains("deleted")
    });
    assert!(text(&reply).contains("open case"));
    let all = bot.finish();
    assert!(
        !all.iter()
            .any(|v| sent_to("room-1")(v) && text(v).contains("case")),
        "the room learns nothing about a case"
    );
}

#[test]
fn ticks_drive_realerts_reminders_and_purges() {
    let data = tempfile::tempdir().expect("tmp");
    let mut bot = Bot::start(data.path());
    let now = jiff::Timestamp::now();
    bot.say("dm-u1", "direct", "u1", DISCLOSURE);
    let case = bot.expect("opened", is_case("opened"))["case"]
        .as_str()
        .expect("id")
        .to_string();
    bot.tick(now + jiff::SignedDuration::from_mins(5));
    bot.tick(now + jiff::SignedDuration::from_mins(11));
    let realert = bot.expect("realerted", is_case("realerted"));
    assert_eq!(realert["case"], case.as_str());
    bot.expect("still unclaimed notice", |v| {
        sent_to("moderators")(v) && text(v).contains("Still unclaimed")
    });
    bot.tick(now + jiff::SignedDuration::from_mins(16));
    let reminder = bot.expect("reminder to the user", |v| {
        direct_to("u1")(v) && text(v).contains("haven't been able to get a moderator")
    });
    assert!(
        text(&reminder).contains("childhelplineinternational.org")
            || text(&reminder).contains("Help in"),
        "{reminder}"
    );
    // `!close` is another name for `!resolve`.
    bot.moderator(&format!("!close {case}"));
    bot.expect("resolved", is_case("resolved"));
    bot.tick(now + jiff::SignedDuration::from_hours(24 * 20));
    bot.tick(now + jiff::SignedDuration::from_hours(24 * 31));
    let purged = bot.expect("purged", is_case("purged"));
    assert_eq!(purged["case"], case.as_str());
    let all = bot.finish();
    assert_eq!(
        all.iter().filter(|v| is_case("realerted")(v)).count(),
        1,
        "re-alerted once, then it was resolved"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["cases", "export", "--data"])
        .arg(data.path())
        .output()
        .expect("export");
    let export: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(export["cases"][0]["excerpt"], Value::Null, "excerpt purged");
    assert_eq!(export["cases"][0]["purged"], true);
}

#[test]
fn a_flood_never_delays_a_risk_message() {
    let data = tempfile::tempdir().expect("tmp");
    let mut bot = Bot::start(data.path());
    for i in 0..15 {
        bot.say("dm-u1", "direct", "u1", &format!("hello {i}"));
    }
    bot.say("dm-u1", "direct", "u1", "i want to kill myself tonight");
    for i in 0..15 {
        bot.say("dm-u1", "direct", "u1", &format!("hello again {i}"));
    }
    let all = bot.finish();
    let replies: Vec<&Value> = all.iter().filter(|v| sent_to("dm-u1")(v)).collect();
    let slow = replies
        .iter()
        .filter(|v| text(v).contains("very quickly"))
        .count();
    assert!(
        (1..=2).contains(&slow),
        "one slow-down per flood, not one per message: {slow}"
    );
    assert!(
        replies.len() < 12,
        "excess ordinary messages get silence: {} replies",
        replies.len()
    );
    assert!(
        all.iter()
            .any(|v| is_case("opened")(v) && v["category"] == "self_harm"),
        "the risk message opened a case"
    );
    assert!(
        replies.iter().any(|v| text(v).contains("moderator")),
        "and got the risk reply"
    );
}

#[test]
fn forget_deletes_what_is_not_needed_and_says_so() {
    let data = tempfile::tempdir().expect("tmp");
    let mut bot = Bot::start(data.path());
    bot.say("dm-u1", "direct", "u1", DISCLOSURE);
    let case = bot.expect("opened", is_case("opened"))["case"]
        .as_str()
        .expect("id")
        .to_string();
    bot.moderator(&format!("!resolve {case} handled"));
    bot.expect("resolved", is_case("resolved"));
    bot.say("dm-u1", "direct", "u1", "can i talk to a real person");
    let second = bot.expect("human case", is_case("opened"))["case"]
        .as_str()
        .expect("id")
        .to_string();
    bot.say("dm-u1", "direct", "u1", "!forget");
    let reply = bot.expect("forget reply", |v| {
        sent_to("dm-u1")(v) && text(v).contains("deleted")
    });
    assert!(text(&reply).contains("1 open case"), "{reply}");
    bot.finish();
    let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["cases", "export", "--data"])
        .arg(data.path())
        .output()
        .expect("export");
    let export: Value = serde_json::from_slice(&out.stdout).expect("json");
    let cases = export["cases"].as_array().expect("cases");
    let first = cases
        .iter()
        .find(|c| c["id"] == case.as_str())
        .expect("first");
    let open = cases
        .iter()
        .find(|c| c["id"] == second.as_str())
        .expect("second");
    assert_eq!(first["excerpt"], Value::Null, "resolved case forgotten");
    assert!(first["notes"].as_array().is_some_and(|n| n.is_empty()));
    assert!(
        open["excerpt"].is_string(),
        "the open case keeps what it needs"
    );
}

#[test]
fn a_bad_config_names_the_key_and_bad_lines_get_error_lines() {
    let data = tempfile::tempdir().expect("tmp");
    let config = data.path().join("waymark.yaml");
    std::fs::write(&config, "escalation:\n  realert_high_minutes: soon\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["run", "--adapter", "stdio", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("escalation.realert_high_minutes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut bot = Bot::start(&data.path().join("store"));
    bot.send(json!({"type": "nonsense"}));
    let err = bot.expect("error line", |v| v["type"] == "error");
    assert_eq!(err["line"], 1);
    bot.say("room-1", "group", "u1", "hello everyone");
    bot.say("dm-u1", "direct", "u1", "hi");
    let all = bot.finish();
    assert!(
        !all.iter().any(sent_to("room-1")),
        "an unaddressed group message gets no reply"
    );
    assert!(
        all.iter().any(sent_to("dm-u1")),
        "a direct message always does"
    );
}

#[test]
fn sigterm_is_a_graceful_shutdown() {
    let data = tempfile::tempdir().expect("tmp");
    let mut bot = Bot::start(data.path());
    bot.say("dm-u1", "direct", "u1", DISCLOSURE);
    bot.expect("case", is_case("opened"));
    let pid = bot.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = bot.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the bot did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "SIGTERM ends the bot cleanly: {status:?}");
}

#[test]
fn notices_go_to_each_moderators_room_on_its_own_platform() {
    let data = tempfile::tempdir().expect("tmp");
    let config = data.path().join("waymark.yaml");
    std::fs::write(
        &config,
        "moderators:\n  rooms:\n    - {platform: stdio, conversation: mods-here}\n    - {platform: matrix, conversation: \"!mods:example.org\"}\n",
    )
    .expect("write config");
    let mut bot = Bot::start_with(&data.path().join("store"), &[], Some(&config));
    bot.say("dm-u1", "direct", "u1", DISCLOSURE);
    bot.expect("notice in the stdio moderators' room", |v| {
        sent_to("mods-here")(v) && text(v).contains("New case")
    });
    let all = bot.finish();
    assert!(
        !all.iter().any(|v| v["conversation"] == "!mods:example.org"),
        "a notice for another platform's room is never written to stdio: {all:?}"
    );
}

#[test]
fn logs_hold_no_message_text_and_no_user_ids() {
    let data = tempfile::tempdir().expect("tmp");
    let mut child = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["run", "--adapter", "stdio", "--data"])
        .arg(data.path())
        .env("WAYMARK_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(
            stdin,
            "{}",
            json!({"type": "message", "conversation": "dm-x", "kind": "direct", "sender": {"id": "sam-private-id"},
                "text": "my stepdad comes in my room at night and touches me"})
        )
        .expect("write");
        writeln!(
            stdin,
            "{}",
            json!({"type": "message", "conversation": "moderators", "kind": "moderators",
                "sender": {"id": "mod-private-id", "moderator": true}, "text": "!cases"})
        )
        .expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("opened case"),
        "the log says what happened: {log}"
    );
    for secret in ["stepdad", "touches", "sam-private-id", "mod-private-id"] {
        assert!(
            !log.contains(secret),
            "the log must not contain {secret:?}: {log}"
        );
    }
}
