//! Items per second through the whole ingest path, as a fetch cycle runs it:
//! decode → parse → identity/clean/summarise (`prepare`) → dedupe and store
//! (`Ingestor::commit`, one batch per feed) into a fresh sled store.
//!
//! Input: 50 feeds × 20 items (1,000 items, Chinese and English, ~10%
//! cross-posts) served once by `../shared/tools/feedfarm.py` and kept in
//! memory, so the measurement holds no network time.

use chrono::Utc;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::time::Duration;
use yaowen::pipeline::ingest::{prepare, IngestContext, IngestStats, Ingestor};
use yaowen::source::feed::{parse, FeedContext};
use yaowen::store::Store;
use yaowen::text::decode::decode;

const FEEDS: usize = 50;
const ITEMS: usize = 20;

// The same farm fixture the tests use.
#[path = "../tests/common/farm.rs"]
mod farm;

/// Every farm feed's bytes with the URL it was served from.
fn farm_feeds() -> Vec<(String, Vec<u8>)> {
    let truth =
        std::env::temp_dir().join(format!("yaowen-bench-truth-{}.json", std::process::id()));
    let farm = farm::start_farm(FEEDS, &truth);
    let _ = std::fs::remove_file(&truth);
    (0..FEEDS)
        .map(|i| {
            let path = format!("/feed/{i}.xml");
            let body = farm::http_get(farm.port, &path).expect("farm feed");
            (format!("http://127.0.0.1:{}{path}", farm.port), body)
        })
        .collect()
}

/// One cycle's CPU and store work for every feed; returns items stored.
fn ingest_all(store: &Store, feeds: &[(String, Vec<u8>)]) -> usize {
    let mut ingestor = Ingestor::new(store).expect("ingestor");
    let mut stored = 0;
    for (n, (url, body)) in feeds.iter().enumerate() {
        let text = decode(body, Some("application/xml")).text;
        let ctx = FeedContext {
            url,
            timezone: chrono_tz::Asia::Shanghai,
        };
        let parsed = parse(&text, &ctx).expect("farm feeds parse");
        let source = format!("farm-{n}");
        let ingest = IngestContext {
            source: &source,
            summary_chars: 120,
            tags: &[],
            now: Utc::now(),
        };
        let mut stats = IngestStats::default();
        let candidates = prepare(store, &ingest, parsed.entries, &mut stats).expect("prepare");
        stored += ingestor
            .commit(candidates, &mut stats)
            .expect("commit")
            .len();
    }
    ingestor.flush(&[]).expect("flush");
    stored
}

fn pipeline(c: &mut Criterion) {
    let feeds = farm_feeds();
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements((FEEDS * ITEMS) as u64));
    group.bench_function("decode_parse_prepare_dedupe_store_1000_items", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let store = Store::open(&dir.path().join("db")).expect("store");
                (dir, store)
            },
            |(dir, store)| {
                let stored = ingest_all(&store, &feeds);
                assert!(stored >= FEEDS * ITEMS * 8 / 10, "stored {stored}");
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    // The second pass over unchanged content: identity and content hash
    // only, no summarising, nothing written.
    group.bench_function("unchanged_1000_items", |b| {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("db")).expect("store");
        ingest_all(&store, &feeds);
        b.iter(|| ingest_all(&store, &feeds))
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
