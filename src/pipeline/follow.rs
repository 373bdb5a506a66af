//! Following links: a source with `follow = ["mp.weixin.qq.com"]` queues
//! every link to those hosts found in its entries (links, summaries and
//! bodies), for the wechat source to fetch. Editors' community pages are
//! full of WeChat links that no feed carries.

use crate::model::RawEntry;
use crate::process::canonical;
use crate::source::wechat;
use crate::store::{Store, StoreError};
use regex::Regex;
use std::sync::LazyLock;

/// An absolute http(s) URL in text or in an `href`; stops at whitespace,
/// quotes, angle brackets, brackets and full-width punctuation.
static URL_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    // A literal pattern: cannot fail to compile.
    Regex::new(r#"https?://[^\s"'<>()\[\]{}（）【】「」，。、；！？]+"#).expect("valid regex")
});

/// Every link in `entries` to one of `hosts` (a host or any subdomain of
/// it), tracking removed, in order of appearance, each once.
pub fn followed_links(entries: &[RawEntry], hosts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for entry in entries {
        let texts = [
            entry.link.as_deref(),
            entry.summary.as_deref(),
            entry.content.as_deref(),
            entry.html.as_deref(),
        ];
        for text in texts.into_iter().flatten() {
            // Links copied from HTML keep `&amp;` between parameters.
            let text = text.replace("&amp;", "&");
            for found in URL_IN_TEXT.find_iter(&text) {
                let raw = found
                    .as_str()
                    .trim_end_matches(['.', ',', ';', ':', '!', '?']);
                if !host_matches(raw, hosts) {
                    continue;
                }
                if let Some(clean) = wechat::clean_link(raw) {
                    if !out.contains(&clean) {
                        out.push(clean);
                    }
                }
            }
        }
    }
    out
}

fn host_matches(url: &str, hosts: &[String]) -> bool {
    let Some(host) = url::Url::parse(url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
    else {
        return false;
    };
    hosts.iter().any(|wanted| {
        host == *wanted
            || host
                .strip_suffix(wanted.as_str())
                .is_some_and(|prefix| prefix.ends_with('.'))
    })
}

/// Queue the followed links not already stored or tombstoned; returns how
/// many were newly queued.
pub fn queue_followed(
    store: &Store,
    source: &str,
    entries: &[RawEntry],
    hosts: &[String],
) -> Result<usize, StoreError> {
    let mut queued = 0;
    for link in followed_links(entries, hosts) {
        let key = canonical::canonical_url(&link).unwrap_or_else(|| link.clone());
        if store.item_id_by_url(&key)?.is_some() || store.tombstone(&key)?.is_some() {
            continue;
        }
        if store.queue_link(&link, source)? {
            queued += 1;
        }
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_wechat_links_in_hrefs_markdown_and_text() {
        let entry = RawEntry {
            link: Some("https://cloudnative.example.cn/blog/weekly/".into()),
            summary: Some("见 https://mp.weixin.qq.com/s/d5j4WawE_fzHuh4ZyRsixg。另见 https://example.org/x".into()),
            content: Some(r#"<a href="http://mp.weixin.qq.com/s?__biz=MjM5ODAyNTcwMA==&amp;mid=2651788379&amp;idx=1&amp;sn=48edf72da520d08e7d7533d8a3b2f464&amp;chksm=bd2a&amp;scene=21#wechat_redirect">x</a>
                - [**会议**](https://mp.weixin.qq.com/s/W9kb4YeuqC77pfpBAdFUOQ)
                again https://mp.weixin.qq.com/s/d5j4WawE_fzHuh4ZyRsixg?scene=1"#.into()),
            ..RawEntry::default()
        };
        let links = followed_links(&[entry], &["mp.weixin.qq.com".to_string()]);
        assert_eq!(
            links,
            [
                "https://mp.weixin.qq.com/s/d5j4WawE_fzHuh4ZyRsixg",
                "http://mp.weixin.qq.com/s?__biz=MjM5ODAyNTcwMA==&mid=2651788379&idx=1&sn=48edf72da520d08e7d7533d8a3b2f464",
                "https://mp.weixin.qq.com/s/W9kb4YeuqC77pfpBAdFUOQ",
            ]
        );
    }

    #[test]
    fn subdomains_match_but_lookalikes_do_not() {
        let hosts = ["qq.com".to_string()];
        assert!(host_matches("https://mp.weixin.qq.com/s/x", &hosts));
        assert!(!host_matches("https://notqq.com/s/x", &hosts));
    }
}
