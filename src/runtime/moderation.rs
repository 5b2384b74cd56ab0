//! Moderator commands, and the small text helpers that keep user words from pinging anyone or
//! turning into markup.

use waymark_port::{Action, Incoming, UserId};

use super::store::{Case, CaseAction, Notice, Status, StoreError};
use super::{Runtime, RuntimeError, case_event};
use crate::engine::Engine;

/// Runs a moderator command typed in a moderators' room by a moderator; returns what to send.
pub(super) fn command(
    rt: &mut Runtime,
    m: &Incoming,
    name: &str,
    args: &str,
    now: i64,
) -> Result<Vec<Notice>, RuntimeError> {
    // `!close` is what many moderators type for `!resolve`.
    let name = if name == "close" { "resolve" } else { name };
    let by = m.sender.0.as_str();
    let who = m.sender_name.clone().unwrap_or_else(|| m.sender.0.clone());
    let (id, rest) = match args.split_once(char::is_whitespace) {
        Some((id, rest)) => (id.trim(), rest.trim()),
        None => (args.trim(), ""),
    };
    let say = |rt: &Runtime, text: String| rt.reply_in_place(m, text);
    if name != "cases" && id.is_empty() {
        return Ok(vec![say(
            rt,
            format!("Usage: `!{name} CASE-ID{}`", usage_tail(name)),
        )]);
    }
    let result = match name {
        "cases" => {
            let cases = rt.store.active_cases()?;
            return Ok(vec![say(rt, list(&cases, now))]);
        }
        "case" => match rt.store.case(id)? {
            Some(case) => {
                let notes = rt.store.notes(&case.id)?;
                let history = rt.store.audit_log(Some(&case.id))?;
                return Ok(vec![say(rt, details(&case, &notes, &history))]);
            }
            None => Err(StoreError::NoCase(id.to_ascii_uppercase())),
        },
        "claim" => {
            let Some(case) = rt.store.case(id)? else {
                return Ok(vec![say(rt, format!("No case {}.", escape(id)))]);
            };
            let mut notices = vec![
                case_event("claimed", &case.id, Some(by), None),
                say(rt, format!("Case {} claimed by {}.", case.id, escape(&who))),
            ];
            if case.status == Status::Open
                && let Some(contact) = &case.contact
            {
                let text = rt.engine.knowledge().replies().claimed.trim().to_string();
                notices.push((
                    case.platform.clone(),
                    Action::SendDirect {
                        user: UserId(contact.clone()),
                        text,
                    },
                    Some(case.user_ref.clone()),
                ));
            }
            rt.store
                .apply(&case.id, CaseAction::Claim, by, now, &notices)
                .map(drop)
        }
        "note" => {
            if rest.is_empty() {
                return Ok(vec![say(rt, "Usage: `!note CASE-ID text`".into())]);
            }
            let Some(case) = rt.store.case(id)? else {
                return Ok(vec![say(rt, format!("No case {}.", escape(id)))]);
            };
            let notices = [
                case_event("noted", &case.id, Some(by), None),
                say(rt, format!("Note added to case {}.", case.id)),
            ];
            rt.store
                .apply(
                    &case.id,
                    CaseAction::Note(rest.to_string()),
                    by,
                    now,
                    &notices,
                )
                .map(drop)
        }
        "reply" => {
            if rest.is_empty() {
                return Ok(vec![say(rt, "Usage: `!reply CASE-ID text`".into())]);
            }
            let Some(case) = rt.store.case(id)? else {
                return Ok(vec![say(rt, format!("No case {}.", escape(id)))]);
            };
            let mut notices = Vec::new();
            if let Some(contact) = &case.contact {
                let prefix = rt.engine.knowledge().replies().relayed.trim().to_string();
                let text = format!("{prefix}\n\n{}", quote(rest));
                notices.push((
                    case.platform.clone(),
                    Action::SendDirect {
                        user: UserId(contact.clone()),
                        text,
                    },
                    Some(case.user_ref.clone()),
                ));
            }
            notices.push(case_event("relayed", &case.id, Some(by), None));
            notices.push(say(rt, format!("Sent to the user of case {}.", case.id)));
            rt.store
                .apply(&case.id, CaseAction::Relay, by, now, &notices)
                .map(drop)
        }
        "resolve" => {
            let Some(case) = rt.store.case(id)? else {
                return Ok(vec![say(rt, format!("No case {}.", escape(id)))]);
            };
            let notices = [
                case_event("resolved", &case.id, Some(by), None),
                say(
                    rt,
                    format!("Case {} resolved by {}.", case.id, escape(&who)),
                ),
            ];
            let note = if rest.is_empty() {
                None
            } else {
                Some(rest.to_string())
            };
            rt.store
                .apply(&case.id, CaseAction::Resolve(note), by, now, &notices)
                .map(drop)
        }
        "reopen" => {
            let Some(case) = rt.store.case(id)? else {
                return Ok(vec![say(rt, format!("No case {}.", escape(id)))]);
            };
            let notices = [
                case_event("reopened", &case.id, Some(by), None),
                say(rt, format!("Case {} reopened.", case.id)),
            ];
            rt.store
                .apply(&case.id, CaseAction::Reopen, by, now, &notices)
                .map(drop)
        }
        _ => {
            return Ok(vec![say(
                rt,
                format!("Unknown command `!{}`.", escape(name)),
            )]);
        }
    };
    match result {
        Ok(()) => Ok(vec![]),
        Err(StoreError::NoCase(id)) => Ok(vec![say(rt, format!("No case {}.", escape(&id)))]),
        Err(e @ StoreError::Invalid { .. }) => Ok(vec![say(rt, format!("Cannot do that: {e}."))]),
        Err(e) => Err(e.into()),
    }
}

