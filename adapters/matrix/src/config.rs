//! The adapter's typed configuration (`adapters.matrix` in the bot's YAML config).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::MatrixError;

/// `adapters.matrix`: how to reach the homeserver, who the bot is, where it keeps its keys, who
/// counts as a moderator and whose invites it accepts.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// Run the adapter (default true when the section is present).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The homeserver's client-server API base URL, e.g. `https://matrix.example.org`.
    pub homeserver: String,
    /// The bot's user id (`@waymark:example.org`) or localpart.
    pub user: String,
    /// Environment variable holding the bot's password (used once, to log in).
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the bot's password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Environment variable holding an access token (instead of a password).
    #[serde(default)]
    pub access_token_env: Option<String>,
    /// File holding an access token.
    #[serde(default)]
    pub access_token_file: Option<PathBuf>,
    /// The display name of the bot's device (shown to users verifying it).
    #[serde(default = "default_device_name")]
    pub device_name: String,
    /// Where the session and the encrypted SQLite store (keys, room state) live.
    pub store_dir: PathBuf,
    /// Environment variable holding the passphrase that encrypts the store.
    #[serde(default)]
    pub store_passphrase_env: Option<String>,
    /// File holding the store passphrase.
    #[serde(default)]
    pub store_passphrase_file: Option<PathBuf>,
    /// The power level that makes someone a moderator in a moderators' room (room creators in
    /// room version 12 have unlimited power and always count).
    #[serde(default = "default_power_level")]
    pub moderator_power_level: i64,
    /// Moderators' rooms (room ids such as `!AbCd…:example.org`), besides the core's
    /// `moderators.rooms` entries with platform `matrix`: every case is announced in each.
    #[serde(default)]
    pub moderator_rooms: Vec<String>,
    /// The allowlist: users (`@lead:example.org`) who are moderators in the moderators' rooms
    /// whatever their power level.
    #[serde(default)]
    pub moderators: Vec<String>,
    /// Whose invites the bot accepts.
    #[serde(default)]
    pub invites: InvitePolicy,
}

fn yes() -> bool {
    true
}

fn default_device_name() -> String {
    "waymark".into()
}

fn default_power_level() -> i64 {
    50
}

/// Which invites the bot accepts; every other invite is declined.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct InvitePolicy {
    /// `anyone`, `servers` (inviter's server listed in `servers`) or `rooms` (room listed in
    /// `rooms`).
    #[serde(default)]
    pub accept: Accept,
    /// Servers whose users may invite the bot (`accept: servers`).
    #[serde(default)]
    pub servers: Vec<String>,
    /// Rooms the bot may be invited to (`accept: rooms`).
    #[serde(default)]
    pub rooms: Vec<String>,
}

/// The kinds of invite policy.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Accept {
    /// Accept invites from anyone.
    #[default]
    Anyone,
    /// Accept invites from users on the listed servers.
    Servers,
    /// Accept invites to the listed rooms only.
    Rooms,
}

impl InvitePolicy {
    /// Whether an invite from `inviter` (a full user id) to `room` is accepted.
    pub fn allows(&self, inviter: &str, room: &str) -> bool {
        match self.accept {
            Accept::Anyone => true,
            Accept::Servers => {
                let server = inviter.split_once(':').map(|(_, s)| s).unwrap_or("");
                self.servers.iter().any(|s| s.eq_ignore_ascii_case(server))
            }
            Accept::Rooms => self.rooms.iter().any(|r| r == room),
        }
    }
}

