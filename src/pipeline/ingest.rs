//! Turning a source's raw entries into stored items: identity, cleaning,
//! summarising, exact and near-duplicate detection. The CPU-heavy part
//! (`prepare`) runs per source in parallel; `Ingestor::commit` runs one
//! source at a time so "the first item of a story" is well defined.

use crate::model::{Item, RawEntry, SourceState};
use crate::process::{canonical, dedupe, summary};
use crate::store::{Store, StoreError};
use crate::text::{html, mojibake, sentences};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// What processing needs to know about the source.
#[derive(Debug, Clone)]
pub struct IngestContext<'a> {
    pub source: &'a str,
    pub summary_chars: usize,
    pub tags: &'a [String],
    pub now: DateTime<Utc>,
}

/// An entry turned into an item, ready for dedupe and storage.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub item: Item,
    /// Other canonical URLs that should resolve to this item.
    pub aliases: Vec<String>,
    /// The item existed already (its content changed).
    pub is_update: bool,
}

/// What happened to one source's entries.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestStats {
    pub entries: usize,
    pub new_items: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Same canonical URL as an item stored under another id.
    pub exact_duplicates: usize,
    /// A near-duplicate of a story stored earlier (kept, clustered).
    pub near_duplicates: usize,
    /// Entries left out, each with the reason.
    pub skipped: Vec<String>,
}

/// Clean, identify and summarise entries. Unchanged items are dropped here,
/// so they cost no summarising.
pub fn prepare(
    store: &Store,
    ctx: &IngestContext<'_>,
    entries: Vec<RawEntry>,
    stats: &mut IngestStats,
) -> Result<Vec<Candidate>, StoreError> {
    let mut out = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        stats.entries += 1;
        let fetched_url = entry.link.clone().unwrap_or_default();
        let canonical_link = entry.link.as_deref().and_then(canonical::canonical_url);
        let raw_text = entry
            .content
            .as_deref()
            .or(entry.summary.as_deref())
            .map(clean_html)
            .unwrap_or_default();
        // Titles arrive as text (sources strip markup from HTML-typed
        // titles): `<CSI>` in a title is words, not a tag.
        let title = entry
            .title
            .as_deref()
            .map(clean_text)
            .filter(|t| !t.is_empty())
            .or_else(|| first_sentence(&raw_text))
            .or_else(|| canonical_link.clone());
        let (Some(title), Some(url)) = (title, canonical_link.clone()) else {
            stats
                .skipped
                .push(format!("entry {}: no usable link", index + 1));
            continue;
        };
        let title = one_line(&title);
        let id = match &entry.identity {
            // A source that knows the story's identity across URLs (WeChat)
            // names it; the id is then the same whichever URL was seen.
            Some(identity) => canonical::item_id("", Some(identity), None, "", None),
            None => canonical::item_id(
                ctx.source,
                entry.guid.as_deref(),
                Some(&url),
                &title,
                entry.published,
            ),
        };
        if store.tombstone(&id)?.is_some() || store.tombstone(&url)?.is_some() {
            stats
                .skipped
                .push(format!("entry {}: removed earlier", index + 1));
            continue;
        }
        // A feed with only a description gives it as the text too: clean
        // it once.
        let summary_source = match (&entry.content, &entry.summary) {
            (None, Some(_)) => Some(raw_text.clone()),
            (_, summary) => summary.as_deref().map(clean_html),
        };
        let content_hash = content_hash(&title, summary_source.as_deref(), &raw_text, &entry);
        let existing = store.item(&id)?;
        if let Some(old) = &existing {
            if old.content_hash == content_hash {
                stats.unchanged += 1;
                continue;
            }
        }
        let (summary_text, origin) =
            summary::summarise(summary_source.as_deref(), &raw_text, ctx.summary_chars);
        let mut tags = ctx.tags.to_vec();
        for tag in entry.tags {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let item = Item {
            fingerprint: dedupe::fingerprint(&title, &raw_text),
            id: id.clone(),
            source: ctx.source.to_string(),
            url,
            fetched_url,
            guid: entry.guid,
            title,
            author: entry.author.map(|a| one_line(&clean_text(&a))),
            published: entry.published,
            first_seen: existing.as_ref().map_or(ctx.now, |old| old.first_seen),
            text: raw_text,
            html: entry.html,
            summary: summary_text,
            summary_origin: origin,
            content_hash,
            cluster: existing
                .as_ref()
                .map_or_else(|| id.clone(), |old| old.cluster.clone()),
            also_at: existing
                .as_ref()
                .map_or_else(Vec::new, |old| old.also_at.clone()),
            tags,
            image: entry.image,
        };
        let aliases = entry
            .aliases
            .iter()
            .filter_map(|alias| canonical::canonical_url(alias))
            .filter(|alias| alias != &item.url)
            .collect();
        out.push(Candidate {
            item,
            aliases,
            is_update: existing.is_some(),
        });
    }
    Ok(out)
}

