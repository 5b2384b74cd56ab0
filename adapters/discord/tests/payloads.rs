//! Conversions tested on payload JSON shaped as Discord's API documentation shows it (Message,
//! Channel, Guild Member, Role and Interaction objects), deserialised by serenity as it would be
//! from the gateway or REST.

use serde_json::{Value, json};
use serenity::all::{
    ChannelId, CommandInteraction, GuildChannel, GuildId, Interaction, Message, Permissions,
    PrivateChannel, Role, RoleId, UserId,
};
use waymark_discord::convert::{self, Context};
use waymark_port::ConversationKind;

const BOT: u64 = 1_000_000_000_000_000_001;
const GUILD: u64 = 2_000_000_000_000_000_002;
const GENERAL: u64 = 3_000_000_000_000_000_003;
const MODS: u64 = 3_000_000_000_000_000_004;
const MOD_ROLE: u64 = 4_000_000_000_000_000_005;
const USER: u64 = 5_000_000_000_000_000_006;

fn ctx() -> Context {
    Context {
        bot: Some(UserId::new(BOT)),
        moderator_channels: vec![ChannelId::new(MODS)],
        moderator_roles: vec![RoleId::new(MOD_ROLE)],
        guilds: vec![],
    }
}

fn author(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0", "global_name": null,
           "avatar": null, "bot": bot, "public_flags": 0})
}

/// A MESSAGE_CREATE payload: the Message object plus `guild_id` and a partial `member`.
fn message(
    channel: u64,
    guild: Option<u64>,
    content: &str,
    roles: &[u64],
    mentions: Value,
) -> Value {
    let mut m = json!({
        "id": "334385199974967042",
        "channel_id": channel.to_string(),
        "author": author(USER, "sam", false),
        "content": content,
        "timestamp": "2017-07-11T17:27:07.299000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": mentions,
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
        "nonce": "1234567890"
    });
    if let Some(g) = guild {
        m["guild_id"] = json!(g.to_string());
        m["member"] = json!({
            "roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "nick": "Sammy",
            "joined_at": "2015-04-26T06:26:56.936000+00:00",
            "deaf": false,
            "mute": false,
            "flags": 0,
            "premium_since": null
        });
    }
    m
}

fn parse_message(v: Value) -> Message {
    serde_json::from_value(v).expect("a Discord message payload")
}

#[test]
fn a_dm_is_direct_and_always_addressed() {
    let m = parse_message(message(GENERAL, None, "is it my fault?", &[], json!([])));
    let inc = convert::incoming_from_message(&ctx(), &m).expect("converted");
    assert_eq!(inc.kind, ConversationKind::Direct);
    assert!(inc.mentions_bot);
    assert!(!inc.sender_is_moderator, "no roles outside a guild");
    assert_eq!(inc.platform.0, "discord");
    assert_eq!(inc.conversation.0, GENERAL.to_string());
    assert_eq!(inc.sender.0, USER.to_string());
    assert_eq!(inc.message_id.expect("id").0, "334385199974967042");
    assert_eq!(inc.text, "is it my fault?");
}

#[test]
fn a_guild_message_is_group_and_mentions_are_detected_and_stripped() {
    let plain = parse_message(message(GENERAL, Some(GUILD), "hello all", &[], json!([])));
    let inc = convert::incoming_from_message(&ctx(), &plain).expect("converted");
    assert_eq!(inc.kind, ConversationKind::Group);
    assert!(!inc.mentions_bot);
    assert_eq!(inc.sender_name.as_deref(), Some("Sammy"), "the nick");

    let mention = parse_message(message(
        GENERAL,
        Some(GUILD),
        &format!("<@{BOT}> what is sextortion?"),
        &[],
        json!([author(BOT, "waymark", true)]),
    ));
    let inc = convert::incoming_from_message(&ctx(), &mention).expect("converted");
    assert!(inc.mentions_bot);
    assert_eq!(inc.text, "what is sextortion?");

    let other = parse_message(message(
        GENERAL,
        Some(GUILD),
        "<@77> hi",
        &[],
        json!([author(77, "someone", false)]),
    ));
    assert!(
        !convert::incoming_from_message(&ctx(), &other)
            .expect("c")
            .mentions_bot
    );
}

#[test]
fn moderators_channel_and_roles() {
    let m = parse_message(message(MODS, Some(GUILD), "!cases", &[MOD_ROLE], json!([])));
    let inc = convert::incoming_from_message(&ctx(), &m).expect("converted");
    assert_eq!(inc.kind, ConversationKind::Moderators);
    assert!(inc.sender_is_moderator);
    let m = parse_message(message(MODS, Some(GUILD), "!cases", &[42], json!([])));
    assert!(
        !convert::incoming_from_message(&ctx(), &m)
            .expect("c")
            .sender_is_moderator
    );
    // A moderator role counts in any channel of the guild (the runtime still only takes moderator
    // commands in a moderators' channel).
    let m = parse_message(message(GENERAL, Some(GUILD), "x", &[MOD_ROLE], json!([])));
    assert!(
        convert::incoming_from_message(&ctx(), &m)
            .expect("c")
            .sender_is_moderator
    );
}

