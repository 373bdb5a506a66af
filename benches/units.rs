//! The two per-item kernels: the SimHash index lookup at 100,000 stories
//! and the extractive summariser on a Chinese and an English article (from
//! the readability test pages in `../shared/corpora`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;
use yaowen::process::dedupe::NearIndex;
use yaowen::process::summary::summarise;
use yaowen::text::html::to_text;

/// xorshift64: spread, deterministic fingerprints.
fn fingerprints(count: usize, mut seed: u64) -> Vec<u64> {
    (0..count)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        })
        .collect()
}

fn near_index(c: &mut Criterion) {
    let stored = fingerprints(100_000, 0x2545_F491_4F6C_DD1D);
    let mut index = NearIndex::new();
    for (n, fingerprint) in stored.iter().enumerate() {
        index.insert(*fingerprint, format!("item-{n}"));
    }
    let misses = fingerprints(1_000, 0x1234_5678_9ABC_DEF1);
    // A stored fingerprint with 3 bits flipped: a near duplicate.
    let hits: Vec<u64> = stored
        .iter()
        .step_by(100)
        .map(|f| f ^ 0b1001_0000_0001)
        .collect();
    let mut group = c.benchmark_group("near_index_100k");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("lookup_1000_new_stories", |b| {
        b.iter(|| misses.iter().filter(|f| index.find(**f).is_some()).count())
    });
    group.bench_function("lookup_1000_near_duplicates", |b| {
        b.iter(|| hits.iter().filter(|f| index.find(**f).is_some()).count())
    });
    group.finish();
}

fn article(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora/readability-testpages/test/test-pages")
        .join(name)
        .join("expected.html");
    let html = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("corpus page {} missing: {e}", path.display()));
    to_text(&html)
}

fn summariser(c: &mut Criterion) {
    let chinese = article("gmw");
    let english = article("guardian-1");
    let mut group = c.benchmark_group("summarise");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    for (name, text) in [("chinese_gmw", &chinese), ("english_guardian", &english)] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| b.iter(|| summarise(None, black_box(text), 120)));
    }
    group.finish();
}

criterion_group!(benches, near_index, summariser);
criterion_main!(benches);
