//! The publish stage against real material: the Markdown digest editors
//! publish by hand (seed 000) must come out of yaowen byte for byte, and
//! every page and feed yaowen writes must be safe and parseable.

use chrono::{NaiveDate, TimeZone, Utc};
use std::path::PathBuf;
use yaowen::publish::{
    render_atom, render_digest_html, render_digests_rss, render_index_html, render_markdown,
    render_rss, write_site, DigestEntry, DigestPage, FeedEntry, PeriodKind, SiteInfo,
};

fn seed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds/000_99cda888b8fb363e.txt")
}

fn read_seed() -> String {
    let path = seed_path();
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("seed {} is missing: {error}", path.display()))
}

fn site(front_matter: bool) -> SiteInfo {
    SiteInfo {
        digest_title: "社区要闻".into(),
        feed_title: "社区要闻".into(),
        feed_description: "云原生社区要闻".into(),
        base_url: "https://example.org/news/".into(),
        period: PeriodKind::Weekly,
        timezone: chrono_tz::Asia::Shanghai,
        front_matter,
    }
}

/// The seed's title line and entries, read the way an editor reads them:
/// `- [**DATE TITLE**](URL)`, the two-space line, then indented summary
/// paragraphs.
fn parse_seed(text: &str) -> (String, Vec<DigestEntry>) {
    let mut lines = text.split('\n');
    let title = lines
        .next()
        .and_then(|line| line.strip_prefix("# "))
        .expect("seed starts with a `# ` title")
        .to_string();
    let mut entries: Vec<DigestEntry> = Vec::new();
    let mut summary_lines: Vec<&str> = Vec::new();
    let finish = |entries: &mut Vec<DigestEntry>, summary_lines: &mut Vec<&str>| {
        if let Some(last) = entries.last_mut() {
            last.summary = summary_lines.join("\n").trim_matches('\n').to_string();
        }
        summary_lines.clear();
    };
    for line in lines {
        if let Some(rest) = line.strip_prefix("- [**") {
            finish(&mut entries, &mut summary_lines);
            let (label, url) = rest.split_once("**](").expect("link text ends with **](");
            let url = url.strip_suffix(')').expect("link ends with )");
            let (date, title) = label.split_once(' ').expect("date then title");
            entries.push(DigestEntry {
                id: format!("seed-{}", entries.len()),
                date: NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("ISO date"),
                title: title.to_string(),
                url: url.to_string(),
                summary: String::new(),
                also_at: vec![],
                undated: false,
                pinned: false,
                source: "seed".into(),
            });
        } else if line == "  " {
            continue;
        } else if let Some(indented) = line.strip_prefix("    ") {
            summary_lines.push(indented);
        } else {
            assert!(line.is_empty(), "unexpected seed line {line:?}");
            summary_lines.push("");
        }
    }
    finish(&mut entries, &mut summary_lines);
    (title, entries)
}

fn seed_page() -> (String, DigestPage) {
    let seed = read_seed();
    let (title, entries) = parse_seed(&seed);
    let page = DigestPage {
        start: NaiveDate::from_ymd_opt(2022, 12, 19).unwrap(),
        published: true,
        published_at: Some(Utc.with_ymd_and_hms(2022, 12, 21, 2, 0, 0).unwrap()),
        entries,
    };
    assert_eq!(title, "社区要闻");
    (seed, page)
}

