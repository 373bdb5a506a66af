//! The server over a real loopback connection: the public site with
//! content types, ETags and 304s; health and metrics; login, sessions and
//! CSRF; every editor action through the JSON API and the UI's forms; and
//! the guarantees editors rely on (changes survive refetch, regenerate and
//! restart; a published digest only changes after reopening; hostile text
//! is shown as text).

use crate::common;
use crate::editor_support;

use editor_support::{Harness, TokenSetup, OLDER_WEEK, TOKEN, WEEK};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use yaowen::model::{CurationState, Item, SummaryOrigin};

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn send(h: &Harness, request: reqwest::RequestBuilder) -> Reply {
    h.runtime.block_on(async {
        let response = request.send().await.expect("request");
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.expect("body"),
        }
    })
}

fn get(h: &Harness, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = client().get(h.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(h, request)
}

fn api_get(h: &Harness, path: &str) -> Reply {
    get(h, path, &[("Authorization", &format!("Bearer {TOKEN}"))])
}

fn api_post(h: &Harness, path: &str, body: Value) -> Reply {
    send(
        h,
        client()
            .post(h.url(path))
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/json")
            .body(body.to_string()),
    )
}

fn form_post(h: &Harness, path: &str, cookie: &str, pairs: &[(&str, &str)]) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut request = client()
        .post(h.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    if !cookie.is_empty() {
        request = request.header("Cookie", cookie);
    }
    send(h, request)
}

/// Log in through the form; returns the cookie header value and the CSRF
/// token found in the page.
fn login(h: &Harness) -> (String, String) {
    let reply = form_post(h, "/admin/login", "", &[("token", TOKEN)]);
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let set_cookie = reply.header("set-cookie").to_string();
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_string();
    let page = get(h, "/admin", &[("Cookie", &cookie)]);
    assert_eq!(page.status, StatusCode::OK);
    (cookie, csrf_in(&page.text))
}

fn csrf_in(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a CSRF field in the page") + marker.len();
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The digest of the week of 2022-12-19 as the API shows it.
fn digest(h: &Harness) -> Value {
    let reply = api_get(h, &format!("/api/digests/{WEEK}"));
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

fn titles(digest: &Value) -> Vec<String> {
    digest["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The id of the entry whose title contains `needle` (shown or excluded).
fn id_of(h: &Harness, needle: &str) -> String {
    let d = digest(h);
    for list in ["entries", "excluded"] {
        for entry in d[list].as_array().expect("list") {
            if entry["title"].as_str().unwrap_or_default().contains(needle) {
                return entry["id"].as_str().unwrap_or_default().to_string();
            }
        }
    }
    panic!("no entry titled {needle:?} in {d}");
}

/// An item id escaped for a URL path segment (ids may hold any character).
fn seg(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn markdown(h: &Harness) -> String {
    h.public_file(&format!("digest/{WEEK}.md"))
}

#[test]
fn public_files_are_served_with_types_etags_and_304s() {
    let h = Harness::start(TokenSetup::None);
    let index = get(&h, "/", &[]);
    assert_eq!(index.status, StatusCode::OK);
    assert_eq!(index.header("content-type"), "text/html; charset=utf-8");
    assert!(index.text.contains("社区要闻"));

    let feed = get(&h, "/feed.xml", &[]);
    assert_eq!(
        feed.header("content-type"),
        "application/rss+xml; charset=utf-8"
    );
    let atom = get(&h, "/atom.xml", &[]);
    assert_eq!(
        atom.header("content-type"),
        "application/atom+xml; charset=utf-8"
    );
    let md = get(&h, &format!("/digest/{WEEK}.md"), &[]);
    assert_eq!(md.header("content-type"), "text/markdown; charset=utf-8");
    assert!(md.text.contains("Kubernetes 1.26 发布"));

    // A feed reader polling with the validators it was given gets 304.
    let etag = feed.header("etag").to_string();
    let last_modified = feed.header("last-modified").to_string();
    assert!(etag.starts_with('"') && !last_modified.is_empty());
    let again = get(&h, "/feed.xml", &[("If-None-Match", &etag)]);
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag"), etag);
    let since = get(&h, "/feed.xml", &[("If-Modified-Since", &last_modified)]);
    assert_eq!(since.status, StatusCode::NOT_MODIFIED);
    let stale = get(&h, "/feed.xml", &[("If-None-Match", "\"something-else\"")]);
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.text, feed.text);

    // Nothing outside the output directory, however the path is spelled.
    std::fs::write(h.dir.path().join("secret.txt"), "secret").expect("write");
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/digest/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/.%2e/config.toml",
    ] {
        let reply = get(&h, path, &[]);
        assert!(
            reply.status == StatusCode::NOT_FOUND || reply.status == StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.status
        );
        assert!(!reply.text.contains("secret") || reply.text.contains("not found"));
        assert!(!reply.text.contains("[store]"), "{path}");
    }
    assert_eq!(get(&h, "/nope.html", &[]).status, StatusCode::NOT_FOUND);
}

#[test]
fn health_and_metrics_report_the_store_and_sources() {
    let h = Harness::start(TokenSetup::None);
    let health = get(&h, "/healthz", &[]);
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.json()["items"], 5);

    let metrics = get(&h, "/metrics", &[]);
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.header("content-type").starts_with("text/plain"));
    for line in [
        "yaowen_source_fetches_total{source=\"news\"} 1",
        "yaowen_source_errors_total{source=\"news\"} 0",
        "yaowen_source_items_stored_total{source=\"news\"} 5",
        "yaowen_items 5",
        "# TYPE yaowen_source_last_success_timestamp_seconds gauge",
        "yaowen_source_last_success_timestamp_seconds{source=\"news\"} ",
        "yaowen_store_size_bytes ",
    ] {
        assert!(metrics.text.contains(line), "{line} in\n{}", metrics.text);
    }
}

#[test]
fn without_a_token_the_editor_side_is_absent() {
    let h = Harness::start(TokenSetup::None);
    for path in ["/admin", "/admin/login", "/api/digests", "/api/sources"] {
        assert_eq!(get(&h, path, &[]).status, StatusCode::NOT_FOUND, "{path}");
        let reply = get(&h, path, &[("Authorization", "Bearer anything")]);
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let posted = api_post(
        &h,
        "/api/links",
        json!({"url": "https://mp.weixin.qq.com/s/x"}),
    );
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    assert!(!h.dir.path().join("links.txt").exists());
}

#[test]
fn a_token_file_others_can_read_is_refused() {
    let h = Harness::start(TokenSetup::File);
    let token = h.dir.path().join("token");
    editor_support::set_mode(&token, 0o644);
    let error = yaowen::server::ServerState::new(Arc::clone(&h.config), Arc::clone(h.store()))
        .err()
        .expect("refused");
    let message = error.to_string();
    assert!(
        message.contains("readable by other users") && message.contains("chmod 600"),
        "{message}"
    );
    editor_support::set_mode(&token, 0o600);
    assert!(h.state().editing_enabled());
}

#[test]
fn login_sessions_and_csrf() {
    let h = Harness::start(TokenSetup::File);
    // Not logged in: the UI sends to the login form, the API refuses.
    let page = get(&h, "/admin", &[]);
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), "/admin/login");
    assert_eq!(
        get(&h, "/api/digests", &[]).status,
        StatusCode::UNAUTHORIZED
    );
    let wrong = get(&h, "/api/digests", &[("Authorization", "Bearer wrong")]);
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.json()["error"].is_string());

    let refused = form_post(&h, "/admin/login", "", &[("token", "wrong")]);
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.header("set-cookie").is_empty());

    let ok = form_post(&h, "/admin/login", "", &[("token", TOKEN)]);
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let cookie = ok.header("set-cookie");
    for part in ["yaowen_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let (cookie, csrf) = login(&h);
    assert_eq!(csrf.len(), 64);

    let page = get(&h, "/admin", &[("Cookie", &cookie)]);
    let csp = page.header("content-security-policy");
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"));
    assert_eq!(page.header("x-frame-options"), "DENY");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert!(page.text.contains("<script src=\"/admin/app.js\""));
    let script = get(&h, "/admin/app.js", &[("Cookie", &cookie)]);
    assert!(script.header("content-type").starts_with("text/javascript"));

    let id = id_of(&h, "Istio");
    let form = |csrf: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("action".to_string(), "exclude".to_string()),
            ("period".to_string(), WEEK.to_string()),
        ]
    };
    let pairs = |v: &Vec<(String, String)>| -> Vec<(String, String)> { v.clone() };
    // A form without the session's CSRF token changes nothing.
    for csrf in ["", "0000", &"a".repeat(64)] {
        let fields = pairs(&form(csrf));
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, v)| !(k == "csrf" && v.is_empty()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let reply = form_post(
            &h,
            &format!("/admin/items/{}", seg(&id)),
            &cookie,
            &borrowed,
        );
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "csrf {csrf:?}");
    }
    // Nor does a form without a session, even with a CSRF token.
    let fields = form(&csrf);
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = form_post(&h, &format!("/admin/items/{}", seg(&id)), "", &borrowed);
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(titles(&digest(&h)).iter().any(|t| t.contains("Istio")));

    // The API with the session cookie needs X-CSRF-Token to change state.
    let body = json!({"action": "exclude"}).to_string();
    let no_header = send(
        &h,
        client()
            .post(h.url(&format!("/api/items/{}/curation", seg(&id))))
            .header("Cookie", &cookie)
            .header("Content-Type", "application/json")
            .body(body.clone()),
    );
    assert_eq!(no_header.status, StatusCode::FORBIDDEN);
    let with_header = send(
        &h,
        client()
            .post(h.url(&format!("/api/items/{}/curation", seg(&id))))
            .header("Cookie", &cookie)
            .header("X-CSRF-Token", &csrf)
            .header("Content-Type", "application/json")
            .body(body),
    );
    assert_eq!(with_header.status, StatusCode::OK, "{}", with_header.text);
    assert!(!titles(&digest(&h)).iter().any(|t| t.contains("Istio")));

    // The form with the right token works and returns to the item.
    let include = form_post(
        &h,
        &format!("/admin/items/{}", seg(&id)),
        &cookie,
        &[("csrf", &csrf), ("action", "include"), ("period", WEEK)],
    );
    assert_eq!(include.status, StatusCode::SEE_OTHER, "{}", include.text);
    assert!(include
        .header("location")
        .starts_with(&format!("/admin?period={WEEK}#item-")));
    assert!(titles(&digest(&h)).iter().any(|t| t.contains("Istio")));

    // Logging out ends the session.
    let out = form_post(&h, "/admin/logout", &cookie, &[("csrf", &csrf)]);
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        get(&h, "/admin", &[("Cookie", &cookie)]).status,
        StatusCode::SEE_OTHER
    );
}

