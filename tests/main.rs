//! The integration tests, linked into one binary.
//!
//! Each file under `tests/` is a module here rather than its own test target:
//! every test binary links all of yaowen's dependencies, and sixteen of them
//! took gigabytes of disk on a CI machine. One binary also links once.

mod common;
mod editor_support;

mod api;
mod browser;
mod config_check;
mod conformance;
mod daemon;
mod dedupe_farm;
mod end_to_end;
mod extraction;
mod farm;
mod full_text;
mod markdown_site;
mod opml;
mod page_source;
mod publish_golden;
mod robustness;
mod store;
mod systemd_unit;
mod wechat;
