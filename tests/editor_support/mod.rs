//! Test support for the editor side: a feed served on 127.0.0.1, a store
//! filled from it through the real pipeline, and the yaowen server running
//! in-process on 127.0.0.1:0 beside it, as inside `yaowen run`.

#![allow(dead_code)]

use crate::common::{Route, TestServer};
use std::path::PathBuf;
use std::sync::Arc;
use yaowen::config::Config;
use yaowen::fetch::{FetchSettings, HttpClient};
use yaowen::server::{self, ServerState};
use yaowen::store::Store;

pub const TOKEN: &str = "test-editor-token-5f1c9a";
/// The week every fed item is in (Monday, Asia/Shanghai).
pub const WEEK: &str = "2022-12-19";
pub const OLDER_WEEK: &str = "2022-12-12";

/// The feed as first fetched: four stories in the week of 2022-12-19, one
/// a week older.
pub fn feed_v1() -> String {
    feed(&[
        (
            "k8s-126",
            "Kubernetes 1.26 发布",
            "Fri, 23 Dec 2022 09:30:00 +0000",
            "Kubernetes 1.26 带来了存储与调度方面的改进。",
        ),
        (
            "meetup-cs",
            "云原生社区 Meetup 长沙站举行",
            "Tue, 20 Dec 2022 06:00:00 +0000",
            "此次 Meetup 由云原生社区主办，演讲内容涵盖 DevSecOps、ClusterAPI、云桌面等话题。",
        ),
        (
            "istio-ambient",
            "Istio ambient mesh reaches beta",
            "Thu, 22 Dec 2022 01:00:00 +0000",
            "Ambient mode removes sidecars by splitting the data plane.",
        ),
        (
            "kubecon-cfp",
            "KubeCon China 征稿开启",
            "Wed, 21 Dec 2022 08:00:00 +0000",
            "征稿截止于二月，大会将回到上海。",
        ),
        (
            "ebpf-primer",
            "eBPF 可观测性入门",
            "Tue, 13 Dec 2022 03:00:00 +0000",
            "用 bpftrace 追踪 Kubernetes 集群中的网络延迟。",
        ),
    ])
}

