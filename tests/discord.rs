//! End to end: `waymark run --adapter discord` against a local stand-in for Discord started by the
//! test (discord.com cannot be reached here). The stand-in speaks what serenity 0.12 talks to:
//! - REST under `/api/v10` (serenity's `HttpBuilder::proxy`, selected by
//!   `WAYMARK_DISCORD_API_BASE`): the gateway URL, messages, DM channel creation, slash command
//!   registration, interaction callbacks and responses, guild roles, channels and members;
//! - the gateway over `ws://`: Hello, Identify, READY, heartbeats and their ACKs, and the
//!   MESSAGE_CREATE and INTERACTION_CREATE dispatches the test injects.
//!
//! The transcripts are the stdio ones: a question, a disclosure in a channel (answered privately,
//! a case in the moderators' channel), a moderator's `!reply` relayed to the user, and a refusal
//! for a non-moderator; plus a slash command answered ephemerally and closed DMs.

#![cfg(feature = "discord")]

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message as Ws;

const DISCLOSURE: &str = "someone says theyll post my nudes unless i pay them £200 tonight";
const APP: u64 = 1_100_000_000_000_000_001;
const BOT: u64 = 1_000_000_000_000_000_001;
const GUILD: u64 = 2_000_000_000_000_000_002;
const GENERAL: u64 = 3_000_000_000_000_000_003;
const MODS: u64 = 3_000_000_000_000_000_004;
const MOD_ROLE: u64 = 4_000_000_000_000_000_005;
const SAM: u64 = 5_000_000_000_000_000_006;
const ALEX: u64 = 5_000_000_000_000_000_007;
const NOBODY: u64 = 5_000_000_000_000_000_008;
const CLOSED: u64 = 5_000_000_000_000_000_009;
const SAM_DM: u64 = 6_000_000_000_000_000_010;
const CLOSED_DM: u64 = 6_000_000_000_000_000_011;

/// One REST request the stand-in received.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    body: Value,
}

#[derive(Default)]
struct Recorded {
    requests: Vec<Request>,
    identify: Option<Value>,
    heartbeats: u32,
}

/// The stand-in for Discord.
struct StandIn {
    base: String,
    recorded: Arc<Mutex<Recorded>>,
    dispatch: broadcast::Sender<Value>,
    next_id: Mutex<u64>,
}

fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0", "global_name": null,
           "avatar": null, "bot": bot, "public_flags": 0})
}

fn message_json(id: u64, channel: u64, author: Value, content: &str) -> Value {
    json!({
        "id": id.to_string(), "channel_id": channel.to_string(), "author": author,
        "content": content, "timestamp": "2026-11-28T19:00:00.000000+00:00",
        "edited_timestamp": null, "tts": false, "mention_everyone": false, "mentions": [],
        "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0, "flags": 0
    })
}

fn role(id: u64, permissions: u64) -> Value {
    json!({"id": id.to_string(), "name": "r", "color": 0,
           "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null}, "hoist": false, "icon": null,
           "unicode_emoji": null, "position": 1, "permissions": permissions.to_string(),
           "managed": false, "mentionable": false, "flags": 0})
}

