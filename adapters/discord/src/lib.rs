//! waymark's Discord adapter, on serenity 0.12.
//!
//! It turns gateway events (messages, slash commands) into [`Incoming`] events for the runtime,
//! and carries out the runtime's deliveries as Discord calls, confirming each only once Discord
//! has accepted it. Nothing from serenity crosses into the core: ids become strings.
//!
//! - Intents: `GUILD_MESSAGES`, `DIRECT_MESSAGES` and the privileged `MESSAGE_CONTENT`.
//! - Kinds: a DM is `Direct`, a configured moderators' channel is `Moderators`, any other guild
//!   channel is `Group`; `mentions_bot` is set for DMs, mentions of the bot and slash commands.
//! - Slash commands (`/help`, `/ask`, `/helpline`, `/human`) become an [`Incoming`] with the
//!   equivalent text and the message id `interaction:{id}`; the interaction is deferred
//!   (ephemerally in a guild) at once, and the runtime's reply — a `Send` whose `reply_to` is that
//!   id — edits the deferred response (later ones are ephemeral follow-ups).
//! - Every message is sent with empty `allowed_mentions`, so a reply never pings anyone, and with
//!   the delivery key as its nonce (`enforce_nonce`), so a retried send is not shown twice.
//! - A private reply to a user whose DMs are closed (Discord error 50007) gets a minimal note in the
//!   channel where they last wrote, without the text, and stays in the outbox to be retried.

pub mod config;
pub mod convert;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serenity::all::{
    ChannelId, Command, CommandInteraction, CommandOptionType, Context as SerenityContext,
    CreateAllowedMentions, CreateCommand, CreateCommandOption, CreateInteractionResponseFollowup,
    CreateMessage, EditInteractionResponse, EventHandler, GatewayIntents, Http, HttpBuilder,
    Interaction, Message, MessageId as DiscordMessageId, MessageReference, Nonce, Ready, UserId,
};
use serenity::async_trait;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};
use waymark_port::{Action, Capabilities, ConversationKind, Delivery, Event, Incoming};

pub use config::{DiscordConfig, Settings};
use convert::INTERACTION_PREFIX;

/// The platform name of this adapter.
pub const PLATFORM: &str = "discord";

/// What the Discord adapter does with these settings: it deletes disclosing messages only when
/// `delete_disclosures` is on.
pub fn capabilities(settings: &Settings) -> Capabilities {
    Capabilities {
        direct_messages: true,
        ephemeral_replies: true,
        threads: true,
        delete_messages: settings.delete_disclosures,
        case_events: false,
        idempotent_sends: true,
    }
}

/// The gateway intents the adapter asks for. `MESSAGE_CONTENT` is privileged: enable "Message
/// Content Intent" for the bot in the Developer Portal.
pub const INTENTS: GatewayIntents = GatewayIntents::GUILD_MESSAGES
    .union(GatewayIntents::DIRECT_MESSAGES)
    .union(GatewayIntents::MESSAGE_CONTENT);

/// The note posted in a channel when a private reply cannot be delivered because the user's DMs
/// are closed. It says nothing about what they wrote.
pub const DMS_CLOSED_NOTE: &str = "I tried to send you a private message but your DMs are closed. \
To get help privately, allow direct messages from server members (Server menu → Privacy Settings) \
or message me directly, then I can reach you.";

/// A delivery and the channel on which the adapter confirms it.
pub type Job = (Delivery, oneshot::Sender<Result<(), String>>);

/// The adapter's errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A config key is wrong.
    #[error("{key}: {message}")]
    Config {
        /// The full key, e.g. `adapters.discord.application_id`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// Discord (or serenity) failed.
    #[error("discord: {0}")]
    Discord(Box<serenity::Error>),
}

impl From<serenity::Error> for Error {
    fn from(e: serenity::Error) -> Error {
        Error::Discord(Box::new(e))
    }
}

/// How long a deferred slash command waits for the runtime's reply to be routed to it.
const INTERACTION_TTL: Duration = Duration::from_secs(14 * 60);

/// A slash command waiting for the runtime's reply.
struct Pending {
    interaction: CommandInteraction,
    at: Instant,
    answered: bool,
}

