//! Pure conversions between Discord's payloads (as serenity models them) and the port's plain
//! data. No I/O here, so everything is tested on payload JSON shaped as Discord's API docs show.

use serenity::all::{
    ChannelId, CommandDataOptionValue, CommandInteraction, GuildId, Message, PermissionOverwrite,
    PermissionOverwriteType, Permissions, Role, RoleId, UserId,
};
use waymark_port::{ConversationId, ConversationKind, Incoming, MessageId, Platform};

use crate::PLATFORM;

/// What the adapter knows when it converts a message.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The bot's own user id (from READY).
    pub bot: Option<UserId>,
    /// The moderators' channels.
    pub moderator_channels: Vec<ChannelId>,
    /// Moderator roles.
    pub moderator_roles: Vec<RoleId>,
    /// The guild allowlist (empty: every guild).
    pub guilds: Vec<GuildId>,
}

/// The prefix of the message id the adapter gives a slash command, so that the runtime's reply
/// (`reply_to`) can be routed back to the interaction.
pub const INTERACTION_PREFIX: &str = "interaction:";

impl Context {
    /// The kind of a conversation: no guild → direct; a moderators' channel → moderators; any
    /// other guild channel → group.
    pub fn kind(&self, guild: Option<GuildId>, channel: ChannelId) -> ConversationKind {
        if guild.is_none() {
            ConversationKind::Direct
        } else if self.moderator_channels.contains(&channel) {
            ConversationKind::Moderators
        } else {
            ConversationKind::Group
        }
    }

    /// Whether a guild is served.
    pub fn serves(&self, guild: Option<GuildId>) -> bool {
        match guild {
            None => true,
            Some(g) => self.guilds.is_empty() || self.guilds.contains(&g),
        }
    }

    /// Whether any of these roles is a moderator role.
    pub fn has_moderator_role(&self, roles: &[RoleId]) -> bool {
        roles.iter().any(|r| self.moderator_roles.contains(r))
    }
}

/// A message from the gateway as an [`Incoming`], or `None` when the bot must not see it (its own
/// or another bot's message, an unserved guild, an empty message). `sender_is_moderator` is the
/// role check only; the adapter adds the Manage Messages check in moderators' channels.
pub fn incoming_from_message(ctx: &Context, msg: &Message) -> Option<Incoming> {
    if msg.author.bot || Some(msg.author.id) == ctx.bot || !ctx.serves(msg.guild_id) {
        return None;
    }
    let kind = ctx.kind(msg.guild_id, msg.channel_id);
    let mentions_bot = kind == ConversationKind::Direct
        || ctx
            .bot
            .is_some_and(|bot| msg.mentions.iter().any(|u| u.id == bot));
    let text = match ctx.bot {
        Some(bot) => strip_mention(&msg.content, bot),
        None => msg.content.trim().to_string(),
    };
    if text.is_empty() {
        return None;
    }
    let roles: &[RoleId] = msg.member.as_ref().map_or(&[], |m| &m.roles);
    Some(Incoming {
        platform: Platform(PLATFORM.into()),
        conversation: ConversationId(msg.channel_id.to_string()),
        kind,
        message_id: Some(MessageId(msg.id.to_string())),
        sender: waymark_port::UserId(msg.author.id.to_string()),
        sender_name: Some(display_name(msg)),
        text,
        mentions_bot,
        sender_is_moderator: msg.guild_id.is_some() && ctx.has_moderator_role(roles),
        thread: None,
    })
}

fn display_name(msg: &Message) -> String {
    msg.member
        .as_ref()
        .and_then(|m| m.nick.clone())
        .or_else(|| msg.author.global_name.clone())
        .unwrap_or_else(|| msg.author.name.clone())
}

/// Removes the bot's own mention (`<@id>` or `<@!id>`) from the text.
pub fn strip_mention(text: &str, bot: UserId) -> String {
    text.replace(&format!("<@{bot}>"), " ")
        .replace(&format!("<@!{bot}>"), " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A slash command the adapter registers.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Its name (`/name`).
    pub name: &'static str,
    /// What Discord shows under it.
    pub description: &'static str,
    /// Its one string option, if any.
    pub option: Option<OptionSpec>,
}

/// A slash command's string option.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// Its name.
    pub name: &'static str,
    /// What Discord shows under it.
    pub description: &'static str,
    /// Whether it must be given.
    pub required: bool,
}

/// The slash commands the adapter registers.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "help",
        description: "What waymark can help with",
        option: None,
    },
    CommandSpec {
        name: "ask",
        description: "Ask a question (the answer is shown only to you)",
        option: Some(OptionSpec {
            name: "question",
            description: "Your question",
            required: true,
        }),
    },
    CommandSpec {
        name: "helpline",
        description: "Helplines you can contact",
        option: Some(OptionSpec {
            name: "country",
            description: "A country name or code, e.g. UK",
            required: false,
        }),
    },
    CommandSpec {
        name: "human",
        description: "Ask for a person (a moderator)",
        option: None,
    },
];

/// The text a slash command stands for, as the runtime would get it typed: `/help` → `!help`,
/// `/ask q` → `q`, `/helpline [country]` → `helpline [country]`, `/human` → `!human`.
pub fn command_text(name: &str, option: Option<&str>) -> Option<String> {
    let option = option.map(str::trim).filter(|s| !s.is_empty());
    match name {
        "help" => Some("!help".into()),
        "human" => Some("!human".into()),
        "ask" => option.map(str::to_string),
        "helpline" => Some(match option {
            Some(country) => format!("helpline {country}"),
            None => "helpline".into(),
        }),
        _ => None,
    }
}

