//! The editor UI in a real browser: headless Chromium driven over
//! WebDriver (chromedriver) by a minimal JSON-over-HTTP client. An editor
//! logs in, excludes an item, edits a summary, moves an item up and
//! publishes; the public Markdown and HTML digest then show exactly that.
//! Pages with hostile item titles run no script. Screenshots of the editor
//! and the public digest go to target/screenshots/.
//!
//! Needs Debian's `chromium` and `chromium-driver` (or CHROMIUM and
//! CHROMEDRIVER naming the binaries); without them the test fails.

use crate::editor_support;

use editor_support::{Harness, TokenSetup, TOKEN, WEEK};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use yaowen::model::{Item, SummaryOrigin};
use yaowen::publish::{render_digest_html, render_markdown, DigestEntry, DigestPage};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

fn binary(env: &str, candidates: &[&str]) -> PathBuf {
    if let Ok(path) = std::env::var(env) {
        return PathBuf::from(path);
    }
    for candidate in candidates {
        let path = Path::new(candidate);
        if path.exists() {
            return path.to_path_buf();
        }
    }
    panic!(
        "{env}: none of {candidates:?} exists. The browser test needs Chromium and chromedriver: \
         `apt-get install -y chromium chromium-driver` (or set {env} to the binary)"
    );
}

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    child: Child,
    base: String,
}

impl Driver {
    fn start(runtime: &tokio::runtime::Runtime) -> Driver {
        let chromedriver = binary(
            "CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        // Wait (bounded) until it answers /status.
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let ready = runtime.block_on(async {
                let response = client.get(format!("{}/status", driver.base)).send().await;
                match response {
                    Ok(r) => r
                        .text()
                        .await
                        .ok()
                        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                        .is_some_and(|v| v["value"]["ready"] == true),
                    Err(_) => false,
                }
            });
            if ready {
                return driver;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("chromedriver did not become ready");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
struct Browser<'a> {
    runtime: &'a tokio::runtime::Runtime,
    client: reqwest::Client,
    session: String,
    _profile: tempfile::TempDir,
}

impl<'a> Browser<'a> {
    fn open(runtime: &'a tokio::runtime::Runtime, driver: &Driver) -> Browser<'a> {
        let chromium = binary(
            "CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        );
        let profile = tempfile::tempdir().expect("profile dir");
        let client = reqwest::Client::new();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--lang=zh-CN",
                    "--hide-scrollbars", "--window-size=1280,1600",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let reply = runtime.block_on(async {
            client
                .post(format!("{}/session", driver.base))
                .json_body(&capabilities)
                .send()
                .await
                .expect("new session")
                .text()
                .await
                .expect("session reply")
        });
        let reply: Value = serde_json::from_str(&reply).expect("session JSON");
        let session = reply["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("Chromium did not start: {reply}"))
            .to_string();
        Browser {
            runtime,
            client,
            session: format!("{}/session/{session}", driver.base),
            _profile: profile,
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let reply: String = self.runtime.block_on(async {
            let mut request = self.client.request(method, &url);
            if let Some(body) = &body {
                request = request.json_body(body);
            }
            request
                .send()
                .await
                .expect("webdriver request")
                .text()
                .await
                .expect("webdriver reply")
        });
        let reply: Value = serde_json::from_str(&reply).expect("webdriver JSON");
        reply["value"].clone()
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let value = self.call(reqwest::Method::POST, path, Some(body));
        if let Some(error) = value.get("error") {
            panic!("webdriver {path}: {error} {}", value["message"]);
        }
        value
    }

    fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None)
    }

    fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let value = self.post("/element", json!({"using": "css selector", "value": css}));
        value[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {value} in {}", self.get("/source")))
            .to_string()
    }

    fn click(&self, css: &str) {
        let element = self.find(css);
        self.post(&format!("/element/{element}/click"), json!({}));
    }

    /// Click a button that submits a form, and wait (bounded) until the
    /// page it leads to has loaded: WebDriver does not always wait for a
    /// POST-redirect-GET by itself.
    fn submit(&self, css: &str) {
        self.script("window.__yaowenOldPage = true;", json!([]));
        self.click(css);
        for _ in 0..400 {
            let loaded = self.call(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({
                    "script": "return window.__yaowenOldPage === undefined && document.readyState === 'complete';",
                    "args": []
                })),
            );
            if loaded == true {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("clicking {css} did not lead to a new page");
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.post(&format!("/element/{element}/clear"), json!({}));
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        );
    }

    fn script(&self, source: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": source, "args": args}))
    }

    fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}));
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.get("/screenshot");
        let bytes = base64_decode(encoded.as_str().expect("screenshot data"));
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write screenshot");
        path
    }

    /// The DOM id of the draft entry whose title contains `needle`.
    fn entry(&self, needle: &str) -> String {
        let id = self.script(
            "const li = [...document.querySelectorAll('li.entry')]\
               .find(li => li.querySelector('h3').textContent.includes(arguments[0]));\
             return li ? li.id : null;",
            json!([needle]),
        );
        id.as_str()
            .unwrap_or_else(|| panic!("no entry titled {needle:?}"))
            .to_string()
    }

    fn texts(&self, css: &str) -> Vec<String> {
        let value = self.script(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent.trim());",
            json!([css]),
        );
        serde_json::from_value(value).expect("strings")
    }

