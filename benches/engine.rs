//! Benchmarks of the engine on the messages of the development set.
//!
//! `cargo bench` runs criterion on: deciding every dev-set message (one thread), a bare tantivy
//! query on the same index (the floor), loading the bundled knowledge and building the index.
//! It then prints the mean, p50, p99 and max time per message and messages per second.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use waymark::{ConversationState, Engine, EngineOptions, Knowledge};

/// The allocator the `waymark` binary uses, so that the numbers are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn messages() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eval/dev.yaml"))
        .expect("tests/eval/dev.yaml");
    waymark::eval::load_str(&text)
        .expect("dev set parses")
        .into_iter()
        .map(|c| c.text)
        .collect()
}

/// Messages the engine has never seen: every blind holdout set, without the dev set's texts.
fn fresh_messages() -> Vec<String> {
    let dev: std::collections::HashSet<String> = messages().into_iter().collect();
    let mut seen = std::collections::HashSet::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/eval");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/eval")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("holdout"))
        })
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).expect("holdout set");
            waymark::eval::load_str(&text).expect("holdout set parses")
        })
        .map(|c| c.text)
        .filter(|t| !dev.contains(t) && seen.insert(t.clone()))
        .collect()
}

fn engine() -> Engine {
    Engine::new(
        Knowledge::bundled().expect("bundled knowledge"),
        EngineOptions::default(),
    )
    .expect("engine")
}

fn benches(c: &mut Criterion) {
    let engine = engine();
    let messages = messages();
    let normalized: Vec<String> = messages
        .iter()
        .map(|m| waymark::normalize::normalize(m))
        .collect();
    let state = ConversationState::default();

    let mut group = c.benchmark_group("dev-set");
    group.throughput(Throughput::Elements(messages.len() as u64));
    group.bench_function("engine.decide (all messages)", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(engine.decide(black_box(m), &state));
            }
        })
    });
    group.bench_function("normalise only (all messages)", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(waymark::normalize::normalize(black_box(m)));
            }
        })
    });
    let rules = engine.knowledge().rules().clone();
    group.bench_function("safety rules only (all messages)", |b| {
        b.iter(|| {
            for n in &normalized {
                black_box(rules.hits(black_box(n)));
            }
        })
    });
    group.bench_function("bare tantivy query (all messages)", |b| {
        b.iter(|| {
            for n in &normalized {
                black_box(engine.index().bare_query(black_box(n)));
            }
        })
    });
    group.finish();

    c.bench_function("load bundled knowledge + build index", |b| {
        b.iter(|| black_box(engine_fresh()))
    });
    let knowledge = Knowledge::bundled().expect("bundled");
    c.bench_function("build index only", |b| {
        b.iter(|| black_box(waymark::index::KnowledgeIndex::build(&knowledge)))
    });
}

fn engine_fresh() -> Engine {
    engine()
}

/// Prints mean, p50, p99 and max of a list of times.
fn summary(label: &str, mut times: Vec<Duration>, total: Duration) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "\n{label}: per message over {} decisions (one thread):",
        times.len()
    );
    println!(
        "  mean {:?}  p50 {:?}  p99 {:?}  max {:?}",
        mean,
        at(0.5),
        at(0.99),
        at(1.0)
    );
    println!(
        "  {:.0} messages/second",
        times.len() as f64 / total.as_secs_f64()
    );
}

/// Latency on messages never seen before, each decided once (after one pass over the dev set):
/// what a user's new message costs, with the patterns it is the first to need compiled then.
fn fresh() {
    let engine = engine();
    let state = ConversationState::default();
    // As the binary does at start: every pattern compiled (once per process), so that what is
    // measured is a new message, not a pattern's first use.
    if let Some(warm_up) = engine.warm_up() {
        warm_up.join().expect("the patterns compile");
    }
    for m in &messages() {
        black_box(engine.decide(m, &state));
    }
    let fresh = fresh_messages();
    let mut times = Vec::with_capacity(fresh.len());
    let start = Instant::now();
    for m in &fresh {
        let t = Instant::now();
        black_box(engine.decide(black_box(m), &state));
        times.push(t.elapsed());
    }
    summary(
        "engine.decide on new messages (the holdout sets, each once)",
        times,
        start.elapsed(),
    );
}

/// Per-message latency distribution, measured message by message.
fn percentiles(label: &str, options: EngineOptions) {
    let engine =
        Engine::new(Knowledge::bundled().expect("bundled knowledge"), options).expect("engine");
    let messages = messages();
    let state = ConversationState::default();
    for m in &messages {
        black_box(engine.decide(m, &state));
    }
    let mut times: Vec<Duration> = Vec::with_capacity(messages.len() * 50);
    let start = Instant::now();
    for _ in 0..50 {
        for m in &messages {
            let t = Instant::now();
            black_box(engine.decide(black_box(m), &state));
            times.push(t.elapsed());
        }
    }
    let total = start.elapsed();
    if std::env::var_os("WAYMARK_BENCH_SLOWEST").is_some() {
        // The slowest messages, by their median time over the passes.
        let mut per: Vec<(Duration, &String)> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut mine: Vec<Duration> = times
                    .iter()
                    .skip(i)
                    .step_by(messages.len())
                    .copied()
                    .collect();
                mine.sort();
                (mine[mine.len() / 2], m)
            })
            .collect();
        per.sort_by_key(|p| std::cmp::Reverse(p.0));
        for (t, m) in per.iter().take(8) {
            println!("  {t:?}  {}", m.chars().take(90).collect::<String>());
        }
    }
    summary(label, times, total);
}

fn main() {
    // WAYMARK_BENCH_QUICK=1 skips criterion and prints only the per-message distributions.
    if std::env::var_os("WAYMARK_BENCH_QUICK").is_none() {
        let mut criterion = Criterion::default().configure_from_args();
        benches(&mut criterion);
        criterion.final_summary();
    }
    percentiles("engine.decide", EngineOptions::default());
    percentiles(
        "engine.decide without the nearest-example net",
        EngineOptions {
            similar_examples: false,
            ..EngineOptions::default()
        },
    );
    fresh();
}