#[test]
fn markdown_digest_matches_the_hand_written_seed_byte_for_byte() {
    let (seed, page) = seed_page();
    assert_eq!(page.entries.len(), 12, "the seed has 12 entries");
    assert!(
        page.entries[11].summary.contains("\n\n![quadrant]"),
        "the last entry has a second paragraph"
    );
    let rendered = render_markdown(&site(false), &page);
    if rendered != seed {
        let first_difference = rendered
            .bytes()
            .zip(seed.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(rendered.len().min(seed.len()));
        panic!(
            "differs at byte {first_difference}: rendered {:?} / seed {:?}",
            &rendered[first_difference.saturating_sub(40)..],
            &seed[first_difference.saturating_sub(40)..]
        );
    }
}

#[test]
fn markdown_with_front_matter_keeps_the_seed_body() {
    let (seed, page) = seed_page();
    let rendered = render_markdown(&site(true), &page);
    let body = rendered
        .strip_prefix(
            "---\ntitle: \"社区要闻 2022-12-19\"\ndate: 2022-12-21T10:00:00+08:00\n---\n\n",
        )
        .unwrap_or_else(|| panic!("front matter: {}", &rendered[..120]));
    assert_eq!(body, seed);
}

#[test]
fn markdown_hostile_titles_stay_inside_their_link() {
    let (_, mut page) = seed_page();
    page.entries[0].title = "]](https://evil.example/) **bold** [x]\n# heading\r\n- item".into();
    page.entries[0].url = "https://e.org/path with space/(x)".into();
    let rendered = render_markdown(&site(false), &page);
    let line = rendered.lines().nth(2).unwrap();
    assert_eq!(
        line,
        r"- [**2022-12-21 \]\](https://evil.example/) \*\*bold\*\* \[x\] # heading - item**](https://e.org/path%20with%20space/%28x%29)"
    );
    // The rest of the page is untouched: same number of entry lines.
    assert_eq!(rendered.matches("\n- [**").count(), 12);
}

/// Feed items made from the seed's entries, one day apart, newest first.
fn seed_feed_entries(page: &DigestPage) -> Vec<FeedEntry> {
    page.entries
        .iter()
        .enumerate()
        .map(|(index, entry)| FeedEntry {
            id: format!("wx:MzA5NzU3:{index}:1"),
            title: entry.title.clone(),
            url: entry.url.clone(),
            summary: entry.summary.clone(),
            published: Utc.with_ymd_and_hms(2022, 12, 21, 1, 30, 0).unwrap()
                - chrono::Duration::days(index as i64),
            author: Some("云原生社区".into()),
            tags: vec!["云原生".into(), "community".into()],
        })
        .collect()
}

fn parse_feed(xml: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(xml.as_bytes())
        .unwrap_or_else(|error| panic!("feed does not parse: {error}\n{xml}"))
}

fn self_link(feed: &feed_rs::model::Feed) -> Option<String> {
    feed.links
        .iter()
        .find(|link| link.rel.as_deref() == Some("self"))
        .map(|link| link.href.clone())
}

#[test]
fn rss_feed_carries_every_item_with_stable_guid_and_own_date() {
    let (_, page) = seed_page();
    let items = seed_feed_entries(&page);
    let xml = render_rss(&site(false), &items);
    assert!(xml.contains(
        "<atom:link href=\"https://example.org/news/feed.xml\" rel=\"self\" type=\"application/rss+xml\"/>"
    ));
    assert!(xml.contains("<language>zh-cn</language>"));
    assert!(xml.contains("<guid isPermaLink=\"false\">wx:MzA5NzU3:0:1</guid>"));
    assert!(xml.contains("<pubDate>Wed, 21 Dec 2022 01:30:00 +0000</pubDate>"));
    assert!(xml.contains("<lastBuildDate>Wed, 21 Dec 2022 01:30:00 +0000</lastBuildDate>"));
    let feed = parse_feed(&xml);
    assert_eq!(
        self_link(&feed).as_deref(),
        Some("https://example.org/news/feed.xml")
    );
    assert_eq!(feed.title.unwrap().content, "社区要闻");
    assert_eq!(feed.entries.len(), items.len());
    for (parsed, item) in feed.entries.iter().zip(&items) {
        assert_eq!(parsed.id, item.id);
        assert_eq!(parsed.title.as_ref().unwrap().content, item.title);
        assert_eq!(parsed.links[0].href, item.url);
        assert_eq!(parsed.published, Some(item.published));
        assert_eq!(parsed.authors[0].name, "云原生社区");
        let terms: Vec<&str> = parsed.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, ["云原生", "community"]);
        let summary = &parsed.summary.as_ref().unwrap().content;
        let first_paragraph = item.summary.split("\n\n").next().unwrap();
        assert!(summary.contains(first_paragraph), "{summary}");
    }
    // The Gartner URL has `&` in its query: escaped in XML, intact after parsing.
    assert!(xml.contains("id=1-29B7RDWN&amp;ct=220304&amp;st=sb"));
    assert_eq!(
        feed.entries[11].links[0].href,
        "https://www.gartner.com/doc/reprints?id=1-29B7RDWN&ct=220304&st=sb"
    );
}

