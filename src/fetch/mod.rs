//! The HTTP client every source uses: timeouts, a body cap enforced while
//! streaming (after decompression, so a gzip bomb stops at the cap),
//! conditional GET, redirect limit, and errors in stable categories that the
//! store and the `sources` table show.

mod client;
mod error;
pub mod guard;
mod pacing;

pub use client::{CacheHints, FetchSettings, Fetched, HttpClient, Validators};
pub use error::FetchError;