#[test]
fn every_api_action_works_and_errors_are_json() {
    let h = Harness::start(TokenSetup::File);
    let list = api_get(&h, "/api/digests").json();
    let periods: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["period"].as_str().unwrap_or_default())
        .collect();
    assert!(
        periods.contains(&WEEK) && periods.contains(&OLDER_WEEK),
        "{list}"
    );

    // Newest first by default.
    assert_eq!(
        titles(&digest(&h)),
        [
            "Kubernetes 1.26 发布",
            "Istio ambient mesh reaches beta",
            "KubeCon China 征稿开启",
            "云原生社区 Meetup 长沙站举行"
        ]
    );
    let k8s = id_of(&h, "Kubernetes");
    let meetup = id_of(&h, "Meetup");
    let istio = id_of(&h, "Istio");
    let curate =
        |id: &str, body: Value| api_post(&h, &format!("/api/items/{}/curation", seg(id)), body);

    // pin / unpin
    let pinned = curate(&meetup, json!({"action": "pin"}));
    assert_eq!(pinned.status, StatusCode::OK, "{}", pinned.text);
    assert_eq!(pinned.json()["state"], "pinned");
    assert_eq!(titles(&digest(&h))[0], "云原生社区 Meetup 长沙站举行");
    assert_eq!(digest(&h)["entries"][0]["pinned"], true);
    curate(&meetup, json!({"action": "unpin"}));
    assert_eq!(titles(&digest(&h))[0], "Kubernetes 1.26 发布");

    // exclude / include
    curate(&istio, json!({"action": "exclude"}));
    let d = digest(&h);
    assert!(!titles(&d).iter().any(|t| t.contains("Istio")));
    assert_eq!(d["excluded"][0]["id"], istio.as_str());
    curate(&istio, json!({"action": "include"}));
    assert!(titles(&digest(&h)).iter().any(|t| t.contains("Istio")));

    // move down / up
    curate(&k8s, json!({"action": "down"}));
    assert_eq!(titles(&digest(&h))[1], "Kubernetes 1.26 发布");
    curate(&k8s, json!({"action": "down"}));
    assert_eq!(titles(&digest(&h))[2], "Kubernetes 1.26 发布");
    curate(&k8s, json!({"action": "up"}));
    let order = titles(&digest(&h));
    assert_eq!(order[1], "Kubernetes 1.26 发布");

    // edit title, summary, date (only the named fields change)
    let edited = curate(
        &k8s,
        json!({"title": "Kubernetes 1.26：存储与调度", "summary": "编辑写的摘要。"}),
    );
    assert_eq!(edited.status, StatusCode::OK);
    curate(&k8s, json!({"date": "2022-12-24"}));
    let entry = digest(&h)["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["id"] == k8s.as_str())
        .cloned()
        .expect("k8s entry");
    assert_eq!(entry["title"], "Kubernetes 1.26：存储与调度");
    assert_eq!(entry["summary"], "编辑写的摘要。");
    assert_eq!(entry["date"], "2022-12-24");
    assert_eq!(entry["edited"], json!(["title", "summary", "date"]));
    assert!(markdown(&h).contains("- [**2022-12-24 Kubernetes 1.26：存储与调度**]"));
    // An empty value restores the source's own.
    curate(&k8s, json!({"title": ""}));
    assert!(titles(&digest(&h)).contains(&"Kubernetes 1.26 发布".to_string()));

    // search, Chinese substring included, and pulling an older item in
    let hits = api_get(&h, "/api/items?q=%E5%8F%AF%E8%A7%82%E6%B5%8B").json();
    assert_eq!(hits.as_array().map(Vec::len), Some(1), "{hits}");
    assert_eq!(hits[0]["title"], "eBPF 可观测性入门");
    let ebpf = hits[0]["id"].as_str().expect("id").to_string();
    let both = api_get(&h, "/api/items?q=kubernetes%20%E9%9B%86%E7%BE%A4").json();
    assert_eq!(both[0]["id"], ebpf.as_str(), "words match title or text");
    curate(&ebpf, json!({"action": "include", "date": WEEK}));
    assert!(titles(&digest(&h)).contains(&"eBPF 可观测性入门".to_string()));
    let older = api_get(&h, &format!("/api/digests/{OLDER_WEEK}")).json();
    assert!(older["entries"].as_array().expect("entries").is_empty());

    // sources with health
    let sources = api_get(&h, "/api/sources").json();
    assert_eq!(sources[0]["name"], "news");
    assert_eq!(sources[0]["healthy"], true);
    assert_eq!(sources[0]["items_stored"], 5);
    assert_eq!(sources[1]["kind"], "wechat");

    // links go to the wechat source's file, once
    let link = api_post(
        &h,
        "/api/links",
        json!({"url": "https://mp.weixin.qq.com/s/AbC123"}),
    );
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text);
    assert_eq!(link.json()["source"], "wechat-picks");
    api_post(
        &h,
        "/api/links",
        json!({"url": "https://mp.weixin.qq.com/s/AbC123"}),
    );
    let links = std::fs::read_to_string(h.dir.path().join("links.txt")).expect("links file");
    assert_eq!(links, "https://mp.weixin.qq.com/s/AbC123\n");

    // publish / reopen
    let published = api_post(&h, &format!("/api/digests/{WEEK}/publish"), json!({}));
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    assert_eq!(published.json()["status"], "published");
    assert_eq!(digest(&h)["status"], "published");
    let again = api_post(&h, &format!("/api/digests/{WEEK}/publish"), json!({}));
    assert_eq!(again.status, StatusCode::CONFLICT);
    let reopened = api_post(&h, &format!("/api/digests/{WEEK}/reopen"), json!({}));
    assert_eq!(reopened.status, StatusCode::OK);
    assert_eq!(digest(&h)["status"], "draft");

    // errors: JSON with a fitting status
    for (reply, status) in [
        (curate("no-such-item", json!({"action": "pin"})), 404),
        (curate(&k8s, json!({"action": "explode"})), 400),
        (curate(&k8s, json!({"date": "yesterday"})), 400),
        (
            api_post(&h, "/api/links", json!({"url": "javascript:alert(1)"})),
            400,
        ),
        (api_get(&h, "/api/digests/not-a-date"), 400),
        (api_get(&h, "/api/nothing-here"), 404),
        (
            send(
                &h,
                client()
                    .post(h.url(&format!("/api/items/{}/curation", seg(&k8s))))
                    .bearer_auth(TOKEN)
                    .header("Content-Type", "application/json")
                    .body("{not json"),
            ),
            400,
        ),
    ] {
        assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
        assert!(reply.json()["error"].is_string(), "{}", reply.text);
    }
}

