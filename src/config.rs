//! The runtime configuration: a YAML file, every key documented in the README.
//!
//! An invalid config stops the start with the key's path and what is wrong with it
//! (`escalation.realert_high_minutes: invalid type: string "ten", expected u32`). Secrets never live
//! in this file: adapters that need them name an environment variable or a file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML is malformed.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Line.
        line: u64,
        /// Column.
        column: u64,
        /// What.
        message: String,
    },
    /// A key is wrong.
    #[error("{path}: `{key}`: {message}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Dotted path of the key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the case store and the pseudonymisation key live.
    pub data_dir: PathBuf,
    /// Another knowledge folder instead of the bundled one.
    pub knowledge: Option<PathBuf>,
    /// Days after resolution before a case's excerpt and notes are purged.
    pub retention_days: u32,
    /// Minutes of silence after which a user's conversation state is forgotten.
    pub state_ttl_minutes: u32,
    /// Re-alerting and reminders.
    pub escalation: Escalation,
    /// Per-user flood control.
    pub rate_limit: RateLimit,
    /// Who the moderators are, and where.
    pub moderators: Moderators,
    /// Which adapters run.
    pub adapters: Adapters,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("waymark-data"),
            knowledge: None,
            retention_days: 30,
            state_ttl_minutes: 60,
            escalation: Escalation::default(),
            rate_limit: RateLimit::default(),
            moderators: Moderators::default(),
            adapters: Adapters::default(),
        }
    }
}

/// Timers for unclaimed cases.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Escalation {
    /// Re-alert an unclaimed high-severity case after this many minutes.
    pub realert_high_minutes: u32,
    /// Re-alert an unclaimed medium-severity case after this many minutes.
    pub realert_medium_minutes: u32,
    /// Tell the young person again where to get help if a high-severity case is still unclaimed
    /// after this many minutes.
    pub remind_user_after_minutes: u32,
}

impl Default for Escalation {
    fn default() -> Self {
        Escalation {
            realert_high_minutes: 10,
            realert_medium_minutes: 60,
            remind_user_after_minutes: 15,
        }
    }
}

/// A token bucket per user: `burst` messages at once, refilled at `per_minute`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimit {
    /// Messages a user may send at once.
    pub burst: u32,
    /// Messages per minute after that.
    pub per_minute: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            burst: 6,
            per_minute: 12,
        }
    }
}

/// A conversation on a platform.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Room {
    /// `stdio`, `matrix` or `discord`.
    pub platform: String,
    /// The conversation id on that platform.
    pub conversation: String,
}

/// A user on a platform.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// `stdio`, `matrix` or `discord`.
    pub platform: String,
    /// The user id on that platform.
    pub user: String,
}

/// Moderators' rooms and moderators.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Moderators {
    /// Moderators' rooms; every case is announced in each. Default: the stdio conversation
    /// `moderators`.
    pub rooms: Vec<Room>,
    /// Users who are moderators in addition to those the platform says are.
    pub users: Vec<Member>,
}

/// Which adapters run.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Adapters {
    /// The stdio adapter (JSON Lines on standard input and output).
    pub stdio: Stdio,
    /// The Matrix adapter's section, kept opaque here: the `waymark-matrix` crate parses and
    /// validates it (keys in the README), so the core does not depend on the adapter.
    pub matrix: Option<serde_json::Value>,
    /// The Discord adapter's section, kept opaque here: the `waymark-discord` crate parses it
    /// (keys in the README), so the core does not depend on the adapter.
    pub discord: Option<serde_json::Value>,
}

/// The stdio adapter's settings.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Stdio {
    /// Run it.
    pub enabled: bool,
}