#[test]
fn bots_and_other_guilds_are_ignored() {
    let mut v = message(GENERAL, Some(GUILD), "hi", &[], json!([]));
    v["author"] = author(BOT, "waymark", true);
    assert!(convert::incoming_from_message(&ctx(), &parse_message(v)).is_none());
    let mut v = message(GENERAL, Some(GUILD), "hi", &[], json!([]));
    v["author"] = author(99, "otherbot", true);
    assert!(convert::incoming_from_message(&ctx(), &parse_message(v)).is_none());
    let mut only = ctx();
    only.guilds = vec![GuildId::new(7)];
    let m = parse_message(message(GENERAL, Some(GUILD), "hi", &[], json!([])));
    assert!(convert::incoming_from_message(&only, &m).is_none());
    let dm = parse_message(message(GENERAL, None, "hi", &[], json!([])));
    assert!(
        convert::incoming_from_message(&only, &dm).is_some(),
        "DMs are always served"
    );
}

#[test]
fn a_dm_channel_payload_parses() {
    // POST /users/@me/channels answers a DM Channel object.
    let c: PrivateChannel = serde_json::from_value(json!({
        "id": "319674150115610528",
        "type": 1,
        "last_message_id": "3343820033257021450",
        "recipients": [author(USER, "sam", false)]
    }))
    .expect("a DM channel");
    assert_eq!(c.id.get(), 319_674_150_115_610_528);
    assert_eq!(c.recipient.id.get(), USER);
}

fn interaction(
    name: &str,
    options: Value,
    guild: bool,
    channel: u64,
    roles: &[u64],
    perms: &str,
) -> Value {
    let mut v = json!({
        "id": "786008729715212338",
        "application_id": "775799577604522054",
        "type": 2,
        "data": {"id": "771825006014889984", "name": name, "type": 1, "options": options},
        "channel_id": channel.to_string(),
        "token": "A_UNIQUE_TOKEN",
        "version": 1,
        "locale": "en-GB",
        "entitlements": [],
        "attachment_size_limit": 26214400,
        "app_permissions": "442368",
    });
    if guild {
        v["guild_id"] = json!(GUILD.to_string());
        v["guild_locale"] = json!("en-US");
        v["member"] = json!({
            "user": author(USER, "sam", false),
            "roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "premium_since": null,
            "permissions": perms,
            "pending": false,
            "nick": null,
            "mute": false,
            "joined_at": "2017-03-13T19:19:14.040000+00:00",
            "deaf": false,
            "flags": 0
        });
    } else {
        v["user"] = author(USER, "sam", false);
    }
    v
}

fn command(v: Value) -> CommandInteraction {
    match serde_json::from_value::<Interaction>(v).expect("an interaction payload") {
        Interaction::Command(c) => c,
        other => panic!("not a command: {other:?}"),
    }
}

#[test]
fn slash_commands_become_their_text() {
    let c = command(interaction(
        "ask",
        json!([{"name": "question", "type": 3, "value": "how do I report a picture?"}]),
        true,
        GENERAL,
        &[],
        "1024",
    ));
    let inc = convert::incoming_from_command(&ctx(), &c).expect("converted");
    assert_eq!(inc.text, "how do I report a picture?");
    assert_eq!(inc.kind, ConversationKind::Group);
    assert!(inc.mentions_bot, "a slash command addresses the bot");
    assert_eq!(inc.sender.0, USER.to_string(), "the member's user");
    assert_eq!(
        inc.message_id.expect("id").0,
        "interaction:786008729715212338",
        "how the reply finds the interaction"
    );
    let h = command(interaction(
        "helpline",
        json!([{"name": "country", "type": 3, "value": "Ireland"}]),
        false,
        GENERAL,
        &[],
        "0",
    ));
    let inc = convert::incoming_from_command(&ctx(), &h).expect("converted");
    assert_eq!(inc.text, "helpline Ireland");
    assert_eq!(inc.kind, ConversationKind::Direct);
    let help = command(interaction("help", json!([]), true, GENERAL, &[], "0"));
    assert_eq!(
        convert::incoming_from_command(&ctx(), &help)
            .expect("c")
            .text,
        "!help"
    );
    let human = command(interaction("human", json!([]), true, GENERAL, &[], "0"));
    assert_eq!(
        convert::incoming_from_command(&ctx(), &human)
            .expect("c")
            .text,
        "!human"
    );
    let unknown = command(interaction("dance", json!([]), true, GENERAL, &[], "0"));
    assert!(convert::incoming_from_command(&ctx(), &unknown).is_none());
}

