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

/// Where an outgoing message goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum Target {
    /// Into an existing conversation (group room, moderators' room, or a known DM).
    Conversation {
        /// The conversation.
        conversation: ConversationId,
        /// The message this replies to, if any.
        reply_to: Option<MessageId>,
        /// The thread to post in, if any.
        thread: Option<String>,
    },
    /// Privately to one user: the adapter finds or opens the direct conversation.
    Direct {
        /// The user.
        user: UserId,
    },
}

/// One thing the core asks an adapter to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// The platform that must carry it out.
    pub platform: Platform,
    /// Where it goes.
    pub target: Target,
    /// The text, in Markdown. Adapters render it (HTML for Matrix) and must never let it ping anyone.
    pub markdown: String,
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
    /// The adapter can delete a message from a shared room.
    pub delete_messages: bool,
}
