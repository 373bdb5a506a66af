//! `full_text = true` through the real binary: a feed of teasers whose
//! links lead to real pages (a Chinese news article from the readability
//! test pages, a WeChat article page) served on 127.0.0.1. The stored text
//! must be the whole article; a page that fails keeps its teaser without
//! failing the source; stored items are not fetched again.

use crate::common;

use common::{
    shared_dir, source_table, stderr, stdout, stored_items, write_config, yaowen, Route,
    TestServer, WEEKLY_DIGEST_CONFIG,
};

fn feed(server: &TestServer, extra: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>探索</title><link>{home}</link><description>d</description>
<item><title>宇航员在太空中喝酒会怎么样？</title><link>{gmw}</link><guid>gmw-1</guid>
<pubDate>Tue, 15 Mar 2016 08:00:00 +0800</pubDate>
<description>翱翔于距地球数千公里的太空中，进入广袤漆黑的未知领域，是一项艰苦卓绝的工作……</description></item>
<item><title>4月6日周五【新闻速览一分钟】</title><link>{wechat}</link><guid>wx-1</guid>
<pubDate>Fri, 06 Apr 2018 07:00:00 +0800</pubDate>
<description>早上好~</description></item>
<item><title>页面已删除的文章</title><link>{gone}</link><guid>gone-1</guid>
<pubDate>Fri, 06 Apr 2018 09:00:00 +0800</pubDate>
<description>这篇文章的页面已经不在了。</description></item>
{extra}
</channel></rss>"#,
        home = server.url("/"),
        gmw = server.url("/gmw/article.html"),
        wechat = server.url("/s/news-0406"),
        gone = server.url("/gone.html"),
    )
}

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn teasers_are_replaced_by_the_whole_article() {
    let corpora = shared_dir().join("corpora");
    let server = TestServer::start();
    server.set(
        "/gmw/article.html",
        Route::ok(
            "text/html; charset=utf-8",
            read(&corpora.join("readability-testpages/test/test-pages/gmw/source.html")),
        ),
    );
    server.set(
        "/s/news-0406",
        Route::ok(
            "text/html; charset=utf-8",
            read(&corpora.join("wechat-wechatsogou/test/file/article_detail_backgroud-image.html")),
        ),
    );
    server.set("/gone.html", Route::status(404));
    server.set(
        "/feed.xml",
        Route::ok("application/rss+xml", feed(&server, "")).with_etag("\"v1\""),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let source = source_table(
        "explore",
        "feed",
        &server.url("/feed.xml"),
        "allow_private = true\nfull_text = true",
    );
    let config = write_config(dir.path(), &format!("{WEEKLY_DIGEST_CONFIG}{source}"));

    let run = yaowen(&config, &["fetch"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        !stdout(&run).contains("failed:"),
        "a page that cannot be fetched never fails the source: {}",
        stdout(&run)
    );
    let items = stored_items(&config);
    assert_eq!(items.len(), 3, "{items:?}");
    let text_of = |title: &str| {
        items
            .iter()
            .find(|i| i["title"] == title)
            .unwrap_or_else(|| panic!("{title} stored"))["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // Sentences from the middle and the end of the article, not in the teaser.
    let gmw = text_of("宇航员在太空中喝酒会怎么样？");
    assert!(
        gmw.contains("政府机构普遍禁止他们染指包括酒在内的含酒精饮料"),
        "{gmw}"
    );
    assert!(
        !gmw.contains("光明网版权所有"),
        "site furniture left out: {gmw}"
    );
    let wechat = text_of("4月6日周五【新闻速览一分钟】");
    assert!(wechat.contains("不要总呆在自己的舒适圈里"), "{wechat}");
    assert!(!wechat.contains("var msg_title"), "{wechat}");
    let gone = text_of("页面已删除的文章");
    assert!(
        gone.contains("这篇文章的页面已经不在了"),
        "teaser kept: {gone}"
    );

    // A new entry appears; the stored ones' pages are not fetched again.
    let extra = format!(
        "<item><title>新文章</title><link>{}</link><guid>new-1</guid><description>短摘要</description></item>",
        server.url("/new.html")
    );
    server.set(
        "/new.html",
        Route::ok(
            "text/html; charset=utf-8",
            read(&corpora.join("readability-testpages/test/test-pages/qq/source.html")),
        ),
    );
    server.set(
        "/feed.xml",
        Route::ok("application/rss+xml", feed(&server, &extra)).with_etag("\"v2\""),
    );
    let again = yaowen(&config, &["fetch"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(server.hits("/gmw/article.html").len(), 1);
    assert_eq!(server.hits("/s/news-0406").len(), 1);
    assert_eq!(server.hits("/new.html").len(), 1);
}
