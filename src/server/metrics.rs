//! `/healthz` and `/metrics`: whether the store answers, and per-source
//! fetch counters in the Prometheus text format, for monitoring.

use crate::config::Config;
use crate::store::{Store, StoreError};
use std::fmt::Write as _;

/// Prometheus text exposition of the store's figures.
pub fn render(config: &Config, store: &Store) -> Result<String, StoreError> {
    let mut out = String::with_capacity(2048);
    let states: Vec<_> = config
        .sources
        .iter()
        .map(|source| Ok((source.name.as_str(), store.source_state(&source.name)?)))
        .collect::<Result<_, StoreError>>()?;
    type Field = fn(&crate::model::SourceState) -> Option<f64>;
    let families: [(&str, &str, &str, Field); 5] = [
        (
            "yaowen_source_fetches_total",
            "counter",
            "Fetches attempted per source.",
            |s| Some(s.fetches as f64),
        ),
        (
            "yaowen_source_errors_total",
            "counter",
            "Fetches that failed per source.",
            |s| Some(s.errors as f64),
        ),
        (
            "yaowen_source_items_stored_total",
            "counter",
            "Items stored per source.",
            |s| Some(s.items_stored as f64),
        ),
        (
            "yaowen_source_consecutive_failures",
            "gauge",
            "Failures since the last success per source.",
            |s| Some(f64::from(s.failures)),
        ),
        (
            "yaowen_source_last_success_timestamp_seconds",
            "gauge",
            "Unix time of the last successful fetch per source.",
            |s| s.last_ok.map(|t| t.timestamp() as f64),
        ),
    ];
    for (name, kind, help, field) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (source, state) in &states {
            if let Some(value) = field(state) {
                let _ = writeln!(out, "{name}{{source=\"{}\"}} {value}", label(source));
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP yaowen_store_size_bytes Bytes the store takes on disk.\n\
         # TYPE yaowen_store_size_bytes gauge\nyaowen_store_size_bytes {}",
        store.size_on_disk()
    );
    let _ = writeln!(
        out,
        "# HELP yaowen_items Items in the store.\n# TYPE yaowen_items gauge\nyaowen_items {}",
        store.item_count()
    );
    Ok(out)
}

/// Escape a label value (backslash, quote, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Whether the store can be read: one record of each tree the server uses.
pub fn check_store(store: &Store) -> Result<usize, StoreError> {
    store.source_states().next().transpose()?;
    store.curations().next().transpose()?;
    store.digests()?;
    Ok(store.item_count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