#[test]
fn atom_feed_has_urn_ids_dates_and_links() {
    let (_, page) = seed_page();
    let items = seed_feed_entries(&page);
    let feed = parse_feed(&render_atom(&site(false), &items));
    assert_eq!(
        self_link(&feed).as_deref(),
        Some("https://example.org/news/atom.xml")
    );
    assert_eq!(feed.updated, Some(items[0].published));
    assert_eq!(feed.entries.len(), items.len());
    for (parsed, item) in feed.entries.iter().zip(&items) {
        assert_eq!(parsed.id, format!("urn:yaowen:{}", item.id));
        assert_eq!(parsed.published, Some(item.published));
        assert_eq!(parsed.updated, Some(item.published));
        assert_eq!(parsed.links[0].href, item.url);
        assert_eq!(parsed.links[0].rel.as_deref(), Some("alternate"));
        assert_eq!(parsed.summary.as_ref().unwrap().content, item.summary);
        assert_eq!(parsed.categories.len(), 2);
    }
}

#[test]
fn feeds_survive_hostile_text() {
    let hostile = FeedEntry {
        id: "id with spaces & <brackets>".into(),
        title: "<script>alert(1)</script> ]]> \u{0}\u{1b}控制字符".into(),
        url: "javascript:alert(1)".into(),
        summary: "<img src=x onerror=alert(1)>".into(),
        published: Utc.with_ymd_and_hms(2022, 12, 21, 0, 0, 0).unwrap(),
        author: None,
        tags: vec!["a&b".into()],
    };
    let items = [hostile];
    let rss = render_rss(&site(false), &items);
    let atom = render_atom(&site(false), &items);
    assert!(!rss.contains('\u{0}') && !rss.contains('\u{1b}'));
    assert!(!rss.contains("javascript:") && !atom.contains("javascript:"));
    for xml in [&rss, &atom] {
        let feed = parse_feed(xml);
        let entry = &feed.entries[0];
        assert_eq!(
            entry.title.as_ref().unwrap().content,
            "<script>alert(1)</script> ]]> 控制字符"
        );
        assert!(entry.links.is_empty());
        assert_eq!(entry.categories[0].term, "a&b");
    }
    // RSS descriptions are HTML to readers: the tag must arrive as text.
    let summary = parse_feed(&rss).entries[0].summary.clone().unwrap().content;
    assert!(!summary.contains("<img"), "{summary}");
    assert!(
        summary.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{summary}"
    );
}

fn week(page: &DigestPage, start: NaiveDate, published: bool) -> DigestPage {
    DigestPage {
        start,
        published,
        published_at: published.then(|| {
            Utc.from_utc_datetime(&start.and_hms_opt(2, 0, 0).unwrap()) + chrono::Duration::days(7)
        }),
        entries: page.entries.clone(),
    }
}

#[test]
fn digests_feed_has_one_item_per_published_digest() {
    let (_, page) = seed_page();
    let draft = week(&page, NaiveDate::from_ymd_opt(2022, 12, 26).unwrap(), false);
    let newer = week(&page, NaiveDate::from_ymd_opt(2022, 12, 19).unwrap(), true);
    let older = week(&page, NaiveDate::from_ymd_opt(2022, 12, 12).unwrap(), true);
    let xml = render_digests_rss(&site(false), &[draft.clone(), newer, older]);
    let feed = parse_feed(&xml);
    assert_eq!(
        self_link(&feed).as_deref(),
        Some("https://example.org/news/digests.xml")
    );
    let links: Vec<&str> = feed
        .entries
        .iter()
        .map(|e| e.links[0].href.as_str())
        .collect();
    assert_eq!(
        links,
        [
            "https://example.org/news/digest/2022-12-19.html",
            "https://example.org/news/digest/2022-12-12.html"
        ]
    );
    assert_eq!(feed.entries[0].id, "urn:yaowen:digest:2022-12-19");
    assert_eq!(
        feed.entries[0].published,
        Some(Utc.with_ymd_and_hms(2022, 12, 26, 2, 0, 0).unwrap())
    );
    assert_eq!(
        feed.entries[0].title.as_ref().unwrap().content,
        "社区要闻 2022-12-19 – 2022-12-25"
    );
    let list = &feed.entries[0].summary.as_ref().unwrap().content;
    assert!(
        list.starts_with("<ul><li><a href=\"https://mp.weixin.qq.com/s/d5j4WawE_fzHuh4ZyRsixg\">")
    );
    assert_eq!(list.matches("<li>").count(), 12);
    // Nothing published yet: an empty, valid channel rather than a draft.
    let empty = parse_feed(&render_digests_rss(&site(false), &[draft]));
    assert!(empty.entries.is_empty());
}

