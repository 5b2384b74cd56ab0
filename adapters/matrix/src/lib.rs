//! The Matrix adapter: waymark in Matrix rooms and end-to-end encrypted direct messages.
//!
//! [`Matrix::connect`] logs in once (or restores the saved session, so the device and its keys stay
//! the same across restarts), with the encrypted SQLite store and cross-signing bootstrapped on
//! first login. [`Matrix::run`] syncs once *before* registering handlers, so that a restart never
//! answers old messages, then turns room messages into [`Event::Message`]s and carries out
//! [`Delivery`]s, confirming each only when the homeserver accepted it.

mod config;
pub mod render;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::encryption::EncryptionSettings;
use matrix_sdk::ruma::api::error::{ErrorKind, RetryAfter};
use matrix_sdk::ruma::events::room::member::{
    MembershipState, OriginalSyncRoomMemberEvent, StrippedRoomMemberEvent,
};
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation,
};
use matrix_sdk::ruma::events::room::power_levels::UserPowerLevel;
use matrix_sdk::ruma::{OwnedRoomId, OwnedTransactionId, OwnedUserId, RoomId, UserId};
use matrix_sdk::{Client, Room, RoomState, SessionMeta, SessionTokens};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};
use waymark_port::{
    Action, Capabilities, ConversationId, ConversationKind, Delivery, Event, Incoming, MessageId,
    Platform,
};

pub use config::{Accept, InvitePolicy, MatrixConfig};

/// The platform name of this adapter.
pub const PLATFORM: &str = "matrix";

/// What the Matrix adapter can do.
pub const CAPABILITIES: Capabilities = Capabilities {
    direct_messages: true,
    ephemeral_replies: false,
    threads: true,
    delete_messages: false,
    case_events: false,
    idempotent_sends: true,
};

/// A delivery and the channel on which the adapter confirms it.
pub type Job = (Delivery, oneshot::Sender<Result<(), String>>);

/// Why the adapter could not start.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// A configuration key is wrong or a secret is missing.
    #[error("{key}: {message}")]
    Config {
        /// Dotted path of the key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The store directory or the session file could not be used.
    #[error("{path}: {message}")]
    Store {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The homeserver refused or could not be reached.
    #[error("matrix: {0}")]
    Sdk(String),
}

fn sdk(e: impl std::fmt::Display) -> MatrixError {
    MatrixError::Sdk(e.to_string())
}

/// A logged-in Matrix client, ready to run.
pub struct Matrix {
    client: Client,
    own: OwnedUserId,
    moderator_rooms: Arc<HashSet<String>>,
    moderators: Arc<HashSet<String>>,
    power_level: i64,
    invites: Arc<InvitePolicy>,
}

impl std::fmt::Debug for Matrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matrix").finish_non_exhaustive()
    }
}

const SESSION_FILE: &str = "session.json";

impl Matrix {
    /// Opens the store, restores the saved session or logs in (saving the session), and turns on
    /// end-to-end encryption. `moderator_rooms` are the Matrix room ids of the moderators' rooms
    /// from the core's config; the adapter's own `moderator_rooms` are added to them.
    pub async fn connect(
        config: &MatrixConfig,
        moderator_rooms: Vec<String>,
    ) -> Result<Matrix, MatrixError> {
        let dir = &config.store_dir;
        create_private_dir(dir)?;
        let passphrase = config.store_passphrase()?;
        let client = Client::builder()
            .homeserver_url(&config.homeserver)
            .sqlite_store(dir.join("sdk"), Some(&passphrase))
            .with_encryption_settings(EncryptionSettings {
                auto_enable_cross_signing: true,
                ..Default::default()
            })
            .build()
            .await
            .map_err(sdk)?;
        let session_path = dir.join(SESSION_FILE);
        if session_path.exists() {
            let text = std::fs::read_to_string(&session_path).map_err(|e| MatrixError::Store {
                path: session_path.clone(),
                message: e.to_string(),
            })?;
            let session: MatrixSession =
                serde_json::from_str(&text).map_err(|e| MatrixError::Store {
                    path: session_path.clone(),
                    message: format!("not a saved session: {e}"),
                })?;
            client.restore_session(session).await.map_err(sdk)?;
            info!("restored the saved Matrix session");
        } else {
            match config.login_secret()? {
                config::Secret::Password(password) => {
                    client
                        .matrix_auth()
                        .login_username(&config.user, &password)
                        .initial_device_display_name(&config.device_name)
                        .await
                        .map_err(sdk)?;
                    info!("logged in to Matrix with a password; new device");
                }
                config::Secret::Token(token) => {
                    let (user_id, device_id) = whoami(&config.homeserver, &token).await?;
                    let session = MatrixSession {
                        meta: SessionMeta {
                            user_id,
                            device_id: device_id.into(),
                        },
                        tokens: SessionTokens {
                            access_token: token,
                            refresh_token: None,
                        },
                    };
                    client.restore_session(session).await.map_err(sdk)?;
                    info!("logged in to Matrix with an access token");
                }
            }
            let session = client
                .matrix_auth()
                .session()
                .ok_or_else(|| MatrixError::Sdk("no session after login".into()))?;
            let text = serde_json::to_string(&session).map_err(sdk)?;
            write_private(&session_path, text.as_bytes()).map_err(|e| MatrixError::Store {
                path: session_path.clone(),
                message: e.to_string(),
            })?;
        }
        let own = client
            .user_id()
            .ok_or_else(|| MatrixError::Sdk("no user id after login".into()))?
            .to_owned();
        Ok(Matrix {
            client,
            own,
            moderator_rooms: Arc::new(
                moderator_rooms
                    .into_iter()
                    .chain(config.moderator_rooms.iter().cloned())
                    .collect(),
            ),
            moderators: Arc::new(config.moderators.iter().cloned().collect()),
            power_level: config.moderator_power_level,
            invites: Arc::new(config.invites.clone()),
        })
    }

