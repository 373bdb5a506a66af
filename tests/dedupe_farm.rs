//! Near-duplicate detection measured against the feed farm's ground truth.
//!
//! `feedfarm.py` serves generated feeds in which ~10% of items are
//! cross-posts: another feed's article (same body, maybe a re-punctuated
//! title) under another URL, listed in its truth file. This test fetches
//! every feed over loopback, fingerprints each item's title and text, runs
//! `NearIndex` over the items in feed order, and compares the resulting
//! clusters with the truth: precision and recall of "is a duplicate of"
//! pairs, copies left, wrong merges. `YAOWEN_FARM_FEEDS=1000` also
//! measures the 1,000-feed farm (not by default, to keep CI quick).

use crate::common;

use common::farm::{http_get, start_farm, Farm};
use std::collections::{HashMap, HashSet};

use serde_json::Value;
use yaowen::process::canonical::canonical_url;
use yaowen::process::dedupe::{fingerprint, hamming, NearIndex, THRESHOLD};

/// Crude HTML to text, enough for the farm's `<p>` bodies.
fn strip_html(html: &str) -> String {
    let tags = regex::Regex::new(r"(?s)<[^>]*>").expect("valid regex");
    tags.replace_all(html, " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// One fetched item: (feed, guid) is how the truth names it.
struct FetchedItem {
    key: (u64, String),
    link: String,
    fingerprint: u64,
}

fn fetch_items(farm: &Farm, feeds: usize) -> Vec<FetchedItem> {
    let mut items = Vec::new();
    for feed in 0..feeds {
        let body = http_get(farm.port, &format!("/feed/{feed}.xml"))
            .unwrap_or_else(|e| panic!("feed {feed}: {e}"));
        let parsed = feed_rs::parser::parse(body.as_slice())
            .unwrap_or_else(|e| panic!("feed {feed} does not parse: {e}"));
        for entry in parsed.entries {
            let title = entry.title.map(|t| t.content).unwrap_or_default();
            let html = entry
                .content
                .and_then(|c| c.body)
                .or(entry.summary.map(|s| s.content))
                .unwrap_or_default();
            items.push(FetchedItem {
                key: (feed as u64, entry.id),
                link: entry
                    .links
                    .first()
                    .map(|l| l.href.clone())
                    .unwrap_or_default(),
                fingerprint: fingerprint(&title, &strip_html(&html)),
            });
        }
    }
    items
}

/// Cluster of each item (position of the first item of its group), in feed order.
fn cluster(items: &[FetchedItem]) -> Vec<usize> {
    let mut index = NearIndex::new();
    let mut clusters = Vec::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let found = index.find(item.fingerprint).and_then(|id| id.parse().ok());
        clusters.push(found.unwrap_or(position));
        index.insert(item.fingerprint, position.to_string());
    }
    clusters
}

/// Truth groups as lists of (feed, guid), plus each copy's link kind.
fn truth_groups(truth: &Value) -> Vec<Vec<((u64, String), String)>> {
    let groups = truth["groups"].as_array().expect("truth has groups");
    groups
        .iter()
        .map(|group| {
            group
                .as_array()
                .expect("group is a list")
                .iter()
                .map(|member| {
                    let feed = member["feed"].as_u64().expect("member feed");
                    let guid = member["guid"].as_str().expect("member guid").to_string();
                    let kind = member["link_kind"].as_str().unwrap_or("original");
                    ((feed, guid), kind.to_string())
                })
                .collect()
        })
        .collect()
}

fn pairs_of(groups: impl Iterator<Item = Vec<usize>>) -> HashSet<(usize, usize)> {
    let mut pairs = HashSet::new();
    for mut group in groups {
        group.sort_unstable();
        for (i, &a) in group.iter().enumerate() {
            for &b in &group[i + 1..] {
                pairs.insert((a, b));
            }
        }
    }
    pairs
}

struct Figures {
    items: usize,
    copies: usize,
    precision: f64,
    recall: f64,
    copies_left: usize,
    wrong_pairs: usize,
    /// Largest distance between two copies of one story (bits).
    widest_copy: u32,
    /// Smallest distance between two different stories (bits): the margin.
    closest_different: u32,
}

fn measure(feeds: usize) -> Figures {
    let dir = tempfile::tempdir().expect("temp dir");
    let truth_path = dir.path().join("truth.json");
    let farm = start_farm(feeds, &truth_path);
    let items = fetch_items(&farm, feeds);
    drop(farm);
    let truth: Value = serde_json::from_slice(&std::fs::read(&truth_path).expect("truth file"))
        .expect("truth is JSON");
    assert_eq!(items.len(), feeds * 20, "every base item fetched");

    let position: HashMap<&(u64, String), usize> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (&item.key, i))
        .collect();
    let groups: Vec<Vec<usize>> = truth_groups(&truth)
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|(key, _)| {
                    *position
                        .get(key)
                        .unwrap_or_else(|| panic!("{key:?} not fetched"))
                })
                .collect()
        })
        .collect();
    check_tracking_links_share_canonical_url(&truth, &items, &position);

    let clusters = cluster(&items);
    let mut predicted: HashMap<usize, Vec<usize>> = HashMap::new();
    for (item, &first) in clusters.iter().enumerate() {
        predicted.entry(first).or_default().push(item);
    }
    let true_pairs = pairs_of(groups.iter().cloned());
    let found_pairs = pairs_of(predicted.into_values());
    let right = found_pairs.intersection(&true_pairs).count();
    let copies_left = groups
        .iter()
        .map(|g| g.iter().map(|&i| clusters[i]).collect::<HashSet<_>>().len() - 1)
        .sum();
    Figures {
        items: items.len(),
        copies: groups.iter().map(|g| g.len() - 1).sum(),
        precision: ratio(right, found_pairs.len()),
        recall: ratio(right, true_pairs.len()),
        copies_left,
        wrong_pairs: found_pairs.len() - right,
        widest_copy: true_pairs
            .iter()
            .map(|&(a, b)| hamming(items[a].fingerprint, items[b].fingerprint))
            .max()
            .unwrap_or(0),
        closest_different: closest_different(&items, &true_pairs),
    }
}

