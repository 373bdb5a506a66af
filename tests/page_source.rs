//! Web pages as sources through the real binary: a Chinese community news
//! list read with CSS selectors (relative links, per-source date format,
//! summaries, conditional GET), and pages whose layout no longer fits the
//! selectors, which must fail loudly, never store nothing in silence.

use crate::common;

use common::{
    shared_dir, source_table, stderr, stdout, stored_items, write_config, yaowen, Route,
    TestServer, WEEKLY_DIGEST_CONFIG,
};
use std::path::PathBuf;

/// A community news list as such sites write them: relative links, a
/// `<base>`, dates as text, a pager link that is not an item.
const NEWS_PAGE: &str = r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>社区动态 - 云原生社区</title>
<base href="/community/"></head>
<body><nav><a href="/">首页</a> <a href="/about/">关于</a></nav>
<main><h1>社区动态</h1>
<ul class="news">
  <li><a class="t" href="news/2024-kcd-hangzhou.html">KCD 杭州站活动回顾</a>
      <span class="date">2024-03-18</span>
      <p class="desc">本次 Kubernetes Community Days 杭州站吸引了三百多位开发者参加，议题覆盖可观测性、服务网格与平台工程。</p></li>
  <li><a class="t" href="news/istio-1-21.html?from=list">Istio 1.21 中文文档上线</a>
      <span class="date">2024-03-12</span>
      <p class="desc">社区志愿者完成了 Istio 1.21 版本文档的翻译与校对。</p></li>
  <li><a class="t" href="https://meetup.example.cn/shanghai">上海站 Meetup 报名开启</a>
      <span class="date">2024-03-05 19:30</span></li>
</ul>
<div class="pager"><a href="?page=2">下一页</a></div>
</main></body></html>"#;

struct Site {
    _dir: tempfile::TempDir,
    config: PathBuf,
    server: TestServer,
}

fn site(sources: &[(&str, &str, &str)]) -> Site {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = String::from(WEEKLY_DIGEST_CONFIG);
    for (name, path, selectors) in sources {
        let extra = format!("allow_private = true\n{selectors}\n");
        config.push_str(&source_table(name, "page", &server.url(path), &extra));
    }
    Site {
        config: write_config(dir.path(), &config),
        _dir: dir,
        server,
    }
}

const NEWS_SELECTORS: &str = "item = \"ul.news li\"\nlink = \"a.t\"\ndate = \"span.date\"\n\
     summary = \"p.desc\"\ndate_format = \"%Y-%m-%d\"";

#[test]
fn a_news_list_page_becomes_items_and_is_fetched_conditionally() {
    let site = site(&[("community", "/community/index.html", NEWS_SELECTORS)]);
    site.server.set(
        "/community/index.html",
        Route::ok("text/html; charset=utf-8", NEWS_PAGE).with_etag("\"news-1\""),
    );
    let run = yaowen(&site.config, &["fetch"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let items = stored_items(&site.config);
    assert_eq!(items.len(), 3, "{items:?}");
    let by_title = |title: &str| {
        items
            .iter()
            .find(|i| i["title"] == title)
            .unwrap_or_else(|| panic!("{title} stored: {items:?}"))
            .clone()
    };
    let kcd = by_title("KCD 杭州站活动回顾");
    let base = site.server.url("/community/");
    assert_eq!(kcd["url"], format!("{base}news/2024-kcd-hangzhou.html"));
    // Midnight in Shanghai, the digest's zone.
    assert_eq!(kcd["published"], "2024-03-17T16:00:00Z");
    assert!(
        kcd["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("本次 Kubernetes Community Days 杭州站")),
        "{kcd}"
    );
    // A date that does not fit the format is still read by the general rules.
    let meetup = by_title("上海站 Meetup 报名开启");
    assert_eq!(meetup["url"], "https://meetup.example.cn/shanghai");
    assert_eq!(meetup["published"], "2024-03-05T11:30:00Z");

    let again = yaowen(&site.config, &["fetch"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        site.server.hits("/community/index.html"),
        vec![200, 304],
        "the second fetch is conditional"
    );
}

#[test]
fn a_changed_layout_fails_the_source_naming_the_selector() {
    let site = site(&[("community", "/community/index.html", NEWS_SELECTORS)]);
    let redesigned = NEWS_PAGE
        .replace("<ul class=\"news\">", "<div class=\"cards\">")
        .replace("</ul>", "</div>");
    site.server.set(
        "/community/index.html",
        Route::ok("text/html; charset=utf-8", redesigned),
    );
    let run = yaowen(&site.config, &["fetch"]);
    let report = stdout(&run);
    assert!(
        report.contains(
            "failed: community [layout] 0 items, selector \"ul.news li\" matched nothing"
        ),
        "{report}\n{}",
        stderr(&run)
    );
    let sources = stdout(&yaowen(&site.config, &["sources"]));
    assert!(
        sources
            .lines()
            .any(|l| l.starts_with("community") && l.contains("[layout]")),
        "{sources}"
    );
}

#[test]
fn items_without_links_on_a_real_page_fail_the_source() {
    // Miniflux's scraper test page: three paragraphs in an article, no links.
    let page = shared_dir().join("corpora/miniflux/internal/reader/scraper/testdata/p.html");
    let body = std::fs::read(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    let site = site(&[("lorem", "/p.html", "item = \"article p\"\nlink = \"a\"")]);
    site.server.set("/p.html", Route::ok("text/html", body));
    let run = yaowen(&site.config, &["fetch"]);
    let report = stdout(&run);
    assert!(
        report.contains(
            "failed: lorem [layout] 0 items, 3 elements matched \"article p\" but link selector \"a\" found no link in any"
        ),
        "{report}\n{}",
        stderr(&run)
    );
}
