//! The store keeps what it is given, says clearly when it is locked, and
//! round-trips through export/import.

use chrono::{TimeZone, Utc};
use yaowen::model::{
    Curation, CurationState, Digest, DigestStatus, Item, SourceState, SummaryOrigin,
};
use yaowen::store::{Store, StoreError};

fn item(id: &str, url: &str, day: u32) -> Item {
    let published = Utc.with_ymd_and_hms(2022, 12, day, 2, 0, 0).single();
    Item {
        id: id.into(),
        source: "test".into(),
        url: url.into(),
        fetched_url: url.into(),
        guid: None,
        title: format!("标题 {id}"),
        author: None,
        published,
        first_seen: Utc
            .with_ymd_and_hms(2022, 12, 31, 0, 0, 0)
            .single()
            .unwrap_or_default(),
        text: "正文。".into(),
        html: None,
        summary: "摘要。".into(),
        summary_origin: SummaryOrigin::Extractive,
        fingerprint: 42,
        content_hash: 7,
        cluster: id.into(),
        also_at: vec![],
        tags: vec!["k8s".into()],
        image: None,
    }
}

/// Open the store at `path` again. sled lets go of its file lock a moment
/// after the last handle is dropped, so an open right after a close may
/// see the lock for a while.
fn reopen(path: &std::path::Path) -> Result<Store, StoreError> {
    let mut opened = Store::open(path);
    for _ in 0..100 {
        if !matches!(opened, Err(StoreError::Locked { .. })) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        opened = Store::open(path);
    }
    opened
}

/// A store as an older yaowen left it: `item` as JSON under its id, and
/// the schema version.
fn write_old_store(path: &std::path::Path, schema: u32, item: &Item) {
    let db = sled::open(path).expect("sled");
    db.open_tree("meta")
        .and_then(|meta| meta.insert("schema_version", schema.to_string().as_bytes()))
        .expect("meta");
    let json = serde_json::to_vec(item).expect("json");
    db.open_tree("items")
        .and_then(|items| items.insert(item.id.as_bytes(), json))
        .expect("item");
    db.flush().expect("flush");
}

/// The sled database under a closed store, to write what an older yaowen
/// or a crash left (see `reopen` for the wait).
fn open_raw(path: &std::path::Path) -> sled::Db {
    let mut opened = sled::open(path);
    for _ in 0..100 {
        if opened.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        opened = sled::open(path);
    }
    opened.expect("sled")
}

#[test]
fn a_second_open_of_the_same_store_is_refused_as_locked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let _first = Store::open(&path).expect("first open");
    match Store::open(&path) {
        Err(StoreError::Locked { path: locked }) => assert_eq!(locked, path),
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn items_are_found_by_id_url_and_date_range_after_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    {
        let store = Store::open(&path).expect("open");
        store
            .put_items(&[
                item("a", "https://example.org/a", 1),
                item("b", "https://example.org/b", 5),
                item("c", "https://example.org/c", 9),
            ])
            .expect("put");
        store.flush().expect("flush");
    }
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.item_count(), 3);
    assert_eq!(
        store.item("b").expect("get").map(|i| i.url),
        Some("https://example.org/b".into())
    );
    assert_eq!(
        store.item_id_by_url("https://example.org/c").expect("url"),
        Some("c".into())
    );
    let from = Utc
        .with_ymd_and_hms(2022, 12, 4, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let to = Utc
        .with_ymd_and_hms(2022, 12, 10, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let ids: Vec<String> = store
        .items_between(from, to)
        .expect("range")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, vec!["b", "c"]);
    let latest: Vec<String> = store
        .latest_items(2, |_| true)
        .expect("latest")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(latest, vec!["c", "b"]);
}

#[test]
fn changing_an_items_date_moves_it_in_the_date_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("db")).expect("open");
    store
        .put_items(&[item("a", "https://example.org/a", 1)])
        .expect("put");
    store
        .put_items(&[item("a", "https://example.org/a", 20)])
        .expect("put again");
    let all: Vec<_> = store.latest_items(10, |_| true).expect("latest");
    assert_eq!(all.len(), 1, "the old date key must be gone");
    assert_eq!(
        all[0].published.map(|p| p.format("%d").to_string()),
        Some("20".into())
    );
}

