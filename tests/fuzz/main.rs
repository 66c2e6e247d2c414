//! Mutation fuzzing of every wire format ioc reads: native JSON and
//! NDJSON, the DVCQG envelope and progress steps, the reference CSV files,
//! WebSocket requests and topics, and window parameters. Each target
//! starts from the committed corpus (`tests/fuzz/corpus/<target>/`),
//! mutates it (bit flips, hostile tokens, splices, cuts, deep nesting) and
//! asserts that the parser neither panics nor keeps more than its limit.
//!
//! Bounded in count and time: `IOC_FUZZ_ITERATIONS` inputs per target
//! (default 100,000) and at most `IOC_FUZZ_SECONDS` (default 20) each. The
//! generator is seeded (`IOC_FUZZ_SEED`), so a failure replays; a failing
//! input is written to `target/fuzz-failures/`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use ioc_aggregate::WindowSpec;
use ioc_core::{Catalog, Levels, LocalCalendar, UnitTree, UnitTreeBuilder};
use ioc_ingest::{dvcqg, native};

/// Records kept per batch in these tests.
const LIMIT: usize = 50;

/// Hostile fragments inserted into inputs.
const TOKENS: [&str; 22] = [
    "\"\\u0000\"",
    "\"\\u202e\"",
    "1e999999",
    "-0",
    "18446744073709551616",
    "-9223372036854775809",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "{\"a\":",
    "null",
    "\"code\"",
    "\"MaHoSo\"",
    "\"data\"",
    "\"0001-01-01T00:00:00Z\"",
    "\"+262143-01-01T00:00:00Z\"",
    "\"99991231235959\"",
    "\"00010101000000\"",
    ",,,",
    "\"\\ud800\"",
    "\u{feff}",
    "\r\n",
    "\"DanhSachLePhi\":[{\"Gia\":\"1e308\"}]",
    "0000-00-00..9999-99-99",
];

/// The seeded generator of the inputs.
struct Random(ioc_sim::Rng);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    let inputs: Vec<Vec<u8>> = entries
        .iter()
        .map(|p| std::fs::read(p).expect("corpus file"))
        .collect();
    assert!(!inputs.is_empty(), "no corpus in {}", dir.display());
    inputs
}

