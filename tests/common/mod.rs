//! Test support: a real HTTP/1.1 server on 127.0.0.1 whose routes a test
//! sets and changes while it runs, with ETag/304 handling, and helpers to run
//! the real `yaowen` binary.

#![allow(dead_code)]

pub mod farm;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a route misbehaves, for robustness tests.
#[derive(Clone, Debug, Default)]
pub enum Behaviour {
    #[default]
    Normal,
    /// Send the body one byte at a time with this pause between bytes.
    Trickle(Duration),
    /// Send only this many bytes of the body, then close.
    CloseAfter(usize),
    /// Never answer until the client gives up.
    Hang,
    /// A body of `total` zero bytes, streamed; with `declare_length` the
    /// Content-Length says so up front, else the connection close ends it.
    Stream { total: u64, declare_length: bool },
}

/// One canned response.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Answer `If-None-Match: <etag>` with 304.
    pub etag: Option<String>,
    pub behaviour: Behaviour,
}

impl Route {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            etag: None,
            behaviour: Behaviour::Normal,
        }
    }

    pub fn status(status: u16) -> Route {
        Route {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: format!("status {status}").into_bytes(),
            etag: None,
            behaviour: Behaviour::Normal,
        }
    }

    pub fn with_etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.into());
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn with_behaviour(mut self, behaviour: Behaviour) -> Route {
        self.behaviour = behaviour;
        self
    }
}

#[derive(Default)]
struct Shared {
    routes: HashMap<String, Route>,
    /// Requests seen per path, with the status answered.
    log: Vec<(String, u16)>,
}

/// A loopback HTTP server; stops when dropped.
pub struct TestServer {
    pub port: u16,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_shared, thread_stop) = (Arc::clone(&shared), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !thread_stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let shared = Arc::clone(&thread_shared);
                        std::thread::spawn(move || {
                            let _ = serve(stream, &shared);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TestServer { port, shared, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn set(&self, path: &str, route: Route) {
        self.shared
            .lock()
            .expect("server lock")
            .routes
            .insert(path.into(), route);
    }

    /// Statuses answered for `path`, in order.
    pub fn hits(&self, path: &str) -> Vec<u16> {
        self.shared
            .lock()
            .expect("server lock")
            .log
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, status)| *status)
            .collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, shared: &Mutex<Shared>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        let mut if_none_match = None;
        let mut content_length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if name == "if-none-match" {
                    if_none_match = Some(value.trim().to_string());
                } else if name == "content-length" {
                    content_length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut discard = vec![0u8; content_length];
        reader.read_exact(&mut discard)?;
        let route = shared
            .lock()
            .map(|s| s.routes.get(&path).cloned())
            .unwrap_or(None)
            .unwrap_or_else(|| Route::status(404));
        let not_modified = route.etag.is_some() && route.etag == if_none_match;
        let status = if not_modified { 304 } else { route.status };
        if let Ok(mut s) = shared.lock() {
            s.log.push((path.clone(), status));
        }
        if let Behaviour::Hang = route.behaviour {
            std::thread::sleep(Duration::from_secs(60));
            return Ok(());
        }
        let mut head = format!("HTTP/1.1 {status} X\r\n");
        for (name, value) in &route.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(etag) = &route.etag {
            head.push_str(&format!("ETag: {etag}\r\n"));
        }
        let body: &[u8] = if not_modified { &[] } else { &route.body };
        if let Behaviour::Stream {
            total,
            declare_length,
        } = route.behaviour
        {
            if declare_length {
                head.push_str(&format!("Content-Length: {total}\r\n"));
            }
            head.push_str("Connection: close\r\n\r\n");
            writer.write_all(head.as_bytes())?;
            let chunk = vec![0u8; 64 * 1024];
            let mut sent = 0u64;
            while sent < total {
                let n = chunk.len().min((total - sent) as usize);
                // The client hanging up (it hit its cap) ends the stream.
                writer.write_all(&chunk[..n])?;
                sent += n as u64;
            }
            return Ok(());
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        writer.write_all(head.as_bytes())?;
        match route.behaviour {
            Behaviour::Trickle(pause) => {
                for byte in body {
                    writer.write_all(std::slice::from_ref(byte))?;
                    writer.flush()?;
                    std::thread::sleep(pause);
                }
            }
            Behaviour::CloseAfter(n) => {
                writer.write_all(&body[..n.min(body.len())])?;
                return Ok(());
            }
            _ => writer.write_all(body)?,
        }
        writer.flush()?;
    }
}

/// The shared corpora and seeds beside the checkout.
pub fn shared_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        dir.join("seeds").is_dir(),
        "../shared (seeds and corpora) must sit beside the checkout: {}",
        dir.display()
    );
    dir
}

/// Run the real binary with `args` and the given config.
pub fn yaowen(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yaowen"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("YAOWEN_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run yaowen")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `[store]`, `[output]` and weekly `[digest]` tables (a community
/// digest in China time) that the end-to-end configs start with.
pub const WEEKLY_DIGEST_CONFIG: &str =
    "[store]\npath = \"data/db\"\n\n[output]\ndir = \"public\"\nbase_url = \"https://news.example.org/\"\n\n\
     [digest]\ntitle = \"社区要闻\"\nperiod = \"weekly\"\ntimezone = \"Asia/Shanghai\"\n\n";

/// A `[[source]]` table naming `name`, `kind` and `url`, then the `extra`
/// lines (`key = value`, newline-separated) as given.
pub fn source_table(name: &str, kind: &str, url: &str, extra: &str) -> String {
    format!("[[source]]\nname = \"{name}\"\nkind = \"{kind}\"\nurl = \"{url}\"\n{extra}\n")
}

/// `text` written as `dir/config.toml`; returns its path.
pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// Every stored item, as `yaowen items --json` lists them.
pub fn stored_items(config: &Path) -> Vec<serde_json::Value> {
    stdout(&yaowen(config, &["items", "--json"]))
        .lines()
        .map(|line| serde_json::from_str(line).expect("items --json line"))
        .collect()
}

/// An RSS 2.0 document of one channel titled `title` holding `items` (the
/// `<item>` elements, as written).
pub fn rss_channel(title: &str, items: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title><link>https://example.org/</link><description>d</description>{items}</channel></rss>"
    )
}