/// Strip markup, decode entities and repair mojibake.
fn clean_html(text: &str) -> String {
    let plain = html::to_text(text);
    mojibake::repair(&plain).unwrap_or(plain)
}

/// Repair mojibake in text that carries no markup.
fn clean_text(text: &str) -> String {
    mojibake::repair(text).unwrap_or_else(|| text.to_string())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_sentence(text: &str) -> Option<String> {
    let sentence = sentences::split(text).into_iter().next()?.trim();
    if sentence.is_empty() {
        return None;
    }
    Some(sentence.chars().take(80).collect())
}

fn content_hash(title: &str, summary: Option<&str>, text: &str, entry: &RawEntry) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for part in [title, summary.unwrap_or(""), text] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    if let Some(published) = entry.published {
        hasher.update(&published.timestamp().to_le_bytes());
    }
    hasher.digest()
}

/// Exact and near-duplicate detection against everything stored.
///
/// `commit` dedupes one source's candidates against the store and what
/// earlier commits left pending; `flush` writes everything pending, with
/// the sources' states, in one `Store::write_batch`. Committing several
/// sources per flush keeps the items of a group together in the store's
/// pages and gives the writes one ordering: items before the states that
/// say they were fetched.
pub struct Ingestor<'a> {
    store: &'a Store,
    /// Fingerprints of cluster heads.
    near: dedupe::NearIndex,
    pending: Pending,
}

/// Items changed since the last flush, by id, in first-change order.
#[derive(Default)]
struct Pending {
    items: HashMap<String, Item>,
    order: Vec<String>,
    /// canonical URL → id of every item in `order`.
    by_url: HashMap<String, String>,
    aliases: Vec<(String, String)>,
}

impl Pending {
    fn push(&mut self, item: Item) {
        if !self.items.contains_key(&item.id) {
            self.order.push(item.id.clone());
        }
        self.by_url.insert(item.url.clone(), item.id.clone());
        self.items.insert(item.id.clone(), item);
    }
}

impl<'a> Ingestor<'a> {
    /// Build the near-duplicate index from the store.
    pub fn new(store: &'a Store) -> Result<Self, StoreError> {
        let mut near = dedupe::NearIndex::new();
        for head in store.cluster_heads() {
            let (id, fingerprint) = head?;
            near.insert(fingerprint, id);
        }
        Ok(Ingestor {
            store,
            near,
            pending: Pending::default(),
        })
    }

    /// Items waiting for `flush`.
    pub fn pending_items(&self) -> usize {
        self.pending.items.len()
    }

    /// Write what the commits since the last flush changed, then the given
    /// source states. The caller flushes the store to disk once per cycle;
    /// a crash before that loses a source's new validators whenever it
    /// loses any of its items, so they are fetched again.
    pub fn flush(&mut self, states: &[(String, SourceState)]) -> Result<(), StoreError> {
        if self.pending.order.is_empty() && self.pending.aliases.is_empty() && states.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        let items: Vec<Item> = pending
            .order
            .iter()
            .filter_map(|id| pending.items.remove(id))
            .collect();
        self.store.write_batch(&items, &pending.aliases, states)
    }