/// The same feed after its authors rewrote every summary. (Titles stay:
/// the item id may be derived from the title when a feed has no stable
/// guid, so a changed title can make a new item rather than a refetch.)
pub fn feed_v2() -> String {
    let v1 = feed_v1();
    let mut out = String::new();
    for line in v1.lines() {
        match line.split_once("<description>") {
            Some((head, rest)) if line.starts_with("<item>") => {
                let tail = rest.split_once("</description>").map_or("", |(_, t)| t);
                out.push_str(&format!(
                    "{head}<description>UPDATED summary from the source.</description>{tail}\n"
                ));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

fn feed(items: &[(&str, &str, &str, &str)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>News</title><link>https://news.example.org/</link><description>d</description>\n",
    );
    for (guid, title, date, summary) in items {
        out.push_str(&format!(
            "<item><title>{title}</title><link>https://news.example.org/{guid}</link>\
             <guid isPermaLink=\"false\">{guid}</guid><pubDate>{date}</pubDate>\
             <description>{summary}</description></item>\n"
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

/// A site with a store, a feed and a running server.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub feed: TestServer,
    pub config: Arc<Config>,
    pub store: Option<Arc<Store>>,
    pub base: String,
    pub runtime: tokio::runtime::Runtime,
    server: Option<server::ServerHandle>,
}

pub enum TokenSetup {
    /// No token: the server is read-only.
    None,
    /// `server.token_file` with mode 0600.
    File,
}

impl Harness {
    pub fn start(token: TokenSetup) -> Harness {
        let feed = TestServer::start();
        feed.set("/feed.xml", Route::ok("application/rss+xml", feed_v1()));
        let dir = tempfile::tempdir().expect("tempdir");
        let token_line = match token {
            TokenSetup::None => "token_env = \"\"\n",
            TokenSetup::File => {
                let path = dir.path().join("token");
                std::fs::write(&path, format!("{TOKEN}\n")).expect("token file");
                set_mode(&path, 0o600);
                "token_env = \"\"\ntoken_file = \"token\"\n"
            }
        };
        let config_text = format!(
            "[store]\npath = \"data/db\"\n\n[output]\ndir = \"public\"\nbase_url = \"https://news.example.org/\"\n\n\
             [digest]\ntitle = \"社区要闻\"\nperiod = \"weekly\"\ntimezone = \"Asia/Shanghai\"\n\n\
             [feed]\ntitle = \"社区要闻\"\ndescription = \"云原生社区要闻\"\nitems = 50\n\n\
             [server]\nlisten = \"127.0.0.1:0\"\n{token_line}\n\
             [[source]]\nname = \"news\"\nkind = \"feed\"\nurl = \"{}\"\nallow_private = true\n\n\
             [[source]]\nname = \"wechat-picks\"\nkind = \"wechat\"\nlinks_file = \"links.txt\"\n",
            feed.url("/feed.xml")
        );
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config_text).expect("config");
        let config = Arc::new(Config::load(&config_path).expect("valid config"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let store = Arc::new(Store::open(&config.store.path).expect("store"));
        let mut harness = Harness {
            dir,
            feed,
            config,
            store: Some(store),
            base: String::new(),
            runtime,
            server: None,
        };
        harness.fetch();
        yaowen::generate::generate(&harness.config, harness.store()).expect("generate");
        harness.start_server();
        harness
    }

    pub fn store(&self) -> &Arc<Store> {
        self.store.as_ref().expect("store open")
    }

    /// Run a fetch cycle over the feed source, as the daemon does.
    pub fn fetch(&self) {
        let client = HttpClient::new(FetchSettings::default()).expect("client");
        let source = self.config.source("news").expect("news source");
        let report = self
            .runtime
            .block_on(yaowen::pipeline::run_cycle(
                &self.config,
                self.store(),
                &client,
                &[source],
                &|_, _| {},
            ))
            .expect("cycle");
        assert_eq!(report.failed().count(), 0, "the feed fetch failed");
    }

    /// The source rewrites every summary; fetch again through the
    /// pipeline. Then every stored title changes too, as a refetch of a
    /// source with stable guids would store it.
    pub fn refetch_changed(&self) {
        self.feed
            .set("/feed.xml", Route::ok("application/rss+xml", feed_v2()));
        self.fetch();
        let items: Vec<_> = self
            .store()
            .items()
            .map(|item| {
                let mut item = item.expect("stored item");
                item.title = format!("UPDATED {}", item.title);
                item
            })
            .collect();
        self.store().put_items(&items).expect("re-put items");
        self.store().flush().expect("flush");
    }

    fn start_server(&mut self) {
        let config = Arc::clone(&self.config);
        let store = Arc::clone(self.store());
        let handle = self
            .runtime
            .block_on(server::start(config, store))
            .expect("server starts");
        self.base = format!("http://{}", handle.local_addr());
        self.server = Some(handle);
    }

    /// Stop the server, close the store, open both again.
    pub fn restart(&mut self) {
        if let Some(handle) = self.server.take() {
            self.runtime.block_on(handle.stop()).expect("server stops");
        }
        if let Some(store) = self.store.take() {
            store.flush().expect("flush");
            assert_eq!(Arc::strong_count(&store), 1, "store still shared");
        }
        self.store = Some(Arc::new(
            Store::open(&self.config.store.path).expect("store reopens"),
        ));
        self.start_server();
    }

    /// Stop the server and close the store (as when the daemon exits).
    pub fn close(&mut self) {
        if let Some(handle) = self.server.take() {
            self.runtime.block_on(handle.stop()).expect("server stops");
        }
        if let Some(store) = self.store.take() {
            store.flush().expect("flush");
            assert_eq!(Arc::strong_count(&store), 1, "store still shared");
        }
    }

    /// A copy of the config whose `[server]` names `listen` and `token`
    /// lines, for the CLI to find the running server.
    pub fn cli_config(&self, name: &str, listen: &str, token_lines: &str) -> PathBuf {
        let text = std::fs::read_to_string(&self.config.file).expect("config");
        let start = text.find("[server]").expect("server table");
        let end = start + text[start..].find("[[source]]").expect("sources");
        let text = format!(
            "{}[server]\nlisten = \"{listen}\"\n{token_lines}\n\n{}",
            &text[..start],
            &text[end..]
        );
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("cli config");
        path
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn public_file(&self, relative: &str) -> String {
        let path: PathBuf = self.config.output.dir.join(relative);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub fn state(&self) -> ServerState {
        ServerState::new(Arc::clone(&self.config), Arc::clone(self.store())).expect("state")
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(handle) = self.server.take() {
            let _ = self.runtime.block_on(handle.stop());
        }
    }
}

#[cfg(unix)]
pub fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(not(unix))]
pub fn set_mode(_path: &std::path::Path, _mode: u32) {}
