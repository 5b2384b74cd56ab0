//! The case store: cases, notes, audit log and the outbox, in SQLite (WAL) in the data directory.
//!
//! A case and every notice about it are written in one transaction, before anyone is told, so a
//! crash at any moment loses nothing: either the case and its pending notices exist, or neither
//! does. Notices leave through the outbox and are marked delivered only when an adapter confirms.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use waymark_port::Action;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("case store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored action could not be read back.
    #[error("case store: bad outbox row: {0}")]
    Json(#[from] serde_json::Error),
    /// No case with this id.
    #[error("no case {0}")]
    NoCase(String),
    /// The case is not in a state that allows this.
    #[error("case {id} is {status}: cannot {action}")]
    Invalid {
        /// The case.
        id: String,
        /// Its status.
        status: Status,
        /// What was tried.
        action: &'static str,
    },
}

type Result<T> = std::result::Result<T, StoreError>;

/// Where a case is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for a moderator.
    Open,
    /// A moderator has it.
    Claimed,
    /// Done.
    Resolved,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Claimed => "claimed",
            Status::Resolved => "resolved",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "claimed" => Status::Claimed,
            "resolved" => Status::Resolved,
            _ => Status::Open,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Short id, e.g. `C-4F7K2`.
    pub id: String,
    /// When it was opened (Unix seconds).
    pub opened_at: i64,
    /// Platform of the conversation it came from.
    pub platform: String,
    /// The conversation it came from.
    pub conversation: String,
    /// Pseudonymous user reference (keyed hash), the only user identity moderators see.
    pub user_ref: String,
    /// The platform user id, kept only to reach the user (relayed replies, reminders); never shown
    /// or exported, and deleted when the case is purged.
    #[serde(skip)]
    pub contact: Option<String>,
    /// Risk category (or `human` for a request for a person).
    pub category: String,
    /// `high` or `medium`.
    pub severity: String,
    /// Open, claimed or resolved.
    pub status: Status,
    /// The moderator who claimed it.
    pub assignee: Option<String>,
    /// The triggering text (purged after retention).
    pub excerpt: Option<String>,
    /// The user's country, for reminders.
    pub country: Option<String>,
    /// When moderators were last alerted.
    pub last_alert_at: i64,
    /// Whether the user has been reminded where to get help.
    pub reminded: bool,
    /// When it was resolved.
    pub resolved_at: Option<i64>,
    /// Whether excerpt and notes have been purged.
    pub purged: bool,
}

/// A new case.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// Platform.
    pub platform: String,
    /// Conversation.
    pub conversation: String,
    /// Pseudonymous user reference.
    pub user_ref: String,
    /// Platform user id, to reach the user.
    pub contact: String,
    /// Category.
    pub category: String,
    /// Severity.
    pub severity: String,
    /// Triggering text.
    pub excerpt: String,
    /// User's country.
    pub country: Option<String>,
}

/// A pending outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// Row id.
    pub id: i64,
    /// Idempotency key.
    pub key: String,
    /// Target platform (empty: every adapter that shows case events).
    pub platform: String,
    /// The action.
    pub action: Action,
    /// Attempts so far.
    pub attempts: i64,
}

/// A line of a case's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Case id.
    pub case: String,
    /// When (Unix seconds).
    pub at: i64,
    /// Who (a moderator id, or `system`/`user`).
    pub actor: String,
    /// What.
    pub action: String,
    /// Details (never message text).
    pub detail: Option<String>,
}

/// A moderator's note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    /// When.
    pub at: i64,
    /// Who.
    pub by: String,
    /// The note.
    pub text: String,
}

/// The store.
pub struct Store {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY,
    opened_at INTEGER NOT NULL,
    platform TEXT NOT NULL,
    conversation TEXT NOT NULL,
    user_ref TEXT NOT NULL,
    contact TEXT,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'resolved')),
    assignee TEXT,
    excerpt TEXT,
    country TEXT,
    last_alert_at INTEGER NOT NULL,
    reminded INTEGER NOT NULL DEFAULT 0,
    resolved_at INTEGER,
    purged INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cases_user ON cases(user_ref);
