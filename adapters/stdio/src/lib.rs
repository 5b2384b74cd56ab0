//! The stdio adapter: a chat platform made of standard input and output (`spec/stdio-adapter.md`).
//!
//! Every line in is one event from the platform; every line out is one thing the bot does on the
//! platform, flushed per line. Tests and scripts drive the whole runtime through it, with no server.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::{mpsc, oneshot};
use waymark_port::{
    Action, Capabilities, ConversationId, ConversationKind, Delivery, Event, Incoming, MessageId,
    Platform, UserId,
};

/// The platform name of this adapter.
pub const PLATFORM: &str = "stdio";

/// What the stdio adapter can do.
pub const CAPABILITIES: Capabilities = Capabilities {
    direct_messages: true,
    ephemeral_replies: false,
    threads: true,
    delete_messages: false,
    case_events: true,
    idempotent_sends: false,
};

/// A delivery and the channel on which the adapter confirms it.
pub type Job = (Delivery, oneshot::Sender<Result<(), String>>);

/// A line-oriented, shared output (standard output in production, a buffer in tests).
pub type Output = Arc<Mutex<dyn Write + Send>>;

/// Extra fields a platform may add are ignored: dropping a disclosure over an unknown field would
/// be far worse than ignoring the field.
#[derive(Debug, Deserialize)]
struct Sender {
    #[serde(deserialize_with = "string_or_number")]
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    moderator: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line {
    Message {
        conversation: String,
        kind: ConversationKind,
        #[serde(default, deserialize_with = "opt_string_or_number")]
        message_id: Option<String>,
        sender: Sender,
        text: String,
        #[serde(default)]
        mentions_bot: Option<bool>,
        #[serde(default, deserialize_with = "opt_string_or_number")]
        thread: Option<String>,
    },
    Tick {
        now: String,
    },
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or a number, found {other}"
        ))),
    }
}

fn opt_string_or_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or a number, found {other}"
        ))),
    }
}

/// Parses one input line into an event, or says why it is not one.
pub fn parse_line(line: &[u8]) -> Result<Event, String> {
    let value: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    let parsed: Line =
        serde_json::from_value(value).map_err(|e| format!("not a valid event: {e}"))?;
    match parsed {
        Line::Message {
            conversation,
            kind,
            message_id,
            sender,
            text,
            mentions_bot,
            thread,
        } => {
            if sender.id.is_empty() {
                return Err("sender.id is empty".into());
            }
            Ok(Event::Message(Incoming {
                platform: Platform(PLATFORM.into()),
                conversation: ConversationId(conversation),
                kind,
                message_id: message_id.map(MessageId),
                sender: UserId(sender.id),
                sender_name: sender.name,
                text,
                mentions_bot: mentions_bot.unwrap_or(kind == ConversationKind::Direct),
                sender_is_moderator: sender.moderator.unwrap_or(false),
                thread,
            }))
        }
        Line::Tick { now } => {
            let at: jiff::Timestamp = now
                .parse()
                .map_err(|e| format!("tick: `now` is not an RFC 3339 time: {e}"))?;
            Ok(Event::Tick(at.as_second()))
        }
    }
}

/// The JSON line for an action; `None` for an action this adapter does not carry out (it never
/// deletes messages, so the runtime never hands it a [`Action::Delete`]).
pub fn action_line(action: &Action) -> Option<Value> {
    let line = match action {
        Action::Send {
            conversation,
            reply_to,
            thread,
            text,
        } => {
            let mut v = json!({"type": "send", "conversation": conversation.0});
            if let Some(r) = reply_to {
                v["reply_to"] = json!(r.0);
            }
            if let Some(t) = thread {
                v["thread"] = json!(t);
            }
            v["text"] = json!(text);
            v
        }
        Action::SendDirect { user, text } => {
            json!({"type": "send_direct", "user": user.0, "text": text})
        }
        Action::Case(event) => {
            let mut v = json!({"type": "case", "event": event.event, "case": event.case});
            if let Some(by) = &event.by {
                v["by"] = json!(by);
            }
            if let Some(c) = &event.category {
                v["category"] = json!(c);
            }
            if let Some(s) = &event.severity {
                v["severity"] = json!(s);
            }
            v
        }
        Action::Delete { .. } => return None,
    };
    Some(line)
}

