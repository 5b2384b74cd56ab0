//! The `waymark` binary: thin glue between the command line and the library.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use waymark::knowledge::{Audience, Level};
use waymark::state::{DEFAULT_TTL_SECS, StateStore};
use waymark::{ConversationState, Engine, EngineOptions, Knowledge};

/// waymark: guidance and signposting on child sexual abuse and exploitation, with hand-off to
/// trusted human moderators. With no command, starts the console chat on the bundled knowledge.
#[derive(Debug, Parser)]
#[command(name = "waymark", version, about, long_about = None)]
struct Cli {
    /// Read the knowledge base from this folder instead of the one built into the binary.
    #[arg(long, global = true, value_name = "DIR")]
    knowledge: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Chat in the terminal (console commands: /country XX, /audience practitioner, /debug, /help, /quit).
    Chat {
        /// Start as this audience: young_person, practitioner or moderator.
        #[arg(long)]
        audience: Option<String>,
        /// Start with this country (ISO code, e.g. GB).
        #[arg(long)]
        country: Option<String>,
    },
    /// Answer one message and exit.
    Ask {
        /// The message.
        text: String,
        /// Ask as this audience: young_person, practitioner or moderator.
        #[arg(long)]
        audience: Option<String>,
        /// Ask from this country (ISO code, e.g. GB).
        #[arg(long)]
        country: Option<String>,
        /// Print the reply as Markdown instead of rendering it.
        #[arg(long)]
        markdown: bool,
    },
    /// Read JSON Lines ({"text": …, "audience"?, "country"?, "user"?}) on stdin; write one decision per line.
    Classify {
        /// Also print why (rules and entries), the normalised text, the audience and every risk.
        #[arg(long)]
        explain: bool,
    },
    /// Measure the engine on a labelled file shaped like shared/eval/dev.yaml.
    Eval {
        /// The labelled messages (YAML).
        file: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Fail (exit 1) when a metric is below a value, e.g. --min risk_recall=0.97 (repeatable).
        #[arg(long = "min", value_name = "METRIC=VALUE", value_parser = waymark::eval::parse_min)]
        min: Vec<(String, f64)>,
        /// Measure the safety patterns alone, without the nearest-example net.
        #[arg(long)]
        patterns_only: bool,
    },
    /// Check a knowledge folder (default: the bundled one); print problems as path:line:column: message.
    Check {
        /// The knowledge folder to check.
        dir: Option<PathBuf>,
    },
    /// Run the bot: the adapters the config enables, the case store, moderators, timers.
    Run {
        /// The config file (YAML; every key is in the README).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Enable this adapter even if the config does not (`stdio`).
        #[arg(long, value_name = "NAME")]
        adapter: Vec<String>,
        /// The data directory (case store, pseudonymisation key); overrides the config.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Work with the case store.
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
}

#[derive(Debug, Subcommand)]
enum CasesCommand {
    /// Write every case, its notes and the audit log as JSON, for the lead moderator.
    Export {
        /// The config file, for its data directory.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The data directory; overrides the config.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Write to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// mimalloc: start-up and the lazy DFAs of the safety patterns allocate many small blocks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WAYMARK_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("waymark: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        None => chat(cli.knowledge, None, None),
        Some(Command::Chat { audience, country }) => chat(cli.knowledge, audience, country),
        Some(Command::Ask {
            text,
            audience,
            country,
            markdown,
        }) => {
            let engine = engine(
                cli.knowledge.as_ref(),
                EngineOptions {
                    escalation: false,
                    ..EngineOptions::default()
                },
            )?;
            let state = initial_state(audience, country)?;
            let decision = engine.decide(&text, &state);
            let text = if markdown {
                decision.reply
            } else {
                waymark::render::to_terminal(&decision.reply, std::io::stdout().is_terminal())
            };
            // A closed pipe (`waymark ask … | head`) is not an error worth a panic.
            match writeln!(std::io::stdout(), "{text}") {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
                _ => {}
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Classify { explain }) => {
            let engine = engine(cli.knowledge.as_ref(), EngineOptions::default())?;
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            waymark::classify::Classifier::new(&engine, explain)
                .run(stdin, stdout)
                .context("classify")?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Eval {
            file,
            json,
            min,
            patterns_only,
        }) => {
            let options = EngineOptions {
                similar_examples: !patterns_only,
                ..EngineOptions::default()
            };
            let engine = engine(cli.knowledge.as_ref(), options)?;
            let cases = waymark::eval::load(&file)?;
            let report = waymark::eval::run(&engine, &cases);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            let mut failed = false;
            for (name, threshold) in &min {
                let value = report.metrics.get(name).map(|r| r.value).unwrap_or(0.0);
                if value < *threshold {
                    eprintln!("eval: {name} = {value:.3} is below the minimum {threshold}");
                    failed = true;
                }
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Some(Command::Check { dir }) => {
            let dir = dir.or(cli.knowledge);
            let loaded = match &dir {
                Some(dir) => Knowledge::check_dir(dir)?,
                None => Knowledge::check_bundled(),
            };
            for problem in &loaded.problems {
                println!("{problem}");
            }
            let errors = loaded
                .problems
                .iter()
                .filter(|p| p.level == Level::Error)
                .count();
            let warnings = loaded.problems.len() - errors;
            match &loaded.knowledge {
                Some(k) => eprintln!(
                    "ok: {} entries, {} countries, {} safety categories ({warnings} warning(s))",
                    k.entries().len(),
                    k.countries().len(),
                    k.safety().len()
                ),
                None => eprintln!("{errors} error(s), {warnings} warning(s)"),
            }
            Ok(if errors > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Some(Command::Run {
            config,
            adapter,
            data,
        }) => run_bot(cli.knowledge, config, adapter, data),
        Some(Command::Cases {
            command:
                CasesCommand::Export {
                    config,
                    data,
                    output,
                },
        }) => {
            let config = load_config(config.as_deref())?;
            let dir = data.unwrap_or(config.data_dir);
            let path = dir.join("waymark.sqlite3");
            anyhow::ensure!(path.exists(), "no case store at {}", path.display());
            let store = waymark::runtime::store::Store::open(&path)?;
            let json = waymark::runtime::export(&store)?;
            let text = serde_json::to_string_pretty(&json)?;
            match output {
                Some(file) => write_private_file(&file, &(text + "\n"))
                    .with_context(|| format!("writing {}", file.display()))?,
                None => println!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes a file only its owner can read (case exports hold disclosures).
fn write_private_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

fn load_config(path: Option<&std::path::Path>) -> Result<waymark::config::Config> {
    Ok(match path {
        Some(path) => waymark::config::Config::load(path)?,
        None => waymark::config::Config::default(),
    })
}

/// `waymark run`: the runtime with the enabled adapters, until end of input or a signal.
fn run_bot(
    knowledge: Option<PathBuf>,
    config: Option<PathBuf>,
    adapters: Vec<String>,
    data: Option<PathBuf>,
) -> Result<ExitCode> {
    use std::sync::Arc;
    use waymark::runtime::{Clock, Runtime, deliver};

    #[cfg(feature = "matrix")]
    let config_folder = config
        .as_deref()
        .and_then(std::path::Path::parent)
        .filter(|f| !f.as_os_str().is_empty())
        .map(std::path::Path::to_path_buf);
    let mut config = load_config(config.as_deref())?;
    #[cfg(feature = "discord")]
    let mut discord_enabled = false;
    #[cfg(feature = "matrix")]
    let mut matrix_forced = false;
    for name in &adapters {
        match name.as_str() {
            "stdio" => config.adapters.stdio.enabled = true,
            #[cfg(feature = "discord")]
            "discord" => discord_enabled = true,
            #[cfg(feature = "matrix")]
            "matrix" => matrix_forced = true,
            other => anyhow::bail!(
                "--adapter: `{other}` is not an adapter in this build (available: {})",
                available_adapters()
            ),
        }
    }
    #[cfg(feature = "discord")]
    let discord = discord_settings(&config, discord_enabled)?;
    #[cfg(not(feature = "discord"))]
    let discord: Option<()> = None;
    #[cfg(feature = "matrix")]
    let matrix = matrix_settings(&mut config, matrix_forced, config_folder.as_deref())?;
    #[cfg(not(feature = "matrix"))]
    let matrix: Option<()> = {
        anyhow::ensure!(
            config.adapters.matrix.is_none(),
            "adapters.matrix: this build has no Matrix adapter (build with --features matrix)"
        );
        None
    };
    anyhow::ensure!(
        config.adapters.stdio.enabled || discord.is_some() || matrix.is_some(),
        "no adapter is enabled: pass --adapter {} or enable one in the config",
        available_adapters().replace(", ", "|")
    );
    if let Some(dir) = data {
        config.data_dir = dir;
    }
    let knowledge = knowledge.or(config.knowledge.clone());
    let engine = Arc::new(engine(knowledge.as_ref(), EngineOptions::default())?);
    let (store, key) = Runtime::open_data_dir(&config.data_dir)?;
    let delivery_store =
        waymark::runtime::store::Store::open(&config.data_dir.join("waymark.sqlite3"))?;
    let clock = Arc::new(Clock::default());
    let wake = Arc::new(tokio::sync::Notify::new());
    let rooms: Vec<(String, String)> = config
        .moderator_rooms()
        .into_iter()
        .map(|r| (r.platform, r.conversation))
        .collect();
    let runtime_stdio_enabled = config.adapters.stdio.enabled;
    let mut runtime = Runtime::new(
        engine,
        store,
        config,
        key,
        Arc::clone(&clock),
        Arc::clone(&wake),
    );

    let stdio_enabled = runtime_stdio_enabled;
    let adapter_failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let failed_flag = Arc::clone(&adapter_failed);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async move {
        let (events_tx, mut events) = tokio::sync::mpsc::channel(1024);
        let _ = &failed_flag; // set by adapters that can fail on their own (Discord)
        let mut handles = Vec::new();
        if stdio_enabled {
            let (jobs_tx, jobs_rx) = tokio::sync::mpsc::channel(64);
            let out: waymark_stdio::Output = Arc::new(std::sync::Mutex::new(std::io::stdout()));
            let stdin = tokio::io::BufReader::new(tokio::io::stdin());
            tokio::spawn(waymark_stdio::read_events(
                stdin,
                events_tx.clone(),
                Arc::clone(&out),
            ));
            tokio::spawn(waymark_stdio::write_actions(jobs_rx, out));
            handles.push(deliver::AdapterHandle {
                platform: waymark_stdio::PLATFORM.into(),
                capabilities: waymark_stdio::CAPABILITIES,
                jobs: jobs_tx,
            });
        }
        #[cfg(feature = "discord")]
        if let Some(settings) = discord {
            let capabilities = waymark_discord::capabilities(&settings);
            let (jobs_tx, jobs_rx) = tokio::sync::mpsc::channel(64);
            let events = events_tx.clone();
            let failed = Arc::clone(&failed_flag);
            tokio::spawn(async move {
                if let Err(e) = waymark_discord::run(settings, events.clone(), jobs_rx).await {
                    tracing::error!(error = %e, "the Discord adapter stopped");
                    failed.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                let _ = events.send(waymark_port::Event::Shutdown).await;
            });
            handles.push(deliver::AdapterHandle {
                platform: waymark_discord::PLATFORM.into(),
                capabilities,
                jobs: jobs_tx,
            });
        }
        #[cfg(feature = "matrix")]
        if let Some((settings, rooms)) = matrix {
            let client = waymark_matrix::Matrix::connect(&settings, rooms).await?;
            let (jobs_tx, jobs_rx) = tokio::sync::mpsc::channel(64);
            tokio::spawn(client.run(events_tx.clone(), jobs_rx));
            handles.push(deliver::AdapterHandle {
                platform: waymark_matrix::PLATFORM.into(),
                capabilities: waymark_matrix::CAPABILITIES,
                jobs: jobs_tx,
            });
        }
        tokio::spawn(shutdown_on_signal(events_tx));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let delivery = tokio::spawn(deliver::run(
            rooms,
            delivery_store,
            handles,
            clock,
            Arc::clone(&wake),
            stop_rx,
        ));
        // Pending work from before a restart: timers first, then the outbox resumes.
        runtime.run_timers()?;
        wake.notify_one();
        let mut timer = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            tokio::select! {
                event = events.recv() => {
                    let Some(event) = event else { break };
                    let stop = event == waymark_port::Event::Shutdown;
                    handle_with_retry(&mut runtime, event).await;
                    if stop {
                        break;
                    }
                }
                _ = timer.tick() => {
                    if let Err(e) = runtime.run_timers() {
                        tracing::error!(error = %e, "timers failed; will try again at the next tick");
                    }
                }
            }
        }
        let _ = stop_tx.send(true);
        let _ = delivery.await;
        Ok::<(), anyhow::Error>(())
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    result?;
    anyhow::ensure!(
        !adapter_failed.load(std::sync::atomic::Ordering::SeqCst),
        "an adapter stopped with an error (see the log above)"
    );
    Ok(ExitCode::SUCCESS)
}

/// Handles one event; a store error (disk full, locked) is retried with back-off rather than
/// stopping the bot, and an event that still fails is logged (without its text) and skipped.
async fn handle_with_retry(runtime: &mut waymark::runtime::Runtime, event: waymark_port::Event) {
    let mut delay = std::time::Duration::from_millis(200);
    for attempt in 1..=5 {
        match runtime.handle(event.clone()) {
            Ok(()) => return,
            Err(e) if attempt < 5 => {
                tracing::warn!(error = %e, attempt, "handling an event failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                tracing::error!(error = %e, "handling an event failed five times; it is skipped")
            }
        }
    }
}

/// The adapters in this build, for messages.
fn available_adapters() -> String {
    let mut names = vec!["stdio"];
    if cfg!(feature = "discord") {
        names.push("discord");
    }
    if cfg!(feature = "matrix") {
        names.push("matrix");
    }
    names.join(", ")
}

/// The Discord adapter's settings, when `--adapter discord` or the config enables it.
#[cfg(feature = "discord")]
fn discord_settings(
    config: &waymark::config::Config,
    forced: bool,
) -> Result<Option<waymark_discord::Settings>> {
    let parsed = match &config.adapters.discord {
        Some(value) => Some(waymark_discord::DiscordConfig::from_value(value.clone())?),
        None => None,
    };
    let Some(parsed) = parsed.filter(|c| forced || c.enabled) else {
        anyhow::ensure!(
            !forced,
            "--adapter discord needs an `adapters.discord` section in the config (at least application_id)"
        );
        return Ok(None);
    };
    let rooms: Vec<String> = config
        .moderators
        .rooms
        .iter()
        .filter(|r| r.platform == waymark_discord::PLATFORM)
        .map(|r| r.conversation.clone())
        .collect();
    Ok(Some(waymark_discord::Settings::resolve(
        &parsed,
        &rooms,
        |name| std::env::var(name).ok(),
    )?))
}

/// The Matrix adapter's config and its moderators' rooms, when `--adapter matrix` or the config
/// enables it. The adapter's own `moderator_rooms` and `moderators` are added to the core's
/// `moderators.rooms` and `moderators.users` (platform `matrix`), so that cases are announced there
/// and the listed users count as moderators. Relative paths in it are relative to `folder`, the
/// config file's folder.
#[cfg(feature = "matrix")]
fn matrix_settings(
    config: &mut waymark::config::Config,
    forced: bool,
    folder: Option<&std::path::Path>,
) -> Result<Option<(waymark_matrix::MatrixConfig, Vec<String>)>> {
    use waymark::config::{Member, Room};
    let Some(value) = config.adapters.matrix.clone() else {
        anyhow::ensure!(
            !forced,
            "--adapter matrix needs an `adapters.matrix` section in the config (homeserver, user, store_dir and secrets)"
        );
        return Ok(None);
    };
    let mut parsed = waymark_matrix::MatrixConfig::from_value(value)?;
    if let Some(folder) = folder {
        parsed.relative_to(folder);
    }
    if !parsed.enabled && !forced {
        return Ok(None);
    }
    let platform = waymark_matrix::PLATFORM;
    for conversation in &parsed.moderator_rooms {
        let room = Room {
            platform: platform.into(),
            conversation: conversation.clone(),
        };
        push_unique(&mut config.moderators.rooms, room);
    }
    for user in &parsed.moderators {
        let member = Member {
            platform: platform.into(),
            user: user.clone(),
        };
        push_unique(&mut config.moderators.users, member);
    }
    let rooms = waymark_matrix::matrix_rooms(
        config
            .moderators
            .rooms
            .iter()
            .map(|r| (r.platform.as_str(), r.conversation.as_str())),
    );
    Ok(Some((parsed, rooms)))
}

/// Adds an item to a list unless it is already there.
#[cfg(feature = "matrix")]
fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Turns SIGINT and SIGTERM into a graceful shutdown.
async fn shutdown_on_signal(events: tokio::sync::mpsc::Sender<waymark_port::Event>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("signal received: finishing pending work");
    let _ = events.send(waymark_port::Event::Shutdown).await;
}

fn engine(dir: Option<&PathBuf>, options: EngineOptions) -> Result<Engine> {
    let knowledge = match dir {
        Some(dir) => Knowledge::from_dir(dir)
            .with_context(|| format!("loading knowledge from {}", dir.display()))?,
        None => Knowledge::bundled().context("loading the bundled knowledge")?,
    };
    let engine = Engine::new(knowledge, options)?;
    // Compiling the safety patterns in the background: no message waits for one.
    drop(engine.warm_up());
    Ok(engine)
}

fn initial_state(audience: Option<String>, country: Option<String>) -> Result<ConversationState> {
    let mut state = ConversationState::default();
    if let Some(a) = audience {
        state.audience = Some(Audience::parse(&a).with_context(|| {
            format!("--audience: `{a}` is not young_person, practitioner or moderator")
        })?);
    }
    if let Some(c) = country {
        anyhow::ensure!(
            c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()),
            "--country: `{c}` is not an ISO code such as GB"
        );
        state.country = Some(c.to_ascii_uppercase());
    }
    Ok(state)
}

const CONSOLE_HELP: &str = "Console commands: /country XX (set your country), /audience young_person|practitioner|moderator, \
/debug (show why the bot answered as it did), /help, /quit";

/// The console chat: one user, stdin and stdout, replies drawn as a chat platform would.
fn chat(
    dir: Option<PathBuf>,
    audience: Option<String>,
    country: Option<String>,
) -> Result<ExitCode> {
    let engine = engine(
        dir.as_ref(),
        EngineOptions {
            escalation: false,
            ..EngineOptions::default()
        },
    )?;
    let interactive = std::io::stdin().is_terminal();
    let ansi = std::io::stdout().is_terminal();
    let mut states: StateStore<()> = StateStore::new(DEFAULT_TTL_SECS);
    states.put((), initial_state(audience, country)?, now());
    let mut out = std::io::stdout().lock();
    let mut debug = false;
    writeln!(
        out,
        "waymark: ask me anything about staying safe online and off. Type /help for console commands, /quit to leave."
    )?;
    let mut stdin = std::io::stdin().lock();
    let mut buf = Vec::new();
    loop {
        if interactive {
            write!(out, "\nyou> ")?;
            out.flush()?;
        }
        buf.clear();
        if stdin.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut state = states.get(&(), now());
        if let Some(command) = line.strip_prefix('/') {
            let mut parts = command.split_whitespace();
            let name = parts.next().unwrap_or("");
            let arg = parts.next().unwrap_or("");
            match name {
                "quit" | "exit" | "q" => break,
                "help" => writeln!(out, "{CONSOLE_HELP}")?,
                "debug" => {
                    debug = !debug;
                    writeln!(out, "debug {}", if debug { "on" } else { "off" })?;
                }
                "country" => match engine.knowledge().country(arg) {
                    Some(c) => {
                        state.country = Some(c.code.clone());
                        writeln!(out, "Country set to {} ({}).", c.name, c.code)?;
                    }
                    None if arg.len() == 2 => {
                        state.country = Some(arg.to_ascii_uppercase());
                        writeln!(
                            out,
                            "Country set to {}; I have no helpline file for it, so I'll show international services.",
                            arg.to_ascii_uppercase()
                        )?;
                    }
                    None => writeln!(
                        out,
                        "Usage: /country XX, with an ISO code such as GB, US, KE."
                    )?,
                },
                "audience" => match Audience::parse(arg) {
                    Some(a) => {
                        state.audience = Some(a);
                        writeln!(out, "Audience set to {}.", a.as_str())?;
                    }
                    None => writeln!(out, "Usage: /audience young_person|practitioner|moderator")?,
                },
                _ => writeln!(out, "Unknown console command. {CONSOLE_HELP}")?,
            }
            states.put((), state, now());
            out.flush()?;
            continue;
        }
        let decision = engine.decide(line, &state);
        writeln!(
            out,
            "\nwaymark>\n{}",
            waymark::render::to_terminal(&decision.reply, ansi)
        )?;
        if debug {
            let risk = decision
                .risk
                .map(|r| format!("{} ({})", r.category.as_str(), r.severity.as_str()));
            writeln!(
                out,
                "\n[debug] intent={} risk={} escalate={} entries=[{}] country={} audience={}\n[debug] normalised: {}\n[debug] {}",
                decision.intent.as_str(),
                risk.as_deref().unwrap_or("none"),
                decision.escalate,
                decision.entries.join(", "),
                decision.country.as_deref().unwrap_or("none"),
                decision.audience.as_str(),
                decision.normalized,
                decision.why.join("\n[debug] ")
            )?;
        }
        out.flush()?;
        states.put((), decision.state, now());
    }
    Ok(ExitCode::SUCCESS)
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}