#[test]
fn html_pages_of_the_seed_link_every_entry() {
    let (_, page) = seed_page();
    let html = render_digest_html(&site(false), &page);
    for entry in &page.entries {
        let href = format!("href=\"{}\"", entry.url.replace('&', "&amp;"));
        assert!(html.contains(&href), "missing {href}");
    }
    let index = render_index_html(&site(false), std::slice::from_ref(&page));
    assert!(index.contains("href=\"digest/2022-12-19.html\""));
    assert!(index.contains("· 12 条"));
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = walk(dir)
        .into_iter()
        .map(|path| {
            path.strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn write_site_writes_every_output_and_keeps_foreign_files() {
    let (seed, page) = seed_page();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let newer = week(&page, NaiveDate::from_ymd_opt(2022, 12, 19).unwrap(), true);
    let older = week(&page, NaiveDate::from_ymd_opt(2022, 12, 12).unwrap(), true);
    let items = seed_feed_entries(&page);
    let digests = [newer.clone(), older];

    let report = write_site(&out, &site(false), &digests, &items).unwrap();
    let expected = [
        "atom.xml",
        "digest/2022-12-12.html",
        "digest/2022-12-12.md",
        "digest/2022-12-19.html",
        "digest/2022-12-19.md",
        "digests.xml",
        "feed.xml",
        "index.html",
    ];
    assert_eq!(listing(&out), expected);
    assert_eq!(report.files.len(), expected.len());
    assert_eq!(report.changed.len(), expected.len());
    assert_eq!(
        std::fs::read_to_string(out.join("digest/2022-12-19.md")).unwrap(),
        seed
    );

    // Unchanged input: nothing is rewritten.
    let again = write_site(&out, &site(false), &digests, &items).unwrap();
    assert!(again.changed.is_empty(), "{:?}", again.changed);

    // The older digest disappears: its pages go, other files in digest/ stay.
    std::fs::write(out.join("digest/notes.md"), "editor's notes").unwrap();
    std::fs::write(out.join("digest/2022-12-12.md.bak"), "backup").unwrap();
    let pruned = write_site(&out, &site(false), &[newer], &items).unwrap();
    assert_eq!(pruned.removed.len(), 2);
    let names = listing(&out);
    assert!(!names
        .iter()
        .any(|name| name.starts_with("digest/2022-12-12.") && !name.ends_with(".bak")));
    assert!(names.contains(&"digest/notes.md".to_string()));
    assert!(names.contains(&"digest/2022-12-12.md.bak".to_string()));
    assert!(pruned.changed.contains(&out.join("index.html")));
}

/// Scale check behind `--ignored`: 100,000 stored items in 2,000 weekly
/// digests. Prints how long rendering and writing took (a figure for the
/// report, not an assertion).
#[test]
#[ignore]
fn scale_100k_items() {
    let (_, page) = seed_page();
    let first = NaiveDate::from_ymd_opt(2022, 12, 19).unwrap();
    let digests: Vec<DigestPage> = (0..2000)
        .map(|n| {
            let mut digest = week(&page, first - chrono::Duration::weeks(n), true);
            let entries = digest.entries.clone();
            digest.entries = entries.iter().cycle().take(50).cloned().collect();
            digest
        })
        .collect();
    let items: Vec<FeedEntry> = seed_feed_entries(&page)
        .into_iter()
        .cycle()
        .take(50)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let report = write_site(dir.path(), &site(false), &digests, &items).unwrap();
    let first_run = started.elapsed();
    let started = std::time::Instant::now();
    let again = write_site(dir.path(), &site(false), &digests, &items).unwrap();
    let second_run = started.elapsed();
    let bytes: u64 = report
        .files
        .iter()
        .map(|path| std::fs::metadata(path).unwrap().len())
        .sum();
    println!(
        "{} files, {} MB: first write {first_run:?}, unchanged rerun {second_run:?} ({} rewritten)",
        report.files.len(),
        bytes / 1_000_000,
        again.changed.len()
    );
    assert_eq!(report.files.len(), 4004);
}