#[test]
fn manage_messages_in_the_moderators_channel_makes_a_moderator() {
    let manage = Permissions::MANAGE_MESSAGES.bits().to_string();
    let c = command(interaction("help", json!([]), true, MODS, &[], &manage));
    assert!(
        convert::incoming_from_command(&ctx(), &c)
            .expect("c")
            .sender_is_moderator
    );
    let c = command(interaction("help", json!([]), true, GENERAL, &[], &manage));
    assert!(
        !convert::incoming_from_command(&ctx(), &c)
            .expect("c")
            .sender_is_moderator,
        "only in the moderators' channel"
    );
    let c = command(interaction("help", json!([]), true, MODS, &[], "1024"));
    assert!(
        !convert::incoming_from_command(&ctx(), &c)
            .expect("c")
            .sender_is_moderator
    );
    let c = command(interaction(
        "help",
        json!([]),
        true,
        GENERAL,
        &[MOD_ROLE],
        "0",
    ));
    assert!(
        convert::incoming_from_command(&ctx(), &c)
            .expect("c")
            .sender_is_moderator
    );
}

fn role(id: u64, permissions: u64) -> Role {
    serde_json::from_value(json!({
        "id": id.to_string(), "name": "r", "color": 3447003,
        "colors": {"primary_color": 3447003, "secondary_color": null, "tertiary_color": null}, "hoist": true, "icon": null,
        "unicode_emoji": null, "position": 1, "permissions": permissions.to_string(),
        "managed": false, "mentionable": false, "flags": 0
    }))
    .expect("a Role object")
}

#[test]
fn permissions_follow_roles_and_overwrites() {
    let guild = GuildId::new(GUILD);
    let user = UserId::new(USER);
    let helper = 600;
    let roles = vec![
        role(GUILD, 1024),
        role(helper, Permissions::MANAGE_MESSAGES.bits()),
    ];
    let channel: GuildChannel = serde_json::from_value(json!({
        "id": MODS.to_string(), "type": 0, "guild_id": GUILD.to_string(), "name": "mods",
        "position": 1, "nsfw": false, "parent_id": null, "topic": null, "rate_limit_per_user": 0,
        "last_message_id": null,
        "permission_overwrites": [
            {"id": GUILD.to_string(), "type": 0, "allow": "0", "deny": "1024"},
            {"id": USER.to_string(), "type": 1, "allow": "1024", "deny": "0"}
        ]
    }))
    .expect("a guild channel");
    let ow = &channel.permission_overwrites;
    let p = convert::channel_permissions(guild, user, &[RoleId::new(helper)], &roles, ow);
    assert!(p.manage_messages());
    assert!(
        p.view_channel(),
        "the member overwrite gives back what @everyone lost"
    );
    let p = convert::channel_permissions(guild, UserId::new(9), &[], &roles, ow);
    assert!(!p.manage_messages());
    assert!(!p.view_channel(), "@everyone denied in the channel");
    let admin = vec![
        role(GUILD, 0),
        role(helper, Permissions::ADMINISTRATOR.bits()),
    ];
    let p = convert::channel_permissions(guild, UserId::new(9), &[RoleId::new(helper)], &admin, ow);
    assert!(p.manage_messages(), "administrator");
}

#[test]
fn discord_errors_nonces_and_splitting() {
    let body = json!({"code": 50007, "message": "Cannot send messages to this user"});
    let err: serenity::http::DiscordJsonError = serde_json::from_value(body).expect("error body");
    assert_eq!(err.code, 50007);

    let short = convert::nonce("k1", 0);
    assert_eq!(short, "k1");
    let long = "a-very-long-delivery-key-that-is-over-25-characters";
    let n = convert::nonce(long, 0);
    assert!(n.len() <= 25);
    assert_eq!(n, convert::nonce(long, 0), "stable");
    assert_ne!(n, convert::nonce(long, 1));
    // The runtime's keys look like `wm-ABC` and `wm-ABC#1`: part 1 of the first must not be the second.
    assert_ne!(convert::nonce("wm-ABC", 1), convert::nonce("wm-ABC#1", 0));
    assert!(convert::nonce("wm-ABC", 1).len() <= 25);

    let text = format!("{}\n{}\n", "a".repeat(1500), "b".repeat(1500));
    let parts = convert::split_content(&text);
    assert_eq!(parts.len(), 2);
    assert!(
        parts
            .iter()
            .all(|p| p.chars().count() <= convert::MAX_CONTENT)
    );
    assert_eq!(parts.concat(), text);
    assert_eq!(convert::split_content("short"), vec!["short".to_string()]);
}
