//! A Markdown site as a source through the real binary: the seed posts
//! (Hugo and Jekyll front matter, a stray tab, mojibake, an HTML repost)
//! are copied into a content tree at test time, fetched and listed; titles,
//! dates, text and URLs must come out as an editor reads them. A broken
//! front matter skips that file only, naming it and the line.

use crate::common;

use common::{
    shared_dir, stderr, stdout, stored_items, write_config, yaowen, WEEKLY_DIGEST_CONFIG,
};
use std::path::PathBuf;

const SEEDS: [(&str, &str); 4] = [
    ("001_92499cf9255743fa.txt", "post/yunqi-2021.md"),
    ("002_98c1ca13551a9356.txt", "blog/2020-summary/index.md"),
    ("003_36a4fbbe9fc21027.txt", "news/tianyiyun-openeuler.md"),
    (
        "004_be1821cd074cc226.txt",
        "_posts/2024-12-07-cloud-native-forum.markdown",
    ),
];

struct Site {
    _dir: tempfile::TempDir,
    content: PathBuf,
    config: PathBuf,
}

fn site() -> Site {
    let seeds = shared_dir().join("seeds");
    let dir = tempfile::tempdir().expect("tempdir");
    let content = dir.path().join("content");
    for (seed, target) in SEEDS {
        let target = content.join(target);
        std::fs::create_dir_all(target.parent().expect("target has a parent")).expect("mkdir");
        std::fs::copy(seeds.join(seed), &target)
            .unwrap_or_else(|e| panic!("copy seed {seed}: {e}"));
    }
    // A Hugo section page lists posts; it is not one.
    std::fs::write(content.join("post/_index.md"), "---\ntitle: 文章\n---\n")
        .expect("write _index.md");
    let config = write_config(
        dir.path(),
        &format!(
            "{WEEKLY_DIGEST_CONFIG}[[source]]\nname = \"cnc-site\"\nkind = \"markdown\"\npath = \"{}\"\nbase_url = \"https://cloudnative.example.cn/\"\n",
            content.display()
        ),
    );
    Site {
        _dir: dir,
        content,
        config,
    }
}

fn by_title<'a>(items: &'a [serde_json::Value], title: &str) -> &'a serde_json::Value {
    items
        .iter()
        .find(|i| i["title"] == title)
        .unwrap_or_else(|| {
            let titles: Vec<_> = items.iter().map(|i| i["title"].clone()).collect();
            panic!("{title} not stored; titles: {titles:?}")
        })
}

/// Text a reader would see: no Latin-1 mojibake, no markup.
fn assert_readable(what: &str, text: &str) {
    for bad in [
        "ä", "å", "æ", "ï¼", "â€", "<div", "<p>", "</p>", "class=", "&lt;",
    ] {
        assert!(!text.contains(bad), "{what} contains {bad:?}: {text}");
    }
}