/// Smallest distance over all pairs that are not copies of each other.
fn closest_different(items: &[FetchedItem], true_pairs: &HashSet<(usize, usize)>) -> u32 {
    let mut closest = 64;
    for (a, first) in items.iter().enumerate() {
        for (b, second) in items.iter().enumerate().skip(a + 1) {
            let distance = hamming(first.fingerprint, second.fingerprint);
            if distance < closest && !true_pairs.contains(&(a, b)) {
                closest = distance;
            }
        }
    }
    closest
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Copies whose link is the original's plus `utm_*` must canonicalise to it.
fn check_tracking_links_share_canonical_url(
    truth: &Value,
    items: &[FetchedItem],
    position: &HashMap<&(u64, String), usize>,
) {
    let mut checked = 0;
    for group in truth_groups(truth) {
        let Some(((original, _), rest)) = group.split_first() else {
            continue;
        };
        let original_url = canonical_url(&items[position[original]].link);
        for (key, kind) in rest.iter().filter(|(_, kind)| kind == "tracking_params") {
            let copy = &items[position[key]].link;
            assert_eq!(canonical_url(copy), original_url, "{kind} copy {copy}");
            checked += 1;
        }
    }
    assert!(checked > 0, "the farm made no tracking-parameter copies");
}

fn report(feeds: usize, f: &Figures) {
    println!(
        "feedfarm {feeds} feeds: {} items, {} cross-post copies; pairs precision {:.4} recall {:.4}; \
         copies left {}; wrongly merged pairs {}; widest copy {} bits, closest different stories {} bits \
         (threshold {THRESHOLD})",
        f.items,
        f.copies,
        f.precision,
        f.recall,
        f.copies_left,
        f.wrong_pairs,
        f.widest_copy,
        f.closest_different
    );
}

#[test]
fn every_cross_post_is_found_and_nothing_else_is_merged() {
    let figures = measure(200);
    report(200, &figures);
    assert!(
        figures.copies > 300,
        "the farm made too few copies to measure"
    );
    assert_eq!(figures.wrong_pairs, 0, "different stories merged");
    assert_eq!(figures.copies_left, 0, "cross-posts not found");
    assert_eq!(figures.recall, 1.0);
    assert_eq!(figures.precision, 1.0);
}

/// `YAOWEN_FARM_FEEDS=1000 cargo test --release --test dedupe_farm -- --nocapture`;
/// release mode because the margin figure compares all 200 million pairs.
#[test]
fn large_farm_when_asked() {
    let Ok(feeds) = std::env::var("YAOWEN_FARM_FEEDS") else {
        println!("YAOWEN_FARM_FEEDS not set: large farm not measured");
        return;
    };
    let feeds: usize = feeds.parse().expect("YAOWEN_FARM_FEEDS is a number");
    let figures = measure(feeds);
    report(feeds, &figures);
    assert_eq!(figures.wrong_pairs, 0, "different stories merged");
    assert_eq!(figures.copies_left, 0, "cross-posts not found");
}