fn mutate(random: &mut Random, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=random.below(4) {
        let at = random.below(out.len() + 1);
        match random.below(7) {
            0 if !out.is_empty() => {
                let i = random.below(out.len());
                out[i] ^= 1 << random.below(8);
            }
            1 if !out.is_empty() => {
                let i = random.below(out.len());
                let bytes = b"\"\\[]{},:\x00\xff\n0-e";
                out[i] = bytes[random.below(bytes.len())];
            }
            2 => {
                let token = TOKENS[random.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            3 if !out.is_empty() => {
                let end = (at + random.below(64)).min(out.len());
                out.drain(at.min(end)..end);
            }
            4 if !out.is_empty() => {
                let start = random.below(out.len());
                let end = (start + random.below(256)).min(out.len());
                let copy = out[start..end].to_vec();
                out.splice(at..at, copy);
            }
            5 => {
                let other = &corpus[random.below(corpus.len())];
                let from = random.below(other.len());
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            _ => out.truncate(at),
        }
    }
    out
}

/// Runs `check` on mutations of `target`'s corpus; a panic fails the test
/// with the input that caused it.
fn fuzz(target: &str, check: impl Fn(&[u8])) {
    let inputs = corpus(target);
    let iterations = setting("IOC_FUZZ_ITERATIONS", 100_000);
    let budget = Duration::from_secs(setting("IOC_FUZZ_SECONDS", 20));
    let seed = setting("IOC_FUZZ_SEED", 0x1234_5678_9abc_def1) ^ target.len() as u64;
    let mut random = Random(ioc_sim::Rng::new(seed));
    let started = Instant::now();
    let mut done = 0;
    for input in &inputs {
        run_one(target, input, &check);
    }
    while done < iterations && started.elapsed() < budget {
        let pick = random.below(inputs.len());
        let input = mutate(&mut random, &inputs[pick], &inputs);
        run_one(target, &input, &check);
        done += 1;
    }
    println!("{target}: {done} mutated inputs in {:?}", started.elapsed());
}

fn run_one(target: &str, input: &[u8], check: &impl Fn(&[u8])) {
    if catch_unwind(AssertUnwindSafe(|| check(input))).is_err() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!("{target}-{:016x}", ioc_core::hash::fnv1a(input)));
        let _ = std::fs::write(&file, input);
        panic!(
            "{target}: the input in {} panicked: {:?}",
            file.display(),
            String::from_utf8_lossy(input)
        );
    }
}

fn tree() -> UnitTree {
    let levels = Levels::parse(&["province", "district", "commune"]).expect("levels");
    let mut builder = UnitTreeBuilder::new(levels);
    builder.read_units(
        "units",
        "code,name,level,parent_code\n70,Tỉnh,province,\n697,Bình Long,district,70\n25432,Phường Hưng Long,commune,697\n".as_bytes(),
    );
    builder.build().expect("tree")
}

#[test]
fn native_json_batches() {
    let tree = tree();
    fuzz("native", |input| {
        if let Ok(records) = native::read_json_array(input, LIMIT) {
            assert!(records.len() <= LIMIT);
            for (_, record) in records {
                if let Ok(element) = record {
                    let _ = native::from_element(&element, &tree);
                }
            }
        }
    });
}

#[test]
fn native_ndjson_batches() {
    let tree = tree();
    fuzz("ndjson", |input| {
        if let Ok(records) = native::read_ndjson(input, LIMIT) {
            assert!(records.len() <= LIMIT);
            let mut last = None;
            for (index, record) in records {
                assert!(last < Some(index), "positions ascend");
                last = Some(index);
                if let Ok(element) = record {
                    let _ = native::from_element(&element, &tree);
                }
            }
        }
    });
}

#[test]
fn dvcqg_envelopes_and_progress_steps() {
    let tree = tree();
    let map = std::collections::HashMap::new();
    let cx = dvcqg::Context {
        tree: &tree,
        calendar: LocalCalendar::default(),
        status_map: &map,
    };
    fuzz("dvcqg", |input| {
        if let Ok(envelope) = dvcqg::read(input, dvcqg::SYNC_SERVICE, &dvcqg::DOSSIER, LIMIT) {
            assert!(envelope.records.len() <= LIMIT);
            for record in &envelope.records {
                let _ = dvcqg::dossier(record, envelope.unit.as_deref(), &cx);
            }
        }
        if let Ok(envelope) = dvcqg::read(input, dvcqg::PROGRESS_SERVICE, &dvcqg::PROGRESS, LIMIT) {
            for record in &envelope.records {
                let _ = dvcqg::progress_step(record, &cx);
            }
        }
    });
}

#[test]
fn reference_csv_files() {
    let levels = Levels::parse(&["province", "district", "commune"]).expect("levels");
    fuzz("units_csv", |input| {
        let mut builder = UnitTreeBuilder::new(levels.clone());
        builder.read_units("units.csv", input);
        let _ = builder.build();
    });
    fuzz("catalog_csv", |input| {
        let _ = Catalog::read(&levels, vec![("catalog.csv".to_owned(), input)]);
    });
}

#[test]
fn websocket_requests_and_topics() {
    fuzz("ws", |input| {
        let text = String::from_utf8_lossy(input);
        let _ = ioc_stream::protocol::Request::parse(&text);
        for topic in text.split('"') {
            let _ = ioc_stream::Topic::parse(topic);
        }
    });
}

#[test]
fn window_parameters() {
    let calendar = LocalCalendar::default();
    let today = calendar.date_of(Utc::now());
    fuzz("window", |input| {
        for line in String::from_utf8_lossy(input).lines() {
            let spec = match line.split_once("..") {
                Some((from, to)) => match (from.parse::<NaiveDate>(), to.parse::<NaiveDate>()) {
                    (Ok(from), Ok(to)) => WindowSpec::range(from, to).ok(),
                    _ => None,
                },
                None => WindowSpec::parse(line).ok(),
            };
            if let Some(spec) = spec {
                let window = spec.resolve(today);
                let _ = spec.previous(today);
                let _ = window.shifted_back();
                let _ = window.cutoff(Utc::now(), &calendar);
            }
        }
    });
}
