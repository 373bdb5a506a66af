//! The whole path through the real binary: feeds served on 127.0.0.1 (RSS
//! 2.0, Atom, JSON Feed, GBK, Chinese date forms, a broken one) are fetched,
//! stored and published; the digest matches the editors' format line for
//! line; feeds parse with stable guids; a broken source loses nothing.

use crate::common;

use common::{stderr, stdout, yaowen, Route, TestServer};
use std::path::{Path, PathBuf};

const RSS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Cloud Native News</title><link>https://news.example.org/</link>
<description>English news</description>
<item><title>Kubernetes 1.26 released with &lt;CSI&gt; improvements</title>
<link>https://news.example.org/k8s-126?utm_source=rss&amp;utm_medium=feed</link>
<guid isPermaLink="false">news-k8s-126</guid>
<pubDate>Fri, 23 Dec 2022 09:30:00 +0000</pubDate>
<description>The Kubernetes project shipped version 1.26 with storage and scheduling changes.</description></item>
<item><title>KubeCon China call for proposals opens</title>
<link>https://news.example.org/kubecon-cfp</link>
<guid isPermaLink="false">news-kubecon-cfp</guid>
<pubDate>Tue, 13 Dec 2022 08:00:00 +0000</pubDate>
<description><![CDATA[<p>Proposals are due in February. The event returns to Shanghai for the first time since 2019.</p>]]></description></item>
<item><title>Cross-posted: eBPF observability primer</title>
<link>https://news.example.org/ebpf-primer</link>
<guid isPermaLink="false">news-ebpf</guid>
<pubDate>Mon, 19 Dec 2022 03:00:00 +0000</pubDate>
<description><![CDATA[eBPF lets operators attach small verified programs to kernel hooks without changing kernel source. This primer walks through tracing network latency in a Kubernetes cluster with bpftrace, then builds a Prometheus exporter that turns the traces into histograms. It closes with the limits of eBPF on older kernels and how managed clusters expose the feature.]]></description></item>
</channel></rss>"#;

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>云原生社区</title><id>urn:cloudnative:feed</id>
<updated>2022-12-22T12:00:00+08:00</updated><link href="https://cloudnative.example.cn/"/>
<entry><title>云原生社区 Meetup 长沙站举行</title><id>urn:cloudnative:meetup-cs</id>
<link rel="alternate" href="https://cloudnative.example.cn/blog/meetup-changsha/"/>
<published>2022-12-20T14:00:00+08:00</published><updated>2022-12-20T14:00:00+08:00</updated>
<summary>此次云原生 Meetup 长沙站由云原生社区主办，演讲者来自极狐 GitLab、中国移动、中国电信等公司，演讲内容涵盖 DevSecOps、ClusterAPI、云桌面等技术和话题。</summary></entry>
<entry><title>Kubernetes Community Days 成都站重启</title><id>urn:cloudnative:kcd-cd</id>
<link rel="alternate" href="https://cloudnative.example.cn/blog/kcd-chengdu/"/>
<updated>2022-12-22T09:00:00+08:00</updated>
<content type="html">&lt;p&gt;Kubernetes Community Days 成都站由 CNCF 和 DaoCloud 道客、华为云等联合发起。&lt;/p&gt;&lt;p&gt;活动聚焦 Istio、KubeEdge、中间件、分布式应用运行时、存储、多云管理等云原生开源项目与技术实践的主题分享。现场还设有动手实验环节，参与者可以在导师指导下完成一次边缘集群的部署。&lt;/p&gt;</content></entry>
</feed>"#;

const JSON_FEED: &str = r#"{"version":"https://jsonfeed.org/version/1.1","title":"Reposts",
"home_page_url":"https://repost.example.com/","items":[
{"id":"repost-1","url":"https://repost.example.com/p/ebpf-observability-primer","title":"eBPF observability primer (repost)",
"date_published":"2022-12-21T06:00:00Z",
"content_text":"eBPF lets operators attach small verified programs to kernel hooks without changing kernel source. This primer walks through tracing network latency in a Kubernetes cluster with bpftrace, then builds a Prometheus exporter that turns the traces into histograms. It closes with the limits of eBPF on older kernels and how managed clusters expose the feature."},
{"id":"repost-2","url":"https://repost.example.com/p/istio-ambient","title":"Istio ambient mesh reaches beta",
"date_published":"2022-12-22T01:00:00Z",
"summary":"Ambient mode removes sidecars by splitting the data plane into a per-node proxy and optional waypoint proxies."}
]}"#;