#[test]
fn export_then_import_restores_every_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = Store::open(&dir.path().join("one")).expect("open");
    source
        .put_items(&[
            item("a", "https://example.org/a", 1),
            item("b", "https://example.org/b", 2),
        ])
        .expect("put");
    let curation = Curation {
        state: CurationState::Pinned,
        title: Some("新标题".into()),
        ..Curation::default()
    };
    source.put_curation("a", &curation).expect("curation");
    source
        .put_source_state(
            "feed-1",
            &SourceState {
                etag: Some("\"v1\"".into()),
                failures: 2,
                ..SourceState::default()
            },
        )
        .expect("state");
    source
        .put_digest(&Digest {
            period: "2022-11-28".into(),
            status: DigestStatus::Published,
            items: vec!["a".into()],
            published_at: None,
            entries: Vec::new(),
        })
        .expect("digest");
    let mut dump = Vec::new();
    let counts = source.export(&mut dump).expect("export");
    assert_eq!(
        (
            counts.items,
            counts.curations,
            counts.sources,
            counts.digests
        ),
        (2, 1, 1, 1)
    );

    let target = Store::open(&dir.path().join("two")).expect("open target");
    let imported = target.import(&mut dump.as_slice()).expect("import");
    assert_eq!(imported, counts);
    assert_eq!(
        target.item("a").expect("get"),
        source.item("a").expect("get")
    );
    assert_eq!(target.curation("a").expect("get"), Some(curation));
    assert_eq!(target.source_state("feed-1").expect("state").failures, 2);
    assert_eq!(
        target
            .digest("2022-11-28")
            .expect("digest")
            .map(|d| d.status),
        Some(DigestStatus::Published)
    );
    assert_eq!(
        target.item_id_by_url("https://example.org/b").expect("url"),
        Some("b".into())
    );
}

#[test]
fn a_damaged_import_names_the_line_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = Store::open(&dir.path().join("one")).expect("open");
    source
        .put_items(&[item("a", "https://example.org/a", 1)])
        .expect("put");
    let mut dump = Vec::new();
    source.export(&mut dump).expect("export");
    dump.extend_from_slice(b"{\"kind\":\"item\",\"item\":{\"id\":\"broken\"}}\n");
    let target = Store::open(&dir.path().join("two")).expect("open target");
    let error = target.import(&mut dump.as_slice()).expect_err("must fail");
    assert!(error.to_string().starts_with("line 3:"), "{error}");
    assert_eq!(
        target.item_count(),
        0,
        "nothing is written from a damaged file"
    );
}

#[test]
fn a_damaged_data_file_is_reported_as_corrupt_not_silently_emptied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    {
        let store = Store::open(&path).expect("open");
        store
            .put_items(&[item("a", "https://example.org/a", 1)])
            .expect("put");
        store.flush().expect("flush");
    }
    let data = path.join("db");
    let length = std::fs::metadata(&data).expect("data file").len() as usize;
    std::fs::write(&data, vec![0x5a; length]).expect("overwrite");
    match Store::open(&path) {
        Err(StoreError::Corrupt { path: reported, .. }) => assert_eq!(reported, path),
        Ok(store) => panic!(
            "opened a damaged store holding {} items",
            store.item_count()
        ),
        Err(other) => panic!("expected Corrupt, got {other}"),
    }
}

#[test]
fn releasing_memory_reopens_the_store_with_everything_in_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let store = Store::open(&path).expect("open");
    store
        .put_items(&[item("a", "https://example.org/a", 1)])
        .expect("put");
    let held = store.items().count();
    store.release_memory().expect("reopen");
    assert_eq!(held, 1);
    assert_eq!(
        store.item("a").expect("get").map(|i| i.url),
        Some("https://example.org/a".into())
    );
    store
        .put_items(&[item("b", "https://example.org/b", 2)])
        .expect("put after reopen");
    store.flush().expect("flush");
    drop(store);
    let again = Store::open(&path).expect("open again");
    assert_eq!(again.item_count(), 2);
    // Still one process at a time.
    assert!(matches!(Store::open(&path), Err(StoreError::Locked { .. })));
}

#[test]
fn bodies_are_kept_apart_and_survive_writing_the_item_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("db")).expect("open");
    let mut full = item("a", "https://example.org/a", 1);
    full.text = "云原生社区年度总结。".repeat(200);
    full.html = Some("<p>云原生社区年度总结。</p>".into());
    store.put_items(std::slice::from_ref(&full)).expect("put");

    // Listing reads skip the body; asking for it gives it back whole.
    let listed = store.item("a").expect("read").expect("stored");
    assert!(listed.text.is_empty() && listed.html.is_none());
    assert_eq!(listed.title, full.title);
    assert_eq!(store.item_with_body("a").expect("read"), Some(full.clone()));

    // Writing back an item read without its body (as dedupe does when it
    // adds an `also_at`) keeps the body.
    let mut changed = listed;
    changed.also_at.push("https://mirror.example.org/a".into());
    store.put_items(&[changed]).expect("put back");
    let again = store.item_with_body("a").expect("read").expect("stored");
    assert_eq!(again.text, full.text);
    assert_eq!(
        again.also_at,
        vec!["https://mirror.example.org/a".to_string()]
    );

    // A new body replaces the old one.
    let mut edited = full.clone();
    edited.text = "新的正文。".into();
    edited.html = None;
    store.put_items(&[edited]).expect("put edited");
    let edited = store.item_with_body("a").expect("read").expect("stored");
    assert_eq!(edited.text, "新的正文。");
    assert_eq!(edited.html, None);
}