    /// Dedupe one source's candidates; they are written by the next
    /// `flush`. Returns the ids of the source's new and updated items.
    pub fn commit(
        &mut self,
        candidates: Vec<Candidate>,
        stats: &mut IngestStats,
    ) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        for Candidate {
            mut item,
            aliases: item_aliases,
            is_update,
        } in candidates
        {
            self.pending.aliases.extend(
                item_aliases
                    .into_iter()
                    .map(|alias| (alias, item.id.clone())),
            );
            if is_update {
                stats.updated += 1;
                ids.push(item.id.clone());
                self.pending.push(item);
                continue;
            }
            if self.pending.items.contains_key(&item.id) {
                // The same entry twice in one feed.
                stats.exact_duplicates += 1;
                continue;
            }
            let owner = self.id_by_url(&item.url)?;
            if owner.is_some_and(|owner| owner != item.id) {
                stats.exact_duplicates += 1;
                continue;
            }
            // Text without a letter or digit has no meaningful fingerprint.
            let comparable = item
                .title
                .chars()
                .chain(item.text.chars())
                .any(char::is_alphanumeric);
            let head = if comparable {
                self.near_story_head(item.fingerprint)?
            } else {
                None
            };
            match head {
                Some(head) => {
                    stats.near_duplicates += 1;
                    self.join_story(&mut item, head)?;
                }
                None if comparable => self.near.insert(item.fingerprint, item.id.clone()),
                None => {}
            }
            stats.new_items += 1;
            ids.push(item.id.clone());
            self.pending.push(item);
        }
        Ok(ids)
    }
}

impl Ingestor<'_> {
    /// Take an item out of the pending set, or load it from the store.
    fn take(&mut self, id: &str) -> Result<Option<Item>, StoreError> {
        match self.pending.items.remove(id) {
            Some(item) => Ok(Some(item)),
            None => self.store.item(id),
        }
    }

    /// The id of the item at `url`, pending or stored.
    fn id_by_url(&self, url: &str) -> Result<Option<String>, StoreError> {
        match self.pending.by_url.get(url) {
            Some(id) => Ok(Some(id.clone())),
            None => self.store.item_id_by_url(url),
        }
    }

    /// The head of the first stored story near `fingerprint`, taken out of
    /// the pending set. An index entry whose item is not stored (a crash
    /// wrote the entry but not the item; `Store::write_batch`) is passed
    /// over: that item is fetched again and must not start a story of its
    /// own beside the copies that joined one meanwhile.
    fn near_story_head(&mut self, fingerprint: u64) -> Result<Option<Item>, StoreError> {
        let candidates: Vec<String> = self
            .near
            .matches(fingerprint)
            .into_iter()
            .map(str::to_string)
            .collect();
        for found_id in candidates {
            if let Some(head) = self.story_head(&found_id)? {
                return Ok(Some(head));
            }
        }
        Ok(None)
    }

    /// The head of the story that `found_id` belongs to (the index may still
    /// name an item that has since been displaced as head), taken out of the
    /// pending set for updating.
    fn story_head(&mut self, found_id: &str) -> Result<Option<Item>, StoreError> {
        let Some(found) = self.take(found_id)? else {
            return Ok(None);
        };
        if found.is_cluster_head() {
            return Ok(Some(found));
        }
        let head_id = found.cluster.clone();
        self.pending.push(found);
        self.take(&head_id)
    }

    /// Add a new item to an existing story. The story's head is its
    /// earliest-published item, so an original fetched after its repost
    /// takes the head and the repost's URL moves to `also_at`.
    fn join_story(&mut self, item: &mut Item, mut head: Item) -> Result<(), StoreError> {
        let item_is_older = matches!(
            (item.published, head.published),
            (Some(new), Some(old)) if new < old
        );
        if !item_is_older {
            if head.url != item.url && !head.also_at.contains(&item.url) {
                head.also_at.push(item.url.clone());
            }
            item.cluster = head.id.clone();
            self.pending.push(head);
            return Ok(());
        }
        let mut also_at = vec![head.url.clone()];
        also_at.append(&mut head.also_at);
        also_at.retain(|url| url != &item.url);
        also_at.dedup();
        item.cluster = item.id.clone();
        head.cluster = item.id.clone();
        let old_head_id = head.id.clone();
        self.pending.push(head);
        // Every other member now belongs to the new head.
        for url in &also_at {
            let Some(member_id) = self.id_by_url(url)? else {
                continue;
            };
            if member_id == old_head_id || member_id == item.id {
                continue;
            }
            if let Some(mut member) = self.take(&member_id)? {
                member.cluster = item.id.clone();
                self.pending.push(member);
            }
        }
        item.also_at = also_at;
        self.near.insert(item.fingerprint, item.id.clone());
        Ok(())
    }
}
