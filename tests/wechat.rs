//! WeChat article links through the real binary: the saved mp.weixin.qq.com
//! pages of the wechatsogou corpus are served on 127.0.0.1 under short
//! (`/s/<slug>`) and long (`/s?__biz=…`) links; the right title, date,
//! account and text come out, one item per article whichever link reached
//! it; gone pages become tombstones and are never fetched again; a
//! verification page backs off and is retried later; `yaowen add` appends
//! to the links file; links followed from a feed are fetched.

use crate::common;

use common::{shared_dir, stderr, stdout, write_config, yaowen, Route, TestServer};
use std::path::{Path, PathBuf};
use yaowen::store::Store;

const MPVOICE_LONG: &str = "/s?__biz=MjM5ODAyNTcwMA==&mid=2651788393&idx=1&sn=0f6ee5b1c4d1a6c2&chksm=bd2ab4d08a5d3dc6&scene=21";

const DELETED: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title></title></head>
<body id="activity-detail"><div class="weui-msg"><div class="weui-msg__text-area">
<h2 class="weui-msg__title">该内容已被发布者删除</h2></div></div></body></html>"#;

const VERIFY: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>微信公众平台</title></head>
<body><div class="weui-msg"><h2 class="weui-msg__title">环境异常</h2>
<p class="weui-msg__desc">当前环境异常，完成验证后即可继续访问。</p>
<a class="weui-btn weui-btn_primary" id="js_verify">去验证</a></div></body></html>"#;

fn corpus_page(name: &str) -> Vec<u8> {
    let path = shared_dir()
        .join("corpora/wechat-wechatsogou/test/file")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("corpus file {}: {e}", path.display()))
}

fn html(body: impl Into<Vec<u8>>) -> Route {
    Route::ok("text/html; charset=utf-8", body)
}

struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
    links: PathBuf,
    server: TestServer,
}

impl Site {
    /// A config with one wechat source (and optionally a feed that follows
    /// links to 127.0.0.1); politeness delays at zero for tests.
    fn new(feed_path: Option<&str>) -> Site {
        let server = TestServer::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let mut config = String::from(
            "[store]\npath = \"data/db\"\n\n[output]\ndir = \"public\"\nbase_url = \"https://news.example.org/\"\n\n\
             [digest]\ntimezone = \"Asia/Shanghai\"\n\n\
             [wechat]\nmin_interval_secs = 0\njitter_secs = 0\nbackoff_min_secs = 900\nbackoff_max_secs = 21600\n\n",
        );
        if let Some(path) = feed_path {
            config.push_str(&format!(
                "[[source]]\nname = \"community\"\nkind = \"feed\"\nurl = \"{}\"\nallow_private = true\nfollow = [\"127.0.0.1\"]\n\n",
                server.url(path)
            ));
        }
        config.push_str(
            "[[source]]\nname = \"wechat-picks\"\nkind = \"wechat\"\nlinks_file = \"links.txt\"\nallow_private = true\n",
        );
        Site {
            links: root.join("links.txt"),
            config: write_config(&root, &config),
            _dir: dir,
            root,
            server,
        }
    }

    fn write_links(&self, lines: &[String]) {
        std::fs::write(&self.links, lines.join("\n") + "\n").expect("write links");
    }

    fn fetch(&self) -> String {
        let output = yaowen(&self.config, &["fetch"]);
        assert!(output.status.success(), "fetch failed: {}", stderr(&output));
        stderr(&output)
    }

    fn items(&self) -> Vec<serde_json::Value> {
        let output = yaowen(&self.config, &["items", "--json"]);
        assert!(output.status.success(), "items failed: {}", stderr(&output));
        stdout(&output)
            .lines()
            .map(|line| serde_json::from_str(line).expect("items --json line"))
            .collect()
    }

    fn store(&self) -> Store {
        Store::open(&self.root.join("data/db")).expect("open store")
    }
}

fn field<'a>(item: &'a serde_json::Value, name: &str) -> &'a str {
    item[name].as_str().unwrap_or_default()
}