/// State shared by the gateway handler and the delivery task.
#[derive(Default)]
struct Shared {
    ctx: convert::Context,
    /// Deferred slash commands by their `interaction:{id}` message id.
    pending: HashMap<String, Pending>,
    /// Where each user last wrote in a guild channel (for the DMs-closed note).
    last_channel: HashMap<UserId, ChannelId>,
    /// DM channels already opened.
    dm_channels: HashMap<UserId, ChannelId>,
    /// Delivery keys whose DMs-closed note was already posted.
    noted: HashSet<String>,
}

type SharedState = Arc<Mutex<Shared>>;

fn lock(state: &SharedState) -> std::sync::MutexGuard<'_, Shared> {
    match state.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
        .empty_users()
        .empty_roles()
        .replied_user(false)
}

/// Builds serenity's HTTP client: against discord.com with the rate limiter on, or against a
/// stand-in (`api_base`) through `HttpBuilder::proxy` with the rate limiter off.
pub fn http(settings: &Settings) -> Http {
    let builder = HttpBuilder::new(&settings.token).application_id(settings.application_id);
    match &settings.api_base {
        Some(base) => {
            warn!(
                api_base = %base,
                "Discord adapter running against a stand-in: REST goes to the api base and the rate limiter is off"
            );
            builder
                .proxy(base.clone())
                .ratelimiter_disabled(true)
                .build()
        }
        None => builder.build(),
    }
}

/// Runs the adapter until the gateway stops: connects, registers slash commands, forwards events
/// to the runtime and carries out `jobs`. For large deployments (thousands of guilds) use
/// serenity's `Client::start_autosharded` instead of `start`; see the README.
pub async fn run(
    settings: Settings,
    events: mpsc::Sender<Event>,
    jobs: mpsc::Receiver<Job>,
) -> Result<(), Error> {
    let state: SharedState = Arc::new(Mutex::new(Shared {
        ctx: convert::Context {
            bot: None,
            moderator_channels: settings.moderator_channels.clone(),
            moderator_roles: settings.moderator_roles.clone(),
            guilds: settings.guilds.clone(),
        },
        ..Shared::default()
    }));
    let handler = Handler {
        state: Arc::clone(&state),
        events,
        guilds: settings.guilds.clone(),
    };
    let mut client = serenity::all::ClientBuilder::new_with_http(http(&settings), INTENTS)
        .event_handler(handler)
        .await?;
    tokio::spawn(deliver(Arc::clone(&client.http), state, jobs));
    info!("Discord adapter connecting");
    client.start().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Gateway → runtime

struct Handler {
    state: SharedState,
    events: mpsc::Sender<Event>,
    guilds: Vec<serenity::all::GuildId>,
}

fn commands() -> Vec<CreateCommand> {
    convert::COMMANDS
        .iter()
        .map(|spec| {
            let mut c = CreateCommand::new(spec.name).description(spec.description);
            if let Some(o) = spec.option {
                c = c.add_option(
                    CreateCommandOption::new(CommandOptionType::String, o.name, o.description)
                        .required(o.required),
                );
            }
            c
        })
        .collect()
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: SerenityContext, ready: Ready) {
        lock(&self.state).ctx.bot = Some(ready.user.id);
        info!(guilds = ready.guilds.len(), "Discord gateway ready");
        if self.guilds.is_empty() {
            match Command::set_global_commands(&ctx.http, commands()).await {
                Ok(_) => info!("slash commands registered globally"),
                Err(e) => warn!(error = %e, "registering global slash commands failed"),
            }
        } else {
            for guild in &self.guilds {
                match guild.set_commands(&ctx.http, commands()).await {
                    Ok(_) => info!(guild = %guild, "slash commands registered"),
                    Err(e) => {
                        warn!(guild = %guild, error = %e, "registering slash commands failed")
                    }
                }
            }
        }
    }

    async fn message(&self, ctx: SerenityContext, msg: Message) {
        let converted = {
            let state = lock(&self.state);
            convert::incoming_from_message(&state.ctx, &msg)
        };
        let Some(mut incoming) = converted else {
            return;
        };
        if incoming.kind == ConversationKind::Moderators
            && !incoming.sender_is_moderator
            && let Some(guild) = msg.guild_id
        {
            let roles = msg.member.as_ref().map(|m| m.roles.clone());
            incoming.sender_is_moderator =
                manages_messages(&ctx.http, guild, msg.channel_id, msg.author.id, roles).await;
        }
        if incoming.kind == ConversationKind::Group {
            lock(&self.state)
                .last_channel
                .insert(msg.author.id, msg.channel_id);
        }
        debug!(kind = ?incoming.kind, "message from Discord");
        self.forward(incoming).await;
    }

    async fn interaction_create(&self, ctx: SerenityContext, interaction: Interaction) {
        let Interaction::Command(cmd) = interaction else {
            return;
        };
        let converted = {
            let state = lock(&self.state);
            convert::incoming_from_command(&state.ctx, &cmd)
        };
        let Some(incoming) = converted else {
            return;
        };
        let deferred = if cmd.guild_id.is_some() {
            cmd.defer_ephemeral(&ctx.http).await
        } else {
            cmd.defer(&ctx.http).await
        };
        if let Err(e) = deferred {
            warn!(error = %e, "deferring a slash command failed");
            return;
        }
        {
            let mut state = lock(&self.state);
            state
                .pending
                .retain(|_, p| p.at.elapsed() < INTERACTION_TTL);
            if incoming.kind == ConversationKind::Group {
                state.last_channel.insert(cmd.user.id, cmd.channel_id);
            }
            if let Some(id) = &incoming.message_id {
                state.pending.insert(
                    id.0.clone(),
                    Pending {
                        interaction: cmd.clone(),
                        at: Instant::now(),
                        answered: false,
                    },
                );
            }
        }
        debug!(command = %cmd.data.name, "slash command from Discord");
        self.forward(incoming).await;
    }
}