fn write_line(out: &Output, value: &Value) -> std::io::Result<()> {
    let mut out = out
        .lock()
        .map_err(|_| std::io::Error::other("output lock poisoned"))?;
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Reads events from `input` until end of input, sending them to the runtime; an invalid line gets
/// an `error` line on the output and the run goes on. Sends [`Event::Shutdown`] at the end.
pub async fn read_events<R: AsyncBufRead + Unpin>(
    mut input: R,
    events: mpsc::Sender<Event>,
    out: Output,
) {
    let mut buf = Vec::new();
    let mut number = 0u64;
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let _ = write_line(
                    &out,
                    &json!({"type": "error", "line": number + 1, "message": format!("read error: {e}")}),
                );
                break;
            }
        }
        number += 1;
        let line = trim(&buf);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(line) {
            Ok(event) => {
                if events.send(event).await.is_err() {
                    return;
                }
            }
            Err(message) => {
                let _ = write_line(
                    &out,
                    &json!({"type": "error", "line": number, "message": message}),
                );
            }
        }
    }
    let _ = events.send(Event::Shutdown).await;
}

/// Carries out deliveries: one JSON line each, flushed, then confirmed.
pub async fn write_actions(mut jobs: mpsc::Receiver<Job>, out: Output) {
    while let Some((delivery, ack)) = jobs.recv().await {
        let result = match action_line(&delivery.action) {
            Some(line) => write_line(&out, &line).map_err(|e| e.to_string()),
            None => Ok(()),
        };
        let _ = ack.send(result);
    }
}

fn trim(buf: &[u8]) -> &[u8] {
    let mut end = buf.len();
    while end > 0 && (buf[end - 1] == b'\n' || buf[end - 1] == b'\r') {
        end -= 1;
    }
    &buf[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_messages_and_ticks() {
        let e = parse_line(br#"{"type":"message","conversation":"room-1","kind":"group","message_id":"m1","sender":{"id":"u1","name":"Sam"},"text":"hi","mentions_bot":true}"#);
        let Ok(Event::Message(m)) = e else {
            panic!("{e:?}")
        };
        assert_eq!(m.conversation.0, "room-1");
        assert!(m.mentions_bot);
        assert!(!m.sender_is_moderator);
        let d = parse_line(br#"{"type":"message","conversation":"dm","kind":"direct","sender":{"id":"u1"},"text":"x"}"#);
        assert!(matches!(
            d,
            Ok(Event::Message(Incoming {
                mentions_bot: true,
                ..
            }))
        ));
        assert_eq!(
            parse_line(br#"{"type":"tick","now":"2026-11-28T17:00:00Z"}"#),
            Ok(Event::Tick(1_795_885_200))
        );
    }

    #[test]
    fn rejects_bad_lines_with_a_reason() {
        for bad in [
            &b"nope"[..],
            br#"{"type":"dance"}"#,
            br#"{"type":"tick","now":"yesterday"}"#,
            br#"{"type":"message"}"#,
            b"\xff",
        ] {
            assert!(
                parse_line(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn actions_become_spec_lines() {
        let a = Action::Send {
            conversation: ConversationId("r".into()),
            reply_to: Some(MessageId("m1".into())),
            thread: None,
            text: "t".into(),
        };
        assert_eq!(
            action_line(&a),
            Some(json!({"type":"send","conversation":"r","reply_to":"m1","text":"t"}))
        );
        let c = Action::Case(waymark_port::CaseEvent {
            event: "opened".into(),
            case: "C-1".into(),
            by: None,
            category: Some("sextortion".into()),
            severity: Some("high".into()),
        });
        assert_eq!(
            action_line(&c),
            Some(
                json!({"type":"case","event":"opened","case":"C-1","category":"sextortion","severity":"high"})
            )
        );
        let d = Action::Delete {
            conversation: ConversationId("r".into()),
            message: MessageId("m1".into()),
        };
        assert_eq!(
            action_line(&d),
            None,
            "stdio has no delete line in the spec"
        );
    }
}