/// The publish time as editors in China read it.
fn shanghai(item: &serde_json::Value) -> String {
    let published: chrono::DateTime<chrono::Utc> =
        field(item, "published").parse().expect("published date");
    published
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[test]
fn real_articles_are_read_once_each_and_gone_pages_are_tombstoned() {
    let site = Site::new(None);
    let pages = [
        (
            "/s/Bg-6cGkVhRaRnNA0kM8SsQ",
            "article_detail_backgroud-image.html",
        ),
        ("/s/iFrAme_2ggGHM5Xw4HPmkw", "article_detail_iframe.html"),
        ("/s/mpV01ce-JrUoEBkmB4t1eQ", "article_detail_mpvoice.html"),
        ("/s/qqMus1c_a8c8OmKz3j0Efw", "article_detail_qqmusic.html"),
        ("/s/expired-link-xx", "article_detail_expired.html"),
    ];
    for (path, file) in pages {
        site.server.set(path, html(corpus_page(file)));
    }
    site.server.set(
        MPVOICE_LONG,
        html(corpus_page("article_detail_mpvoice.html")),
    );
    site.server.set("/s/deleted-by-author", html(DELETED));
    // Requested as given, sharing parameters and all (the fragment stays home).
    let shared = format!("{}?scene=1&sharer_sharetime=1", pages[0].0);
    site.server.set(
        &shared,
        html(corpus_page("article_detail_backgroud-image.html")),
    );
    let url = |path: &str| site.server.url(path);
    site.write_links(&[
        "# picked by the editors".to_string(),
        format!("{}#rd", url(&shared)),
        format!("{}#wechat_redirect", url(MPVOICE_LONG)),
        "not a link".to_string(),
        String::new(),
        url(pages[1].0),
        url(pages[2].0),
        url(pages[3].0),
        url(pages[4].0),
        url("/s/deleted-by-author"),
    ]);

    let log = site.fetch();
    // The refused line is named with its file and number.
    assert!(
        log.contains("links.txt:4: not an http(s) URL: \"not a link\""),
        "{log}"
    );

    let items = site.items();
    assert_eq!(
        items.len(),
        4,
        "four articles, each stored once: {items:#?}"
    );
    let by_title = |title: &str| {
        items
            .iter()
            .find(|item| field(item, "title") == title)
            .unwrap_or_else(|| panic!("no item titled {title:?} in {items:#?}"))
    };
    // Title, date (Asia/Shanghai), account and a sentence of the body.
    let expected = [
        (
            "4月6日周五【新闻速览一分钟】",
            "2018-04-06 06:56",
            "华商报",
            "不要总呆在自己的舒适圈里",
        ),
        (
            "【视频】石榴花开",
            "2018-03-20 11:19",
            "共产党员",
            "像石榴籽那样紧紧抱在一起",
        ),
        (
            "语音 | 早安武汉〔2018.3.19 周一〕",
            "2018-03-19 05:30",
            "长江日报",
            "【全国两会】",
        ),
        (
            "关于音乐",
            "2018-04-07 22:21",
            "闲云野鹤古刹",
            "文艺青年消遣有四大法宝",
        ),
    ];
    for (title, date, account, text) in expected {
        let item = by_title(title);
        assert_eq!(shanghai(item), date, "{title}");
        assert!(
            field(item, "author").starts_with(account),
            "{title}: {item:#?}"
        );
        assert!(
            field(item, "text").contains(text),
            "{title}: text lacks {text:?}"
        );
        let body = field(item, "html");
        assert!(
            body.contains("src=\"https://mmbiz.qpic.cn/"),
            "{title}: images not made real"
        );
        assert!(body.contains("referrerpolicy=\"no-referrer\""), "{title}");
        assert!(
            !body.contains("<script") && !body.contains("data-src"),
            "{title}"
        );
    }
    // The author's own digest is the summary.
    assert_eq!(
        field(by_title("4月6日周五【新闻速览一分钟】"), "summary"),
        "🍀昨日今晨，最新最快最有价值的讯息简报"
    );
    // The editor's link, tracking removed, is what the item shows.
    assert_eq!(
        field(by_title("4月6日周五【新闻速览一分钟】"), "url"),
        url(pages[0].0)
    );
    // Reached first by the long link, then by the short one: one item.
    let voice = by_title("语音 | 早安武汉〔2018.3.19 周一〕");
    assert_eq!(
        field(voice, "url"),
        url("/s?__biz=MjM5ODAyNTcwMA==&mid=2651788393&idx=1&sn=0f6ee5b1c4d1a6c2")
    );
    // The long link was requested as given, tracking parameters and all.
    assert_eq!(site.server.hits(MPVOICE_LONG), [200]);

    let store = site.store();
    for path in [pages[4].0, "/s/deleted-by-author"] {
        let tombstone = store.tombstone(&url(path)).expect("read tombstone");
        assert!(tombstone.is_some(), "{path} is not tombstoned");
    }
    let reason = store
        .tombstone(&url("/s/deleted-by-author"))
        .ok()
        .flatten()
        .map(|t| t.reason);
    assert_eq!(reason.as_deref(), Some("WeChat: 该内容已被发布者删除"));
    drop(store);

    // The next cycle requests nothing: stored articles and gone links are settled.
    site.fetch();
    for path in [
        shared.as_str(),
        pages[1].0,
        pages[2].0,
        pages[3].0,
        pages[4].0,
    ] {
        assert_eq!(site.server.hits(path).len(), 1, "{path} fetched again");
    }
    assert_eq!(site.server.hits("/s/deleted-by-author").len(), 1);
    assert_eq!(site.server.hits(MPVOICE_LONG).len(), 1);
    assert_eq!(site.items().len(), 4);
}

#[test]
fn short_link_first_then_long_link_later_is_still_one_item() {
    let site = Site::new(None);
    site.server.set(
        "/s/mpV01ce-JrUoEBkmB4t1eQ",
        html(corpus_page("article_detail_mpvoice.html")),
    );
    site.server.set(
        MPVOICE_LONG,
        html(corpus_page("article_detail_mpvoice.html")),
    );
    site.write_links(&[site.server.url("/s/mpV01ce-JrUoEBkmB4t1eQ")]);
    site.fetch();
    assert_eq!(site.items().len(), 1);
    // An editor adds the long form of the same article later.
    let long = format!("{}#rd", site.server.url(MPVOICE_LONG));
    let output = yaowen(&site.config, &["add", &long]);
    assert!(output.status.success(), "{}", stderr(&output));
    site.fetch();
    let items = site.items();
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(
        field(&items[0], "url"),
        site.server.url("/s/mpV01ce-JrUoEBkmB4t1eQ")
    );
    // Known by its identity from the link alone: never requested.
    assert!(site.server.hits(MPVOICE_LONG).is_empty());
}

#[test]
fn verification_pages_back_off_and_are_retried_later() {
    let site = Site::new(None);
    site.server.set("/s/verify-me-please", html(VERIFY));
    site.server.set(
        "/s/qqMus1c_a8c8OmKz3j0Efw",
        html(corpus_page("article_detail_qqmusic.html")),
    );
    let verify = site.server.url("/s/verify-me-please");
    site.write_links(&[verify.clone(), site.server.url("/s/qqMus1c_a8c8OmKz3j0Efw")]);

    let before = chrono::Utc::now();
    site.fetch();
    assert!(
        site.items().is_empty(),
        "a verification page is never an item"
    );
    // The whole host slowed down: the next link waited.
    assert!(site.server.hits("/s/qqMus1c_a8c8OmKz3j0Efw").is_empty());
    let store = site.store();
    let state = store
        .link_state(&verify)
        .expect("read link state")
        .expect("a link state for the verification page");
    assert_eq!(state.attempts, 1);
    assert_eq!(state.last_outcome, "verify");
    let next = state.next_try.expect("next try");
    assert!(next >= before + chrono::Duration::minutes(15), "{next}");
    assert!(store.tombstone(&verify).expect("tombstone").is_none());
    drop(store);

    // Too early: nothing is requested again.
    site.fetch();
    assert_eq!(site.server.hits("/s/verify-me-please"), [200]);

    // Once the back-off has passed (moved into the past here), the link is
    // retried; WeChat now serves the article.
    let store = site.store();
    let host = format!("host:127.0.0.1:{}", site.server.port);
    for key in [verify.as_str(), host.as_str()] {
        let mut state = store.link_state(key).ok().flatten().expect("state");
        state.next_try = Some(chrono::Utc::now() - chrono::Duration::seconds(1));
        store.put_link_state(key, &state).expect("put state");
    }
    store.flush().expect("flush");
    drop(store);
    site.server.set(
        "/s/verify-me-please",
        html(corpus_page("article_detail_iframe.html")),
    );
    site.fetch();
    let titles: Vec<String> = site
        .items()
        .iter()
        .map(|item| field(item, "title").to_string())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.contains(&"【视频】石榴花开".to_string()));
    let store = site.store();
    assert!(store.link_state(&verify).expect("state").is_none());
}