    /// The underlying client (for tests and diagnostics).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Syncs once (skipping everything that arrived before now), handles pending invites, then
    /// registers the handlers, carries out deliveries from `jobs` and syncs until the runtime
    /// stops, reconnecting with back-off.
    pub async fn run(self, events: mpsc::Sender<Event>, jobs: mpsc::Receiver<Job>) {
        let client = self.client.clone();
        let mut backoff = Backoff::sync();
        let token = loop {
            match client
                .sync_once(SyncSettings::default().timeout(Duration::ZERO))
                .await
            {
                Ok(response) => break response.next_batch,
                Err(e) => {
                    warn!(error = %e, "first Matrix sync failed; retrying");
                    backoff.wait().await;
                }
            }
        };
        info!("initial Matrix sync done; old messages are not answered");
        for room in client.invited_rooms() {
            match room.invite_details().await {
                Ok(invite) => {
                    on_invite(room, invite.inviter_id, Arc::clone(&self.invites));
                }
                Err(e) => warn!(error = %e, "could not read a pending invite"),
            }
        }
        let ctx = Arc::new(Context {
            events,
            own: self.own.clone(),
            moderator_rooms: Arc::clone(&self.moderator_rooms),
            moderators: Arc::clone(&self.moderators),
            power_level: self.power_level,
        });
        let c = Arc::clone(&ctx);
        client.add_event_handler(move |ev: OriginalSyncRoomMessageEvent, room: Room| {
            let c = Arc::clone(&c);
            async move { c.on_message(ev, room).await }
        });
        let own = self.own.clone();
        let policy = Arc::clone(&self.invites);
        client.add_event_handler(move |ev: StrippedRoomMemberEvent, room: Room| {
            let own = own.clone();
            let policy = Arc::clone(&policy);
            async move {
                if ev.state_key == own && room.state() == RoomState::Invited {
                    on_invite(room, ev.sender, policy);
                }
            }
        });
        let own = self.own.clone();
        client.add_event_handler(move |ev: OriginalSyncRoomMemberEvent, room: Room| {
            let own = own.clone();
            async move {
                let removed = matches!(
                    ev.content.membership,
                    MembershipState::Leave | MembershipState::Ban
                );
                if ev.state_key == own && removed && ev.sender != own {
                    tokio::spawn(forget(room));
                }
            }
        });
        tokio::spawn(deliver(client.clone(), self.own.clone(), jobs));

        let mut settings = SyncSettings::default()
            .token(token)
            .timeout(Duration::from_secs(30));
        let synced = Arc::new(std::sync::atomic::AtomicBool::new(false));
        loop {
            let flag = Arc::clone(&synced);
            let events = ctx.events.clone();
            let result = client
                .sync_with_callback(settings.clone(), move |_| {
                    flag.store(true, std::sync::atomic::Ordering::Relaxed);
                    let stop = events.is_closed();
                    async move {
                        if stop {
                            matrix_sdk::LoopCtrl::Break
                        } else {
                            matrix_sdk::LoopCtrl::Continue
                        }
                    }
                })
                .await;
            if ctx.events.is_closed() {
                return;
            }
            if let Err(e) = result {
                warn!(error = %e, "Matrix sync failed; reconnecting");
            }
            // A connection that worked for a while starts its back-off again from 1 s.
            if synced.swap(false, std::sync::atomic::Ordering::Relaxed) {
                backoff = Backoff::sync();
            }
            backoff.wait().await;
            // Continue from the stored token (the sync loop saves it after each response).
            settings = SyncSettings::default().timeout(Duration::from_secs(30));
        }
    }
}