CREATE TABLE IF NOT EXISTS notes (
    case_id TEXT NOT NULL REFERENCES cases(id),
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    platform TEXT NOT NULL,
    action TEXT NOT NULL,
    user_ref TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(delivered_at, next_at);
";

/// One notice to queue: target platform (empty for case events), the action, and the user it is
/// about (so that `!forget` can remove delivered messages to them).
pub type Notice = (String, Action, Option<String>);

impl Store {
    /// Opens (creating) the store at `path`. Every commit is synced to disk before it returns, so a
    /// case survives even a power cut once it is written.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_with(path, "FULL")
    }

    /// Opens the store for the delivery task. Its commits (marking rows delivered) survive a
    /// killed process at once but are synced lazily, which keeps the window between "sent" and
    /// "recorded as sent" tiny; a mark lost to a power cut means a message is sent again, never lost.
    pub fn open_for_delivery(path: &Path) -> Result<Store> {
        Store::open_with(path, "NORMAL")
    }

    fn open_with(path: &Path, synchronous: &str) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", synchronous)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn })
    }

    /// An in-memory store, for tests.
    pub fn in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn })
    }

    /// Opens a case, writes its audit line and queues its notices, all in one transaction.
    pub fn open_case(&mut self, new: &NewCase, notices: &[Notice], now: i64) -> Result<Case> {
        let tx = self.conn.transaction()?;
        let id = loop {
            let candidate = new_case_id();
            let taken: Option<String> = tx
                .query_row("SELECT id FROM cases WHERE id = ?1", [&candidate], |r| {
                    r.get(0)
                })
                .optional()?;
            if taken.is_none() {
                break candidate;
            }
        };
        tx.execute(
            "INSERT INTO cases (id, opened_at, platform, conversation, user_ref, contact, category, severity, status, excerpt, country, last_alert_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9, ?10, ?2)",
            params![id, now, new.platform, new.conversation, new.user_ref, new.contact, new.category, new.severity, new.excerpt, new.country],
        )?;
        audit(
            &tx,
            &id,
            now,
            "system",
            "opened",
            Some(&format!("{} {}", new.severity, new.category)),
        )?;
        let notices = with_case_id(notices, &id);
        enqueue(&tx, &notices, now)?;
        tx.commit()?;
        self.case(&id)?.ok_or(StoreError::NoCase(id))
    }

    /// A case by id (case-insensitive).
    pub fn case(&self, id: &str) -> Result<Option<Case>> {
        let id = id.trim().to_ascii_uppercase();
        Ok(self
            .conn
            .query_row("SELECT * FROM cases WHERE id = ?1", [&id], row_to_case)
            .optional()?)
    }

    /// Open and claimed cases: highest severity first, then oldest first.
    pub fn active_cases(&self) -> Result<Vec<Case>> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM cases WHERE status != 'resolved'
             ORDER BY CASE severity WHEN 'high' THEN 0 ELSE 1 END, opened_at, id",
        )?;
        let rows = stmt
            .query_map([], row_to_case)?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every case, oldest first.
    pub fn all_cases(&self) -> Result<Vec<Case>> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM cases ORDER BY opened_at, id")?;
        let rows = stmt
            .query_map([], row_to_case)?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Applies a moderator action to a case, audits it and queues notices, in one transaction.
    pub fn apply(
        &mut self,
        id: &str,
        action: CaseAction,
        actor: &str,
        now: i64,
        notices: &[Notice],
    ) -> Result<Case> {
        let case = self
            .case(id)?
            .ok_or_else(|| StoreError::NoCase(id.trim().to_ascii_uppercase()))?;
        let invalid = |what| StoreError::Invalid {
            id: case.id.clone(),
            status: case.status,
            action: what,
        };
        let tx = self.conn.transaction()?;
        match &action {
            CaseAction::Claim => {
                if case.status == Status::Resolved {
                    return Err(invalid("claim"));
                }
                let detail = case
                    .assignee
                    .as_ref()
                    .filter(|a| *a != actor)
                    .map(|a| format!("taken over from {a}"));
                tx.execute(
                    "UPDATE cases SET status = 'claimed', assignee = ?2 WHERE id = ?1",
                    params![case.id, actor],
                )?;
                audit(&tx, &case.id, now, actor, "claimed", detail.as_deref())?;
            }
            CaseAction::Note(text) => {
                if case.purged {
                    return Err(invalid("add a note to a purged case"));
                }
                tx.execute(
                    "INSERT INTO notes (case_id, at, by, text) VALUES (?1, ?2, ?3, ?4)",
                    params![case.id, now, actor, text],
                )?;
                audit(&tx, &case.id, now, actor, "noted", None)?;
            }
            CaseAction::Relay => {
                if case.status == Status::Resolved || case.contact.is_none() {
                    return Err(invalid("relay a reply (reopen it first)"));
                }
                audit(&tx, &case.id, now, actor, "relayed", None)?;
            }
            CaseAction::Resolve(note) => {
                if case.status == Status::Resolved {
                    return Err(invalid("resolve"));
                }
                tx.execute(
                    "UPDATE cases SET status = 'resolved', resolved_at = ?2 WHERE id = ?1",
                    params![case.id, now],
                )?;
                if let Some(text) = note.as_ref().filter(|t| !t.trim().is_empty()) {
                    tx.execute(
                        "INSERT INTO notes (case_id, at, by, text) VALUES (?1, ?2, ?3, ?4)",
                        params![case.id, now, actor, text],
                    )?;
                }
                audit(&tx, &case.id, now, actor, "resolved", None)?;
            }
            CaseAction::Reopen => {
                if case.status != Status::Resolved || case.purged {
                    return Err(invalid("reopen"));
                }
                tx.execute(
                    "UPDATE cases SET status = 'open', assignee = NULL, resolved_at = NULL, last_alert_at = ?2 WHERE id = ?1",
                    params![case.id, now],
                )?;
                audit(&tx, &case.id, now, actor, "reopened", None)?;
            }
            CaseAction::Escalate { category, severity } => {
                if case.status == Status::Resolved {
                    return Err(invalid("escalate"));
                }
                tx.execute(
                    "UPDATE cases SET category = ?2, severity = ?3, last_alert_at = ?4, reminded = 0 WHERE id = ?1",
                    params![case.id, category, severity, now],
                )?;
                let detail = format!(
                    "{} {} → {severity} {category}",
                    case.severity, case.category
                );
                audit(&tx, &case.id, now, actor, "escalated", Some(&detail))?;
            }
        }
        enqueue(&tx, notices, now)?;
        tx.commit()?;
        self.case(&case.id)?.ok_or(StoreError::NoCase(case.id))
    }

    /// Notes of a case, oldest first.
    pub fn notes(&self, id: &str) -> Result<Vec<Note>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, by, text FROM notes WHERE case_id = ?1 ORDER BY rowid")?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(Note {
                    at: r.get(0)?,
                    by: r.get(1)?,
                    text: r.get(2)?,
                })
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The audit log, of one case or of all.
    pub fn audit_log(&self, id: Option<&str>) -> Result<Vec<AuditEntry>> {
        let map = |r: &rusqlite::Row<'_>| {
            Ok(AuditEntry {
                case: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                detail: r.get(4)?,
            })
        };
        let rows = match id {
            Some(id) => {
                let mut stmt =
                    self.conn.prepare("SELECT case_id, at, actor, action, detail FROM audit WHERE case_id = ?1 ORDER BY id")?;
                stmt.query_map([id], map)?
                    .collect::<std::result::Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt = self
                    .conn
                    .prepare("SELECT case_id, at, actor, action, detail FROM audit ORDER BY id")?;
                stmt.query_map([], map)?
                    .collect::<std::result::Result<Vec<_>, _>>()?
            }
        };
        Ok(rows)
    }

    /// Unclaimed cases whose last alert is older than the interval for their severity; marks them
    /// re-alerted now, audits, and queues the notices made by `notices_for`, in one transaction.
    pub fn realert_due(
        &mut self,
        now: i64,
        high_secs: i64,
        medium_secs: i64,
        notices_for: impl Fn(&Case) -> Vec<Notice>,
    ) -> Result<Vec<Case>> {
        let due: Vec<Case> = {
            let mut stmt = self.conn.prepare(
                "SELECT * FROM cases WHERE status = 'open' AND
                 ((severity = 'high' AND last_alert_at + ?2 <= ?1) OR (severity != 'high' AND last_alert_at + ?3 <= ?1))
                 ORDER BY CASE severity WHEN 'high' THEN 0 ELSE 1 END, opened_at",
            )?;
            stmt.query_map(params![now, high_secs, medium_secs], row_to_case)?
                .collect::<std::result::Result<Vec<_>, _>>()?
        };
        let tx = self.conn.transaction()?;
        for case in &due {
            tx.execute(
                "UPDATE cases SET last_alert_at = ?2 WHERE id = ?1",
                params![case.id, now],
            )?;
            audit(&tx, &case.id, now, "system", "realerted", None)?;
            enqueue(&tx, &notices_for(case), now)?;
        }
        tx.commit()?;
        Ok(due)
    }

    /// High-severity cases still unclaimed `after_secs` after opening whose user has not been
    /// reminded: marks them reminded, audits and queues the reminders, in one transaction.
    pub fn remind_due(
        &mut self,
        now: i64,
        after_secs: i64,
        notices_for: impl Fn(&Case) -> Vec<Notice>,
    ) -> Result<Vec<Case>> {
        let due: Vec<Case> = {
            let mut stmt = self.conn.prepare(
                "SELECT * FROM cases WHERE status = 'open' AND severity = 'high' AND reminded = 0
                 AND contact IS NOT NULL AND opened_at + ?2 <= ?1 ORDER BY opened_at",
            )?;
            stmt.query_map(params![now, after_secs], row_to_case)?
                .collect::<std::result::Result<Vec<_>, _>>()?
        };
        let tx = self.conn.transaction()?;
        for case in &due {
            tx.execute(
                "UPDATE cases SET reminded = 1 WHERE id = ?1",
                params![case.id],
            )?;
            audit(&tx, &case.id, now, "system", "reminded user", None)?;
            enqueue(&tx, &notices_for(case), now)?;
        }
        tx.commit()?;
        Ok(due)
    }

    /// Purges excerpts, notes and contacts of cases resolved at least `retention_secs` ago;
    /// returns their ids. Queues the notices made by `notices_for`.
    pub fn purge_due(
        &mut self,
        now: i64,
        retention_secs: i64,
        notices_for: impl Fn(&Case) -> Vec<Notice>,
    ) -> Result<Vec<Case>> {
        let due: Vec<Case> = {
            let mut stmt = self.conn.prepare(
                "SELECT * FROM cases WHERE status = 'resolved' AND purged = 0 AND resolved_at + ?2 <= ?1 ORDER BY resolved_at",
            )?;
            stmt.query_map(params![now, retention_secs], row_to_case)?
                .collect::<std::result::Result<Vec<_>, _>>()?
        };
        let tx = self.conn.transaction()?;
        for case in &due {
            tx.execute(
                "UPDATE cases SET excerpt = NULL, contact = NULL, purged = 1 WHERE id = ?1",
                params![case.id],
            )?;
            tx.execute("DELETE FROM notes WHERE case_id = ?1", params![case.id])?;
            audit(&tx, &case.id, now, "system", "purged", None)?;
            enqueue(&tx, &notices_for(case), now)?;
        }
        tx.commit()?;
        Ok(due)
    }

    /// Deletes what is stored about a user except what their open cases need: resolved cases are
    /// purged of excerpt, notes and contact, delivered messages to them are deleted. Returns how
    /// many open cases were kept.
    pub fn forget_user(&mut self, user_ref: &str, now: i64) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let resolved: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT id FROM cases WHERE user_ref = ?1 AND status = 'resolved' AND purged = 0",
            )?;
            stmt.query_map([user_ref], |r| r.get(0))?
                .collect::<std::result::Result<Vec<_>, _>>()?
        };
        for id in &resolved {
            tx.execute(
                "UPDATE cases SET excerpt = NULL, contact = NULL, purged = 1 WHERE id = ?1",
                [id],
            )?;
            tx.execute("DELETE FROM notes WHERE case_id = ?1", [id])?;
            audit(
                &tx,
                id,
                now,
                "user",
                "forgotten",
                Some("at the user's request"),
            )?;
        }
        tx.execute(
            "DELETE FROM outbox WHERE user_ref = ?1 AND delivered_at IS NOT NULL",
            [user_ref],
        )?;
        let kept: i64 = tx.query_row(
            "SELECT COUNT(*) FROM cases WHERE user_ref = ?1 AND status != 'resolved'",
            [user_ref],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(usize::try_from(kept).unwrap_or(0))
    }

    /// Queues notices outside any case change.
    pub fn enqueue(&mut self, notices: &[Notice], now: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        enqueue(&tx, notices, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Undelivered outbox rows that are due, oldest first.
    pub fn due_outbox(&self, now: i64, limit: usize) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, key, platform, action, attempts FROM outbox
             WHERE delivered_at IS NULL AND next_at <= ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![now, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, key, platform, action, attempts)| {
                Ok(OutboxItem {
                    id,
                    key,
                    platform,
                    action: serde_json::from_str(&action)?,
                    attempts,
                })
            })
            .collect()
    }

    /// How many outbox rows are still undelivered.
    pub fn pending_outbox(&self) -> Result<usize> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// The earliest time an undelivered row is due, if any.
    pub fn next_outbox_at(&self) -> Result<Option<i64>> {
        Ok(self.conn.query_row(
            "SELECT MIN(next_at) FROM outbox WHERE delivered_at IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// Deletes delivered rows older than `before`: once a message has reached its platform, the
    /// store has no reason to keep its text.
    pub fn prune_delivered(&self, before: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?1",
            [before],
        )?)
    }

    /// Marks a row delivered.
    pub fn mark_delivered(&self, id: i64, now: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET delivered_at = ?2, last_error = NULL WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    /// Records a failed attempt and when to try again (exponential back-off from 2 s, at most 5
    /// minutes); a row marked delivered before a failed hand-over becomes pending again.
    pub fn mark_failed(&self, id: i64, now: i64, error: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, delivered_at = NULL,
             next_at = ?2 + MIN(300, (1 << MIN(attempts + 1, 9))) WHERE id = ?1",
            params![id, now, error],
        )?;
        Ok(())
    }
}

