//! The port: plain data that crosses the boundary between waymark's core and its chat adapters.
//!
//! An adapter turns a platform event into an [`Incoming`] and carries out each [`Outgoing`] it is
//! handed. Nothing here knows about any chat SDK: ids are opaque strings chosen by the adapter, so
//! that no `serenity::ChannelId` or `matrix_sdk::Room` ever reaches the core.

use serde::{Deserialize, Serialize};

/// Which chat platform an event came from or an action goes to (`"matrix"`, `"discord"`, `"stdio"`,
/// `"console"`…). Opaque to the core; used to route actions back to the right adapter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Platform(pub String);

/// A conversation (room, channel, DM) on one platform, as the adapter names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationId(pub String);

/// A user on one platform, as the adapter names them. Treated as personal data: the core never
/// logs it and stores only a keyed hash of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

/// A message on one platform, so that a reply can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

/// What kind of conversation a message arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// A one-to-one conversation between the user and the bot.
    Direct,
    /// A room or channel shared by several people.
    Group,
    /// A room configured as a moderators' room.
    Moderators,
}

/// One message from a chat platform, as the core sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incoming {
    /// The platform it came from.
    pub platform: Platform,
    /// The conversation it was posted in.
    pub conversation: ConversationId,
    /// Direct, group or moderators' room.
    pub kind: ConversationKind,
    /// The platform's id of the message.
    pub message_id: Option<MessageId>,
    /// Who sent it.
    pub sender: UserId,
    /// A display name, used only inside moderators' rooms.
    pub sender_name: Option<String>,
    /// The text, as typed.
    pub text: String,
    /// Whether the message mentions the bot (always true in a direct conversation).
    pub mentions_bot: bool,
    /// The platform's own answer to "is this sender a moderator here?" (power level, role).
    pub sender_is_moderator: bool,
    /// The thread the message is in, if any.
    pub thread: Option<String>,
}

/// One thing the core asks an adapter to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// A message into an existing conversation (group room, moderators' room, or a known DM).
    Send {
        /// The conversation.
        conversation: ConversationId,
        /// The message this replies to, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        reply_to: Option<MessageId>,
        /// The thread to post in, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        thread: Option<String>,
        /// The text, in Markdown. Adapters render it and must never let it ping anyone.
        text: String,
    },
    /// A private message to one user: the adapter finds or opens the direct conversation.
    SendDirect {
        /// The user.
        user: UserId,
        /// The text, in Markdown.
        text: String,
    },
    /// A case changed. Only adapters that show case events (stdio) act on it.
    Case(CaseEvent),
    /// Remove a message that disclosed a risk in a shared conversation, so that others stop
    /// reading it. Handed only to adapters whose [`Capabilities::delete_messages`] is on (Discord
    /// with `delete_disclosures: true`); the runtime counts it as done for all others.
    Delete {
        /// The conversation the message is in.
        conversation: ConversationId,
        /// The message.
        message: MessageId,
    },
}

/// A change to a moderator case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    /// `opened`, `claimed`, `noted`, `relayed`, `resolved`, `reopened`, `realerted` or `purged`.
    pub event: String,
    /// The case's short id.
    pub case: String,
    /// Who did it (a moderator's id), where it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The risk category, where it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The severity, where it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
}

/// An action handed to one adapter, with a key that is the same every time the same action is
/// retried, so that platforms with idempotent sends (Matrix transaction ids, Discord nonces) never
/// show it twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Stable idempotency key.
    pub key: String,
    /// The platform that must carry it out.
    pub platform: Platform,
    /// What to do.
    pub action: Action,
}

/// What an adapter sends to the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A message arrived.
    Message(Incoming),
    /// The platform's clock moved to this time (seconds since the Unix epoch); timers run.
    Tick(i64),
    /// The platform has no more input: finish pending work and stop.
    Shutdown,
}

/// What a platform can do, so that the core can choose how to reach a user privately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// The adapter can open a direct conversation with a user.
    pub direct_messages: bool,
    /// The adapter can show a reply only to its asker in a shared room (Discord ephemeral replies).
    pub ephemeral_replies: bool,
    /// The adapter supports threads.
    pub threads: bool,
    /// The adapter deletes disclosing messages from shared rooms ([`Action::Delete`]): it can,
    /// and its configuration asks it to.
    pub delete_messages: bool,
    /// The adapter shows case events (the stdio adapter does; chat platforms do not).
    pub case_events: bool,
    /// Sending the same [`Delivery::key`] twice shows the message once (Matrix transaction ids,
    /// Discord nonces). Without it the runtime records a delivery as done just before handing it
    /// over, so a crash can never make the user see a message twice.
    pub idempotent_sends: bool,
}

/// The full key of a value in an adapter's config section, for errors that name it: the section
/// (`adapters.matrix`) joined with the path inside it as `serde_path_to_error` writes it (`.` for
/// the section itself, `moderators[0]` for a value in it).
pub fn config_key(section: &str, path: &str) -> String {
    if path == "." || path.is_empty() {
        section.to_string()
    } else {
        format!("{section}.{path}")
    }
}

#[cfg(test)]
mod config_key_tests {
    use super::config_key;

    #[test]
    fn names_the_section_or_the_value_in_it() {
        assert_eq!(config_key("adapters.matrix", "."), "adapters.matrix");
        assert_eq!(
            config_key("adapters.discord", "moderator_roles[1]"),
            "adapters.discord.moderator_roles[1]"
        );
    }
}
