//! Bad servers: each source fails with the right category, the other
//! sources are fetched, nothing stored is lost, and memory stays bounded by
//! the body cap (a 2 GB body or a gzip bomb stops at the cap).

use crate::common;

use common::{
    rss_channel, source_table, stderr, stdout, write_config, yaowen, Behaviour, Route, TestServer,
};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

fn rss(title: &str, items: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (slug, item_title) in items {
        body.push_str(&format!(
            "<item><title>{item_title}</title><link>https://example.org/{slug}</link><guid>{slug}</guid>\
             <pubDate>Mon, 19 Dec 2022 08:00:00 +0000</pubDate><description>{item_title} in detail.</description></item>"
        ));
    }
    rss_channel(title, &body)
}

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
}

/// A config with one feed source per `(name, path, allow_private)`.
fn setup(server: &TestServer, fetch: &str, sources: &[(&str, &str, bool)]) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = format!(
        "[store]\npath = \"db\"\n[output]\ndir = \"public\"\n[fetch]\nmin_host_interval_ms = 0\nretries = 0\n{fetch}\n"
    );
    for (name, path, allow_private) in sources {
        let extra = format!("allow_private = {allow_private}");
        config.push_str(&source_table(name, "feed", &server.url(path), &extra));
    }
    Setup {
        config: write_config(dir.path(), &config),
        _dir: dir,
    }
}

/// The `sources` table row of `name`.
fn source_row(setup: &Setup, name: &str) -> String {
    let table = stdout(&yaowen(&setup.config, &["sources"]));
    table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("{name} in\n{table}"))
        .to_string()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

#[test]
fn every_kind_of_bad_server_fails_its_source_with_the_right_category() {
    let server = TestServer::start();
    server.set(
        "/good.xml",
        Route::ok(
            "application/rss+xml",
            rss("good", &[("a", "Alpha"), ("b", "Beta")]),
        ),
    );
    // A declared 2 GB body, and an undeclared one, streamed.
    server.set(
        "/huge.xml",
        Route::ok("application/rss+xml", "").with_behaviour(Behaviour::Stream {
            total: 2 << 30,
            declare_length: true,
        }),
    );
    server.set(
        "/endless.xml",
        Route::ok("application/rss+xml", "").with_behaviour(Behaviour::Stream {
            total: 2 << 30,
            declare_length: false,
        }),
    );
    // 64 MiB of zeros in ~64 KiB of gzip.
    let bomb = gzip(&vec![0u8; 64 << 20]);
    server.set(
        "/bomb.xml",
        Route::ok("application/rss+xml", bomb).with_header("Content-Encoding", "gzip"),
    );
    server.set(
        "/slow.xml",
        Route::ok("application/rss+xml", rss("slow", &[("s", "Slow")]))
            .with_behaviour(Behaviour::Trickle(Duration::from_millis(400))),
    );
    server.set(
        "/loop.xml",
        Route::status(302).with_header("Location", "/loop.xml"),
    );
    server.set(
        "/garbage.xml",
        Route::ok(
            "application/rss+xml",
            vec![0xde, 0xad, 0xbe, 0xef, 0x00, 0x13, 0x37],
        ),
    );
    server.set(
        "/cut.xml",
        Route::ok("application/rss+xml", rss("cut", &[("c", "Cut")]))
            .with_behaviour(Behaviour::CloseAfter(40)),
    );
    server.set(
        "/private.xml",
        Route::ok("application/rss+xml", rss("p", &[("p", "Private")])),
    );
    let setup = setup(
        &server,
        "timeout_secs = 3\nconnect_timeout_secs = 2\nmax_body_bytes = 1048576\nmax_redirects = 4\n",
        &[
            ("good", "/good.xml", true),
            ("huge", "/huge.xml", true),
            ("endless", "/endless.xml", true),
            ("bomb", "/bomb.xml", true),
            ("slow", "/slow.xml", true),
            ("loop", "/loop.xml", true),
            ("garbage", "/garbage.xml", true),
            ("cut", "/cut.xml", true),
            ("private", "/private.xml", false),
        ],
    );
    let run = yaowen(&setup.config, &["fetch"]);
    let report = stdout(&run);
    assert!(
        run.status.success(),
        "a fetch with failed sources still exits 0: {report}\n{}",
        stderr(&run)
    );
    for (name, category) in [
        ("huge", "too_large"),
        ("endless", "too_large"),
        ("bomb", "too_large"),
        ("slow", "timeout"),
        ("loop", "redirects"),
        ("garbage", "parse"),
        ("private", "blocked"),
    ] {
        assert!(
            report.contains(&format!("failed: {name} [{category}]")),
            "{name} → {category}:\n{report}"
        );
    }
    assert!(
        report.contains("failed: cut [body]") || report.contains("failed: cut [parse]"),
        "a body cut short is a body or parse failure:\n{report}"
    );
    assert!(
        report.contains("2 new items"),
        "the good source is fetched: {report}"
    );
    // The private source was refused before any request reached the server.
    assert!(server.hits("/private.xml").is_empty());
    // The redirect loop stopped at the limit (first request + 4 redirects, + 1 refused).
    assert!(
        server.hits("/loop.xml").len() <= 6,
        "{:?}",
        server.hits("/loop.xml")
    );
    assert!(source_row(&setup, "bomb").contains("[too_large]"));
}

#[test]
fn a_failing_source_backs_off_and_recovers_when_the_site_does() {
    let server = TestServer::start();
    server.set("/flaky.xml", Route::status(500));
    let setup = setup(
        &server,
        "min_refresh_secs = 60\n",
        &[("flaky", "/flaky.xml", true)],
    );
    for expected_failures in 1..=3 {
        let run = yaowen(&setup.config, &["fetch"]);
        assert!(
            stdout(&run).contains("failed: flaky [http] HTTP status 500"),
            "{}",
            stdout(&run)
        );
        let row = source_row(&setup, "flaky");
        let columns: Vec<&str> = row.split_whitespace().collect();
        assert!(
            columns.contains(&expected_failures.to_string().as_str()),
            "{row}"
        );
    }
    // From the second failure on, the source has a next-due time (back-off).
    let row = source_row(&setup, "flaky");
    assert!(row.contains("[http]"), "{row}");
    let dated = regex::Regex::new(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").expect("regex");
    assert_eq!(
        dated.find_iter(&row).count(),
        1,
        "never ok, but a next due time (back-off): {row}"
    );

    server.set(
        "/flaky.xml",
        Route::ok("application/rss+xml", rss("flaky", &[("x", "Back")])),
    );
    let run = yaowen(&setup.config, &["fetch"]);
    assert!(
        stdout(&run).contains("1 new items, 0 updated, 0 failed"),
        "{}",
        stdout(&run)
    );
    let row = source_row(&setup, "flaky");
    assert!(
        !row.contains("[http]"),
        "the error is cleared on success: {row}"
    );
}

#[test]
fn not_modified_feeds_cost_one_conditional_request() {
    let server = TestServer::start();
    server.set(
        "/etag.xml",
        Route::ok("application/rss+xml", rss("e", &[("e", "Etag")])).with_etag("\"v1\""),
    );
    let setup = setup(&server, "", &[("etag", "/etag.xml", true)]);
    for _ in 0..3 {
        assert!(yaowen(&setup.config, &["fetch"]).status.success());
    }
    assert_eq!(server.hits("/etag.xml"), vec![200, 304, 304]);
}