fn usage_tail(name: &str) -> &'static str {
    match name {
        "note" | "reply" => " text",
        "resolve" => " [text]",
        _ => "",
    }
}

fn ago(now: i64, then: i64) -> String {
    let minutes = (now - then).max(0) / 60;
    if minutes < 60 {
        format!("{minutes} min ago")
    } else if minutes < 48 * 60 {
        format!("{} h ago", minutes / 60)
    } else {
        format!("{} days ago", minutes / 1440)
    }
}

/// `!cases`: open and claimed cases, highest severity first, then oldest first.
fn list(cases: &[Case], now: i64) -> String {
    if cases.is_empty() {
        return "No open cases.".into();
    }
    let mut out = format!("**Open cases ({})**\n", cases.len());
    for c in cases {
        let status = match (&c.status, &c.assignee) {
            (Status::Claimed, Some(a)) => format!("claimed by {}", escape(a)),
            (s, _) => s.to_string(),
        };
        out.push_str(&format!(
            "\n- **{}** · {} · {} · {} · opened {} · {} · user {}",
            c.id,
            c.severity,
            c.category,
            status,
            ago(now, c.opened_at),
            escape(&c.platform),
            c.user_ref
        ));
    }
    out
}

/// `!case ID`: everything about one case.
fn details(c: &Case, notes: &[super::store::Note], history: &[super::store::AuditEntry]) -> String {
    let when = |t: i64| {
        jiff::Timestamp::from_second(t)
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    };
    let mut out = format!(
        "**Case {}** · {} · {} · {}{}\n\nOpened {} · platform {} · conversation {} · user {}",
        c.id,
        c.severity,
        c.category,
        c.status,
        c.assignee
            .as_ref()
            .map(|a| format!(" (claimed by {})", escape(a)))
            .unwrap_or_default(),
        when(c.opened_at),
        escape(&c.platform),
        escape(&c.conversation),
        c.user_ref
    );
    match &c.excerpt {
        Some(text) => out.push_str(&format!("\n\n{}", quote(text))),
        None => out.push_str("\n\n_(excerpt purged)_"),
    }
    if !notes.is_empty() {
        out.push_str("\n\n**Notes**");
        for n in notes {
            out.push_str(&format!(
                "\n- {} · {}: {}",
                when(n.at),
                escape(&n.by),
                escape(&n.text)
            ));
        }
    }
    out.push_str("\n\n**History**");
    for h in history {
        out.push_str(&format!(
            "\n- {} · {} · {}",
            when(h.at),
            escape(&h.actor),
            h.action
        ));
    }
    out
}

/// The reminder a young person gets when nobody has claimed their high-severity case in time.
pub(super) fn reminder_text(engine: &Engine, country: Option<&str>) -> String {
    let k = engine.knowledge();
    let block = match country.and_then(|c| k.country(c)) {
        Some(c) => crate::engine::render_country(c, true),
        None => crate::engine::render_country(k.international(), true),
    };
    format!("{}\n\n{block}", k.replies().reminder.trim())
}

/// Escapes Markdown (so that user text can never become markup or HTML when rendered) and
/// defuses mass mentions. `&` is left alone: Markdown renderers escape it themselves.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '~' | '<' | '>' | '!'
            | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    defuse_mentions(&out)
}

/// User text as a Markdown quote, escaped, at most 1000 characters.
pub fn quote(text: &str) -> String {
    let short: String = text.chars().take(1000).collect();
    let more = if text.chars().count() > 1000 {
        "…"
    } else {
        ""
    };
    escape(&short)
        .lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
        + more
}

/// Breaks `@room`, `@everyone` and `@here` so that no message can ping a whole room.
pub fn defuse_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let lower = text.to_lowercase();
    if !(lower.contains("@room") || lower.contains("@everyone") || lower.contains("@here")) {
        return text.to_string();
    }
    let mut rest = text;
    while let Some(i) = rest.find('@') {
        out.push_str(&rest[..=i]);
        let after = &rest[i + 1..];
        let word: String = after.chars().take(8).collect::<String>().to_lowercase();
        if word.starts_with("room") || word.starts_with("everyone") || word.starts_with("here") {
            out.push('\u{200B}');
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped_and_cannot_ping() {
        assert_eq!(escape("<b>hi</b> **x**"), "\\<b\\>hi\\</b\\> \\*\\*x\\*\\*");
        assert_eq!(
            defuse_mentions("hey @room and @Everyone @here"),
            "hey @\u{200B}room and @\u{200B}Everyone @\u{200B}here"
        );
        assert_eq!(
            defuse_mentions("mail me@example.org"),
            "mail me@example.org"
        );
        assert_eq!(quote("line one\nline two"), "> line one\n> line two");
    }
}