impl Config {
    /// Reads and validates a config file. Relative paths in it (`data_dir`, `knowledge`) are
    /// relative to the file's folder, so the bot finds the same files from any working directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let mut config = Config::parse(&text, path)?;
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
            if config.data_dir.is_relative() {
                config.data_dir = folder.join(&config.data_dir);
            }
            if let Some(knowledge) = config.knowledge.as_mut()
                && knowledge.is_relative()
            {
                *knowledge = folder.join(&*knowledge);
            }
        }
        Ok(config)
    }

    /// Parses and validates config text; `path` is for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let value: serde_json::Value = if text.trim().is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                let (line, column) = e
                    .location()
                    .map(|l| (l.line(), l.column()))
                    .unwrap_or((0, 0));
                ConfigError::Syntax {
                    path: path.into(),
                    line,
                    column,
                    message: e.to_string().lines().next().unwrap_or("").into(),
                }
            })?
        };
        let value = if value.is_null() {
            serde_json::Value::Object(Default::default())
        } else {
            value
        };
        let config: Config = serde_path_to_error::deserialize(value).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::Key {
                path: path.into(),
                key: if key == "." {
                    "(top level)".into()
                } else {
                    key
                },
                message: e.inner().to_string(),
            }
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let key = |key: &str, message: &str| {
            Err(ConfigError::Key {
                path: path.into(),
                key: key.into(),
                message: message.into(),
            })
        };
        if self.retention_days == 0 {
            return key("retention_days", "must be at least 1");
        }
        if self.state_ttl_minutes == 0 {
            return key("state_ttl_minutes", "must be at least 1");
        }
        for (name, v) in [
            (
                "escalation.realert_high_minutes",
                self.escalation.realert_high_minutes,
            ),
            (
                "escalation.realert_medium_minutes",
                self.escalation.realert_medium_minutes,
            ),
            (
                "escalation.remind_user_after_minutes",
                self.escalation.remind_user_after_minutes,
            ),
            ("rate_limit.burst", self.rate_limit.burst),
            ("rate_limit.per_minute", self.rate_limit.per_minute),
        ] {
            if v == 0 {
                return key(name, "must be at least 1");
            }
        }
        for (i, room) in self.moderators.rooms.iter().enumerate() {
            if room.platform.trim().is_empty() || room.conversation.trim().is_empty() {
                return key(
                    &format!("moderators.rooms[{i}]"),
                    "needs a platform and a conversation",
                );
            }
        }
        if let Some(m) = &self.adapters.matrix
            && !m.is_object()
        {
            return key(
                "adapters.matrix",
                "must be a mapping of the Matrix adapter's keys",
            );
        }
        Ok(())
    }

    /// The moderators' rooms, with the stdio default when none are configured.
    pub fn moderator_rooms(&self) -> Vec<Room> {
        if self.moderators.rooms.is_empty() {
            vec![Room {
                platform: "stdio".into(),
                conversation: "moderators".into(),
            }]
        } else {
            self.moderators.rooms.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("waymark.yaml"))
    }

    #[test]
    fn relative_paths_are_relative_to_the_config_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let sub = dir.path().join("etc");
        std::fs::create_dir(&sub).expect("mkdir");
        let file = sub.join("waymark.yaml");
        std::fs::write(&file, "data_dir: data\nknowledge: /abs/knowledge\n").expect("write");
        let c = Config::load(&file).expect("loads");
        assert_eq!(c.data_dir, sub.join("data"));
        assert_eq!(c.knowledge.as_deref(), Some(Path::new("/abs/knowledge")));
        std::fs::write(&file, "knowledge: kb\n").expect("write");
        let c = Config::load(&file).expect("loads");
        assert_eq!(c.data_dir, sub.join("waymark-data"));
        assert_eq!(c.knowledge, Some(sub.join("kb")));
    }

    #[test]
    fn empty_config_is_the_default() {
        assert_eq!(parse("").expect("empty"), Config::default());
        assert_eq!(parse("# nothing\n").expect("comment"), Config::default());
    }

    #[test]
    fn a_full_config_parses() {
        let c = parse(
            "data_dir: /var/lib/waymark\nretention_days: 14\nescalation:\n  realert_high_minutes: 5\nrate_limit: {burst: 3, per_minute: 6}\n\
moderators:\n  rooms: [{platform: stdio, conversation: mods}]\n  users: [{platform: stdio, user: lead}]\nadapters:\n  stdio: {enabled: true}\n",
        )
        .expect("parses");
        assert_eq!(c.retention_days, 14);
        assert_eq!(c.escalation.realert_high_minutes, 5);
        assert_eq!(c.escalation.realert_medium_minutes, 60);
        assert_eq!(c.moderator_rooms()[0].conversation, "mods");
        assert!(c.adapters.stdio.enabled);
    }

    #[test]
    fn adapter_sections_are_kept_for_their_crates() {
        let c =
            parse("adapters:\n  matrix: {homeserver: https://m.example, user: '@w:m.example'}\n")
                .expect("parses");
        let m = c.adapters.matrix.expect("kept");
        assert_eq!(m["homeserver"], "https://m.example");
        let e = parse("adapters:\n  matrix: yes\n")
            .expect_err("not a mapping")
            .to_string();
        assert!(e.contains("adapters.matrix"), "{e}");
    }

    #[test]
    fn bad_keys_are_named() {
        let e = parse("escalation:\n  realert_high_minutes: ten\n")
            .expect_err("bad type")
            .to_string();
        assert!(e.contains("`escalation.realert_high_minutes`"), "{e}");
        let e = parse("retention_dayz: 3\n")
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("retention_dayz"), "{e}");
        let e = parse("rate_limit: {burst: 0}\n")
            .expect_err("zero")
            .to_string();
        assert!(e.contains("`rate_limit.burst`"), "{e}");
        let e = parse("moderators:\n  rooms: [{platform: stdio}]\n")
            .expect_err("missing")
            .to_string();
        assert!(e.contains("moderators.rooms[0]"), "{e}");
        let e = parse("data_dir: [unclosed\n")
            .expect_err("syntax")
            .to_string();
        assert!(e.starts_with("waymark.yaml:"), "{e}");
    }
}
