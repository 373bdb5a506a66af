//! Item bodies (article text and HTML), kept apart from items.
//!
//! Bodies are most of a store's bytes (about three quarters on the feed
//! farm) and almost nothing reads them: listing, dedupe and generation need
//! titles, dates, summaries and fingerprints. In their own tree, LZ4
//! compressed, they are written once and read only by search and export,
//! so sled (which keeps every page it touches in memory) touches far fewer
//! pages and writes fewer bytes.

use super::{StoreError, Trees};
use crate::model::Item;
use serde::{Deserialize, Serialize};

/// Leading byte of an encoded body: LZ4 block with the size prepended,
/// holding the JSON of `Body`. Another encoding gets another tag.
const TAG_LZ4_JSON: u8 = 1;

/// Bodies are at most the fetch limit in size; a larger declared size is
/// damage, not a body, and must not become an allocation.
const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Body {
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    html: Option<String>,
}

/// Where an item's body is kept: its first-seen time, then its id. A
/// cycle's new bodies then all go to the end of the tree, so writing them
/// touches a few pages instead of one page per body all over the tree
/// (sled keeps every touched page in memory, and reads evicted ones back).
/// `first_seen` never changes, so the key does not either.
pub(super) fn key(item: &Item) -> Vec<u8> {
    let mut key = super::time_prefix(item.first_seen).to_vec();
    key.extend_from_slice(item.id.as_bytes());
    key
}

/// Whether the item carries a body to store. An item read back from the
/// store carries none (see `Store::item`), and writing it back must leave
/// its stored body alone.
pub(super) fn has_body(item: &Item) -> bool {
    !item.text.is_empty() || item.html.is_some()
}

/// The item as kept in the items tree: everything but the body.
pub(super) fn without_body(item: &Item) -> Item {
    let Item {
        id,
        source,
        url,
        fetched_url,
        guid,
        title,
        author,
        published,
        first_seen,
        text: _,
        html: _,
        summary,
        summary_origin,
        fingerprint,
        content_hash,
        cluster,
        also_at,
        tags,
        image,
    } = item;
    Item {
        id: id.clone(),
        source: source.clone(),
        url: url.clone(),
        fetched_url: fetched_url.clone(),
        guid: guid.clone(),
        title: title.clone(),
        author: author.clone(),
        published: *published,
        first_seen: *first_seen,
        text: String::new(),
        html: None,
        summary: summary.clone(),
        summary_origin: *summary_origin,
        fingerprint: *fingerprint,
        content_hash: *content_hash,
        cluster: cluster.clone(),
        also_at: also_at.clone(),
        tags: tags.clone(),
        image: image.clone(),
    }
}

pub(super) fn encode(item: &Item) -> Result<Vec<u8>, StoreError> {
    #[derive(Serialize)]
    struct BodyRef<'a> {
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        html: Option<&'a str>,
    }
    let json = serde_json::to_vec(&BodyRef {
        text: &item.text,
        html: item.html.as_deref(),
    })
    .map_err(|source| StoreError::Encode {
        what: "body",
        source,
    })?;
    let mut out = Vec::with_capacity(json.len() / 2 + 8);
    out.push(TAG_LZ4_JSON);
    out.extend_from_slice(&lz4_flex::block::compress_prepend_size(&json));
    Ok(out)
}

/// Put a stored body into `item`.
pub(super) fn decode_into(item: &mut Item, raw: &[u8]) -> Result<(), StoreError> {
    let damaged = |detail: &str| StoreError::Damaged {
        what: "body",
        key: item.id.clone(),
        detail: detail.to_string(),
    };
    let (&tag, packed) = raw.split_first().ok_or_else(|| damaged("empty"))?;
    if tag != TAG_LZ4_JSON {
        return Err(damaged("unknown encoding"));
    }
    let size = packed
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| damaged("truncated"))?;
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if size > MAX_BODY_BYTES {
        return Err(damaged("declares an impossible size"));
    }
    let json = lz4_flex::block::decompress(&packed[4..], size)
        .map_err(|error| damaged(&error.to_string()))?;
    let body: Body = serde_json::from_slice(&json).map_err(|source| StoreError::Decode {
        what: "body",
        key: item.id.clone(),
        source,
    })?;
    item.text = body.text;
    item.html = body.html;
    Ok(())
}

/// Schema 1 kept bodies inside items: move them out. Safe to run again
/// after an interruption (items already moved carry no body).
pub(super) fn migrate_from_v1(trees: &Trees) -> Result<usize, StoreError> {
    let mut moved = 0;
    let mut items = sled::Batch::default();
    let mut bodies = sled::Batch::default();
    let mut pending = 0;
    for entry in trees.items.iter() {
        let (id, value) = entry?;
        let item: Item = super::records::decode(&id, &value)?;
        if !has_body(&item) {
            continue;
        }
        bodies.insert(key(&item), encode(&item)?);
        items.insert(id, super::records::encode(&without_body(&item))?);
        moved += 1;
        pending += 1;
        if pending == 1000 {
            trees.bodies.apply_batch(std::mem::take(&mut bodies))?;
            trees.items.apply_batch(std::mem::take(&mut items))?;
            pending = 0;
        }
    }
    // Bodies first: an interruption between the two leaves a body written
    // twice, never an item without its body.
    trees.bodies.apply_batch(bodies)?;
    trees.items.apply_batch(items)?;
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_bodies_are_errors_not_panics() {
        let mut item = crate::test_support::item("a", "title");
        item.text = "正文".repeat(100);
        let good = encode(&item).expect("encodes");
        for raw in [
            &[][..],
            &[9, 1, 2][..],
            &[TAG_LZ4_JSON, 1][..],
            &[TAG_LZ4_JSON, 255, 255, 255, 255, 0][..],
            &good[..good.len() / 2],
        ] {
            let mut target = item.clone();
            assert!(decode_into(&mut target, raw).is_err(), "{raw:?}");
        }
        let mut back = without_body(&item);
        assert!(back.text.is_empty());
        decode_into(&mut back, &good).expect("decodes");
        assert_eq!(back, item);
    }
}