/// Exponential back-off, 1 s doubling to 5 minutes.
/// Doubling waits between retries, from a first wait up to a cap.
struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Backoff {
    /// Reconnecting the sync loop: 1 s, 2 s, 4 s … up to 5 minutes.
    fn sync() -> Backoff {
        Backoff {
            next: Duration::from_secs(1),
            cap: Duration::from_secs(300),
        }
    }

    /// Joining a room on invite: 2 s, 4 s … up to 2048 s, about 68 minutes in all.
    fn join() -> Backoff {
        Backoff {
            next: Duration::from_secs(2),
            cap: Duration::from_secs(2048),
        }
    }

    /// The next wait; the one after is twice as long, up to the cap.
    fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.cap);
        delay
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.next_delay()).await;
    }
}

/// Attempts at joining a room on invite before giving up (see [`Backoff::join`]).
const JOIN_ATTEMPTS: u32 = 12;

struct Context {
    events: mpsc::Sender<Event>,
    own: OwnedUserId,
    moderator_rooms: Arc<HashSet<String>>,
    /// The allowlist: moderators whatever their power level.
    moderators: Arc<HashSet<String>>,
    power_level: i64,
}

impl Context {
    async fn on_message(&self, ev: OriginalSyncRoomMessageEvent, room: Room) {
        if room.state() != RoomState::Joined || ev.sender == self.own {
            return;
        }
        let text = match &ev.content.msgtype {
            MessageType::Text(t) => t.body.clone(),
            // Other bots speak in notices; the bot never answers them.
            _ => return,
        };
        let thread = match &ev.content.relates_to {
            Some(Relation::Replacement(_)) => return, // edits are not new messages
            Some(Relation::Thread(t)) => Some(t.event_id.to_string()),
            _ => None,
        };
        let room_id = room.room_id().to_string();
        let kind = if self.moderator_rooms.contains(&room_id) {
            ConversationKind::Moderators
        } else if active_members(&room).await <= 2 {
            ConversationKind::Direct
        } else {
            ConversationKind::Group
        };
        let mentioned = ev
            .content
            .mentions
            .as_ref()
            .is_some_and(|m| m.user_ids.contains(&self.own))
            || text.contains(self.own.as_str())
            || starts_with_name(&text, self.own.localpart());
        let (sender_is_moderator, sender_name) = if kind == ConversationKind::Moderators {
            let level = room.get_user_power_level(&ev.sender).await;
            let name = room
                .get_member_no_sync(&ev.sender)
                .await
                .ok()
                .flatten()
                .and_then(|m| m.display_name().map(str::to_string));
            let listed = self.moderators.contains(ev.sender.as_str());
            (
                listed || level.is_ok_and(|l| is_moderator_level(l, self.power_level)),
                name,
            )
        } else {
            (false, None)
        };
        debug!(?kind, "message from Matrix");
        let incoming = Incoming {
            platform: Platform(PLATFORM.into()),
            conversation: ConversationId(room_id),
            kind,
            message_id: Some(MessageId(ev.event_id.to_string())),
            sender: waymark_port::UserId(ev.sender.to_string()),
            sender_name,
            text,
            mentions_bot: kind == ConversationKind::Direct || mentioned,
            sender_is_moderator,
            thread,
        };
        if self.events.send(Event::Message(incoming)).await.is_err() {
            debug!("runtime stopped; message dropped");
        }
    }
}

/// Joined and invited members, from the member list (fetched once from the server when the
/// sync has not brought it), so that a two-person room is known as direct.
async fn active_members(room: &Room) -> usize {
    match room.members(matrix_sdk::RoomMemberships::ACTIVE).await {
        Ok(members) => members.len(),
        Err(_) => room.active_members_count() as usize,
    }
}

/// Whether a power level makes someone a moderator: room creators in room version 12 have
/// unlimited power, above any number.
pub fn is_moderator_level(level: UserPowerLevel, threshold: i64) -> bool {
    match level {
        UserPowerLevel::Infinite => true,
        UserPowerLevel::Int(i) => i64::from(i) >= threshold,
        _ => false,
    }
}

