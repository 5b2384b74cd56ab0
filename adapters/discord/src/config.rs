//! The `adapters.discord` section of the config, and the settings the adapter runs with.

use std::path::PathBuf;

use serde::Deserialize;
use serenity::all::{ApplicationId, ChannelId, GuildId, RoleId};

use crate::Error;

/// The environment variable that points the adapter at a stand-in for Discord
/// (`spec/discord-testing.md`).
pub const API_BASE_ENV: &str = "WAYMARK_DISCORD_API_BASE";

/// `adapters.discord` as written in the config file. Ids may be written as numbers or strings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// Run the adapter (default true when the section is present).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The environment variable holding the bot token (default `DISCORD_TOKEN`).
    #[serde(default)]
    pub token_env: Option<String>,
    /// A file holding the bot token (read instead of the environment when set).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The application id (Developer Portal → General Information).
    pub application_id: ApplicationId,
    /// Role ids whose holders are moderators.
    #[serde(default)]
    pub moderator_roles: Vec<RoleId>,
    /// When not empty, only these guilds are served, and slash commands are registered in each of
    /// them (instantly) instead of globally.
    #[serde(default)]
    pub guilds: Vec<GuildId>,
    /// Delete a message that disclosed a risk from a guild channel, once the user has been answered
    /// privately and the moderators told (default off). Needs Manage Messages in those channels.
    #[serde(default)]
    pub delete_disclosures: bool,
    /// Where the REST API and the gateway URL come from (a stand-in for Discord); the environment
    /// variable `WAYMARK_DISCORD_API_BASE` wins over it.
    #[serde(default)]
    pub api_base: Option<String>,
}

fn yes() -> bool {
    true
}

impl DiscordConfig {
    /// Parses the opaque `adapters.discord` value; errors name the key
    /// (`adapters.discord.application_id: …`).
    pub fn from_value(value: serde_json::Value) -> Result<DiscordConfig, Error> {
        let config: DiscordConfig =
            serde_path_to_error::deserialize(value).map_err(|e| Error::Config {
                key: waymark_port::config_key("adapters.discord", &e.path().to_string()),
                message: e.inner().to_string(),
            })?;
        if config.token_env.as_deref().is_some_and(str::is_empty) {
            return Err(Error::Config {
                key: "adapters.discord.token_env".into(),
                message: "is empty".into(),
            });
        }
        Ok(config)
    }
}

/// Everything the adapter runs with: the config resolved against the environment and the core's
/// moderators' rooms.
#[derive(Clone)]
pub struct Settings {
    /// The bot token (never logged).
    pub token: String,
    /// The application id.
    pub application_id: ApplicationId,
    /// The moderators' channels (the core's `moderators.rooms` with platform `discord`).
    pub moderator_channels: Vec<ChannelId>,
    /// Moderator roles.
    pub moderator_roles: Vec<RoleId>,
    /// The guild allowlist (empty: every guild).
    pub guilds: Vec<GuildId>,
    /// Whether disclosing messages are deleted from guild channels.
    pub delete_disclosures: bool,
    /// A stand-in's base URL, if any.
    pub api_base: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("token", &"<redacted>")
            .field("application_id", &self.application_id)
            .field("moderator_channels", &self.moderator_channels)
            .field("moderator_roles", &self.moderator_roles)
            .field("guilds", &self.guilds)
            .field("delete_disclosures", &self.delete_disclosures)
            .field("api_base", &self.api_base)
            .finish()
    }
}

