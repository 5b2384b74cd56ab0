//! The runtime: turns the engine into a bot that takes a disclosure to a trusted adult and never
//! loses it.
//!
//! Adapters send [`Event`]s over a channel. The runtime keeps conversation state, calls the engine,
//! applies the group-room privacy rule and flood control, opens cases, runs moderator commands and
//! timers, and writes every outgoing action to the store's outbox in the same transaction as the
//! case change it belongs to. A separate delivery task ([`deliver`]) hands outbox rows to the
//! adapters and marks them delivered only when an adapter confirms, so a restart resumes them.

pub mod deliver;
mod limiter;
mod moderation;
pub mod store;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tracing::{info, warn};
use waymark_port::{Action, CaseEvent, ConversationId, ConversationKind, Event, Incoming, UserId};

use crate::config::Config;
use crate::engine::{Command, Decision, Engine, Intent};
use crate::knowledge::Audience;
use crate::state::StateStore;
use limiter::Limiter;
use store::{NewCase, Notice, Store, StoreError};

/// How long a delivered message stays in the outbox (for diagnosis) before it is deleted.
const DELIVERED_KEEP_SECS: i64 = 24 * 60 * 60;

/// The runtime's clock: wall time, moved forward (never back) by `tick` events so that tests can
/// drive timers without sleeping. Shared with the delivery task.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Now, in seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves the clock to `secs` if that is later than now.
    pub fn advance_to(&self, secs: i64) {
        let target = secs.saturating_mul(1000);
        let now = self.now_ms();
        if target > now {
            self.offset_ms.fetch_add(target - now, Ordering::Relaxed);
        }
    }
}

/// The pseudonymisation key: a random 32-byte key kept in the data directory, so that user
/// references are stable across restarts but cannot be reversed without the key.
#[derive(Clone)]
pub struct UserKey([u8; 32]);

impl std::fmt::Debug for UserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserKey(..)")
    }
}

impl UserKey {
    /// Loads the key from `dir/user-key`, creating it on first start.
    pub fn load_or_create(dir: &Path) -> std::io::Result<UserKey> {
        let path = dir.join("user-key");
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&bytes);
                Ok(UserKey(key))
            }
            Ok(_) => Err(std::io::Error::other(format!(
                "{} is not a 32-byte key",
                path.display()
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key)
                    .map_err(|e| std::io::Error::other(format!("no randomness: {e}")))?;
                write_private(&path, &key)?;
                Ok(UserKey(key))
            }
            Err(e) => Err(e),
        }
    }

    /// A fixed key, for tests.
    pub fn fixed(byte: u8) -> UserKey {
        UserKey([byte; 32])
    }

    /// The pseudonymous reference of a user on a platform, e.g. `u-3fa2c19b0d`.
    pub fn user_ref(&self, platform: &str, user: &str) -> String {
        let mut hasher = blake3::Hasher::new_keyed(&self.0);
        hasher.update(platform.as_bytes());
        hasher.update(&[0]);
        hasher.update(user.as_bytes());
        let hex = hasher.finalize().to_hex();
        format!("u-{}", &hex[..10])
    }
}

/// Only the bot's own account may read the data directory and the store (SQLite gives its WAL
/// files the database file's permissions).
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Errors that stop the runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data directory could not be prepared.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The runtime's state and logic. One per process; owned by the task that handles events.
pub struct Runtime {
    engine: Arc<Engine>,
    store: Store,
    config: Config,
    key: UserKey,
    clock: Arc<Clock>,
    states: StateStore<(String, String)>,
    limiter: Limiter,
    wake: Arc<tokio::sync::Notify>,
}

impl Runtime {
    /// Creates the runtime over an open store.
    pub fn new(
        engine: Arc<Engine>,
        store: Store,
        config: Config,
        key: UserKey,
        clock: Arc<Clock>,
        wake: Arc<tokio::sync::Notify>,
    ) -> Runtime {
        let ttl = i64::from(config.state_ttl_minutes) * 60;
        let limiter = Limiter::new(config.rate_limit.burst, config.rate_limit.per_minute);
        Runtime {
            engine,
            store,
            config,
            key,
            clock,
            states: StateStore::new(ttl),
            limiter,
            wake,
        }
    }

