//! Helpers for unit tests: the shared corpora and seeds beside the checkout.

use std::path::PathBuf;

/// The text of `../shared/PATH`; a missing corpus fails the test loudly.
pub fn shared(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// A minimal stored item with `id` and `title`.
pub fn item(id: &str, title: &str) -> crate::model::Item {
    let first_seen = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
    crate::model::Item {
        id: id.into(),
        source: "s".into(),
        url: format!("https://example.org/{id}"),
        fetched_url: format!("https://example.org/{id}"),
        guid: None,
        title: title.into(),
        author: None,
        published: Some(first_seen),
        first_seen,
        text: String::new(),
        html: None,
        summary: String::new(),
        summary_origin: crate::model::SummaryOrigin::Extractive,
        fingerprint: 0,
        content_hash: 0,
        cluster: id.into(),
        also_at: vec![],
        tags: vec![],
        image: None,
    }
}
