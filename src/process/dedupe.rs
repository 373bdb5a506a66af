//! Near-duplicate detection (stub).

/// SimHash fingerprint of a story's title and text.
pub fn fingerprint(title: &str, text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(format!("{title}{text}").as_bytes())
}

/// An index of fingerprints that finds the first stored story near a new one.
#[derive(Debug, Default)]
pub struct NearIndex {
    entries: Vec<(u64, String)>,
}

impl NearIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember `id` under `fingerprint`.
    pub fn insert(&mut self, fingerprint: u64, id: String) {
        self.entries.push((fingerprint, id));
    }

    /// The id of the first inserted story that is a near duplicate of `fingerprint`.
    pub fn find(&self, fingerprint: u64) -> Option<&str> {
        self.entries
            .iter()
            .find(|(fp, _)| *fp == fingerprint)
            .map(|(_, id)| id.as_str())
    }
}