/// A moderator action on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseAction {
    /// Take the case.
    Claim,
    /// Add a note.
    Note(String),
    /// A reply relayed to the user.
    Relay,
    /// Close it, with an optional note.
    Resolve(Option<String>),
    /// Open it again.
    Reopen,
    /// A later message showed a more serious risk: raise the category and severity, and start
    /// the re-alert and reminder clocks again.
    Escalate {
        /// The new category.
        category: String,
        /// The new severity.
        severity: String,
    },
}

fn audit(
    tx: &Transaction<'_>,
    id: &str,
    at: i64,
    actor: &str,
    action: &str,
    detail: Option<&str>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO audit (case_id, at, actor, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, at, actor, action, detail],
    )?;
    Ok(())
}

fn enqueue(tx: &Transaction<'_>, notices: &[Notice], now: i64) -> Result<()> {
    for (platform, action, user_ref) in notices {
        let json = serde_json::to_string(action)?;
        tx.execute(
            "INSERT INTO outbox (key, created_at, platform, action, user_ref, next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?2)",
            params![format!("wm-{}", random_token(12)), now, platform, json, user_ref],
        )?;
    }
    Ok(())
}

/// Replaces the placeholder `{case}` in notices with the new case's id.
fn with_case_id(notices: &[Notice], id: &str) -> Vec<Notice> {
    notices
        .iter()
        .map(|(platform, action, user)| {
            let action = match action.clone() {
                Action::Send {
                    conversation,
                    reply_to,
                    thread,
                    text,
                } => Action::Send {
                    conversation,
                    reply_to,
                    thread,
                    text: text.replace("{case}", id),
                },
                Action::SendDirect { user, text } => Action::SendDirect {
                    user,
                    text: text.replace("{case}", id),
                },
                Action::Case(mut e) => {
                    e.case = e.case.replace("{case}", id);
                    Action::Case(e)
                }
                delete @ Action::Delete { .. } => delete,
            };
            (platform.clone(), action, user.clone())
        })
        .collect()
}