/// `waymark: …` or `waymark, …` addresses the bot by its localpart.
fn starts_with_name(text: &str, localpart: &str) -> bool {
    let t = text.trim_start().trim_start_matches('@');
    t.len() > localpart.len()
        && t.is_char_boundary(localpart.len())
        && t[..localpart.len()].eq_ignore_ascii_case(localpart)
        && matches!(t[localpart.len()..].chars().next(), Some(':' | ','))
}

/// Accepts an invite (joining with back-off) or declines it, per the policy.
fn on_invite(room: Room, inviter: OwnedUserId, policy: Arc<InvitePolicy>) {
    let room_id = room.room_id().to_string();
    if !policy.allows(inviter.as_str(), &room_id) {
        info!("declining an invite the policy does not allow");
        tokio::spawn(async move {
            if let Err(e) = room.leave().await {
                warn!(error = %e, "declining an invite failed");
            }
        });
        return;
    }
    tokio::spawn(async move {
        let mut backoff = Backoff::join();
        for attempt in 1..=JOIN_ATTEMPTS {
            match room.join().await {
                Ok(()) => {
                    info!("joined a room on invite");
                    return;
                }
                Err(e) if attempt == JOIN_ATTEMPTS => {
                    warn!(error = %e, "giving up joining a room");
                }
                Err(e) => {
                    warn!(error = %e, "joining a room failed; retrying");
                    backoff.wait().await;
                }
            }
        }
    });
}