impl MatrixConfig {
    /// Parses `adapters.matrix` from the core's opaque value; a bad key is named with its full
    /// path (`adapters.matrix.homeserver: …`).
    pub fn from_value(value: serde_json::Value) -> Result<MatrixConfig, MatrixError> {
        let config: MatrixConfig =
            serde_path_to_error::deserialize(value).map_err(|e| MatrixError::Config {
                key: waymark_port::config_key("adapters.matrix", &e.path().to_string()),
                message: e.inner().to_string(),
            })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), MatrixError> {
        let bad = |key: &str, message: &str| {
            Err(MatrixError::Config {
                key: format!("adapters.matrix.{key}"),
                message: message.into(),
            })
        };
        if !(self.homeserver.starts_with("https://") || self.homeserver.starts_with("http://")) {
            return bad("homeserver", "must be an http(s) URL");
        }
        if url::Url::parse(&self.homeserver).is_err() {
            return bad("homeserver", "is not a valid URL");
        }
        if self.user.trim().is_empty() {
            return bad("user", "must not be empty");
        }
        let secrets = [
            self.password_env.is_some(),
            self.password_file.is_some(),
            self.access_token_env.is_some(),
            self.access_token_file.is_some(),
        ]
        .iter()
        .filter(|s| **s)
        .count();
        if secrets != 1 {
            return bad(
                "password_env",
                "name exactly one of password_env, password_file, access_token_env, access_token_file",
            );
        }
        if self.store_passphrase_env.is_some() == self.store_passphrase_file.is_some() {
            return bad(
                "store_passphrase_env",
                "name exactly one of store_passphrase_env, store_passphrase_file",
            );
        }
        for (i, room) in self.moderator_rooms.iter().enumerate() {
            if !room.starts_with('!') || room.len() < 2 {
                return bad(
                    &format!("moderator_rooms[{i}]"),
                    "must be a room id such as `!AbCdEf:example.org` (Room settings → Advanced)",
                );
            }
        }
        for (i, user) in self.moderators.iter().enumerate() {
            if matrix_sdk::ruma::UserId::parse(user.as_str()).is_err() {
                return bad(
                    &format!("moderators[{i}]"),
                    "must be a full user id such as `@lead:example.org`",
                );
            }
        }
        if self.invites.accept == Accept::Servers && self.invites.servers.is_empty() {
            return bad(
                "invites.servers",
                "`accept: servers` needs at least one server",
            );
        }
        if self.invites.accept == Accept::Rooms && self.invites.rooms.is_empty() {
            return bad("invites.rooms", "`accept: rooms` needs at least one room");
        }
        Ok(())
    }

    /// Makes the relative paths (`store_dir` and the `…_file` secrets) relative to `folder`, the
    /// config file's folder, as the core does for `data_dir`.
    pub fn relative_to(&mut self, folder: &Path) {
        let fix = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = folder.join(&*path);
            }
        };
        fix(&mut self.store_dir);
        for file in [
            &mut self.password_file,
            &mut self.access_token_file,
            &mut self.store_passphrase_file,
        ]
        .into_iter()
        .flatten()
        {
            fix(file);
        }
    }

    /// The login secret: a password or an access token, read from the environment or a file.
    pub(crate) fn login_secret(&self) -> Result<Secret, MatrixError> {
        if let Some(var) = &self.password_env {
            return Ok(Secret::Password(from_env(var, "password_env")?));
        }
        if let Some(file) = &self.password_file {
            return Ok(Secret::Password(from_file(file, "password_file")?));
        }
        if let Some(var) = &self.access_token_env {
            return Ok(Secret::Token(from_env(var, "access_token_env")?));
        }
        if let Some(file) = &self.access_token_file {
            return Ok(Secret::Token(from_file(file, "access_token_file")?));
        }
        Err(MatrixError::Config {
            key: "adapters.matrix.password_env".into(),
            message: "no password or access token configured".into(),
        })
    }

    /// The store passphrase.
    pub(crate) fn store_passphrase(&self) -> Result<String, MatrixError> {
        match (&self.store_passphrase_env, &self.store_passphrase_file) {
            (Some(var), _) => from_env(var, "store_passphrase_env"),
            (None, Some(file)) => from_file(file, "store_passphrase_file"),
            (None, None) => Err(MatrixError::Config {
                key: "adapters.matrix.store_passphrase_env".into(),
                message: "no store passphrase configured".into(),
            }),
        }
    }
}

/// How the bot logs in.
pub(crate) enum Secret {
    Password(String),
    Token(String),
}

fn from_env(var: &str, key: &str) -> Result<String, MatrixError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(MatrixError::Config {
            key: format!("adapters.matrix.{key}"),
            message: format!("the environment variable {var} is not set or empty"),
        }),
    }
}

