//! The daemon as an operator meets it: `yaowen run` on a schedule, stopped
//! with SIGTERM in the middle of a cycle, restarted, reloaded with SIGHUP,
//! and polite to a server that answers 429 with Retry-After.

use crate::common;

use common::{rss_channel, yaowen, Behaviour, Route, TestServer};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn rss(prefix: &str, count: usize) -> String {
    let mut body = String::new();
    for n in 0..count {
        body.push_str(&format!(
            "<item><title>{prefix} story {n}</title><link>https://example.org/{prefix}/{n}</link>\
             <pubDate>Mon, 19 Dec 2022 0{}:00:00 +0000</pubDate><description>{prefix} story {n} body text.</description></item>",
            n % 10
        ));
    }
    rss_channel("t", &body)
}

/// A running `yaowen run` whose stderr is collected line by line.
struct Daemon {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    fn start(config: &Path) -> Daemon {
        Daemon::start_with(config, &[])
    }

    fn start_with(config: &Path, env: &[(&str, &str)]) -> Daemon {
        let mut command = Command::new(env!("CARGO_BIN_EXE_yaowen"));
        command
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "yaowen=info")
            .env("NO_COLOR", "1")
            .env_remove("YAOWEN_CONFIG")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("JOURNAL_STREAM");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start yaowen run");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut log) = sink.lock() {
                    log.push(line);
                }
            }
        });
        Daemon { child, log }
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Wait until `check` holds for the log, or fail after `limit`.
    fn wait_for(&self, what: &str, limit: Duration, check: impl Fn(&[String]) -> bool) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if check(&self.lines()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "timed out waiting for {what}; log:\n{}",
            self.lines().join("\n")
        );
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{name}");
    }

    /// SIGTERM, then the exit status once it stopped (within `limit`).
    fn stop(mut self, limit: Duration) -> (std::process::ExitStatus, Duration, Vec<String>) {
        let start = Instant::now();
        self.signal("TERM");
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader thread drain the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return (status, start.elapsed(), self.lines());
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "did not stop within {limit:?}; log:\n{}",
                    self.lines().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(source, new)` for every "source done" line.
fn reported(lines: &[String]) -> Vec<(String, usize)> {
    let field = |line: &str, key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .map(|v| v.trim_matches('"').to_string())
    };
    lines
        .iter()
        .filter(|l| l.contains("source done"))
        .filter_map(|l| Some((field(l, "source=")?, field(l, "new=")?.parse().ok()?)))
        .collect()
}

fn write_config(dir: &Path, server: &TestServer, extra: &str, sources: &[&str]) -> PathBuf {
    let mut config = format!(
        "[store]\npath = \"db\"\n[output]\ndir = \"public\"\n[server]\nlisten = \"127.0.0.1:0\"\n\
         [schedule]\ncron = \"* * * * * *\"\njitter_secs = 0\n\
         [fetch]\nmin_host_interval_ms = 0\nper_host = 8\nretries = 0\ntimeout_secs = 60\nmin_refresh_secs = 1\n{extra}\n"
    );
    for name in sources {
        config.push_str(&format!(
            "[[source]]\nname = \"{name}\"\nkind = \"feed\"\nurl = \"{}\"\nallow_private = true\n",
            server.url(&format!("/{name}.xml"))
        ));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, config).expect("config");
    path
}

#[test]
fn sigterm_mid_cycle_stops_quickly_and_keeps_every_reported_item() {
    let server = TestServer::start();
    let fast = ["alpha", "beta", "gamma", "delta"];
    for name in fast {
        server.set(
            &format!("/{name}.xml"),
            Route::ok("application/rss+xml", rss(name, 12)),
        );
    }
    // One source trickles for minutes, so the cycle is still running.
    server.set(
        "/slow.xml",
        Route::ok("application/rss+xml", rss("slow", 5))
            .with_behaviour(Behaviour::Trickle(Duration::from_millis(100))),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut names = fast.to_vec();
    names.push("slow");
    let config = write_config(dir.path(), &server, "", &names);

    let daemon = Daemon::start(&config);
    daemon.wait_for("the fast sources", Duration::from_secs(30), |lines| {
        reported(lines).len() >= fast.len()
    });
    assert!(
        !server.hits("/slow.xml").is_empty(),
        "the slow fetch is in flight"
    );
    let (status, took, lines) = daemon.stop(Duration::from_secs(10));
    assert!(
        status.success(),
        "clean exit: {status:?}\n{}",
        lines.join("\n")
    );
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    let reported = reported(&lines);
    assert!(
        reported.iter().all(|(name, _)| name != "slow"),
        "slow never finished"
    );

    // Restart: everything reported stored is there, and outputs are valid.
    server.set(
        "/slow.xml",
        Route::ok("application/rss+xml", rss("slow", 5)),
    );
    let items = common::stdout(&yaowen(&config, &["items", "--json", "--limit", "1000"]));
    for (name, new) in &reported {
        let stored = items
            .lines()
            .filter(|l| l.contains(&format!("\"source\":\"{name}\"")))
            .count();
        assert!(stored >= *new, "{name}: reported {new}, found {stored}");
    }
    let daemon = Daemon::start(&config);
    daemon.wait_for("outputs after restart", Duration::from_secs(30), |lines| {
        lines
            .iter()
            .any(|l| l.contains("source done") && l.contains("source=slow"))
            && lines.iter().any(|l| l.contains("outputs written"))
    });
    let (status, _, _) = daemon.stop(Duration::from_secs(10));
    assert!(status.success());
    let feed = std::fs::read(dir.path().join("public/feed.xml")).expect("feed.xml");
    let feed = feed_rs::parser::parse(feed.as_slice()).expect("feed.xml is complete and valid");
    assert_eq!(
        feed.entries.len(),
        50,
        "feed carries the configured 50 items"
    );
    let items = common::stdout(&yaowen(&config, &["items", "--json", "--limit", "1000"]));
    assert_eq!(items.lines().count(), 4 * 12 + 5, "every story stored once");
}

#[test]
fn sighup_reloads_the_config_and_keeps_the_old_one_when_the_new_is_invalid() {
    let server = TestServer::start();
    server.set(
        "/first.xml",
        Route::ok("application/rss+xml", rss("first", 2)),
    );
    server.set(
        "/second.xml",
        Route::ok("application/rss+xml", rss("second", 2)),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &server, "", &["first"]);
    let daemon = Daemon::start(&config);
    daemon.wait_for("the first source", Duration::from_secs(30), |lines| {
        lines.iter().any(|l| l.contains("source done"))
    });
    assert!(server.hits("/second.xml").is_empty());

    write_config(dir.path(), &server, "", &["first", "second"]);
    daemon.signal("HUP");
    let start = Instant::now();
    while server.hits("/second.xml").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "second source fetched after SIGHUP:\n{}",
            daemon.lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The HTTP server follows the reload too: its metrics name the new source.
    let addr = daemon
        .lines()
        .iter()
        .find_map(|line| {
            line.split_whitespace()
                .find_map(|word| word.strip_prefix("addr="))
                .map(str::to_string)
        })
        .expect("the server logs its address");
    let metrics = http_get(&addr, "/metrics");
    assert!(metrics.contains("source=\"second\""), "{metrics}");

    std::fs::write(&config, "[fetch]\nconcurency = 3\n").expect("break config");
    daemon.signal("HUP");
    daemon.wait_for(
        "the invalid config reported",
        Duration::from_secs(10),
        |lines| {
            lines
                .iter()
                .any(|l| l.contains("keeping the old one") && l.contains("concurency"))
        },
    );
    let before = server.hits("/second.xml").len();
    let start = Instant::now();
    while server.hits("/second.xml").len() <= before {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "still fetching with the old config"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _, _) = daemon.stop(Duration::from_secs(10));
    assert!(status.success());
}

#[test]
fn retry_after_on_429_is_honoured_while_other_sources_keep_their_schedule() {
    let server = TestServer::start();
    server.set(
        "/steady.xml",
        Route::ok("application/rss+xml", rss("steady", 1)),
    );
    server.set(
        "/limited.xml",
        Route::status(429).with_header("Retry-After", "3600"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &server, "", &["steady", "limited"]);
    let daemon = Daemon::start(&config);
    let start = Instant::now();
    while server.hits("/steady.xml").len() < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "steady source polled every second"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _, _) = daemon.stop(Duration::from_secs(10));
    assert!(status.success());
    assert_eq!(
        server.hits("/limited.xml"),
        vec![429],
        "asked once, then waits an hour"
    );
}

#[cfg(unix)]
#[test]
fn systemd_hears_ready_watchdog_pings_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let server = TestServer::start();
    server.set(
        "/only.xml",
        Route::ok("application/rss+xml", rss("only", 1)),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &server, "", &["only"]);
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind notify socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let daemon = Daemon::start_with(
        &config,
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().expect("utf-8 path")),
            ("WATCHDOG_USEC", "400000"),
        ],
    );
    let mut messages = Vec::new();
    let mut buf = [0u8; 512];
    let start = Instant::now();
    while !messages.iter().any(|m: &String| m.contains("WATCHDOG=1")) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "messages so far: {messages:?}"
        );
        if let Ok(n) = socket.recv(&mut buf) {
            messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    assert!(
        messages.iter().any(|m| m.contains("READY=1")),
        "{messages:?}"
    );
    let (status, _, _) = daemon.stop(Duration::from_secs(10));
    assert!(status.success());
    let mut stopping = false;
    while let Ok(n) = socket.recv(&mut buf) {
        stopping |= String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1");
    }
    assert!(stopping, "STOPPING=1 sent on SIGTERM");
}

/// The body of a plain HTTP/1.1 GET.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}