impl Handler {
    async fn forward(&self, incoming: Incoming) {
        if self.events.send(Event::Message(incoming)).await.is_err() {
            warn!("the runtime has stopped; a Discord message was not handled");
        }
    }
}

/// Whether a member has Manage Messages (or Administrator) in a channel, from the guild's roles
/// and the channel's overwrites. Any failure counts as no.
async fn manages_messages(
    http: &Http,
    guild: serenity::all::GuildId,
    channel: ChannelId,
    user: UserId,
    roles: Option<Vec<serenity::all::RoleId>>,
) -> bool {
    let member_roles = match roles {
        Some(r) => r,
        None => match http.get_member(guild, user).await {
            Ok(m) => m.roles,
            Err(e) => {
                warn!(error = %e, "looking up a member failed");
                return false;
            }
        },
    };
    let guild_roles = match http.get_guild_roles(guild).await {
        Ok(r) => r,
        Err(e) => {
            warn!(error = %e, "looking up guild roles failed");
            return false;
        }
    };
    let overwrites = match http.get_channel(channel).await {
        Ok(serenity::all::Channel::Guild(c)) => c.permission_overwrites,
        Ok(_) => Vec::new(),
        Err(e) => {
            warn!(error = %e, "looking up a channel failed");
            return false;
        }
    };
    let p = convert::channel_permissions(guild, user, &member_roles, &guild_roles, &overwrites);
    p.manage_messages()
}

// ---------------------------------------------------------------------------------------------
// Runtime → Discord

async fn deliver(http: Arc<Http>, state: SharedState, mut jobs: mpsc::Receiver<Job>) {
    while let Some((delivery, ack)) = jobs.recv().await {
        let result = carry_out(&http, &state, &delivery).await;
        if let Err(e) = &result {
            warn!(error = %e, "a Discord delivery failed; the runtime will retry");
        }
        let _ = ack.send(result);
    }
}

fn parse_id(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .ok()
        .filter(|v| *v != 0)
        .ok_or_else(|| "not a Discord id".to_string())
}