#[test]
fn editor_changes_survive_refetch_regenerate_and_restart() {
    let mut h = Harness::start(TokenSetup::File);
    let k8s = id_of(&h, "Kubernetes");
    let meetup = id_of(&h, "Meetup");
    let istio = id_of(&h, "Istio");
    let curate = |h: &Harness, id: &str, body: Value| {
        let reply = api_post(h, &format!("/api/items/{}/curation", seg(id)), body);
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    };
    curate(
        &h,
        &k8s,
        json!({"title": "编辑标题：K8s 1.26", "summary": "编辑摘要。"}),
    );
    curate(&h, &istio, json!({"action": "exclude"}));
    curate(&h, &meetup, json!({"action": "up"}));
    let before = titles(&digest(&h));

    // The source rewrites every title and summary; the fetch stores them.
    h.refetch_changed();
    let stored = h.store().item(&k8s).expect("read").expect("item");
    assert_eq!(stored.title, "UPDATED Kubernetes 1.26 发布");
    assert_eq!(stored.summary, "UPDATED summary from the source.");
    assert_eq!(h.store().item_count(), 5, "a refetch, not new items");
    yaowen::generate::generate(&h.config, h.store()).expect("regenerate");
    let after = titles(&digest(&h));
    assert_eq!(after[0], "编辑标题：K8s 1.26");
    assert!(!after.iter().any(|t| t.contains("Istio")));
    assert_eq!(after.len(), before.len());
    let md = markdown(&h);
    assert!(
        md.contains("编辑标题：K8s 1.26") && md.contains("    编辑摘要。"),
        "{md}"
    );
    assert!(!md.contains("Istio"));
    assert!(
        md.contains("UPDATED 云原生社区 Meetup 长沙站举行"),
        "unedited items follow the source"
    );

    // A restart (server and store closed and opened) keeps everything.
    h.restart();
    assert_eq!(titles(&digest(&h)), after);
    yaowen::generate::generate(&h.config, h.store()).expect("regenerate");
    assert_eq!(markdown(&h), md);
}