    /// Prepares the data directory and opens the store and key in it.
    pub fn open_data_dir(dir: &Path) -> Result<(Store, UserKey), RuntimeError> {
        let fail = |source| RuntimeError::DataDir {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(fail)?;
        restrict(dir, 0o700).map_err(fail)?;
        let key = UserKey::load_or_create(dir).map_err(fail)?;
        let path = dir.join("waymark.sqlite3");
        let store = Store::open(&path)?;
        restrict(&path, 0o600).map_err(fail)?;
        Ok((store, key))
    }

    /// Handles one event. Everything it decides to say is in the outbox when it returns.
    pub fn handle(&mut self, event: Event) -> Result<(), RuntimeError> {
        match event {
            Event::Message(message) => self.on_message(message)?,
            Event::Tick(secs) => {
                self.clock.advance_to(secs);
                self.run_timers()?;
            }
            Event::Shutdown => {}
        }
        self.wake.notify_one();
        Ok(())
    }

    /// Re-alerts, reminders and purges that are due now.
    pub fn run_timers(&mut self) -> Result<(), RuntimeError> {
        let now = self.clock.now();
        let e = &self.config.escalation;
        let rooms = self.config.moderator_rooms();
        let realerted = self.store.realert_due(
            now,
            i64::from(e.realert_high_minutes) * 60,
            i64::from(e.realert_medium_minutes) * 60,
            |case| {
                let mut notices: Vec<Notice> = vec![case_event("realerted", &case.id, None, Some(case))];
                let minutes = (now - case.opened_at) / 60;
                let text = format!(
                    "**Still unclaimed: case {}** · {} · {} · opened {minutes} min ago. Claim it with `!claim {}`.",
                    case.id, case.severity, case.category, case.id
                );
                notices.extend(room_notices(&rooms, &text));
                notices
            },
        )?;
        for case in &realerted {
            info!(case = %case.id, "re-alerted unclaimed case");
        }
        let engine = Arc::clone(&self.engine);
        let reminded =
            self.store
                .remind_due(now, i64::from(e.remind_user_after_minutes) * 60, |case| {
                    let Some(contact) = &case.contact else {
                        return vec![];
                    };
                    let text = moderation::reminder_text(&engine, case.country.as_deref());
                    vec![(
                        case.platform.clone(),
                        Action::SendDirect {
                            user: UserId(contact.clone()),
                            text,
                        },
                        Some(case.user_ref.clone()),
                    )]
                })?;
        for case in &reminded {
            info!(case = %case.id, "reminded the user where to get help now");
        }
        let retention = i64::from(self.config.retention_days) * 86_400;
        let purged = self.store.purge_due(now, retention, |case| {
            vec![case_event("purged", &case.id, None, None)]
        })?;
        for case in &purged {
            info!(case = %case.id, "purged excerpt and notes of resolved case");
        }
        let pruned = self.store.prune_delivered(now - DELIVERED_KEEP_SECS)?;
        if pruned > 0 {
            info!(rows = pruned, "deleted delivered messages from the outbox");
        }
        self.states.expire(now);
        Ok(())
    }

    fn is_moderators_room(&self, m: &Incoming) -> bool {
        m.kind == ConversationKind::Moderators
            || self
                .config
                .moderator_rooms()
                .iter()
                .any(|r| r.platform == m.platform.0 && r.conversation == m.conversation.0)
    }

    fn is_moderator(&self, m: &Incoming) -> bool {
        m.sender_is_moderator
            || self
                .config
                .moderators
                .users
                .iter()
                .any(|u| u.platform == m.platform.0 && u.user == m.sender.0)
    }

    fn on_message(&mut self, m: Incoming) -> Result<(), RuntimeError> {
        let now = self.clock.now();
        let in_mod_room = self.is_moderators_room(&m);
        let is_moderator = self.is_moderator(&m);
        let key = (m.platform.0.clone(), m.sender.0.clone());
        let mut state = self.states.get(&key, now);
        if in_mod_room && is_moderator {
            state.audience = Some(Audience::Moderator);
        }

        // Moderator commands: only for moderators, only in a moderators' room; refusals say nothing
        // about any case.
        if let Some(Command::Moderator { name, args }) = crate::engine::parse_command(&m.text) {
            let notices = if in_mod_room && is_moderator {
                moderation::command(self, &m, &name, &args, now)?
            } else {
                info!(platform = %m.platform.0, "refused a moderator command");
                vec![
                    self.reply_in_place(
                        &m,
                        self.engine
                            .knowledge()
                            .replies()
                            .moderator_command
                            .trim()
                            .to_string(),
                    ),
                ]
            };
            self.store.enqueue(&notices, now)?;
            return Ok(());
        }
        // Moderators talk among themselves; the bot answers there only when addressed.
        if in_mod_room && !m.mentions_bot {
            return Ok(());
        }

        let decision = self.engine.decide(&m.text, &state);
        let is_risk = decision.intent == Intent::Risk;
        let addressed = m.kind == ConversationKind::Direct
            || m.mentions_bot
            || m.text.trim_start().starts_with('!');
        if !is_risk && !addressed {
            return Ok(());
        }
        // Flood control never holds back a risk message.
        // Nor a request for a person, nor a command such as `!forget`.
        if !is_risk && !decision.escalate && decision.command.is_none() {
            match self.limiter.check(&key, self.clock.now_ms()) {
                limiter::Verdict::Allow => {}
                limiter::Verdict::WarnOnce => {
                    let note = self.reply_in_place(
                        &m,
                        self.engine
                            .knowledge()
                            .replies()
                            .slow_down
                            .trim()
                            .to_string(),
                    );
                    self.store.enqueue(&[note], now)?;
                    return Ok(());
                }
                limiter::Verdict::Drop => return Ok(()),
            }
        }
        self.states.put(key, decision.state.clone(), now);

        if decision.command == Some(Command::Forget) {
            return self.forget(&m, now);
        }
        if decision.escalate {
            return self.escalate(&m, &decision, now);
        }
        let reply = self.reply_in_place(&m, decision.reply);
        self.store.enqueue(&[reply], now)?;
        Ok(())
    }

    /// A reply where the message came from (same room, same thread).
    fn reply_in_place(&self, m: &Incoming, text: String) -> Notice {
        let action = Action::Send {
            conversation: m.conversation.clone(),
            reply_to: m.message_id.clone(),
            thread: m.thread.clone(),
            text: moderation::defuse_mentions(&text),
        };
        (
            m.platform.0.clone(),
            action,
            Some(self.key.user_ref(&m.platform.0, &m.sender.0)),
        )
    }

    /// The reply to a disclosure or a request for a person: privately when the message came in a
    /// shared room (with at most a neutral note there), and a case for the moderators.
    fn escalate(&mut self, m: &Incoming, d: &Decision, now: i64) -> Result<(), RuntimeError> {
        let user_ref = self.key.user_ref(&m.platform.0, &m.sender.0);
        let private = m.kind == ConversationKind::Group;
        let mut notices: Vec<Notice> = Vec::new();
        let text = moderation::defuse_mentions(&d.reply);
        if private {
            notices.push((
                m.platform.0.clone(),
                Action::SendDirect {
                    user: m.sender.clone(),
                    text,
                },
                Some(user_ref.clone()),
            ));
            notices.push((
                m.platform.0.clone(),
                Action::Send {
                    conversation: m.conversation.clone(),
                    // Points at the message, so the adapter answers the right one (a Discord
                    // slash command's note stays visible only to its asker).
                    reply_to: m.message_id.clone(),
                    thread: m.thread.clone(),
                    text: self
                        .engine
                        .knowledge()
                        .replies()
                        .room_note
                        .trim()
                        .to_string(),
                },
                None,
            ));
        } else {
            notices.push(self.reply_in_place(m, d.reply.clone()));
        }
        // A disclosure in a shared room is removed where the adapter is set to (Discord
        // `delete_disclosures`), after the moderators have been told; a request for a person stays.
        let delete: Option<Notice> = match (&m.message_id, d.risk) {
            (Some(message), Some(_)) if private => Some((
                m.platform.0.clone(),
                Action::Delete {
                    conversation: m.conversation.clone(),
                    message: message.clone(),
                },
                None,
            )),
            _ => None,
        };
        let (category, severity) = match d.risk {
            Some(r) => (
                r.category.as_str().to_string(),
                r.severity.as_str().to_string(),
            ),
            None => ("human".to_string(), "medium".to_string()),
        };
        // One active case per user: a further message is added to it, not a new case; if it shows
        // a more serious risk (a disclosure after "can I talk to a person"), the case is raised.
        if let Some(existing) = self
            .store
            .active_cases()?
            .into_iter()
            .find(|c| c.user_ref == user_ref)
        {
            let raise = (existing.severity != "high" && severity == "high")
                || (existing.category == "human" && category != "human");
            let rooms = self.config.moderator_rooms();
            if raise {
                let text = format!(
                    "**Case {} is now {severity} · {category}**: the user wrote again.\n\n{}\n\nClaim it with `!claim {}`.",
                    existing.id,
                    moderation::quote(&m.text),
                    existing.id
                );
                notices.push(case_event("realerted", &existing.id, None, None));
                if let Some((_, Action::Case(e), _)) = notices.last_mut() {
                    e.category = Some(category.clone());
                    e.severity = Some(severity.clone());
                }
                notices.extend(about_user(room_notices(&rooms, &text), &user_ref));
                notices.extend(delete);
                let action = store::CaseAction::Escalate {
                    category: category.clone(),
                    severity: severity.clone(),
                };
                self.store
                    .apply(&existing.id, action, "user", now, &notices)?;
                info!(case = %existing.id, %category, %severity, "active case raised by a follow-up message");
            } else {
                let text = format!(
                    "**Case {}**: the user wrote again ({category}).\n\n{}",
                    existing.id,
                    moderation::quote(&m.text)
                );
                notices.push(case_event("noted", &existing.id, None, None));
                notices.extend(about_user(room_notices(&rooms, &text), &user_ref));
                notices.extend(delete);
                let note = store::CaseAction::Note(format!("user wrote again: {}", m.text));
                self.store
                    .apply(&existing.id, note, "user", now, &notices)?;
                info!(case = %existing.id, "follow-up message added to an active case");
            }
            return Ok(());
        }
        notices.push(case_event_new("opened", Some((&category, &severity))));
        let announce = format!(
            "**New case {{case}}** · {severity} · {category}\n\nPlatform {} · conversation {} · user {user_ref}\n\n{}\n\nClaim it with `!claim {{case}}`.",
            m.platform.0,
            moderation::escape(&m.conversation.0),
            moderation::quote(&m.text)
        );
        notices.extend(about_user(
            room_notices(&self.config.moderator_rooms(), &announce),
            &user_ref,
        ));
        notices.extend(delete);
        let new = NewCase {
            platform: m.platform.0.clone(),
            conversation: m.conversation.0.clone(),
            user_ref,
            contact: m.sender.0.clone(),
            category: category.clone(),
            severity: severity.clone(),
            excerpt: m.text.chars().take(2000).collect(),
            country: d.country.clone(),
        };
        let case = self.store.open_case(&new, &notices, now)?;
        info!(case = %case.id, %category, %severity, "opened case");
        Ok(())
    }

    fn forget(&mut self, m: &Incoming, now: i64) -> Result<(), RuntimeError> {
        let user_ref = self.key.user_ref(&m.platform.0, &m.sender.0);
        let kept = self.store.forget_user(&user_ref, now)?;
        self.states
            .forget(&(m.platform.0.clone(), m.sender.0.clone()));
        let mut text = self.engine.knowledge().replies().forget.trim().to_string();
        if kept > 0 {
            text.push_str(&format!(
                "\n\nYou have {kept} open case{} with the moderators, so they keep what they need for it until it is closed.",
                if kept == 1 { "" } else { "s" }
            ));
        }
        // Privately: in a shared room, even "you have an open case" would say too much.
        let reply = if m.kind == ConversationKind::Group {
            (
                m.platform.0.clone(),
                Action::SendDirect {
                    user: m.sender.clone(),
                    text,
                },
                Some(user_ref.clone()),
            )
        } else {
            self.reply_in_place(m, text)
        };
        self.store.enqueue(&[reply], now)?;
        info!("forgot a user at their request");
        Ok(())
    }

    /// The store, for commands and exports.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }
}

/// A case event notice (shown by adapters that show case events).
fn case_event(event: &str, case: &str, by: Option<&str>, details: Option<&store::Case>) -> Notice {
    let (category, severity) = match details {
        Some(c) => (Some(c.category.clone()), Some(c.severity.clone())),
        None => (None, None),
    };
    (
        String::new(),
        Action::Case(CaseEvent {
            event: event.into(),
            case: case.into(),
            by: by.map(str::to_string),
            category,
            severity,
        }),
        None,
    )
}

fn case_event_new(event: &str, details: Option<(&str, &str)>) -> Notice {
    (
        String::new(),
        Action::Case(CaseEvent {
            event: event.into(),
            case: "{case}".into(),
            by: None,
            category: details.map(|d| d.0.to_string()),
            severity: details.map(|d| d.1.to_string()),
        }),
        None,
    )
}

/// Marks notices as being about a user, so that `!forget` deletes them once delivered.
fn about_user(notices: Vec<Notice>, user_ref: &str) -> Vec<Notice> {
    notices
        .into_iter()
        .map(|(platform, action, _)| (platform, action, Some(user_ref.to_string())))
        .collect()
}

/// The same text into every moderators' room.
fn room_notices(rooms: &[crate::config::Room], text: &str) -> Vec<Notice> {
    rooms
        .iter()
        .map(|r| {
            (
                r.platform.clone(),
                Action::Send {
                    conversation: ConversationId(r.conversation.clone()),
                    reply_to: None,
                    thread: None,
                    text: moderation::defuse_mentions(text),
                },
                None,
            )
        })
        .collect()
}

/// Every case with its notes, and the audit log, as JSON for the lead moderator. Platform user ids
/// are not included; users appear by their pseudonymous reference.
pub fn export(store: &Store) -> Result<serde_json::Value, StoreError> {
    let mut cases = Vec::new();
    for case in store.all_cases()? {
        let mut value = serde_json::to_value(&case)?;
        value["notes"] = serde_json::to_value(store.notes(&case.id)?)?;
        cases.push(value);
    }
    Ok(serde_json::json!({
        "exported_at": jiff::Timestamp::now().to_string(),
        "cases": cases,
        "audit": store.audit_log(None)?,
    }))
}

/// Logs a warning once per platform that has no running adapter.
pub(crate) fn warn_no_adapter(platform: &str) {
    warn!(%platform, "no adapter is running for this platform; its messages wait in the outbox");
}