async fn carry_out(http: &Http, state: &SharedState, delivery: &Delivery) -> Result<(), String> {
    match &delivery.action {
        Action::Case(_) => Ok(()),
        Action::Delete {
            conversation,
            message,
        } => {
            if message.0.starts_with(INTERACTION_PREFIX) {
                // A slash command's text was never shown in the channel: nothing to remove.
                return Ok(());
            }
            let channel = ChannelId::new(parse_id(&conversation.0)?);
            let message = DiscordMessageId::new(parse_id(&message.0)?);
            match channel.delete_message(http, message).await {
                Ok(()) => Ok(()),
                Err(e) if convert::is_gone_or_forbidden(&e) => {
                    // Already deleted (10008), or the bot lacks Manage Messages (50013): retrying
                    // cannot help, and the user and the moderators have been reached already.
                    warn!(error = %e, "could not delete a disclosing message");
                    Ok(())
                }
                Err(e) => Err(format!("deleting a message failed: {e}")),
            }
        }
        Action::Send {
            conversation,
            reply_to,
            thread,
            text,
        } => {
            let channel = ChannelId::new(parse_id(thread.as_deref().unwrap_or(&conversation.0))?);
            if let Some(id) = reply_to
                && id.0.starts_with(INTERACTION_PREFIX)
            {
                if answer_interaction(http, state, &id.0, text).await? {
                    return Ok(());
                }
                // The interaction is gone (restart, expiry): answer in the channel instead.
                return send_to_channel(http, channel, None, &delivery.key, text).await;
            }
            let reference = match reply_to {
                Some(id) => Some(DiscordMessageId::new(parse_id(&id.0)?)),
                None => None,
            };
            send_to_channel(http, channel, reference, &delivery.key, text).await
        }
        Action::SendDirect { user, text } => {
            let user = UserId::new(parse_id(&user.0)?);
            let dm = open_dm(http, state, user).await?;
            match send_raw(http, dm, None, &delivery.key, text).await {
                Ok(()) => Ok(()),
                Err(e) if convert::is_dm_closed(&e) => {
                    dms_closed(http, state, user, &delivery.key).await;
                    Err("the user's DMs are closed (50007)".into())
                }
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

async fn open_dm(http: &Http, state: &SharedState, user: UserId) -> Result<ChannelId, String> {
    if let Some(c) = lock(state).dm_channels.get(&user) {
        return Ok(*c);
    }
    let dm = user
        .create_dm_channel(http)
        .await
        .map_err(|e| format!("opening a DM failed: {e}"))?;
    lock(state).dm_channels.insert(user, dm.id);
    Ok(dm.id)
}

/// Posts the DMs-closed note once per delivery in the channel where the user last wrote.
async fn dms_closed(http: &Http, state: &SharedState, user: UserId, key: &str) {
    let channel = {
        let mut s = lock(state);
        if !s.noted.insert(key.to_string()) {
            return;
        }
        s.last_channel.get(&user).copied()
    };
    let Some(channel) = channel else {
        warn!("a user's DMs are closed and they have no known channel for a note");
        return;
    };
    let text = format!("<@{user}> {DMS_CLOSED_NOTE}");
    if let Err(e) = send_to_channel(http, channel, None, &format!("{key}!dm"), &text).await {
        warn!(error = %e, "posting the DMs-closed note failed");
    }
}

async fn send_to_channel(
    http: &Http,
    channel: ChannelId,
    reference: Option<DiscordMessageId>,
    key: &str,
    text: &str,
) -> Result<(), String> {
    send_raw(http, channel, reference, key, text)
        .await
        .map_err(|e| e.to_string())
}

async fn send_raw(
    http: &Http,
    channel: ChannelId,
    reference: Option<DiscordMessageId>,
    key: &str,
    text: &str,
) -> Result<(), serenity::Error> {
    for (i, part) in convert::split_content(text).into_iter().enumerate() {
        let mut message = CreateMessage::new()
            .content(part)
            .allowed_mentions(no_mentions())
            .nonce(Nonce::String(convert::nonce(key, i)))
            .enforce_nonce(true);
        if i == 0
            && let Some(id) = reference
        {
            message = message
                .reference_message(MessageReference::from((channel, id)).fail_if_not_exists(false));
        }
        channel.send_message(http, message).await?;
    }
    Ok(())
}

/// Answers a deferred slash command ephemerally. `Ok(false)` when it is not (or no longer) known.
async fn answer_interaction(
    http: &Http,
    state: &SharedState,
    id: &str,
    text: &str,
) -> Result<bool, String> {
    let (interaction, answered) = {
        let s = lock(state);
        match s.pending.get(id) {
            Some(p) if p.at.elapsed() < INTERACTION_TTL => (p.interaction.clone(), p.answered),
            _ => return Ok(false),
        }
    };
    let ephemeral = interaction.guild_id.is_some();
    for (i, part) in convert::split_content(text).into_iter().enumerate() {
        if i == 0 && !answered {
            interaction
                .edit_response(
                    http,
                    EditInteractionResponse::new()
                        .content(part)
                        .allowed_mentions(no_mentions()),
                )
                .await
                .map_err(|e| e.to_string())?;
            if let Some(p) = lock(state).pending.get_mut(id) {
                p.answered = true;
            }
        } else {
            interaction
                .create_followup(
                    http,
                    CreateInteractionResponseFollowup::new()
                        .content(part)
                        .ephemeral(ephemeral)
                        .allowed_mentions(no_mentions()),
                )
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(true)
}