fn row_to_case(r: &rusqlite::Row<'_>) -> rusqlite::Result<Case> {
    Ok(Case {
        id: r.get("id")?,
        opened_at: r.get("opened_at")?,
        platform: r.get("platform")?,
        conversation: r.get("conversation")?,
        user_ref: r.get("user_ref")?,
        contact: r.get("contact")?,
        category: r.get("category")?,
        severity: r.get("severity")?,
        status: Status::parse(&r.get::<_, String>("status")?),
        assignee: r.get("assignee")?,
        excerpt: r.get("excerpt")?,
        country: r.get("country")?,
        last_alert_at: r.get("last_alert_at")?,
        reminded: r.get::<_, i64>("reminded")? != 0,
        resolved_at: r.get("resolved_at")?,
        purged: r.get::<_, i64>("purged")? != 0,
    })
}

/// Crockford base32 without look-alikes.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

fn random_token(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: fall back to the clock and a counter (ids stay unique, not secret).
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0) as u64
            ^ COUNTER
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed >> ((i % 8) * 8)) as u8 ^ (i as u8).wrapping_mul(31);
        }
    }
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// A new short case id, `C-` and five characters.
pub fn new_case_id() -> String {
    format!("C-{}", random_token(5))
}

#[cfg(test)]
mod tests;