/// A slash command as an [`Incoming`] with the equivalent text. Its message id is
/// `interaction:{id}`, which is how the runtime's reply finds its way back to the interaction.
/// Moderator: a moderator role, or Manage Messages in the channel (Discord sends the member's
/// computed permissions with the interaction).
pub fn incoming_from_command(ctx: &Context, cmd: &CommandInteraction) -> Option<Incoming> {
    if cmd.user.bot || !ctx.serves(cmd.guild_id) {
        return None;
    }
    let option = cmd.data.options.first().and_then(|o| match &o.value {
        CommandDataOptionValue::String(s) => Some(s.as_str()),
        _ => None,
    });
    let text = command_text(&cmd.data.name, option)?;
    let kind = ctx.kind(cmd.guild_id, cmd.channel_id);
    let moderator = cmd.guild_id.is_some()
        && cmd.member.as_ref().is_some_and(|m| {
            ctx.has_moderator_role(&m.roles)
                || (kind == ConversationKind::Moderators
                    && m.permissions
                        .is_some_and(|p| p.administrator() || p.manage_messages()))
        });
    Some(Incoming {
        platform: Platform(PLATFORM.into()),
        conversation: ConversationId(cmd.channel_id.to_string()),
        kind,
        message_id: Some(MessageId(format!("{INTERACTION_PREFIX}{}", cmd.id))),
        sender: waymark_port::UserId(cmd.user.id.to_string()),
        sender_name: Some(
            cmd.member
                .as_ref()
                .and_then(|m| m.nick.clone())
                .or_else(|| cmd.user.global_name.clone())
                .unwrap_or_else(|| cmd.user.name.clone()),
        ),
        text,
        mentions_bot: true,
        sender_is_moderator: moderator,
        thread: None,
    })
}

/// A member's permissions in a guild channel, computed as Discord documents it: @everyone and
/// the member's roles, Administrator grants everything, then the channel's @everyone, role and
/// member overwrites, in that order. (The guild owner, who has every permission, is not seen
/// here; give the owner a moderator role.)
pub fn channel_permissions(
    guild: GuildId,
    user: UserId,
    member_roles: &[RoleId],
    roles: &[Role],
    overwrites: &[PermissionOverwrite],
) -> Permissions {
    let everyone = RoleId::new(guild.get());
    let mut perms = roles
        .iter()
        .filter(|r| r.id == everyone || member_roles.contains(&r.id))
        .fold(Permissions::empty(), |acc, r| acc | r.permissions);
    if perms.administrator() {
        return Permissions::all();
    }
    if let Some(o) = overwrites
        .iter()
        .find(|o| o.kind == PermissionOverwriteType::Role(everyone))
    {
        perms = (perms & !o.deny) | o.allow;
    }
    let (mut allow, mut deny) = (Permissions::empty(), Permissions::empty());
    for o in overwrites {
        if let PermissionOverwriteType::Role(r) = o.kind
            && r != everyone
            && member_roles.contains(&r)
        {
            allow |= o.allow;
            deny |= o.deny;
        }
    }
    perms = (perms & !deny) | allow;
    if let Some(o) = overwrites
        .iter()
        .find(|o| o.kind == PermissionOverwriteType::Member(user))
    {
        perms = (perms & !o.deny) | o.allow;
    }
    perms
}

/// Discord's limit on a message's content.
pub const MAX_CONTENT: usize = 2000;

/// Splits a reply into messages of at most [`MAX_CONTENT`] characters, at line breaks where it can.
pub fn split_content(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if current.chars().count() + line.chars().count() > MAX_CONTENT && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        if line.chars().count() > MAX_CONTENT {
            let chars: Vec<char> = line.chars().collect();
            for chunk in chars.chunks(MAX_CONTENT) {
                parts.push(chunk.iter().collect());
            }
        } else {
            current.push_str(line);
        }
    }
    if !current.trim().is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

/// A Discord nonce (at most 25 characters) for part `part` of the delivery with this key: the key
/// itself for part 0 when it is short enough, otherwise `x:` and a stable 64-bit FNV-1a hash of the
/// key and the part number (so part 1 of one key never equals another key such as `key#1`).
pub fn nonce(key: &str, part: usize) -> String {
    if part == 0 && key.len() <= 25 && key.is_ascii() && !key.starts_with("x:") {
        return key.to_string();
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain([0u8]).chain(part.to_le_bytes()) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("x:{hash:016x}")
}

/// Whether a serenity error is Discord's 50007 "Cannot send messages to this user" (DMs closed).
pub fn is_dm_closed(err: &serenity::Error) -> bool {
    discord_code(err) == Some(50007)
}

/// Whether deleting a message failed for good: Discord's 10008 "Unknown Message" (already gone),
/// 10003 "Unknown Channel" or 50013 "Missing Permissions" (no Manage Messages).
pub fn is_gone_or_forbidden(err: &serenity::Error) -> bool {
    matches!(discord_code(err), Some(10003 | 10008 | 50013))
}

/// Discord's JSON error code of a failed request, if any.
pub fn discord_code(err: &serenity::Error) -> Option<isize> {
    match err {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(resp)) => {
            Some(resp.error.code)
        }
        _ => None,
    }
}