#[test]
fn a_published_digest_changes_only_after_reopening() {
    let h = Harness::start(TokenSetup::File);
    let k8s = id_of(&h, "Kubernetes");
    let istio = id_of(&h, "Istio");
    api_post(
        &h,
        &format!("/api/items/{}/curation", seg(&istio)),
        json!({"action": "exclude"}),
    );
    let published = api_post(&h, &format!("/api/digests/{WEEK}/publish"), json!({}));
    assert_eq!(published.status, StatusCode::OK);
    let md = markdown(&h);
    let html = h.public_file(&format!("digest/{WEEK}.html"));
    assert!(!html.contains("草稿"));

    // Edits to its items are refused until it is reopened.
    for body in [
        json!({"action": "pin"}),
        json!({"action": "down"}),
        json!({"title": "late edit"}),
    ] {
        let reply = api_post(&h, &format!("/api/items/{}/curation", seg(&k8s)), body);
        assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
        assert!(reply.json()["error"]
            .as_str()
            .unwrap_or_default()
            .contains("reopen"));
    }
    // Moving another item into it is refused too.
    let ebpf = api_get(&h, "/api/items?q=eBPF").json()[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let moved = api_post(
        &h,
        &format!("/api/items/{}/curation", seg(&ebpf)),
        json!({"action": "include", "date": "2022-12-20"}),
    );
    assert_eq!(moved.status, StatusCode::CONFLICT);

    // A refetch with new titles and a regenerate leave it as published.
    h.refetch_changed();
    yaowen::generate::generate(&h.config, h.store()).expect("regenerate");
    assert_eq!(markdown(&h), md);
    assert_eq!(h.public_file(&format!("digest/{WEEK}.html")), html);
    assert!(titles(&digest(&h)).contains(&"Kubernetes 1.26 发布".to_string()));

    // Reopened, it follows the store and editors again.
    let reopened = api_post(&h, &format!("/api/digests/{WEEK}/reopen"), json!({}));
    assert_eq!(reopened.status, StatusCode::OK);
    assert!(markdown(&h).contains("UPDATED Kubernetes 1.26 发布"));
    let edit = api_post(
        &h,
        &format!("/api/items/{}/curation", seg(&k8s)),
        json!({"title": "late edit"}),
    );
    assert_eq!(edit.status, StatusCode::OK);
    assert!(markdown(&h).contains("late edit"));
}

#[test]
fn two_editors_changing_different_fields_both_win() {
    let h = Harness::start(TokenSetup::File);
    let k8s = id_of(&h, "Kubernetes");
    let (cookie, csrf) = login(&h);
    // Editor A (browser) changes the summary; the page showed the old title.
    let page = get(&h, &format!("/admin?period={WEEK}"), &[("Cookie", &cookie)]);
    assert!(page.text.contains("Kubernetes 1.26 发布"));
    // Editor B (API) changes the title meanwhile.
    api_post(
        &h,
        &format!("/api/items/{}/curation", seg(&k8s)),
        json!({"title": "B 的标题"}),
    );
    let reply = form_post(
        &h,
        &format!("/admin/items/{}", seg(&k8s)),
        &cookie,
        &[
            ("csrf", &csrf),
            ("period", WEEK),
            ("orig_title", "Kubernetes 1.26 发布"),
            ("title", "Kubernetes 1.26 发布"),
            (
                "orig_summary",
                "Kubernetes 1.26 带来了存储与调度方面的改进。",
            ),
            ("summary", "A 的摘要"),
            ("orig_date", "2022-12-23"),
            ("date", "2022-12-23"),
        ],
    );
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let entry = digest(&h)["entries"][0].clone();
    assert_eq!(entry["title"], "B 的标题");
    assert_eq!(entry["summary"], "A 的摘要");
    assert!(entry["edited"]
        .as_array()
        .is_some_and(|e| !e.contains(&json!("date"))));
}

#[test]
fn hostile_text_shows_as_text_in_the_ui_and_public_pages() {
    let h = Harness::start(TokenSetup::File);
    let now = chrono::DateTime::parse_from_rfc3339("2022-12-22T04:00:00Z")
        .expect("date")
        .with_timezone(&chrono::Utc);
    let hostile = Item {
        id: "hostile-1".into(),
        source: "news".into(),
        url: "https://evil.example/\"><script>alert(1)</script>".into(),
        fetched_url: "https://evil.example/".into(),
        guid: None,
        title: "<script>window.__pwned=1</script>恶意标题".into(),
        author: None,
        published: Some(now),
        first_seen: now,
        text: String::new(),
        html: None,
        summary: "<img src=x onerror=\"window.__pwned=1\">摘要".into(),
        summary_origin: SummaryOrigin::Source,
        fingerprint: 1,
        content_hash: 1,
        cluster: "hostile-1".into(),
        also_at: vec!["javascript:alert(1)".into()],
        tags: vec![],
        image: None,
    };
    h.store().put_items(&[hostile]).expect("put");
    // An editor pastes markup into a title too.
    let k8s = id_of(&h, "Kubernetes");
    api_post(
        &h,
        &format!("/api/items/{}/curation", seg(&k8s)),
        json!({"title": "<svg onload=alert(2)>编辑"}),
    );
    let (cookie, _) = login(&h);
    let page = get(&h, &format!("/admin?period={WEEK}"), &[("Cookie", &cookie)]);
    let public_html = h.public_file(&format!("digest/{WEEK}.html"));
    let index = h.public_file("index.html");
    for (name, html) in [
        ("editor page", &page.text),
        ("digest page", &public_html),
        ("index", &index),
    ] {
        assert!(
            html.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;恶意标题"),
            "{name}"
        );
        assert!(html.contains("&lt;img src=x onerror="), "{name}");
        assert!(!html.contains("<script>window"), "{name}");
        assert!(!html.contains("<img"), "{name}");
        assert!(!html.contains("<svg"), "{name}");
        assert!(!html.contains("href=\"javascript"), "{name}");
        assert!(!html.contains("<script>alert"), "{name}");
    }
    assert_eq!(
        h.store()
            .curation(&k8s)
            .expect("read")
            .expect("curation")
            .state,
        CurationState::Auto
    );
}

#[test]
fn the_editor_page_shows_the_draft_with_its_controls() {
    let h = Harness::start(TokenSetup::File);
    let (cookie, csrf) = login(&h);
    let page = get(
        &h,
        &format!("/admin?period={WEEK}&q=eBPF"),
        &[("Cookie", &cookie)],
    );
    assert_eq!(page.status, StatusCode::OK);
    let text = &page.text;
    for needle in [
        "2022-12-19 – 2022-12-25",
        "草稿",
        "Kubernetes 1.26 发布",
        "云原生社区 Meetup 长沙站举行",
        "value=\"exclude\"",
        "value=\"up\"",
        "value=\"pin\"",
        "<details class=\"edit\">",
        "name=\"summary\"",
        "id=\"publish\"",
        "action=\"/admin/links\"",
        "eBPF 可观测性入门",
        "加入本期",
        "各期",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
    assert!(text.contains(&format!("value=\"{csrf}\"")));
    // Pull the older item in through the search result's form.
    let ebpf = api_get(&h, "/api/items?q=eBPF").json()[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let reply = form_post(
        &h,
        &format!("/admin/items/{}", seg(&ebpf)),
        &cookie,
        &[
            ("csrf", &csrf),
            ("period", WEEK),
            ("q", "eBPF"),
            ("action", "include"),
            ("date", WEEK),
            ("orig_date", "2022-12-13"),
        ],
    );
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.header("location").contains("q=eBPF"));
    assert!(titles(&digest(&h)).contains(&"eBPF 可观测性入门".to_string()));
    // An error is a page that says why.
    let publish = form_post(
        &h,
        &format!("/admin/digests/{WEEK}/publish"),
        &cookie,
        &[("csrf", &csrf), ("period", WEEK)],
    );
    assert_eq!(publish.status, StatusCode::SEE_OTHER);
    let conflict = form_post(
        &h,
        &format!("/admin/items/{}", seg(&ebpf)),
        &cookie,
        &[("csrf", &csrf), ("period", WEEK), ("action", "exclude")],
    );
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(conflict.text.contains("reopen"));
}

#[test]
fn the_cli_goes_through_the_daemon_when_it_holds_the_store_else_direct() {
    let mut h = Harness::start(TokenSetup::File);
    let listen = h.base.trim_start_matches("http://").to_string();
    let through_api = h.cli_config(
        "cli.toml",
        &listen,
        "token_env = \"\"\ntoken_file = \"token\"",
    );
    let istio = id_of(&h, "Istio");
    let meetup = id_of(&h, "Meetup");

    let run = |config: &std::path::Path, args: &[&str]| {
        let output = common::yaowen(config, args);
        (
            output.status.code(),
            common::stdout(&output),
            common::stderr(&output),
        )
    };
    let (code, out, err) = run(&through_api, &["curate", "exclude", &istio]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), format!("item {istio}: excluded"));
    assert!(!titles(&digest(&h)).iter().any(|t| t.contains("Istio")));

    let (code, out, err) = run(
        &through_api,
        &["curate", "edit", &meetup, "--summary", "命令行写的摘要"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("summary edited"), "{out}");
    assert!(markdown(&h).contains("    命令行写的摘要"));

    let (code, out, err) = run(&through_api, &["publish", WEEK]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), format!("published the digest {WEEK}: 3 items"));
    // The daemon's refusals reach the user.
    let (code, _, err) = run(&through_api, &["curate", "pin", &meetup]);
    assert_eq!(code, Some(1));
    assert!(err.contains("409") && err.contains("reopen"), "{err}");

    // Locked store, no token: say what to set.
    let no_token = h.cli_config("no-token.toml", &listen, "token_env = \"\"");
    let (code, _, err) = run(&no_token, &["curate", "pin", &meetup]);
    assert_eq!(code, Some(1));
    assert!(err.contains("in use") && err.contains("token"), "{err}");
    // Locked store, nothing listening where the config says.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let nobody = h.cli_config(
        "nobody.toml",
        &closed.to_string(),
        "token_env = \"\"\ntoken_file = \"token\"",
    );
    let (code, _, err) = run(&nobody, &["curate", "pin", &meetup]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no yaowen daemon answers"), "{err}");

    // With the daemon gone, the CLI works on the store itself.
    h.close();
    let ebpf_day = "2022-12-13";
    let store = yaowen::store::Store::open(&h.config.store.path).expect("open");
    let ebpf = store
        .items()
        .map(|i| i.expect("item"))
        .find(|i| i.title.contains("eBPF"))
        .expect("eBPF item")
        .id;
    drop(store);
    let (code, out, err) = run(&through_api, &["curate", "pin", &ebpf]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), format!("item {ebpf}: pinned"));
    let (code, out, err) = run(&through_api, &["publish", ebpf_day]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "published the digest 2022-12-12: 1 items");
    let md = std::fs::read_to_string(h.config.output.dir.join("digest/2022-12-12.md"))
        .expect("older digest");
    assert!(md.contains("eBPF 可观测性入门"));
}