/// Forgets a room the bot was kicked or banned from.
async fn forget(room: Room) {
    for _ in 0..5 {
        if room.state() != RoomState::Left && room.state() != RoomState::Banned {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        match room.forget().await {
            Ok(()) => {
                info!("removed from a room: forgotten");
                return;
            }
            Err(e) => {
                warn!(error = %e, "forgetting a room failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Carries out deliveries one at a time, confirming each on its channel.
async fn deliver(client: Client, own: OwnedUserId, mut jobs: mpsc::Receiver<Job>) {
    while let Some((delivery, ack)) = jobs.recv().await {
        let result = send(&client, &own, &delivery).await;
        if let Err(e) = &result {
            warn!(error = %e, "a Matrix send failed; the runtime will retry it");
        }
        let _ = ack.send(result);
    }
}

async fn send(client: &Client, own: &UserId, delivery: &Delivery) -> Result<(), String> {
    let txn = OwnedTransactionId::from(delivery.key.as_str());
    match &delivery.action {
        // Case events are for the stdio adapter; the bot does not redact messages on Matrix (its
        // capabilities say so, and the runtime never hands it a deletion).
        Action::Case(_) | Action::Delete { .. } => Ok(()),
        Action::Send {
            conversation,
            reply_to,
            thread,
            text,
        } => {
            let room_id = <&RoomId>::try_from(conversation.0.as_str())
                .map_err(|e| format!("not a Matrix room id: {e}"))?;
            let room = client
                .get_room(room_id)
                .filter(|r| r.state() == RoomState::Joined)
                .ok_or("the bot is not in that room")?;
            let content = render::notice(
                text,
                reply_to.as_ref().map(|m| m.0.as_str()),
                thread.as_deref(),
            );
            send_content(&room, content, &txn).await
        }
        Action::SendDirect { user, text } => {
            let user_id = <&UserId>::try_from(user.0.as_str())
                .map_err(|e| format!("not a Matrix user id: {e}"))?;
            if user_id == own {
                return Err("refusing to message the bot itself".into());
            }
            let room = direct_room(client, user_id).await?;
            send_content(&room, render::notice(text, None, None), &txn).await
        }
    }
}

/// The user's direct room with the bot: an existing one, or a new encrypted one marked as direct.
async fn direct_room(client: &Client, user: &UserId) -> Result<Room, String> {
    // A direct room the user has since left (or been banned from) would take the reply nowhere.
    // A member not yet known (a room the bot has just created) still counts, so that two replies
    // in a row never open two rooms.
    if let Some(room) = client.get_dm_room(user)
        && room.state() == RoomState::Joined
    {
        let gone = matches!(
            room.get_member_no_sync(user).await,
            Ok(Some(member)) if matches!(
                member.membership(),
                MembershipState::Leave | MembershipState::Ban
            )
        );
        if !gone {
            return Ok(room);
        }
    }
    for room in client.joined_rooms() {
        if room.active_members_count() != 2 {
            continue;
        }
        if let Ok(Some(member)) = room.get_member_no_sync(user).await
            && matches!(
                member.membership(),
                MembershipState::Join | MembershipState::Invite
            )
        {
            return Ok(room);
        }
    }
    info!("opening an encrypted direct room");
    client.create_dm(user).await.map_err(|e| e.to_string())
}

/// Sends with the delivery key as transaction id; waits out `M_LIMIT_EXCEEDED` a few times (the
/// runtime's outbox retries anything else).
async fn send_content(
    room: &Room,
    content: serde_json::Value,
    txn: &OwnedTransactionId,
) -> Result<(), String> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match room
            .send_raw("m.room.message", content.clone())
            .with_transaction_id(txn)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => {
                let wait = match e.client_api_error_kind() {
                    Some(ErrorKind::LimitExceeded(data)) => match data.retry_after {
                        Some(RetryAfter::Delay(d)) => d,
                        Some(RetryAfter::DateTime(t)) => t
                            .duration_since(std::time::SystemTime::now())
                            .unwrap_or_default(),
                        None => Duration::from_secs(2),
                    },
                    _ => return Err(e.to_string()),
                };
                if attempts >= 3 || wait > Duration::from_secs(20) {
                    return Err(format!("rate limited by the homeserver: {e}"));
                }
                info!(
                    ?wait,
                    "rate limited by the homeserver (M_LIMIT_EXCEEDED); waiting"
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Who an access token belongs to, and its device.
async fn whoami(homeserver: &str, token: &str) -> Result<(OwnedUserId, String), MatrixError> {
    let url = format!(
        "{}/_matrix/client/v3/account/whoami",
        homeserver.trim_end_matches('/')
    );
    let response = matrix_sdk::reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(sdk)?;
    if !response.status().is_success() {
        return Err(MatrixError::Sdk(format!(
            "the access token was refused ({})",
            response.status()
        )));
    }
    let body: serde_json::Value =
        serde_json::from_str(&response.text().await.map_err(sdk)?).map_err(sdk)?;
    let user = body["user_id"]
        .as_str()
        .and_then(|u| OwnedUserId::try_from(u).ok())
        .ok_or_else(|| MatrixError::Sdk("whoami: no user id".into()))?;
    let device = body["device_id"]
        .as_str()
        .ok_or_else(|| MatrixError::Sdk("whoami: the token has no device".into()))?;
    Ok((user, device.to_string()))
}

fn create_private_dir(dir: &Path) -> Result<(), MatrixError> {
    let fail = |e: std::io::Error| MatrixError::Store {
        path: dir.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The room ids in `rooms` that belong to this adapter's platform.
pub fn matrix_rooms<'a>(rooms: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    rooms
        .into_iter()
        .filter(|(platform, _)| *platform == PLATFORM)
        .map(|(_, room)| room.to_string())
        .collect()
}

/// Parses a room id, for callers that hold strings.
pub fn room_id(s: &str) -> Option<OwnedRoomId> {
    OwnedRoomId::try_from(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::Int;

    #[test]
    fn back_off_doubles_up_to_its_cap() {
        let secs = |mut b: Backoff, n: usize| -> Vec<u64> {
            (0..n).map(|_| b.next_delay().as_secs()).collect()
        };
        assert_eq!(
            secs(Backoff::sync(), 11),
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
        );
        let join = secs(Backoff::join(), JOIN_ATTEMPTS as usize - 1);
        assert_eq!(join.first(), Some(&2));
        assert_eq!(join.last(), Some(&2048));
        // Between the first attempt and giving up: a little over an hour of retrying.
        assert_eq!(join.iter().sum::<u64>(), 4094);
    }

    #[test]
    fn creators_count_as_moderators_above_any_threshold() {
        assert!(is_moderator_level(UserPowerLevel::Infinite, 100));
        assert!(is_moderator_level(UserPowerLevel::Infinite, i64::MAX));
        assert!(is_moderator_level(
            UserPowerLevel::Int(Int::from(50u32)),
            50
        ));
        assert!(!is_moderator_level(
            UserPowerLevel::Int(Int::from(49u32)),
            50
        ));
        assert!(!is_moderator_level(
            UserPowerLevel::Int(Int::from(0u32)),
            50
        ));
    }

    #[test]
    fn addressing_by_name() {
        assert!(starts_with_name("waymark: help", "waymark"));
        assert!(starts_with_name("Waymark, help", "waymark"));
        assert!(starts_with_name("@waymark: help", "waymark"));
        assert!(!starts_with_name("waymarks are nice", "waymark"));
        assert!(!starts_with_name("waymark", "waymark"));
        assert!(!starts_with_name("é", "waymark"));
    }

    #[test]
    fn only_matrix_rooms_are_kept() {
        assert_eq!(
            matrix_rooms([("stdio", "moderators"), ("matrix", "!m:x")]),
            vec!["!m:x".to_string()]
        );
    }
}