impl StandIn {
    async fn start() -> StandIn {
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
        let ws = TcpListener::bind("127.0.0.1:0").await.expect("bind ws");
        let base = format!("http://{}", http.local_addr().expect("addr"));
        let ws_url = format!("ws://{}", ws.local_addr().expect("addr"));
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let (dispatch, _) = broadcast::channel(64);
        {
            let recorded = Arc::clone(&recorded);
            tokio::spawn(async move {
                while let Ok((stream, _)) = http.accept().await {
                    tokio::spawn(serve_http(stream, Arc::clone(&recorded), ws_url.clone()));
                }
            });
        }
        {
            let recorded = Arc::clone(&recorded);
            let dispatch = dispatch.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = ws.accept().await {
                    tokio::spawn(serve_gateway(
                        stream,
                        Arc::clone(&recorded),
                        dispatch.subscribe(),
                    ));
                }
            });
        }
        StandIn {
            base,
            recorded,
            dispatch,
            next_id: Mutex::new(7_000_000_000_000_000_000),
        }
    }

    fn id(&self) -> u64 {
        let mut n = self.next_id.lock().expect("lock");
        *n += 1;
        *n
    }

    fn requests(&self) -> Vec<Request> {
        self.recorded.lock().expect("lock").requests.clone()
    }

    /// A user writes in a channel (MESSAGE_CREATE).
    fn say(&self, channel: u64, guild: bool, from: u64, roles: &[u64], text: &str) -> u64 {
        let id = self.id();
        let mut m = message_json(id, channel, user(from, "someone", false), text);
        if text.contains(&format!("<@{BOT}>")) {
            m["mentions"] = json!([user(BOT, "waymark", true)]);
        }
        if guild {
            m["guild_id"] = json!(GUILD.to_string());
            m["member"] = json!({"roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                "nick": null, "joined_at": "2025-01-01T00:00:00.000000+00:00", "deaf": false,
                "mute": false, "flags": 0});
        }
        self.dispatch
            .send(json!({"t": "MESSAGE_CREATE", "d": m}))
            .expect("the bot is connected");
        id
    }

    /// A user runs a slash command in a guild channel (INTERACTION_CREATE).
    fn slash(&self, name: &str, options: Value, from: u64) -> u64 {
        let id = self.id();
        let d = json!({
            "id": id.to_string(), "application_id": APP.to_string(), "type": 2,
            "data": {"id": "771825006014889984", "name": name, "type": 1, "options": options},
            "guild_id": GUILD.to_string(), "channel_id": GENERAL.to_string(),
            "member": {"user": user(from, "someone", false), "roles": [], "permissions": "1024",
                "nick": null, "joined_at": "2025-01-01T00:00:00.000000+00:00", "deaf": false,
                "mute": false, "flags": 0, "pending": false, "premium_since": null},
            "token": format!("token-{id}"), "version": 1, "locale": "en-GB",
            "guild_locale": "en-GB", "entitlements": [], "attachment_size_limit": 26214400,
            "app_permissions": "442368"
        });
        self.dispatch
            .send(json!({"t": "INTERACTION_CREATE", "d": d}))
            .expect("the bot is connected");
        id
    }

    /// Waits for a REST request matching `pred` that was not taken before.
    async fn expect(
        &self,
        taken: &mut usize,
        what: &str,
        pred: impl Fn(&Request) -> bool,
    ) -> Request {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let requests = self.requests();
            if let Some((i, r)) = requests
                .iter()
                .enumerate()
                .skip(*taken)
                .find(|(_, r)| pred(r))
            {
                *taken = i + 1;
                return r.clone();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; requests:\n{}",
                requests
                    .iter()
                    .map(|r| format!("{} {} {}", r.method, r.path, r.body))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn posted_to(channel: u64) -> impl Fn(&Request) -> bool {
    move |r| r.method == "POST" && r.path == format!("/api/v10/channels/{channel}/messages")
}

fn content(r: &Request) -> &str {
    r.body["content"].as_str().unwrap_or("")
}

/// The REST side: routes by method and path, records every request.
fn route(
    recorded: &Mutex<Recorded>,
    ws_url: &str,
    method: &str,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let parts: Vec<&str> = path
        .trim_start_matches("/api/v10/")
        .split('?')
        .next()
        .unwrap_or("")
        .split('/')
        .collect();
    let bot = || user(BOT, "waymark", true);
    let n = recorded.lock().expect("lock").requests.len() as u64;
    match (method, parts.as_slice()) {
        ("GET", ["gateway"]) => (200, json!({"url": ws_url})),
        ("POST", ["users", "@me", "channels"]) => {
            let recipient: u64 = body["recipient_id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| body["recipient_id"].as_u64())
                .unwrap_or(0);
            let channel = if recipient == CLOSED {
                CLOSED_DM
            } else {
                SAM_DM
            };
            (
                200,
                json!({"id": channel.to_string(), "type": 1, "last_message_id": null,
                         "recipients": [user(recipient, "someone", false)]}),
            )
        }
        ("POST", ["channels", channel, "messages"]) => {
            if *channel == CLOSED_DM.to_string() {
                return (
                    403,
                    json!({"code": 50007, "message": "Cannot send messages to this user"}),
                );
            }
            let c: u64 = channel.parse().unwrap_or(1);
            (
                200,
                message_json(
                    8_000_000_000_000_000_000 + n,
                    c,
                    bot(),
                    body["content"].as_str().unwrap_or(""),
                ),
            )
        }
        ("PUT", ["applications", _, "guilds", _, "commands"])
        | ("PUT", ["applications", _, "commands"]) => {
            let commands: Vec<Value> = body
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, mut c)| {
                    c["id"] = json!((9_000_000_000_000_000_000u64 + i as u64).to_string());
                    c["application_id"] = json!(APP.to_string());
                    c["version"] = json!("1");
                    c["type"] = json!(1);
                    c["default_member_permissions"] = json!(null);
                    c
                })
                .collect();
            (200, json!(commands))
        }
        ("POST", ["interactions", _, _, "callback"]) => (204, Value::Null),
        ("DELETE", ["channels", _, "messages", _]) => (204, Value::Null),
        ("PATCH", ["webhooks", _, _, "messages", "@original"]) | ("POST", ["webhooks", _, _]) => (
            200,
            message_json(
                8_100_000_000_000_000_000 + n,
                GENERAL,
                bot(),
                body["content"].as_str().unwrap_or(""),
            ),
        ),
        ("GET", ["guilds", _, "roles"]) => {
            (200, json!([role(GUILD, 1024 | 2048), role(MOD_ROLE, 8192)]))
        }
        ("GET", ["guilds", _, "members", id]) => (
            200,
            json!({"user": user(id.parse().unwrap_or(1), "someone", false),
            "roles": [], "joined_at": "2025-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0}),
        ),
        ("GET", ["channels", id]) => (
            200,
            json!({"id": id, "type": 0, "guild_id": GUILD.to_string(),
            "name": "channel", "position": 0, "nsfw": false, "parent_id": null,
            "permission_overwrites": []}),
        ),
        _ => (404, json!({"code": 0, "message": "404: Not Found"})),
    }
}

async fn serve_http(mut stream: TcpStream, recorded: Arc<Mutex<Recorded>>, ws_url: String) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Read one request: headers, then Content-Length bytes of body.
        let (method, path, header_len, length) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut headers);
            if let Ok(httparse::Status::Complete(len)) = req.parse(&buf) {
                let length = req
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                    .unwrap_or(0usize);
                break (
                    req.method.unwrap_or("").to_string(),
                    req.path.unwrap_or("").to_string(),
                    len,
                    length,
                );
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        while buf.len() < header_len + length {
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Value =
            serde_json::from_slice(&buf[header_len..header_len + length]).unwrap_or(Value::Null);
        buf.drain(..header_len + length);
        let (status, answer) = route(&recorded, &ws_url, &method, &path, &body);
        recorded
            .lock()
            .expect("lock")
            .requests
            .push(Request { method, path, body });
        let text = if status == 204 {
            String::new()
        } else {
            answer.to_string()
        };
        let reason = match status {
            200 => "OK",
            204 => "No Content",
            403 => "Forbidden",
            _ => "Not Found",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            text.len()
        );
        if stream.write_all(head.as_bytes()).await.is_err()
            || stream.write_all(text.as_bytes()).await.is_err()
        {
            return;
        }
    }
}

async fn serve_gateway(
    stream: TcpStream,
    recorded: Arc<Mutex<Recorded>>,
    mut dispatch: broadcast::Receiver<Value>,
) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let send = |v: Value| Ws::Text(v.to_string());
    if ws
        .send(send(json!({"op": 10, "d": {"heartbeat_interval": 250}})))
        .await
        .is_err()
    {
        return;
    }
    let mut seq = 0u64;
    let mut ready = false;
    loop {
        tokio::select! {
            frame = ws.next() => {
                let Some(Ok(frame)) = frame else { return };
                let Ws::Text(text) = frame else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                match v["op"].as_u64() {
                    Some(1) => {
                        recorded.lock().expect("lock").heartbeats += 1;
                        if ws.send(send(json!({"op": 11}))).await.is_err() { return; }
                    }
                    Some(2) => {
                        recorded.lock().expect("lock").identify = Some(v["d"].clone());
                        seq += 1;
                        let ready_event = json!({"op": 0, "s": seq, "t": "READY", "d": {
                            "v": 10, "user": {"id": BOT.to_string(), "username": "waymark",
                                "discriminator": "0", "avatar": null, "bot": true,
                                "verified": true, "mfa_enabled": false, "flags": 0},
                            "guilds": [{"id": GUILD.to_string(), "unavailable": true}],
                            "session_id": "standin-session",
                            "resume_gateway_url": "ws://127.0.0.1:1",
                            "application": {"id": APP.to_string(), "flags": 0}}});
                        if ws.send(send(ready_event)).await.is_err() { return; }
                        ready = true;
                    }
                    _ => {}
                }
            }
            event = dispatch.recv(), if ready => {
                let Ok(event) = event else { return };
                seq += 1;
                let frame = json!({"op": 0, "s": seq, "t": event["t"], "d": event["d"]});
                if ws.send(send(frame)).await.is_err() { return; }
            }
        }
    }
}

/// The bot as a child process; its log is collected to check it holds no message text.
struct Bot {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_bot(base: &str, data: &std::path::Path) -> Bot {
    start_bot_with(base, data, &format!("guilds: [\"{GUILD}\"]"))
}

/// Starts the bot with `extra` as the last line of its `adapters.discord` section.
fn start_bot_with(base: &str, data: &std::path::Path, extra: &str) -> Bot {
    let config = data.join("waymark.yaml");
    std::fs::write(
        &config,
        format!(
            "moderators:\n  rooms:\n    - {{platform: discord, conversation: \"{MODS}\"}}\n\
             adapters:\n  discord:\n    application_id: \"{APP}\"\n    moderator_roles: [\"{MOD_ROLE}\"]\n    delete_disclosures: true\n    {extra}\n"
        ),
    )
    .expect("write config");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_waymark"));
    cmd.args(["run", "--adapter", "discord", "--data"])
        .arg(data)
        .arg("--config")
        .arg(&config)
        .env("DISCORD_TOKEN", "standin-token")
        .env("WAYMARK_DISCORD_API_BASE", base)
        .env("WAYMARK_LOG", "info")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn waymark run --adapter discord");
    let mut stderr = child.stderr.take().expect("stderr");
    let log = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock()
                .expect("lock")
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    Bot { child, log }
}

#[tokio::test]
async fn without_a_guild_list_slash_commands_are_registered_globally() {
    let standin = StandIn::start().await;
    let data = tempfile::tempdir().expect("tmp");
    let _bot = start_bot_with(&standin.base, data.path(), "enabled: true");
    let mut taken = 0usize;
    let registered = standin
        .expect(&mut taken, "slash commands registered globally", |r| {
            r.method == "PUT" && r.path == format!("/api/v10/applications/{APP}/commands")
        })
        .await;
    assert_eq!(registered.body.as_array().map(Vec::len), Some(4));
    assert!(
        !standin
            .requests()
            .iter()
            .any(|r| r.path.contains(&format!("/guilds/{GUILD}/commands"))),
        "no per-guild registration without a guild list"
    );
}

#[tokio::test]
async fn discord_transcripts_against_a_stand_in() {
    let standin = StandIn::start().await;
    let data = tempfile::tempdir().expect("tmp");
    let bot = start_bot(&standin.base, data.path());
    let mut taken = 0usize;

    // Start: the gateway URL over REST, Identify with our intents, commands registered in the guild.
    standin
        .expect(&mut taken, "GET /gateway", |r| {
            r.method == "GET" && r.path.starts_with("/api/v10/gateway")
        })
        .await;
    let registered = standin
        .expect(&mut taken, "slash commands registered in the guild", |r| {
            r.method == "PUT"
                && r.path == format!("/api/v10/applications/{APP}/guilds/{GUILD}/commands")
        })
        .await;
    let names: Vec<&str> = registered
        .body
        .as_array()
        .expect("a list of commands")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["help", "ask", "helpline", "human"]);
    let identify = standin
        .recorded
        .lock()
        .expect("lock")
        .identify
        .clone()
        .expect("identified");
    assert!(
        identify["token"]
            .as_str()
            .is_some_and(|t| t.ends_with("standin-token")),
        "{identify}"
    );
    let intents = identify["intents"].as_u64().expect("intents");
    assert_eq!(
        intents,
        (1 << 9) | (1 << 12) | (1 << 15),
        "GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT"
    );
    // READY was handled once commands are registered; dispatches can flow.

    // 1. A question in a DM: answered there, as a reply, with no mentions allowed.
    let q = standin.say(SAM_DM, false, SAM, &[], "what is sextortion?");
    let answer = standin
        .expect(&mut taken, "the answer in the DM", posted_to(SAM_DM))
        .await;
    assert!(
        content(&answer).to_lowercase().contains("sextortion"),
        "{}",
        answer.body
    );
    assert_eq!(
        answer.body["message_reference"]["message_id"],
        json!(q.to_string())
    );
    assert_eq!(answer.body["allowed_mentions"]["parse"], json!([]));
    assert_eq!(answer.body["enforce_nonce"], json!(true));
    assert!(
        answer.body["nonce"]
            .as_str()
            .is_some_and(|n| !n.is_empty() && n.len() <= 25)
    );

    // A guild message that neither mentions the bot nor is a risk gets no answer; a mention does.
    standin.say(GENERAL, true, NOBODY, &[], "anyone up for football later?");
    standin.say(
        GENERAL,
        true,
        NOBODY,
        &[],
        &format!("<@{BOT}> what is sextortion?"),
    );
    let mentioned = standin
        .expect(&mut taken, "the answer to a mention", posted_to(GENERAL))
        .await;
    assert!(!content(&mentioned).contains("football"));
    assert!(
        content(&mentioned).to_lowercase().contains("sextortion"),
        "{}",
        mentioned.body
    );

    // 2. A disclosure in a channel: the full reply by DM, a neutral note in the channel, a case in
    // the moderators' channel.
    let disclosure = standin.say(GENERAL, true, SAM, &[], DISCLOSURE);
    let mut t2 = taken;
    let opened = standin
        .expect(&mut t2, "a DM opened", |r| {
            r.method == "POST" && r.path == "/api/v10/users/@me/channels"
        })
        .await;
    assert_eq!(
        opened.body["recipient_id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| opened.body["recipient_id"].to_string()),
        SAM.to_string()
    );
    let mut t3 = taken;
    let private = standin
        .expect(&mut t3, "the private reply", posted_to(SAM_DM))
        .await;
    assert!(
        content(&private).contains("not your fault"),
        "{}",
        private.body
    );
    let mut t4 = taken;
    // The note answers the disclosing message (a split answer to the mention above may still be
    // arriving in the same channel).
    let note = standin
        .expect(
            &mut t4,
            "the room note, as a reply to the disclosure",
            |r| {
                posted_to(GENERAL)(r)
                    && r.body["message_reference"]["message_id"] == json!(disclosure.to_string())
            },
        )
        .await;
    for word in ["nudes", "pay", "post", "200"] {
        assert!(
            !content(&note).contains(word),
            "the note hints at the disclosure: {}",
            note.body
        );
    }
    let mut t5 = taken;
    let case = standin
        .expect(&mut t5, "the case for the moderators", posted_to(MODS))
        .await;
    let case_id = content(&case)
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.starts_with("C-"))
        .unwrap_or_else(|| panic!("a case id in {}", case.body))
        .to_string();
    assert_eq!(case.body["allowed_mentions"]["parse"], json!([]));
    // With `delete_disclosures: true`, the disclosing message is removed from the channel, after
    // the moderators have the case.
    let mut t6 = t5;
    standin
        .expect(&mut t6, "the disclosure deleted", |r| {
            r.method == "DELETE"
                && r.path == format!("/api/v10/channels/{GENERAL}/messages/{disclosure}")
        })
        .await;
    taken = t2.max(t3).max(t4).max(t6);

    // 3. A moderator (by role) claims it and replies; the reply is relayed to the user by DM.
    standin.say(MODS, true, ALEX, &[MOD_ROLE], &format!("!claim {case_id}"));
    standin
        .expect(&mut taken, "the claim acknowledged", |r| {
            posted_to(MODS)(r) && content(r).contains("claimed")
        })
        .await;
    standin.say(
        MODS,
        true,
        ALEX,
        &[MOD_ROLE],
        &format!("!reply {case_id} You did the right thing. Are you safe right now?"),
    );
    let relayed = standin
        .expect(&mut taken, "the relayed reply", |r| {
            posted_to(SAM_DM)(r) && content(r).contains("Are you safe right now?")
        })
        .await;
    assert!(
        content(&relayed).to_lowercase().contains("moderator"),
        "labelled: {}",
        relayed.body
    );

    // 4. A non-moderator's command is refused, in the moderators' channel (no role, no Manage
    // Messages after the roles and the channel are looked up) and in a public channel.
    standin.say(MODS, true, NOBODY, &[], &format!("!claim {case_id}"));
    let refusal = standin
        .expect(&mut taken, "a refusal in the moderators' channel", |r| {
            posted_to(MODS)(r) && content(r).contains("moderators' command")
        })
        .await;
    assert!(
        !content(&refusal).contains("claimed by"),
        "{}",
        refusal.body
    );
    assert!(
        !content(&refusal).contains(&case_id),
        "a refusal says nothing of the case: {}",
        refusal.body
    );
    let looked_up = standin.requests();
    assert!(
        looked_up
            .iter()
            .any(|r| r.path == format!("/api/v10/guilds/{GUILD}/roles"))
    );
    assert!(
        looked_up
            .iter()
            .any(|r| r.path == format!("/api/v10/channels/{MODS}") && r.method == "GET")
    );
    standin.say(
        GENERAL,
        true,
        NOBODY,
        &[],
        &format!("!reply {case_id} hello"),
    );
    let public_refusal = standin
        .expect(&mut taken, "a refusal in public", |r| {
            posted_to(GENERAL)(r) && content(r).contains("moderators' command")
        })
        .await;
    assert!(!content(&public_refusal).contains(&case_id));

    // 5. A slash command: deferred ephemerally, then answered by editing the deferred response.
    let interaction = standin.slash(
        "ask",
        json!([{"name": "question", "type": 3, "value": "what is sextortion?"}]),
        NOBODY,
    );
    let callback = standin
        .expect(&mut taken, "the interaction deferred", |r| {
            r.path == format!("/api/v10/interactions/{interaction}/token-{interaction}/callback")
        })
        .await;
    assert_eq!(callback.body["type"], json!(5), "deferred channel message");
    assert_eq!(callback.body["data"]["flags"], json!(64), "ephemeral");
    let edited = standin
        .expect(&mut taken, "the ephemeral answer", |r| {
            r.method == "PATCH"
                && r.path
                    == format!("/api/v10/webhooks/{APP}/token-{interaction}/messages/@original")
        })
        .await;
    assert!(
        content(&edited).to_lowercase().contains("sextortion"),
        "{}",
        edited.body
    );
    assert_eq!(edited.body["allowed_mentions"]["parse"], json!([]));

    // 5b. A disclosure through `/ask`: the full reply by DM; the deferred response (seen only by
    // the asker) becomes the neutral note; nothing is deleted, since nothing was shown.
    let asked = standin.slash(
        "ask",
        json!([{"name": "question", "type": 3, "value": DISCLOSURE}]),
        SAM,
    );
    let mut t7 = taken;
    standin
        .expect(&mut t7, "the private reply to /ask", |r| {
            posted_to(SAM_DM)(r) && content(r).contains("not your fault")
        })
        .await;
    let mut t8 = taken;
    let ephemeral_note = standin
        .expect(&mut t8, "the note as the deferred response", |r| {
            r.method == "PATCH"
                && r.path == format!("/api/v10/webhooks/{APP}/token-{asked}/messages/@original")
        })
        .await;
    for word in ["nudes", "pay", "200", "not your fault"] {
        assert!(
            !content(&ephemeral_note).contains(word),
            "{}",
            ephemeral_note.body
        );
    }
    taken = t7.max(t8);

    // 6. A disclosure from someone whose DMs are closed: a minimal note in the channel.
    standin.say(GENERAL, true, CLOSED, &[], DISCLOSURE);
    let closed_note = standin
        .expect(&mut taken, "the DMs-closed note", |r| {
            posted_to(GENERAL)(r) && content(r).contains("DMs are closed")
        })
        .await;
    for word in ["nudes", "pay", "200", "not your fault"] {
        assert!(
            !content(&closed_note).contains(word),
            "{}",
            closed_note.body
        );
    }
    assert_eq!(
        closed_note.body["allowed_mentions"]["parse"],
        json!([]),
        "the note does not ping"
    );

    assert!(
        standin
            .requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .all(|r| !r.path.contains(&asked.to_string())),
        "a slash command has no message to delete"
    );

    // Every message the bot sent allowed no mentions; heartbeats were acknowledged; the log says
    // it ran against a stand-in and holds no message text.
    for r in standin.requests() {
        if r.method == "POST" && r.path.ends_with("/messages") {
            assert_eq!(r.body["allowed_mentions"]["parse"], json!([]), "{}", r.body);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while standin.recorded.lock().expect("lock").heartbeats < 2 {
        assert!(Instant::now() < deadline, "no heartbeats were sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The ACKs kept the connection: the bot still answers after several heartbeats.
    standin.say(SAM_DM, false, SAM, &[], "!help");
    standin
        .expect(
            &mut taken,
            "an answer after the heartbeats",
            posted_to(SAM_DM),
        )
        .await;
    let log = bot.log.lock().expect("lock").clone();
    assert!(log.contains("stand-in"), "warns about the stand-in: {log}");
    assert!(log.contains("rate limiter is off"), "{log}");
    for secret in [
        DISCLOSURE,
        "Are you safe right now",
        "standin-token",
        &SAM.to_string(),
    ] {
        assert!(!log.contains(secret), "the log holds `{secret}`:\n{log}");
    }
    drop(bot);
}

/// Runs `waymark run --adapter discord` with this config text and no token; returns (exit code,
/// stderr).
fn run_with_config(yaml: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let data = tempfile::tempdir().expect("tmp");
    let config = data.path().join("waymark.yaml");
    std::fs::write(&config, yaml).expect("write config");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_waymark"));
    cmd.args(["run", "--adapter", "discord", "--data"])
        .arg(data.path())
        .arg("--config")
        .arg(&config)
        .env_remove("DISCORD_TOKEN")
        .env_remove("WAYMARK_DISCORD_API_BASE")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run waymark");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn discord_config_errors_name_their_key() {
    let (code, err) = run_with_config(
        "adapters:\n  discord:\n    application_id: 1\n    tokn_env: X\n",
        &[],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("adapters.discord"), "{err}");
    assert!(err.contains("tokn_env"), "{err}");

    let (code, err) = run_with_config(
        "adapters:\n  discord:\n    application_id: 1\n    token_env: MY_BOT_TOKEN\n",
        &[],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("adapters.discord.token_env"), "{err}");
    assert!(
        err.contains("MY_BOT_TOKEN"),
        "names the variable to set: {err}"
    );

    let (code, err) = run_with_config(
        "moderators:\n  rooms:\n    - {platform: discord, conversation: general}\nadapters:\n  discord:\n    application_id: 1\n",
        &[("DISCORD_TOKEN", "t")],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("moderators.rooms"), "{err}");

    let (code, err) = run_with_config("retention_days: 30\n", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("adapters.discord"),
        "says what is missing: {err}"
    );
}
