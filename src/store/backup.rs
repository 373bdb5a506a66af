//! Export and import as JSON lines: the backup format and the way to move a
//! store between machines or sled versions. One record a line, tagged by
//! kind, so a partial file still restores everything before the damage.

use super::{Store, StoreError, Tombstone, SCHEMA_VERSION};
use crate::model::{Curation, Digest, Item, SourceState};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

/// One line of an export.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Record {
    Meta { schema_version: u32 },
    Item { item: Box<Item> },
    Curation { id: String, curation: Curation },
    Source { name: String, state: SourceState },
    Digest { digest: Digest },
    Tombstone { key: String, tombstone: Tombstone },
}

/// How many records of each kind were exported or imported.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExportCounts {
    pub items: usize,
    pub curations: usize,
    pub sources: usize,
    pub digests: usize,
    pub tombstones: usize,
}

impl std::fmt::Display for ExportCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} items, {} curations, {} sources, {} digests, {} tombstones",
            self.items, self.curations, self.sources, self.digests, self.tombstones
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("reading the import failed at line {line}: {source}")]
    Read {
        line: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the export failed: {0}")]
    Write(#[source] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Write every record as JSON lines.
    pub fn export(&self, out: &mut dyn Write) -> Result<ExportCounts, ImportError> {
        let mut counts = ExportCounts::default();
        let mut emit = |record: &Record| -> Result<(), ImportError> {
            let mut line = serde_json::to_vec(record).map_err(|source| StoreError::Encode {
                what: "export",
                source,
            })?;
            line.push(b'\n');
            out.write_all(&line).map_err(ImportError::Write)
        };
        emit(&Record::Meta {
            schema_version: SCHEMA_VERSION,
        })?;
        for item in self.items() {
            let mut item = item?;
            self.load_body(&mut item)?;
            emit(&Record::Item {
                item: Box::new(item),
            })?;
            counts.items += 1;
        }
        for entry in self.curations() {
            let (id, curation) = entry?;
            emit(&Record::Curation { id, curation })?;
            counts.curations += 1;
        }
        for entry in self.source_states() {
            let (name, state) = entry?;
            emit(&Record::Source { name, state })?;
            counts.sources += 1;
        }
        for digest in self.digests()? {
            emit(&Record::Digest { digest })?;
            counts.digests += 1;
        }
        for entry in self.trees()?.tombstones.iter() {
            let (key, value) = entry.map_err(StoreError::from)?;
            let tombstone: Tombstone = super::decode("tombstone", &key, &value)?;
            emit(&Record::Tombstone {
                key: String::from_utf8_lossy(&key).into_owned(),
                tombstone,
            })?;
            counts.tombstones += 1;
        }
        Ok(counts)
    }

    /// Read JSON lines written by `export` into this store. Records replace
    /// records with the same key. Every line is checked before anything is
    /// written, so a damaged file changes nothing.
    pub fn import(&self, input: &mut dyn BufRead) -> Result<ExportCounts, ImportError> {
        let mut records = Vec::new();
        let mut line_no = 0;
        let mut buf = String::new();
        loop {
            buf.clear();
            line_no += 1;
            let read = input
                .read_line(&mut buf)
                .map_err(|source| ImportError::Read {
                    line: line_no,
                    source,
                })?;
            if read == 0 {
                break;
            }
            let text = buf.trim();
            if text.is_empty() {
                continue;
            }
            let record: Record = serde_json::from_str(text).map_err(|e| ImportError::Line {
                line: line_no,
                message: e.to_string(),
            })?;
            if let Record::Meta { schema_version } = record {
                if schema_version > SCHEMA_VERSION {
                    return Err(ImportError::Line {
                        line: line_no,
                        message: format!(
                            "export has schema version {schema_version}, this yaowen knows {SCHEMA_VERSION}"
                        ),
                    });
                }
                continue;
            }
            records.push(record);
        }
        let mut counts = ExportCounts::default();
        let mut items = Vec::new();
        for record in records {
            match record {
                Record::Meta { .. } => {}
                Record::Item { item } => {
                    items.push(*item);
                    counts.items += 1;
                }
                Record::Curation { id, curation } => {
                    self.put_curation(&id, &curation)?;
                    counts.curations += 1;
                }
                Record::Source { name, state } => {
                    self.put_source_state(&name, &state)?;
                    counts.sources += 1;
                }
                Record::Digest { digest } => {
                    self.put_digest(&digest)?;
                    counts.digests += 1;
                }
                Record::Tombstone { key, tombstone } => {
                    self.put_tombstone(&key, &tombstone)?;
                    counts.tombstones += 1;
                }
            }
        }
        for chunk in items.chunks(1000) {
            self.put_items(chunk)?;
        }
        self.flush()?;
        Ok(counts)
    }
}
