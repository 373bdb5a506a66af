//! yaowen (要闻): a news-aggregator daemon. Sources are fetched, decoded,
//! turned into items, deduplicated, summarised and stored in sled; the
//! publisher writes dated digest pages and feeds.
//!
//! The modules follow the pipeline: `source` → `fetch` → `text` →
//! `process` → `store` → `publish`; `pipeline` runs one cycle of it and
//! `cli` is the command edge.

pub mod cli;
pub mod config;
pub mod curate;
pub mod daemon;
pub mod editor_cli;
pub mod fetch;
pub mod generate;
pub mod logging;
pub mod memory;
pub mod model;
pub mod opml;
pub mod pipeline;
pub mod process;
pub mod publish;
pub mod schedule;
pub mod server;
pub mod source;
pub mod store;
pub mod systemd;
pub mod text;

#[cfg(test)]
mod test_support;
