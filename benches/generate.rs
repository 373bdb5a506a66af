//! Writing every output (digest pages in Markdown and HTML, the index, the
//! RSS/Atom feeds) from a store of 100,000 items spread over two years of
//! weekly digests, as `yaowen generate` and every changed cycle do.

use chrono::{DateTime, Duration as ChronoDuration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::path::Path;
use std::time::Duration;
use yaowen::config::Config;
use yaowen::generate::generate;
use yaowen::model::{Item, SummaryOrigin};
use yaowen::store::Store;

const ITEMS: usize = 100_000;
const SPAN_DAYS: i64 = 730;

const ZH: &[&str] = &[
    "云原生",
    "社区",
    "发布",
    "版本",
    "服务网格",
    "容器",
    "调度",
    "安全",
    "可观测性",
    "集群",
    "开源",
    "项目",
    "大会",
    "演讲",
    "新功能",
    "修复",
    "性能",
    "存储",
    "网络",
    "升级",
];
const EN: &[&str] = &[
    "kubernetes",
    "release",
    "cluster",
    "security",
    "mesh",
    "gateway",
    "operator",
    "storage",
    "network",
    "upgrade",
    "community",
    "project",
    "feature",
    "fix",
    "performance",
    "cloud",
];

/// A deterministic item: every tenth one is a copy folded into the story
/// before it (not shown), the rest head their own story.
fn item(n: usize, start: DateTime<Utc>) -> Item {
    let mut seed = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut word = |list: &[&'static str]| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        list[(seed % list.len() as u64) as usize]
    };
    let chinese = n.is_multiple_of(2);
    let (title, text) = if chinese {
        let title: String = (0..6).map(|_| word(ZH)).collect();
        let text: String = (0..120)
            .map(|i| if i % 12 == 11 { "。" } else { word(ZH) })
            .collect();
        (title, text)
    } else {
        let title: Vec<&str> = (0..7).map(|_| word(EN)).collect();
        let text: Vec<&str> = (0..150).map(|_| word(EN)).collect();
        (title.join(" "), text.join(" ") + ".")
    };
    let id = format!("{n:016x}");
    let cluster = if n % 10 == 9 {
        format!("{:016x}", n - 1)
    } else {
        id.clone()
    };
    let published = start + ChronoDuration::seconds((n as i64) * SPAN_DAYS * 86_400 / ITEMS as i64);
    Item {
        url: format!("https://site{}.example.org/post/{n}", n % 97),
        fetched_url: format!("https://site{}.example.org/post/{n}?utm_source=rss", n % 97),
        guid: Some(format!("guid-{n}")),
        summary: text.chars().take(120).collect(),
        title,
        text,
        html: None,
        author: Some("editor".into()),
        published: Some(published),
        first_seen: published + ChronoDuration::minutes(30),
        summary_origin: SummaryOrigin::Extractive,
        fingerprint: seed,
        content_hash: seed.rotate_left(7),
        also_at: Vec::new(),
        tags: vec!["cloud-native".into()],
        image: None,
        source: format!("source-{}", n % 200),
        cluster,
        id,
    }
}

fn filled_store(dir: &Path) -> Store {
    let store = Store::open(&dir.join("db")).expect("store");
    let start = Utc
        .with_ymd_and_hms(2023, 1, 2, 0, 0, 0)
        .single()
        .expect("a valid date");
    let items: Vec<Item> = (0..ITEMS).map(|n| item(n, start)).collect();
    for chunk in items.chunks(1000) {
        store.put_items(chunk).expect("put items");
    }
    store.flush().expect("flush");
    store
}

fn config(dir: &Path, output: &str) -> Config {
    let text = format!(
        "[store]\npath = \"db\"\n[output]\ndir = \"{output}\"\n[digest]\nperiod = \"weekly\"\n[feed]\nitems = 50\n"
    );
    Config::from_toml_str(&text, dir.join("config.toml")).expect("bench config")
}

fn generation(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = filled_store(dir.path());
    assert_eq!(store.item_count(), ITEMS);
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(ITEMS as u64));
    // Every page and feed into an empty directory.
    let mut fresh = 0;
    group.bench_function("all_outputs_100k_items_empty_dir", |b| {
        b.iter_batched(
            || {
                fresh += 1;
                config(dir.path(), &format!("public-{fresh}"))
            },
            |config| generate(&config, &store).expect("generate"),
            BatchSize::PerIteration,
        )
    });
    // The same again over outputs already written (what a cycle does).
    let current = config(dir.path(), "public");
    generate(&current, &store).expect("generate");
    group.bench_function("all_outputs_100k_items_unchanged", |b| {
        b.iter(|| generate(&current, &store).expect("generate"))
    });
    group.finish();
}

criterion_group!(benches, generation);
criterion_main!(benches);