fn from_file(path: &Path, key: &str) -> Result<String, MatrixError> {
    match std::fs::read_to_string(path) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim_end_matches(['\r', '\n']).to_string()),
        Ok(_) => Err(MatrixError::Config {
            key: format!("adapters.matrix.{key}"),
            message: format!("{} is empty", path.display()),
        }),
        Err(e) => Err(MatrixError::Config {
            key: format!("adapters.matrix.{key}"),
            message: format!("{}: {e}", path.display()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> serde_json::Value {
        json!({"homeserver": "https://matrix.example.org", "user": "@waymark:example.org",
               "password_env": "WAYMARK_MATRIX_PASSWORD", "store_dir": "/var/lib/waymark/matrix",
               "store_passphrase_env": "WAYMARK_MATRIX_STORE_PASSPHRASE"})
    }

    #[test]
    fn a_minimal_config_has_defaults() {
        let c = MatrixConfig::from_value(base()).expect("parses");
        assert_eq!(c.moderator_power_level, 50);
        assert_eq!(c.device_name, "waymark");
        assert_eq!(c.invites.accept, Accept::Anyone);
        assert!(c.enabled);
    }

    #[test]
    fn bad_keys_are_named_with_their_path() {
        let mut v = base();
        v["homeserver"] = json!(5);
        let e = MatrixConfig::from_value(v)
            .expect_err("bad type")
            .to_string();
        assert!(e.contains("adapters.matrix.homeserver"), "{e}");
        let mut v = base();
        v["passwrd"] = json!("x");
        let e = MatrixConfig::from_value(v)
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("passwrd"), "{e}");
        let mut v = base();
        v["invites"] = json!({"accept": "servers"});
        let e = MatrixConfig::from_value(v).expect_err("empty").to_string();
        assert!(e.contains("adapters.matrix.invites.servers"), "{e}");
        let mut v = base();
        v["access_token_env"] = json!("T");
        let e = MatrixConfig::from_value(v).expect_err("two").to_string();
        assert!(e.contains("exactly one"), "{e}");
        let mut v = base();
        v["homeserver"] = json!("matrix.example.org");
        assert!(MatrixConfig::from_value(v).is_err());
        let mut v = base();
        v["moderator_rooms"] = json!(["#mods:example.org"]);
        let e = MatrixConfig::from_value(v).expect_err("alias").to_string();
        assert!(e.contains("adapters.matrix.moderator_rooms[0]"), "{e}");
        let mut v = base();
        v["moderators"] = json!(["@lead:example.org", "lead"]);
        let e = MatrixConfig::from_value(v)
            .expect_err("localpart")
            .to_string();
        assert!(e.contains("adapters.matrix.moderators[1]"), "{e}");
    }

    #[test]
    fn relative_paths_follow_the_config_file() {
        let mut v = base();
        v["store_dir"] = json!("matrix");
        v["store_passphrase_env"] = serde_json::Value::Null;
        v["store_passphrase_file"] = json!("/run/secrets/passphrase");
        let mut c = MatrixConfig::from_value(v).expect("parses");
        c.relative_to(Path::new("/etc/waymark"));
        assert_eq!(c.store_dir, Path::new("/etc/waymark/matrix"));
        assert_eq!(
            c.store_passphrase_file.as_deref(),
            Some(Path::new("/run/secrets/passphrase"))
        );
    }

    #[test]
    fn moderators_rooms_and_allowlist_are_kept() {
        let mut v = base();
        v["moderator_rooms"] = json!(["!mods:example.org", "!v12roomwithoutserver"]);
        v["moderators"] = json!(["@lead:example.org"]);
        v["moderator_power_level"] = json!(100);
        let c = MatrixConfig::from_value(v).expect("parses");
        assert_eq!(c.moderator_rooms.len(), 2);
        assert_eq!(c.moderators, vec!["@lead:example.org".to_string()]);
        assert_eq!(c.moderator_power_level, 100);
    }

    #[test]
    fn invite_policy() {
        let anyone = InvitePolicy::default();
        assert!(anyone.allows("@a:evil.example", "!r"));
        let servers = InvitePolicy {
            accept: Accept::Servers,
            servers: vec!["example.org".into()],
            rooms: vec![],
        };
        assert!(servers.allows("@a:example.org", "!r"));
        assert!(!servers.allows("@a:evil.example", "!r"));
        assert!(!servers.allows("@a:sub.example.org", "!r"));
        let rooms = InvitePolicy {
            accept: Accept::Rooms,
            servers: vec![],
            rooms: vec!["!ok".into()],
        };
        assert!(rooms.allows("@a:evil.example", "!ok"));
        assert!(!rooms.allows("@a:example.org", "!other"));
    }

    #[test]
    fn secrets_come_from_the_environment_and_say_which_variable_is_missing() {
        let mut v = base();
        v["password_env"] = json!("WAYMARK_TEST_SURELY_UNSET_VARIABLE");
        let c = MatrixConfig::from_value(v).expect("parses");
        let Err(e) = c.login_secret() else {
            panic!("an unset variable is an error")
        };
        assert!(
            e.to_string().contains("WAYMARK_TEST_SURELY_UNSET_VARIABLE"),
            "{e}"
        );
    }
}
