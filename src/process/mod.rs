//! Processing: turns raw entries into items. URL canonicalisation and
//! identity, date parsing, near-duplicate detection, summarising.

pub mod canonical;
pub mod dates;
pub mod dedupe;
pub mod summary;