impl Settings {
    /// Resolves the config: reads the token from its file or environment variable, the api base
    /// from `WAYMARK_DISCORD_API_BASE` or the config, and the moderators' channels from the core's
    /// rooms (conversation = channel id).
    pub fn resolve(
        config: &DiscordConfig,
        moderator_rooms: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, Error> {
        let token = match &config.token_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| Error::Config {
                    key: "adapters.discord.token_file".into(),
                    message: format!("cannot read {}: {e}", path.display()),
                })?
                .trim()
                .to_string(),
            None => {
                let name = config.token_env.as_deref().unwrap_or("DISCORD_TOKEN");
                env(name).unwrap_or_default().trim().to_string()
            }
        };
        if token.is_empty() {
            let key = if config.token_file.is_some() {
                "adapters.discord.token_file"
            } else {
                "adapters.discord.token_env"
            };
            return Err(Error::Config {
                key: key.into(),
                message: format!(
                    "no bot token: set the environment variable {} or name a token_file",
                    config.token_env.as_deref().unwrap_or("DISCORD_TOKEN")
                ),
            });
        }
        let mut moderator_channels = Vec::new();
        for room in moderator_rooms {
            let id = room
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|id| *id != 0)
                .ok_or_else(|| Error::Config {
                    key: "moderators.rooms".into(),
                    message: format!("a discord conversation must be a channel id, not `{room}`"),
                })?;
            moderator_channels.push(ChannelId::new(id));
        }
        let api_base = env(API_BASE_ENV)
            .filter(|s| !s.trim().is_empty())
            .or_else(|| config.api_base.clone())
            .map(|s| s.trim().trim_end_matches('/').to_string());
        if let Some(base) = &api_base
            && !(base.starts_with("http://") || base.starts_with("https://"))
        {
            return Err(Error::Config {
                key: "adapters.discord.api_base".into(),
                message: format!("must start with http:// or https://, not `{base}`"),
            });
        }
        Ok(Settings {
            token,
            application_id: config.application_id,
            moderator_channels,
            moderator_roles: config.moderator_roles.clone(),
            guilds: config.guilds.clone(),
            delete_disclosures: config.delete_disclosures,
            api_base,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_ids_as_numbers_or_strings_and_names_bad_keys() {
        let c = DiscordConfig::from_value(json!({
            "application_id": "1100000000000000001",
            "moderator_roles": [1200000000000000002u64, "1200000000000000003"],
            "guilds": ["1300000000000000004"],
        }))
        .expect("valid");
        assert_eq!(c.application_id.get(), 1_100_000_000_000_000_001);
        assert_eq!(c.moderator_roles.len(), 2);
        assert!(!c.delete_disclosures);

        let e = DiscordConfig::from_value(json!({"application_id": 1, "tokn_env": "X"}))
            .expect_err("unknown key");
        assert!(e.to_string().starts_with("adapters.discord"), "{e}");
        assert!(e.to_string().contains("tokn_env"), "{e}");
        let e = DiscordConfig::from_value(json!({"application_id": 1, "guilds": ["abc"]}))
            .expect_err("bad id");
        assert!(e.to_string().contains("adapters.discord.guilds"), "{e}");
        let c = DiscordConfig::from_value(json!({"application_id": 1, "delete_disclosures": true}))
            .expect("delete_disclosures is a setting");
        assert!(c.delete_disclosures);
        let e =
            DiscordConfig::from_value(json!({"application_id": 1, "delete_disclosures": "yes"}))
                .expect_err("not a boolean");
        assert!(
            e.to_string()
                .contains("adapters.discord.delete_disclosures"),
            "{e}"
        );
    }

    #[test]
    fn resolves_token_api_base_and_moderator_channels() {
        let c = DiscordConfig::from_value(json!({"application_id": 7, "token_env": "MY_TOKEN",
            "api_base": "http://config.invalid"}))
        .expect("valid");
        let env = |k: &str| match k {
            "MY_TOKEN" => Some("abc ".to_string()),
            API_BASE_ENV => Some("http://127.0.0.1:9/".to_string()),
            _ => None,
        };
        let s = Settings::resolve(&c, &["42".into()], env).expect("resolves");
        assert_eq!(s.token, "abc");
        assert_eq!(s.api_base.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(s.moderator_channels, vec![ChannelId::new(42)]);
        assert!(!format!("{s:?}").contains("abc"), "token never in Debug");

        let no_env = |_: &str| None;
        let e = Settings::resolve(&c, &[], no_env).expect_err("no token");
        assert!(e.to_string().contains("MY_TOKEN"), "{e}");
        let e = Settings::resolve(&c, &["general".into()], |_: &str| Some("t".into()))
            .expect_err("channel id");
        assert!(e.to_string().contains("moderators.rooms"), "{e}");
    }
}
