//! The items tree's record: an item without its body, in a compact binary
//! form.
//!
//! The first format was JSON, which spells every field name, every date as
//! RFC 3339 text and every hash as a decimal number in every record: 826
//! bytes per item on the feed farm, 516 here. Generation reads every
//! record, and sled keeps every page it reads in memory, so those bytes
//! were the largest part of a cycle's peak memory. Here fields are positional
//! (postcard: varint lengths and integers), dates are seconds and
//! nanoseconds, and the two fields that usually repeat another (the
//! fetched URL, the story id) are left out when they do.
//!
//! Records written in JSON (schema 2 and before) start with `{` and are
//! still read, so an old store needs no rewrite.

use super::StoreError;
use crate::model::{Item, SummaryOrigin};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Leading byte of a postcard `Record`. JSON records start with `{`.
const TAG_POSTCARD: u8 = 1;

/// What is written: borrowed from the item, so encoding copies nothing
/// but the bytes out. Field order is the format: `Record` must match it.
#[derive(Serialize)]
struct RecordRef<'a> {
    id: &'a str,
    source: &'a str,
    url: &'a str,
    /// `None` when it is `url`.
    fetched_url: Option<&'a str>,
    guid: Option<&'a str>,
    title: &'a str,
    author: Option<&'a str>,
    published: Option<Instant>,
    first_seen: Instant,
    text: &'a str,
    html: Option<&'a str>,
    summary: &'a str,
    summary_origin: SummaryOrigin,
    fingerprint: u64,
    content_hash: u64,
    /// `None` when it is `id` (the item heads its own story).
    cluster: Option<&'a str>,
    also_at: &'a [String],
    tags: &'a [String],
    image: Option<&'a str>,
}

/// What is read: `RecordRef`'s fields in the same order.
#[derive(Deserialize)]
struct Record {
    id: String,
    source: String,
    url: String,
    fetched_url: Option<String>,
    guid: Option<String>,
    title: String,
    author: Option<String>,
    published: Option<Instant>,
    first_seen: Instant,
    text: String,
    html: Option<String>,
    summary: String,
    summary_origin: SummaryOrigin,
    fingerprint: u64,
    content_hash: u64,
    cluster: Option<String>,
    also_at: Vec<String>,
    tags: Vec<String>,
    image: Option<String>,
}

/// A UTC time as seconds since the epoch and nanoseconds.
#[derive(Serialize, Deserialize, Clone, Copy)]
struct Instant(i64, u32);

impl Instant {
    fn of(time: DateTime<Utc>) -> Self {
        Instant(time.timestamp(), time.timestamp_subsec_nanos())
    }

    fn time(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.0, self.1)
    }
}

/// The record of `item` (with whatever body it still carries).
pub(super) fn encode(item: &Item) -> Result<Vec<u8>, StoreError> {
    let record = RecordRef {
        id: &item.id,
        source: &item.source,
        url: &item.url,
        fetched_url: Some(item.fetched_url.as_str()).filter(|fetched| *fetched != item.url),
        guid: item.guid.as_deref(),
        title: &item.title,
        author: item.author.as_deref(),
        published: item.published.map(Instant::of),
        first_seen: Instant::of(item.first_seen),
        text: &item.text,
        html: item.html.as_deref(),
        summary: &item.summary,
        summary_origin: item.summary_origin,
        fingerprint: item.fingerprint,
        content_hash: item.content_hash,
        cluster: Some(item.cluster.as_str()).filter(|cluster| *cluster != item.id),
        also_at: &item.also_at,
        tags: &item.tags,
        image: item.image.as_deref(),
    };
    let mut out = Vec::with_capacity(256 + item.summary.len() + item.text.len());
    out.push(TAG_POSTCARD);
    postcard::to_extend(&record, out).map_err(|error| StoreError::Damaged {
        what: "item",
        key: item.id.clone(),
        detail: format!("cannot be encoded: {error}"),
    })
}

