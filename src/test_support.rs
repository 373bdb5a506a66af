//! Helpers for unit tests: the shared corpora and seeds beside the checkout.

use std::path::PathBuf;

/// The text of `../shared/PATH`; a missing corpus fails the test loudly.
pub fn shared(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}