#[test]
fn the_seed_posts_come_out_as_their_front_matter_says() {
    let site = site();
    let run = yaowen(&site.config, &["fetch"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let items = stored_items(&site.config);
    assert_eq!(items.len(), 4, "four posts, no section page: {items:?}");

    let yunqi = by_title(&items, "云栖大会2021 专场");
    assert_eq!(yunqi["published"], "2020-08-09T07:00:00Z");
    assert_eq!(yunqi["url"], "https://cloudnative.example.cn/yunqi-2021/");
    assert_eq!(yunqi["author"], "忆君");

    // Mojibake in the front matter and body is repaired. The title's last
    // word cannot be told from the bytes: 颁发 and 面向 lose their dropped
    // cp1254 bytes to the same E9 A2 E5 91, and word frequencies favour 面向
    // (see src/text/mojibake.rs); everything before it comes back exactly.
    let summary_2020 = items
        .iter()
        .find(|i| {
            i["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("云原生社区 2020 年度总结及证书"))
        })
        .unwrap_or_else(|| panic!("002 stored with its title repaired: {items:?}"));
    assert_readable("002 title", summary_2020["title"].as_str().unwrap_or(""));
    assert_eq!(summary_2020["published"], "2021-02-07T02:03:00Z");
    // A page bundle is named by its folder.
    assert_eq!(
        summary_2020["url"],
        "https://cloudnative.example.cn/2020-summary/"
    );
    assert_eq!(summary_2020["author"], "宋净超（Jimmy Song）");
    assert!(
        summary_2020["text"]
            .as_str()
            .is_some_and(|t| t.contains("2020 年是云原生社区的")
                && t.contains("感谢所有云原生社区的参与者和合作伙伴们")),
        "{}",
        summary_2020["text"]
    );
    let tags: Vec<&str> = summary_2020["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    assert!(
        tags.contains(&"Community") && tags.contains(&"开源社区"),
        "{tags:?}"
    );

    // A date without an offset is read in the source's zone (Shanghai).
    let tianyi = by_title(
        &items,
        "天翼云亮相操作系统大会&openEuler Summit 2023，斩获五项大奖！",
    );
    assert_eq!(tianyi["published"], "2023-12-21T16:00:00Z");

    // The HTML repost becomes clean text.
    let forum = by_title(&items, "云原生技术前沿落地实践分论坛圆满举办");
    assert_eq!(forum["published"], "2024-12-07T08:05:30Z");
    assert_eq!(
        forum["url"],
        "https://cloudnative.example.cn/cloud-native-forum/"
    );
    assert!(
        forum["text"].as_str().is_some_and(|t| t.contains(
            "12月16日，2023开放原子开发者大会【云原生技术前沿落地实践】分论坛在无锡成功举办"
        )),
        "{}",
        forum["text"]
    );

    for item in &items {
        let title = item["title"].as_str().unwrap_or_default();
        assert_readable(title, title);
        assert_readable(title, item["summary"].as_str().unwrap_or_default());
        // Characters that lost two of their three bytes are rebuilt from a
        // word list where it can tell (seed 002: 杭州站, 积极, 排名不分先后);
        // the body must read as Chinese: at most 1 in 500 characters left over.
        let text = item["text"].as_str().unwrap_or_default();
        let leftover = text
            .chars()
            .filter(|c| ('\u{c0}'..='\u{ff}').contains(c))
            .count();
        let total = text.chars().count().max(1);
        assert!(
            leftover * 500 <= total,
            "{title}: {leftover} of {total} characters still mojibake"
        );
        assert!(
            !item["summary"].as_str().unwrap_or_default().is_empty(),
            "{title} has a summary"
        );
    }

    // Nothing changed on disk: a second fetch stores nothing new.
    let again = yaowen(&site.config, &["fetch"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        stdout(&yaowen(&site.config, &["items", "--json"]))
            .lines()
            .count(),
        4
    );
}

#[test]
fn a_broken_front_matter_skips_that_file_only() {
    let site = site();
    std::fs::write(
        site.content.join("post/broken.md"),
        "---\ntitle: \"KCD 成都站\"\ndate: 2024-05-01\ntags: [\"KCD\"\n---\n正文\n",
    )
    .expect("write broken post");
    std::fs::write(
        site.content.join("post/draft.md"),
        "+++\ntitle = \"草稿\"\ndraft = true\n+++\n未完成\n",
    )
    .expect("write draft");
    // Skipped entries are logged at info level.
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_yaowen"))
        .arg("--config")
        .arg(&site.config)
        .arg("fetch")
        .env_remove("YAOWEN_CONFIG")
        .env("RUST_LOG", "info")
        .output()
        .expect("run yaowen");
    assert!(run.status.success(), "{}", stderr(&run));
    let mut skipped_line = None;
    let log = format!("{}{}", stdout(&run), stderr(&run));
    for line in log.lines() {
        if line.contains("content/post/broken.md:") {
            skipped_line = Some(line.to_string());
        }
    }
    let skipped_line = skipped_line.unwrap_or_else(|| panic!("broken file named: {log}"));
    assert!(
        skipped_line.contains("content/post/broken.md:4: front matter:")
            || skipped_line.contains("content/post/broken.md:5: front matter:"),
        "{skipped_line}"
    );
    let items = stored_items(&site.config);
    assert_eq!(items.len(), 4, "the other posts are still read");
    assert!(
        items.iter().all(|i| i["title"] != "草稿"),
        "drafts stay out"
    );
}