    fn no_script_ran(&self) -> bool {
        let pwned = self.script("return typeof window.__pwned;", json!([]));
        let alert = self.call(reqwest::Method::GET, "/alert/text", None);
        pwned == "undefined" && alert["error"] == "no such alert"
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let _ = self.call(reqwest::Method::DELETE, "", None);
    }
}

/// `reqwest` is built without its `json` feature; send JSON by hand.
trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .body(body.to_string())
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for c in text.bytes().filter_map(value) {
        buffer = (buffer << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// The draft as the API shows it, as publish's view structs.
fn draft_entries(h: &Harness) -> Vec<DigestEntry> {
    let curator = yaowen::curate::Curator::new(h.config.clone(), h.store().clone());
    let day = chrono::NaiveDate::parse_from_str(WEEK, "%Y-%m-%d").expect("week");
    curator
        .digest(day)
        .expect("digest")
        .entries
        .into_iter()
        .map(|e| DigestEntry {
            id: e.id,
            date: e.date,
            title: e.title,
            url: e.url,
            summary: e.summary,
            also_at: e.also_at,
            undated: e.undated,
            pinned: e.pinned,
            source: e.source,
        })
        .collect()
}

#[test]
fn an_editor_curates_and_publishes_in_a_real_browser() {
    let h = Harness::start(TokenSetup::File);
    let before = draft_entries(&h);
    let titles: Vec<&str> = before.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Kubernetes 1.26 发布",
            "Istio ambient mesh reaches beta",
            "KubeCon China 征稿开启",
            "云原生社区 Meetup 长沙站举行"
        ]
    );
    let driver = Driver::start(&h.runtime);
    let browser = Browser::open(&h.runtime, &driver);

    // Log in.
    browser.goto(&h.url("/admin"));
    browser.type_into("#token", TOKEN);
    browser.submit("form.login button[type=submit]");
    browser.goto(&h.url(&format!("/admin?period={WEEK}")));
    assert_eq!(browser.texts("h1"), ["2022-12-19 – 2022-12-25"]);

    // Exclude Istio.
    let istio = browser.entry("Istio");
    browser.submit(&format!("#{istio} button.exclude"));
    // Edit the Meetup summary in place.
    let new_summary = "长沙站聚焦 DevSecOps 与 ClusterAPI，现场座无虚席。";
    let meetup = browser.entry("Meetup");
    browser.click(&format!("#{meetup} details.edit > summary"));
    browser.type_into(&format!("#{meetup} textarea[name=summary]"), new_summary);
    browser.submit(&format!("#{meetup} button.save"));
    // Move KubeCon up above Kubernetes.
    let kubecon = browser.entry("KubeCon");
    browser.submit(&format!("#{kubecon} button.up"));

    let shown = browser.texts("li.entry h3");
    assert_eq!(
        shown,
        [
            "KubeCon China 征稿开启",
            "Kubernetes 1.26 发布",
            "云原生社区 Meetup 长沙站举行"
        ]
    );
    browser.script(
        "document.querySelector('details.edit').open = true; window.scrollTo(0, 0);",
        json!([]),
    );
    let editor_shot = browser.screenshot("editor.png");
    browser.resize(390, 1500);
    browser.screenshot("editor-phone.png");
    browser.resize(1280, 1600);
    browser.script(
        "document.querySelector('details.edit').open = false;",
        json!([]),
    );

    // Publish.
    browser.submit("#publish");
    assert!(browser
        .texts(".status .badge")
        .contains(&"已发布".to_string()));

    // The public pages show exactly the curated digest.
    let by_title = |needle: &str| {
        before
            .iter()
            .find(|e| e.title.contains(needle))
            .cloned()
            .expect("entry")
    };
    let mut meetup_entry = by_title("Meetup");
    meetup_entry.summary = new_summary.to_string();
    let expected_entries = vec![by_title("KubeCon"), by_title("Kubernetes"), meetup_entry];
    let stored = h.store().digest(WEEK).expect("read").expect("digest");
    let expected_page = DigestPage {
        start: chrono::NaiveDate::parse_from_str(WEEK, "%Y-%m-%d").expect("week"),
        published: true,
        published_at: stored.published_at,
        entries: expected_entries,
    };
    let site = yaowen::generate::site_info(&h.config);
    assert_eq!(
        h.public_file(&format!("digest/{WEEK}.md")),
        render_markdown(&site, &expected_page)
    );
    assert_eq!(
        h.public_file(&format!("digest/{WEEK}.html")),
        render_digest_html(&site, &expected_page)
    );
    browser.goto(&h.url(&format!("/digest/{WEEK}.html")));
    assert_eq!(
        browser.texts("li.entry h3"),
        [
            "KubeCon China 征稿开启",
            "Kubernetes 1.26 发布",
            "云原生社区 Meetup 长沙站举行"
        ]
    );
    assert!(browser
        .texts(".summary p")
        .contains(&new_summary.to_string()));
    let public_shot = browser.screenshot("public-digest.png");
    browser.resize(390, 1500);
    browser.screenshot("public-digest-phone.png");
    browser.resize(1280, 1600);

    // Hostile titles and summaries in the next week's draft run nothing.
    let at = chrono::DateTime::parse_from_rfc3339("2022-12-27T04:00:00Z")
        .expect("date")
        .with_timezone(&chrono::Utc);
    let hostile = |id: &str, title: &str, summary: &str| Item {
        id: id.into(),
        source: "news".into(),
        url: format!("https://evil.example/{id}"),
        fetched_url: format!("https://evil.example/{id}"),
        guid: None,
        title: title.into(),
        author: None,
        published: Some(at),
        first_seen: at,
        text: String::new(),
        html: None,
        summary: summary.into(),
        summary_origin: SummaryOrigin::Source,
        fingerprint: 7,
        content_hash: 7,
        cluster: id.into(),
        also_at: vec!["javascript:window.__pwned=1".into()],
        tags: vec![],
        image: None,
    };
    h.store()
        .put_items(&[
            hostile(
                "evil-1",
                "<script>window.__pwned=1</script>脚本标题",
                "<img src=x onerror=\"window.__pwned=1\">图片摘要",
            ),
            hostile(
                "evil-2",
                "<img src=x onerror=\"window.__pwned=1\">图片标题",
                "</textarea><script>window.__pwned=1</script>",
            ),
        ])
        .expect("put hostile items");
    yaowen::generate::generate(&h.config, h.store()).expect("generate");
    for path in [
        "/admin?period=2022-12-26".to_string(),
        "/admin?period=2022-12-26&q=%E6%A0%87%E9%A2%98".to_string(),
        "/digest/2022-12-26.html".to_string(),
        "/index.html".to_string(),
    ] {
        browser.goto(&h.url(&path));
        assert!(browser.no_script_ran(), "a script ran on {path}");
        let shown = browser.texts("h3").join("\n");
        assert!(
            shown.contains("<script>window.__pwned=1</script>脚本标题"),
            "{path}: {shown}"
        );
        assert!(shown.contains("<img src=x onerror=\"window.__pwned=1\">图片标题"));
    }
    // Open the edit box of the hostile entry: its textarea holds the text.
    browser.goto(&h.url("/admin?period=2022-12-26"));
    let evil = browser.entry("图片标题");
    browser.click(&format!("#{evil} details.edit > summary"));
    let value = browser.script(
        "return document.querySelector(arguments[0]).value;",
        json!([format!("#{evil} textarea[name=summary]")]),
    );
    assert_eq!(value, "</textarea><script>window.__pwned=1</script>");
    assert!(browser.no_script_ran());
    browser.screenshot("editor-hostile.png");

    assert!(editor_shot.exists() && public_shot.exists());
}