#[test]
fn a_schema_1_store_gets_its_bodies_moved_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let mut old = item("a", "https://example.org/a", 1);
    old.text = "旧版本把正文放在条目里。".repeat(50);
    // What yaowen with schema 1 wrote: the whole item, body included.
    write_old_store(&path, 1, &old);
    {
        let store = reopen(&path).expect("schema 1 is migrated, not refused");
        assert!(store
            .item("a")
            .expect("read")
            .expect("kept")
            .text
            .is_empty());
        assert_eq!(store.item_with_body("a").expect("read"), Some(old.clone()));
    }
    // Opening again finds the current schema and changes nothing.
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.item_with_body("a").expect("read"), Some(old));
}

#[test]
fn a_schema_2_store_with_json_items_is_read_and_written_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let mut old = item("a", "https://example.org/a", 1);
    old.text = String::new();
    // What yaowen with schema 2 wrote: items without their bodies, as JSON.
    write_old_store(&path, 2, &old);
    let store = reopen(&path).expect("schema 2 is read, not refused");
    assert_eq!(store.item("a").expect("read"), Some(old.clone()));
    // New and rewritten items go in the current format beside the old one.
    let mut changed = old.clone();
    changed.also_at.push("https://mirror.example.org/a".into());
    let newer = item("b", "https://example.org/b", 2);
    store
        .put_items(&[changed.clone(), newer.clone()])
        .expect("put");
    let listed: Vec<_> = store.items().collect::<Result<_, _>>().expect("list");
    assert_eq!(listed[0], changed);
    assert_eq!((listed[1].id.as_str(), listed[1].text.as_str()), ("b", ""));
    assert_eq!(store.item_with_body("b").expect("read"), Some(newer));
}

#[test]
fn date_index_entries_a_crash_left_behind_are_skipped() {
    // `write_batch` writes index entries before the items they name and
    // removes stale ones after: a crash in between leaves an entry for an
    // item not written yet, or for an item's old date.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let stored = item("a", "https://example.org/a", 3);
    {
        let store = Store::open(&path).expect("open");
        store.put_items(std::slice::from_ref(&stored)).expect("put");
        store.flush().expect("flush");
    }
    {
        // The date index's key: big-endian milliseconds with the sign bit
        // flipped, then the id.
        let key = |day: u32, id: &str| {
            let at = Utc.with_ymd_and_hms(2022, 12, day, 2, 0, 0).unwrap();
            let mut key = ((at.timestamp_millis() as u64) ^ (1 << 63))
                .to_be_bytes()
                .to_vec();
            key.extend_from_slice(id.as_bytes());
            key
        };
        let db = open_raw(&path);
        let by_date = db.open_tree("by_date").expect("tree");
        by_date.insert(key(5, "a"), vec![]).expect("stale");
        by_date.insert(key(6, "ghost"), vec![]).expect("ghost");
        db.flush().expect("flush");
    }
    let store = reopen(&path).expect("reopen");
    let from = Utc.with_ymd_and_hms(2022, 12, 1, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2022, 12, 31, 0, 0, 0).unwrap();
    let ids = |items: Vec<Item>| items.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(store.items_between(from, to).expect("range")), ["a"]);
    assert_eq!(
        ids(store.latest_items(10, |_| true).expect("latest")),
        ["a"]
    );
}

#[test]
fn a_near_duplicate_index_entry_without_its_item_does_not_split_a_story() {
    use yaowen::pipeline::ingest::{Candidate, IngestStats, Ingestor};
    // A crash after `write_batch` wrote the story index entry of "orig"
    // but before its item: "orig" is fetched again, after a copy of it.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let fingerprint: u64 = 0x0123_4567_89ab_cdef;
    drop(Store::open(&path).expect("create"));
    {
        let db = open_raw(&path);
        db.open_tree("heads")
            .and_then(|heads| heads.insert("orig", &fingerprint.to_be_bytes()))
            .expect("heads");
        db.flush().expect("flush");
    }
    let store = reopen(&path).expect("reopen");
    let mut original = item("orig", "https://example.org/orig", 1);
    original.fingerprint = fingerprint;
    let mut copy = item("copy", "https://mirror.example.net/copy", 2);
    copy.fingerprint = fingerprint ^ 1;
    let candidate = |item: &Item| Candidate {
        item: item.clone(),
        aliases: vec![],
        is_update: false,
    };
    let mut ingestor = Ingestor::new(&store).expect("ingestor");
    let mut stats = IngestStats::default();
    ingestor
        .commit(vec![candidate(&copy)], &mut stats)
        .expect("copy");
    ingestor
        .commit(vec![candidate(&original)], &mut stats)
        .expect("original");
    ingestor.flush(&[]).expect("write");
    let stored = |id: &str| store.item(id).expect("read").expect("stored");
    // One story, headed by the earlier-published original.
    assert_eq!(stored("orig").cluster, "orig");
    assert_eq!(stored("copy").cluster, "orig");
    assert_eq!(
        stored("orig").also_at,
        vec!["https://mirror.example.net/copy".to_string()]
    );
}
