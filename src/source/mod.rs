//! Sources: one module per kind, each turning a fetched body into raw entries.

pub mod feed;
pub mod wechat;