#[test]
fn a_redirect_to_the_captcha_is_a_verification_page() {
    let site = Site::new(None);
    site.server.set(
        "/s/captcha-bound",
        Route::status(302).with_header(
            "Location",
            "/mp/wappoc_appmsgcaptcha?poc_token=HBd&target_url=https%3A%2F%2Fmp.weixin.qq.com%2Fs%2Fx",
        ),
    );
    site.server.set(
        "/mp/wappoc_appmsgcaptcha?poc_token=HBd&target_url=https%3A%2F%2Fmp.weixin.qq.com%2Fs%2Fx",
        html("<html><body><div id=app></div></body></html>"),
    );
    let link = site.server.url("/s/captcha-bound");
    site.write_links(std::slice::from_ref(&link));
    site.fetch();
    assert!(site.items().is_empty());
    let state = site.store().link_state(&link).ok().flatten();
    assert_eq!(state.map(|s| s.last_outcome).as_deref(), Some("verify"));
}

#[test]
fn add_appends_under_lock_and_refuses_garbage() {
    let site = Site::new(None);
    let link = "https://mp.weixin.qq.com/s/d5j4WawE_fzHuh4ZyRsixg";
    let output = yaowen(&site.config, &["add", link]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stdout(&output);
    assert!(said.contains(&site.links.display().to_string()), "{said}");
    assert!(said.contains("wechat-picks"), "{said}");
    assert_eq!(read(&site.links), format!("{link}\n"));

    // The same article with sharing noise is not added twice.
    let output = yaowen(&site.config, &["add", &format!("{link}?scene=1#rd")]);
    assert!(output.status.success());
    assert!(
        stdout(&output).contains("already in"),
        "{}",
        stdout(&output)
    );

    let output = yaowen(
        &site.config,
        &[
            "add",
            "--source",
            "wechat-picks",
            "https://mp.weixin.qq.com/s/W9kb4YeuqC77pfpBAdFUOQ",
        ],
    );
    assert!(output.status.success());
    assert_eq!(read(&site.links).lines().count(), 2);

    let output = yaowen(&site.config, &["add", "mp.weixin.qq.com/s/abc"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not an http(s) URL: \"mp.weixin.qq.com/s/abc\""),
        "{}",
        stderr(&output)
    );
    let output = yaowen(&site.config, &["add", "--source", "nope", link]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(read(&site.links).lines().count(), 2);
}

#[test]
fn links_followed_from_a_feed_are_queued_and_fetched() {
    let site = Site::new(Some("/community.xml"));
    let article = site.server.url("/s/qqMus1c_a8c8OmKz3j0Efw");
    let feed = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>社区</title><link>https://c.example.cn/</link><description>d</description>
<item><title>本周推荐</title><link>https://c.example.cn/weekly/1</link><guid>weekly-1</guid>
<description><![CDATA[<p>推荐阅读 <a href="{article}?scene=21&amp;chksm=ab#wechat_redirect">关于音乐</a></p>]]></description></item>
</channel></rss>"#
    );
    site.server
        .set("/community.xml", Route::ok("application/rss+xml", feed));
    site.server.set(
        "/s/qqMus1c_a8c8OmKz3j0Efw",
        html(corpus_page("article_detail_qqmusic.html")),
    );
    // The first cycle queues the link; the wechat source runs alongside, so
    // the article is certainly fetched by the second.
    site.fetch();
    site.fetch();
    let items = site.items();
    let music = items
        .iter()
        .find(|item| field(item, "title") == "关于音乐")
        .unwrap_or_else(|| panic!("followed article not stored: {items:#?}"));
    assert_eq!(field(music, "source"), "wechat-picks");
    assert_eq!(field(music, "url"), article);
    assert_eq!(site.server.hits("/s/qqMus1c_a8c8OmKz3j0Efw").len(), 1);
    assert!(site.store().queued_links().expect("queue").is_empty());
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}