/// Chinese feed served as GBK, declared only in the XML prolog, with the
/// date forms Chinese sites use.
const GBK_FEED: &str = r#"<?xml version="1.0" encoding="gbk"?>
<rss version="2.0"><channel><title>开源资讯</title><link>https://oss.example.cn/</link><description>资讯</description>
<item><title>龙蜥社区发布 Anolis OS 8.6</title><link>https://oss.example.cn/a/anolis-86.html</link>
<pubDate>2022-12-21 10:00:00</pubDate>
<description>龙蜥社区正式发布 Anolis OS 8.6 版本，新增对多款国产芯片的支持。</description></item>
<item><title>openEuler 22.09 创新版本发布</title><link>https://oss.example.cn/a/openeuler-2209.html</link>
<pubDate>2022年12月20日</pubDate>
<description>openEuler 22.09 引入了多项内核特性，并改进了容器场景下的启动速度。</description></item>
<item><title>OpenHarmony 开发者大会举行</title><link>https://oss.example.cn/a/openharmony.html</link>
<pubDate>Wed, 21 Dec 2022 16:00:00 CST</pubDate>
<description>大会发布了 OpenHarmony 3.2 Beta 版本，并公布了社区治理的最新进展。</description></item>
<item><title>没有日期的条目</title><link>https://oss.example.cn/a/undated.html</link>
<description>这条资讯没有给出发布日期，因此应当被标记为未注明日期。</description></item>
</channel></rss>"#;

struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
    server: TestServer,
}