/// The item stored under `key`, from either record format.
pub(super) fn decode(key: &[u8], raw: &[u8]) -> Result<Item, StoreError> {
    let damaged = |detail: String| StoreError::Damaged {
        what: "item",
        key: String::from_utf8_lossy(key).into_owned(),
        detail,
    };
    match raw.split_first() {
        Some((&TAG_POSTCARD, packed)) => {
            let (record, rest): (Record, _) = postcard::take_from_bytes(packed)
                .map_err(|error| damaged(format!("not a readable record: {error}")))?;
            if !rest.is_empty() {
                return Err(damaged(format!("{} bytes after the record", rest.len())));
            }
            let out_of_range = || damaged("a date out of range".to_string());
            let published = match record.published {
                Some(instant) => Some(instant.time().ok_or_else(out_of_range)?),
                None => None,
            };
            let first_seen = record.first_seen.time().ok_or_else(out_of_range)?;
            Ok(Item {
                fetched_url: record.fetched_url.unwrap_or_else(|| record.url.clone()),
                cluster: record.cluster.unwrap_or_else(|| record.id.clone()),
                id: record.id,
                source: record.source,
                url: record.url,
                guid: record.guid,
                title: record.title,
                author: record.author,
                published,
                first_seen,
                text: record.text,
                html: record.html,
                summary: record.summary,
                summary_origin: record.summary_origin,
                fingerprint: record.fingerprint,
                content_hash: record.content_hash,
                also_at: record.also_at,
                tags: record.tags,
                image: record.image,
            })
        }
        Some((b'{', _)) => super::decode("item", key, raw),
        Some((tag, _)) => Err(damaged(format!("unknown record format {tag:#04x}"))),
        None => Err(damaged("empty record".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn item() -> Item {
        Item {
            id: "a1b2c3".into(),
            source: "云原生社区".into(),
            url: "https://example.com/post".into(),
            fetched_url: "https://example.com/post?utm_source=rss".into(),
            guid: Some("tag:example.com,2026:1".into()),
            title: "Kubernetes 1.35 发布".into(),
            author: Some("张伟".into()),
            published: Some(Utc.with_ymd_and_hms(2026, 11, 24, 8, 30, 0).unwrap()),
            first_seen: Utc.timestamp_opt(1_795_000_000, 123_456_789).unwrap(),
            text: String::new(),
            html: None,
            summary: "新版本带来了……".into(),
            summary_origin: SummaryOrigin::Source,
            fingerprint: u64::MAX - 7,
            content_hash: 42,
            cluster: "zz9".into(),
            also_at: vec!["https://mirror.example.org/p".into()],
            tags: vec!["k8s".into(), "发布".into()],
            image: Some("https://example.com/i.png".into()),
        }
    }

    #[test]
    fn every_field_survives_a_round_trip() {
        let item = item();
        let raw = encode(&item).unwrap();
        assert_eq!(decode(item.id.as_bytes(), &raw).unwrap(), item);
    }

    #[test]
    fn repeated_fields_are_left_out_and_come_back() {
        let mut item = item();
        item.fetched_url = item.url.clone();
        item.cluster = item.id.clone();
        item.published = None;
        item.guid = None;
        let raw = encode(&item).unwrap();
        assert_eq!(decode(item.id.as_bytes(), &raw).unwrap(), item);
        // An empty fetched URL is kept as it was, not turned into the URL.
        item.fetched_url = String::new();
        let raw = encode(&item).unwrap();
        assert_eq!(decode(item.id.as_bytes(), &raw).unwrap().fetched_url, "");
    }

    #[test]
    fn is_much_smaller_than_the_json_record() {
        // No field names, binary dates and hashes, no repeated URL: this
        // record is 274 bytes against JSON's 540.
        let item = item();
        let json = serde_json::to_vec(&item).unwrap();
        let raw = encode(&item).unwrap();
        assert!(
            raw.len() * 5 < json.len() * 3,
            "{} vs {} bytes",
            raw.len(),
            json.len()
        );
    }

    #[test]
    fn json_records_of_older_stores_are_still_read() {
        let item = item();
        let json = serde_json::to_vec(&item).unwrap();
        assert_eq!(decode(b"a1b2c3", &json).unwrap(), item);
    }

    #[test]
    fn damaged_records_are_errors_naming_the_key() {
        let raw = encode(&item()).unwrap();
        for bad in [
            &[][..],
            &[9, 1, 2][..],
            &raw[..raw.len() / 2],
            &[TAG_POSTCARD][..],
        ] {
            let error = decode(b"a1b2c3", bad).unwrap_err().to_string();
            assert!(error.contains("a1b2c3"), "{error}");
        }
        let mut longer = raw.clone();
        longer.push(0);
        assert!(decode(b"a1b2c3", &longer).is_err());
    }
}
