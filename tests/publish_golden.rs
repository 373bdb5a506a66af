//! The publish stage against real material: the Markdown digest editors
//! publish by hand (seed 000) must come out of yaowen byte for byte, and
//! every page and feed yaowen writes must be safe and parseable.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::path::PathBuf;
use yaowen::publish::{
    render_markdown, write_site, DigestEntry, DigestPage, FeedEntry, PeriodKind, SiteInfo,
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

fn fixture_time(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 12, day, hour, 0, 0).unwrap()
}

#[allow(dead_code)]
fn feed_entries(page: &DigestPage) -> Vec<FeedEntry> {
    page.entries
        .iter()
        .enumerate()
        .map(|(index, entry)| FeedEntry {
            id: entry.id.clone(),
            title: entry.title.clone(),
            url: entry.url.clone(),
            summary: entry.summary.clone(),
            published: fixture_time(21, 0) - chrono::Duration::days(index as i64),
            author: Some("云原生社区".into()),
            tags: vec!["cloud-native".into()],
        })
        .collect()
}

#[allow(dead_code)]
fn unused() {
    let _ = write_site;
}