fn setup() -> Site {
    let server = TestServer::start();
    server.set(
        "/rss.xml",
        Route::ok("application/rss+xml", RSS).with_etag("\"rss-v1\""),
    );
    server.set("/atom.xml", Route::ok("application/atom+xml", ATOM));
    server.set("/feed.json", Route::ok("application/feed+json", JSON_FEED));
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(GBK_FEED);
    assert!(!unmappable);
    server.set("/gbk.xml", Route::ok("text/xml", gbk.into_owned()));
    server.set(
        "/broken.xml",
        Route::ok("text/html", "<html><body>Not a feed</body></html>"),
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let source = |name: &str, path: &str| {
        format!(
            "[[source]]\nname = \"{name}\"\nkind = \"feed\"\nurl = \"{}\"\nallow_private = true\n\n",
            server.url(path)
        )
    };
    let mut config = String::from(
        "[store]\npath = \"data/db\"\n\n[output]\ndir = \"public\"\nbase_url = \"https://news.example.org/digest/\"\n\n\
         [digest]\ntitle = \"社区要闻\"\nperiod = \"weekly\"\ntimezone = \"Asia/Shanghai\"\n\n\
         [feed]\ntitle = \"社区要闻\"\ndescription = \"云原生社区要闻\"\nitems = 50\n\n\
         [fetch]\nmin_host_interval_ms = 0\nretries = 0\n\n",
    );
    for (name, path) in [
        ("news", "/rss.xml"),
        ("cloudnative", "/atom.xml"),
        ("reposts", "/feed.json"),
        ("oss-gbk", "/gbk.xml"),
        ("broken", "/broken.xml"),
    ] {
        config.push_str(&source(name, path));
    }
    let config_path = root.join("config.toml");
    std::fs::write(&config_path, config).expect("write config");
    Site {
        _dir: dir,
        root,
        config: config_path,
        server,
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn feed_guids(path: &Path) -> Vec<(String, String)> {
    let feed = feed_rs::parser::parse(read(path).as_bytes()).expect("feed.xml parses");
    feed.entries
        .iter()
        .map(|e| {
            (
                e.id.clone(),
                e.title
                    .as_ref()
                    .map(|t| t.content.clone())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn feeds_in_digest_and_feeds_out() {
    let site = setup();
    let first = yaowen(&site.config, &["run", "--once"]);
    let out = stdout(&first);
    assert!(
        first.status.success(),
        "run --once failed: {out}\n{}",
        stderr(&first)
    );
    // The broken source is named with its category; the others succeed.
    assert!(out.contains("failed: broken [parse]"), "{out}");
    assert!(out.contains("1 failed"), "{out}");

    // The digest for the week of Monday 2022-12-19 matches the golden file
    // line for line (the format of shared/seeds/000).
    let digest = read(&site.root.join("public/digest/2022-12-19.md"));
    let golden_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/digest-2022-12-19.md");
    // YAOWEN_BLESS=1 rewrites the golden file; review its diff before committing.
    if std::env::var_os("YAOWEN_BLESS").is_some() {
        std::fs::write(&golden_path, &digest).expect("bless the golden file");
    }
    let golden = read(&golden_path);
    if digest != golden {
        for (n, (got, want)) in digest.lines().zip(golden.lines()).enumerate() {
            assert_eq!(got, want, "line {} differs", n + 1);
        }
        assert_eq!(
            digest.lines().count(),
            golden.lines().count(),
            "line count\n{digest}"
        );
    }
    // The earlier week has its own page; the HTML twin exists and escapes.
    assert!(read(&site.root.join("public/digest/2022-12-12.md"))
        .contains("KubeCon China call for proposals opens"));
    let html = read(&site.root.join("public/digest/2022-12-19.html"));
    assert!(
        html.contains("Kubernetes 1.26 released with &lt;CSI&gt; improvements"),
        "title escaped in HTML"
    );
    assert!(!html.contains("<CSI>"));
    // The repost is not listed on its own but named as "also at" the original.
    assert!(
        html.contains("https://repost.example.com/p/ebpf-observability-primer"),
        "also-at link"
    );
    assert!(
        !digest.contains("(repost)"),
        "the repost is folded into the original"
    );
    for file in ["index.html", "feed.xml", "atom.xml", "digests.xml"] {
        assert!(
            site.root.join("public").join(file).is_file(),
            "{file} written"
        );
    }

    // feed.xml: every story once (the repost is folded into its first copy).
    let guids = feed_guids(&site.root.join("public/feed.xml"));
    let titles: Vec<&str> = guids.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        titles.iter().filter(|t| t.contains("eBPF")).count(),
        1,
        "{titles:?}"
    );
    assert!(
        titles.contains(&"龙蜥社区发布 Anolis OS 8.6"),
        "GBK decoded: {titles:?}"
    );
    assert_eq!(guids.len(), 10, "{titles:?}");

    // A second run: the RSS feed answers 304, nothing changes, guids stay.
    let second = yaowen(&site.config, &["run", "--once"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("0 new items"),
        "{}",
        stdout(&second)
    );
    assert_eq!(site.server.hits("/rss.xml"), vec![200, 304]);
    assert_eq!(
        feed_guids(&site.root.join("public/feed.xml")),
        guids,
        "guids stable across runs"
    );
    assert_eq!(read(&site.root.join("public/digest/2022-12-19.md")), digest);
}

#[test]
fn a_source_that_breaks_later_loses_nothing_already_stored() {
    let site = setup();
    let first = yaowen(&site.config, &["fetch"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let before = stdout(&yaowen(&site.config, &["items", "--json"]));

    // Every source now fails in a different way.
    site.server.set("/rss.xml", Route::status(500));
    site.server.set(
        "/atom.xml",
        Route::ok(
            "application/atom+xml",
            ATOM.as_bytes()[..ATOM.len() / 2].to_vec(),
        ),
    );
    site.server.set(
        "/feed.json",
        Route::ok("application/feed+json", "{\"version\": "),
    );
    site.server.set("/gbk.xml", Route::status(404));
    let second = yaowen(&site.config, &["fetch", "--strict"]);
    assert_eq!(
        second.status.code(),
        Some(1),
        "--strict exits 1 when a source failed"
    );
    let report = stdout(&second);
    assert!(
        report.contains("failed: news [http] HTTP status 500"),
        "{report}"
    );
    assert!(
        report.contains("failed: oss-gbk [http] HTTP status 404"),
        "{report}"
    );
    assert!(report.contains("failed: reposts [parse]"), "{report}");
    let after = stdout(&yaowen(&site.config, &["items", "--json"]));
    assert_eq!(before, after, "nothing stored was lost or changed");

    let sources = stdout(&yaowen(&site.config, &["sources"]));
    assert!(
        sources
            .lines()
            .any(|l| l.starts_with("news") && l.contains("[http]")),
        "{sources}"
    );
}

#[test]
fn undated_and_chinese_dated_items_get_the_right_days() {
    let site = setup();
    let run = yaowen(&site.config, &["fetch", "--source", "oss-gbk"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let items = stdout(&yaowen(&site.config, &["items", "--json"]));
    let items: Vec<serde_json::Value> = items
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let published = |title: &str| {
        items
            .iter()
            .find(|i| i["title"] == title)
            .unwrap_or_else(|| panic!("{title} stored"))["published"]
            .clone()
    };
    assert_eq!(
        published("龙蜥社区发布 Anolis OS 8.6"),
        "2022-12-21T02:00:00Z"
    );
    assert_eq!(
        published("openEuler 22.09 创新版本发布"),
        "2022-12-19T16:00:00Z"
    );
    // CST in an Asia/Shanghai source is China Standard Time, not US Central.
    assert_eq!(
        published("OpenHarmony 开发者大会举行"),
        "2022-12-21T08:00:00Z"
    );
    assert!(
        published("没有日期的条目").is_null(),
        "undated stays undated"
    );
}

#[test]
fn bad_config_and_unknown_source_exit_2_with_the_key_named() {
    let site = setup();
    let bad = site.root.join("bad.toml");
    std::fs::write(&bad, "[digest]\nperoid = \"weekly\"\n").expect("write");
    let run = yaowen(&bad, &["check"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("peroid"), "{}", stderr(&run));

    let run = yaowen(&site.config, &["fetch", "--source", "nope"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("nope"), "{}", stderr(&run));
}

#[test]
fn a_locked_store_is_reported_clearly() {
    let site = setup();
    let store_path = site.root.join("data/db");
    let _held = yaowen::store::Store::open(&store_path).expect("hold the store");
    let run = yaowen(&site.config, &["items"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("in use by another process"),
        "{}",
        stderr(&run)
    );
}
