//! The editor UI at `/admin`: server-rendered pages with plain HTML forms
//! (they work without JavaScript; `app.js` only adds comfort), logged in
//! with the token, every form carrying the session's CSRF token. All text
//! from sources is escaped.

// A refusal is a ready `Response` returned at once; boxing it buys nothing.
#![allow(clippy::result_large_err)]

use super::api::logged_status;
use super::auth::{cookie_value, Session, SESSION_COOKIE, SESSION_LIFETIME};
use super::{blocking, ServerState};
use crate::curate::{
    Action, CurateError, CurationRequest, Curator, DigestDetail, DigestSummary, EntryView,
    SearchHit,
};
use crate::model::{CurationState, DigestStatus};
use crate::text::html::escape;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt::Write as _;

const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("app.css");

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/", get(|| async { Redirect::to("/admin") }))
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/app.js", get(script))
        .route("/admin/app.css", get(style))
        .route("/admin/items/{id}", post(item_form))
        .route(
            "/admin/digests/{period}/publish",
            digest_form_route(|c, start| c.publish(start).map(drop)),
        )
        .route(
            "/admin/digests/{period}/reopen",
            digest_form_route(|c, start| c.reopen(start).map(drop)),
        )
        .route("/admin/links", post(link_form))
        .route("/admin/{*rest}", axum::routing::any(not_found))
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// The logged-in session of this request, with its id.
fn session(state: &ServerState, headers: &HeaderMap) -> Option<(String, Session)> {
    let editor = state.editor()?;
    let id = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|cookies| cookie_value(cookies, SESSION_COOKIE))?;
    editor
        .sessions
        .get(id)
        .map(|session| (id.to_string(), session))
}

/// The session of a form post whose `csrf` field matches, else the
/// response refusing it.
fn checked_session(
    state: &ServerState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Session, Response> {
    let Some((_, session)) = session(state, headers) else {
        return Err(message_page(
            StatusCode::FORBIDDEN,
            "请先登录",
            "登录已过期或尚未登录。",
        ));
    };
    let token = form.get("csrf").map(String::as_str).unwrap_or_default();
    if !session.csrf_matches(token) {
        return Err(message_page(
            StatusCode::FORBIDDEN,
            "请求被拒绝",
            "表单缺少有效的 CSRF 令牌。请刷新页面后重试。",
        ));
    }
    Ok(session)
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

// ---- login ---------------------------------------------------------------

async fn login_page(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    if session(&state, &headers).is_some() {
        return Redirect::to("/admin").into_response();
    }
    html(StatusCode::OK, login_html(&state, None))
}

async fn login(
    State(state): State<ServerState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(editor) = state.editor() else {
        return not_found().await;
    };
    let token = form.get("token").map(String::as_str).unwrap_or_default();
    if !editor.token.matches(token.trim()) {
        // Slow down guessing.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        return html(
            StatusCode::FORBIDDEN,
            login_html(&state, Some("令牌不正确。")),
        );
    }
    match editor.sessions.create() {
        Ok((id, _)) => {
            let cookie = format!(
                "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                SESSION_LIFETIME.as_secs()
            );
            see_other_setting(cookie, "/admin")
        }
        Err(error) => message_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "无法登录",
            &error.to_string(),
        ),
    }
}

async fn logout(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = checked_session(&state, &headers, &form) {
        return refused;
    }
    if let (Some(editor), Some((id, _))) = (state.editor(), session(&state, &headers)) {
        editor.sessions.remove(&id);
    }
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    see_other_setting(cookie, "/admin/login")
}

/// A 303 to `location` that sets (or clears) the session cookie.
fn see_other_setting(cookie: String, location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, location.to_string()),
        ],
    )
        .into_response()
}

fn login_html(state: &ServerState, error: Option<&str>) -> String {
    let mut out = String::new();
    push_head(
        &mut out,
        &format!("{} · 编辑登录", state.config().digest.title),
    );
    out.push_str("<main class=\"narrow\">\n<h1>");
    out.push_str(&escape(&state.config().digest.title));
    out.push_str(" · 编辑</h1>\n");
    if let Some(error) = error {
        let _ = writeln!(out, "<p class=\"notice error\">{}</p>", escape(error));
    }
    out.push_str(
        "<form method=\"post\" action=\"/admin/login\" class=\"card login\">\n\
         <label for=\"token\">编辑令牌</label>\n\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required autofocus>\n\
         <button type=\"submit\" class=\"primary\">登录</button>\n</form>\n\
         <p class=\"muted\">令牌来自配置中 <code>server.token_env</code> 指定的环境变量或 <code>server.token_file</code>。</p>\n\
         </main>\n</body>\n</html>\n",
    );
    out
}

// ---- the main page -------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    period: String,
    #[serde(default)]
    q: String,
}

async fn page(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    let Some((_, session)) = session(&state, &headers) else {
        return Redirect::to("/admin/login").into_response();
    };
    let title = state.config().digest.title.clone();
    let loaded = blocking(state.curator(), move |curator| {
        let start = curator.period_start(&query.period)?;
        let detail = curator.digest(start)?;
        let digests = curator.digests()?;
        let hits = if query.q.trim().is_empty() {
            None
        } else {
            Some(curator.search(&query.q, 30)?)
        };
        let context = PageContext {
            title,
            csrf: session.csrf,
            start,
            current: curator.current_period(),
            period_days: curator.site().period.days(),
            query: query.q,
        };
        Ok(render_page(&context, &detail, &digests, hits.as_deref()))
    })
    .await;
    match loaded {
        Ok(body) => html(StatusCode::OK, body),
        Err(error) => error_page(&error),
    }
}

/// What the page needs besides the digest.
struct PageContext {
    title: String,
    csrf: String,
    start: NaiveDate,
    current: NaiveDate,
    period_days: i64,
    query: String,
}

impl PageContext {
    /// Hidden fields every form carries: the CSRF token and where to return.
    fn push_hidden(&self, out: &mut String) {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"period\" value=\"{}\">\
             <input type=\"hidden\" name=\"q\" value=\"{}\">",
            escape(&self.csrf),
            self.start,
            escape(&self.query)
        );
    }
}

fn render_page(
    context: &PageContext,
    detail: &DigestDetail,
    digests: &[DigestSummary],
    hits: Option<&[SearchHit]>,
) -> String {
    let published = detail.status == DigestStatus::Published;
    let mut out = String::with_capacity(16 * 1024 + detail.entries.len() * 2048);
    push_head(
        &mut out,
        &format!("{} · 编辑 · {}", context.title, detail.label),
    );
    out.push_str("<header class=\"top\"><div class=\"bar\">");
    let _ = write!(
        out,
        "<a class=\"brand\" href=\"/admin\">{} <span>编辑台</span></a><nav><a href=\"/\">公开页面</a>\
         <form method=\"post\" action=\"/admin/logout\" class=\"inline\">",
        escape(&context.title)
    );
    context.push_hidden(&mut out);
    out.push_str(
        "<button type=\"submit\" class=\"link\">退出</button></form></nav></div></header>\n",
    );
    out.push_str("<main>\n");
    push_period_head(&mut out, context, detail);
    push_entries(&mut out, context, &detail.entries, published);
    if !detail.excluded.is_empty() {
        push_excluded(&mut out, context, &detail.excluded, published);
    }
    out.push_str("<div class=\"tools\">\n");
    push_search(&mut out, context, hits, published);
    push_add_link(&mut out, context);
    out.push_str("</div>\n");
    push_digest_list(&mut out, context, digests);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn push_head(out: &mut String, title: &str) {
    out.push_str(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>",
    );
    out.push_str(&escape(title));
    out.push_str(
        "</title>\n<link rel=\"stylesheet\" href=\"/admin/app.css\">\n\
         <script src=\"/admin/app.js\" defer></script>\n</head>\n<body>\n",
    );
}

/// Period title, status, publish/reopen, previous/next period.
fn push_period_head(out: &mut String, context: &PageContext, detail: &DigestDetail) {
    let published = detail.status == DigestStatus::Published;
    let prev = context.start - Duration::days(context.period_days);
    let next = context.start + Duration::days(context.period_days);
    out.push_str("<section class=\"period-head\">\n<div class=\"period-nav\">");
    let _ = write!(
        out,
        "<a href=\"/admin?period={prev}\" title=\"上一期\">‹ 上一期</a>"
    );
    if context.start != context.current {
        out.push_str("<a href=\"/admin\">本期</a>");
    }
    let _ = writeln!(
        out,
        "<a href=\"/admin?period={next}\" title=\"下一期\">下一期 ›</a></div>"
    );
    let _ = write!(
        out,
        "<h1>{}</h1>\n<p class=\"status\">",
        escape(&detail.label)
    );
    if published {
        out.push_str("<span class=\"badge published\">已发布</span>");
        if let Some(at) = detail.published_at {
            let _ = write!(
                out,
                " <span class=\"muted\">{}</span>",
                at.format("%Y-%m-%d %H:%M UTC")
            );
        }
    } else {
        out.push_str("<span class=\"badge draft\">草稿</span>");
    }
    let _ = writeln!(
        out,
        " <span class=\"muted\">{} 条</span> · <a href=\"/digest/{}.html\">公开页</a> · <a href=\"/digest/{}.md\">Markdown</a></p>",
        detail.entries.len(),
        detail.period,
        detail.period
    );
    let (action, label, class) = if published {
        ("reopen", "重新打开", "")
    } else {
        ("publish", "发布本期", "primary")
    };
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/admin/digests/{}/{action}\" class=\"publish\">",
        detail.period
    );
    context.push_hidden(out);
    let _ = writeln!(
        out,
        "<button type=\"submit\" id=\"{action}\" class=\"{class}\">{label}</button></form>"
    );
    if published {
        out.push_str("<p class=\"notice\">本期已发布，内容已冻结。重新打开后才能修改。</p>\n");
    }
    out.push_str("</section>\n");
}

fn push_entries(out: &mut String, context: &PageContext, entries: &[EntryView], frozen: bool) {
    if entries.is_empty() {
        out.push_str(
            "<p class=\"empty\">本期暂无条目。可以在下方搜索旧条目加入本期，或添加链接。</p>\n",
        );
        return;
    }
    out.push_str("<ol class=\"entries\" id=\"entries\">\n");
    for (index, entry) in entries.iter().enumerate() {
        push_entry(out, context, entry, frozen, index, entries.len());
    }
    out.push_str("</ol>\n");
}

fn push_entry(
    out: &mut String,
    context: &PageContext,
    entry: &EntryView,
    frozen: bool,
    index: usize,
    count: usize,
) {
    let id = escape(&entry.id);
    let path = segment(&entry.id);
    let dom = dom_id(&entry.id);
    let _ = writeln!(
        out,
        "<li class=\"entry{}\" id=\"{dom}\" data-id=\"{id}\">",
        if entry.pinned { " pinned" } else { "" }
    );
    push_meta(out, entry);
    push_title(out, &entry.title, &entry.url);
    push_summary(out, &entry.summary);
    push_also_at(out, &entry.also_at);
    if !frozen {
        out.push_str("<div class=\"actions\">");
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/admin/items/{path}\" class=\"buttons\">"
        );
        context.push_hidden(out);
        let disabled = |yes: bool| if yes { " disabled" } else { "" };
        let _ = write!(
            out,
            "<button name=\"action\" value=\"up\" class=\"up\" title=\"上移\" aria-label=\"上移\"{}>↑</button>\
             <button name=\"action\" value=\"down\" class=\"down\" title=\"下移\" aria-label=\"下移\"{}>↓</button>",
            disabled(index == 0),
            disabled(index + 1 == count)
        );
        if entry.pinned {
            out.push_str(
                "<button name=\"action\" value=\"unpin\" class=\"unpin\">取消置顶</button>",
            );
        } else {
            out.push_str("<button name=\"action\" value=\"pin\" class=\"pin\">置顶</button>");
        }
        out.push_str(
            "<button name=\"action\" value=\"exclude\" class=\"exclude danger\">排除</button></form>",
        );
        push_edit_form(out, context, entry);
        out.push_str("</div>");
    }
    out.push_str("</li>\n");
}

fn push_meta(out: &mut String, entry: &EntryView) {
    let _ = write!(
        out,
        "<p class=\"meta\"><time datetime=\"{0}\">{0}</time> · <span class=\"source\">{1}</span>",
        entry.date,
        escape(&entry.source)
    );
    if entry.pinned {
        out.push_str("<span class=\"mark\">置顶</span>");
    }
    if entry.undated {
        out.push_str("<span class=\"mark\" title=\"来源未注明日期\">日期不详</span>");
    }
    match entry.state {
        CurationState::Included => out.push_str("<span class=\"mark soft\">已收录</span>"),
        CurationState::Excluded => out.push_str("<span class=\"mark soft\">已排除</span>"),
        _ => {}
    }
    if !entry.edited.is_empty() {
        let names: Vec<&str> = entry
            .edited
            .iter()
            .map(|field| match *field {
                "title" => "标题",
                "summary" => "摘要",
                _ => "日期",
            })
            .collect();
        let _ = write!(
            out,
            "<span class=\"mark soft\">已改{}</span>",
            names.join("、")
        );
    }
    out.push_str("</p>\n");
}

fn push_title(out: &mut String, title: &str, url: &str) {
    out.push_str("<h3>");
    match safe_link(url) {
        Some(url) => {
            let _ = write!(
                out,
                "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{}</a>",
                escape(&url),
                escape(title)
            );
        }
        None => out.push_str(&escape(title)),
    }
    out.push_str("</h3>\n");
}

fn push_summary(out: &mut String, summary: &str) {
    let paragraphs: Vec<&str> = summary
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if paragraphs.is_empty() {
        return;
    }
    out.push_str("<div class=\"summary\">");
    for paragraph in paragraphs {
        let _ = write!(out, "<p>{}</p>", escape(paragraph));
    }
    out.push_str("</div>\n");
}

fn push_also_at(out: &mut String, also_at: &[String]) {
    let links: Vec<url::Url> = also_at.iter().filter_map(|u| safe_url(u)).collect();
    if links.is_empty() {
        return;
    }
    out.push_str("<p class=\"also\">亦见于：");
    for (index, url) in links.iter().enumerate() {
        if index > 0 {
            out.push('、');
        }
        let host = url.host_str().unwrap_or_default();
        let _ = write!(
            out,
            "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{}</a>",
            escape(url.as_str()),
            escape(host.strip_prefix("www.").unwrap_or(host))
        );
    }
    out.push_str("</p>\n");
}

/// In-place editing: a `<details>` that opens a form. The `orig_*` fields
/// let the server change only what the editor changed.
fn push_edit_form(out: &mut String, context: &PageContext, entry: &EntryView) {
    let path = segment(&entry.id);
    let title = escape(&entry.title);
    let summary = escape(&entry.summary);
    let _ = write!(
        out,
        "<details class=\"edit\"><summary>编辑</summary>\
         <form method=\"post\" action=\"/admin/items/{path}\" class=\"edit-form\">"
    );
    context.push_hidden(out);
    let _ = write!(
        out,
        "<input type=\"hidden\" name=\"orig_title\" value=\"{title}\">\
         <input type=\"hidden\" name=\"orig_summary\" value=\"{summary}\">\
         <input type=\"hidden\" name=\"orig_date\" value=\"{date}\">\
         <label>标题<input name=\"title\" value=\"{title}\" placeholder=\"留空则恢复来源标题\"></label>\
         <label>摘要<textarea name=\"summary\" rows=\"4\" placeholder=\"留空则恢复自动摘要\">{summary}</textarea></label>\
         <label class=\"date\">日期<input type=\"date\" name=\"date\" value=\"{date}\"></label>\
         <div class=\"row\"><button type=\"submit\" class=\"primary save\">保存</button>\
         <span class=\"muted count\"></span></div></form></details>",
        date = entry.date
    );
}

fn push_excluded(out: &mut String, context: &PageContext, entries: &[EntryView], frozen: bool) {
    let _ = writeln!(
        out,
        "<details class=\"excluded\"><summary>已排除 {} 条</summary><ul>",
        entries.len()
    );
    for entry in entries {
        let path = segment(&entry.id);
        let dom = dom_id(&entry.id);
        let _ = write!(
            out,
            "<li id=\"excluded-{dom}\"><span class=\"muted\">{} · {}</span> {}",
            entry.date,
            escape(&entry.source),
            escape(&entry.title)
        );
        if !frozen {
            let _ = write!(
                out,
                "<form method=\"post\" action=\"/admin/items/{path}\" class=\"inline\">"
            );
            context.push_hidden(out);
            out.push_str(
                "<button name=\"action\" value=\"include\" class=\"include\">恢复</button></form>",
            );
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul></details>\n");
}

fn push_search(out: &mut String, context: &PageContext, hits: Option<&[SearchHit]>, frozen: bool) {
    let _ = writeln!(
        out,
        "<section class=\"card search\"><h2>搜索已收录条目</h2>\
         <form method=\"get\" action=\"/admin\" class=\"row\">\
         <input type=\"hidden\" name=\"period\" value=\"{}\">\
         <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"标题或正文中的词，如 Kubernetes 或 云原生\" aria-label=\"搜索\">\
         <button type=\"submit\">搜索</button></form>",
        context.start,
        escape(&context.query)
    );
    if let Some(hits) = hits {
        if hits.is_empty() {
            out.push_str("<p class=\"muted\">没有找到。</p>\n");
        } else {
            out.push_str("<ul class=\"hits\">\n");
            for hit in hits {
                push_hit(out, context, hit, frozen);
            }
            out.push_str("</ul>\n");
        }
    }
    out.push_str("</section>\n");
}

fn push_hit(out: &mut String, context: &PageContext, hit: &SearchHit, frozen: bool) {
    let path = segment(&hit.id);
    let dom = dom_id(&hit.id);
    let _ = write!(
        out,
        "<li id=\"hit-{dom}\"><span class=\"muted\">{} · {}</span> ",
        hit.date,
        escape(&hit.source)
    );
    match safe_link(&hit.url) {
        Some(url) => {
            let _ = write!(
                out,
                "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{}</a>",
                escape(&url),
                escape(&hit.title)
            );
        }
        None => out.push_str(&escape(&hit.title)),
    }
    if hit.state == CurationState::Excluded {
        out.push_str("<span class=\"mark soft\">已排除</span>");
    }
    if !frozen {
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/admin/items/{path}\" class=\"inline\">"
        );
        context.push_hidden(out);
        // Moving an item in from another period dates it into this one.
        let day = if hit.date >= context.start
            && hit.date < context.start + Duration::days(context.period_days)
        {
            hit.date
        } else {
            context.start
        };
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"date\" value=\"{day}\">\
             <input type=\"hidden\" name=\"orig_date\" value=\"{}\">\
             <button name=\"action\" value=\"include\" class=\"add\">加入本期</button></form>",
            hit.date
        );
    }
    out.push_str("</li>\n");
}

fn push_add_link(out: &mut String, context: &PageContext) {
    out.push_str(
        "<section class=\"card\"><h2>添加链接</h2>\
         <form method=\"post\" action=\"/admin/links\" class=\"row\">",
    );
    context.push_hidden(out);
    out.push_str(
        "<input type=\"url\" name=\"url\" required placeholder=\"https://mp.weixin.qq.com/s/…\" aria-label=\"链接\">\
         <button type=\"submit\">添加</button></form>\
         <p class=\"muted\">公众号文章等链接会在下次抓取时收录。</p></section>\n",
    );
}

fn push_digest_list(out: &mut String, context: &PageContext, digests: &[DigestSummary]) {
    out.push_str("<section class=\"past\"><h2>各期</h2><ul class=\"digests\">\n");
    for digest in digests {
        let current = digest.period == context.start.to_string();
        let _ = writeln!(
            out,
            "<li{}><a href=\"/admin?period={}\">{}</a> <span class=\"muted\">· {} 条</span>{}</li>",
            if current { " class=\"current\"" } else { "" },
            escape(&digest.period),
            escape(&digest.label),
            digest.entries,
            match digest.status {
                DigestStatus::Published => "<span class=\"badge published\">已发布</span>",
                DigestStatus::Draft => "<span class=\"badge draft\">草稿</span>",
            }
        );
    }
    out.push_str("</ul></section>\n");
}

/// `id` escaped for one path segment (ids may hold any character).
fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The HTML id of an item's element: a hash, so any item id makes a
/// valid, unambiguous fragment.
fn dom_id(id: &str) -> String {
    format!("item-{:016x}", xxhash_rust::xxh3::xxh3_64(id.as_bytes()))
}

/// An absolute http(s) URL, the only kind that becomes a link.
fn safe_url(text: &str) -> Option<url::Url> {
    let url = url::Url::parse(text.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some()).then_some(url)
}

fn safe_link(text: &str) -> Option<String> {
    safe_url(text).map(|url| url.to_string())
}

// ---- form posts ----------------------------------------------------------

/// Where to go back to after a form: the period and search it came from.
fn back_to(form: &HashMap<String, String>, anchor: Option<&str>) -> Response {
    let mut location = String::from("/admin");
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(period) = form.get("period").filter(|p| !p.is_empty()) {
        query.append_pair("period", period);
    }
    if let Some(q) = form.get("q").filter(|q| !q.trim().is_empty()) {
        query.append_pair("q", q);
    }
    let query = query.finish();
    if !query.is_empty() {
        location.push('?');
        location.push_str(&query);
    }
    if let Some(anchor) = anchor {
        location.push('#');
        location
            .push_str(&url::form_urlencoded::byte_serialize(anchor.as_bytes()).collect::<String>());
    }
    Redirect::to(&location).into_response()
}

/// The curation request a form describes: a field counts only when it
/// differs from the `orig_` value the page showed.
fn form_request(form: &HashMap<String, String>) -> Result<CurationRequest, CurateError> {
    let action = match form.get("action").map(String::as_str) {
        None | Some("") => None,
        Some(text) => Some(
            Action::parse(text)
                .ok_or_else(|| CurateError::BadRequest(format!("unknown action {text:?}")))?,
        ),
    };
    let changed = |field: &str| -> Option<String> {
        let value = form.get(field)?;
        let original = form.get(&format!("orig_{field}"));
        match original {
            Some(original) if normalise(original) == normalise(value) => None,
            _ => Some(value.clone()),
        }
    };
    Ok(CurationRequest {
        action,
        title: changed("title"),
        summary: changed("summary"),
        date: changed("date"),
    })
}

/// Browsers send textarea lines as CRLF.
fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n").trim().to_string()
}

async fn item_form(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let request = form_request(&form);
    let item = id.clone();
    let work = move |c: &Curator| c.curate(&item, &request?, "web");
    apply_form(&state, &headers, &form, Some(&dom_id(&id)), work).await
}

/// Run `work` for a form whose session and CSRF token check out, then go
/// back to the page the form came from (at `anchor`), or show the error.
async fn apply_form<T: Send + 'static>(
    state: &ServerState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    anchor: Option<&str>,
    work: impl FnOnce(&Curator) -> Result<T, CurateError> + Send + 'static,
) -> Response {
    if let Err(refused) = checked_session(state, headers, form) {
        return refused;
    }
    match blocking(state.curator(), work).await {
        Ok(_) => back_to(form, anchor),
        Err(error) => error_page(&error),
    }
}

/// A change to a whole digest, named by its period.
type DigestWork = fn(&Curator, NaiveDate) -> Result<(), CurateError>;

/// The form route that applies `work` to the digest in its path.
fn digest_form_route(work: DigestWork) -> MethodRouter<ServerState> {
    post(
        move |State(state): State<ServerState>,
              headers: HeaderMap,
              Path(period): Path<String>,
              Form(form): Form<HashMap<String, String>>| {
            digest_form(state, headers, period, form, work)
        },
    )
}

async fn digest_form(
    state: ServerState,
    headers: HeaderMap,
    period: String,
    form: HashMap<String, String>,
    work: DigestWork,
) -> Response {
    apply_form(&state, &headers, &form, None, move |c| {
        work(c, c.period_start(&period)?)
    })
    .await
}

async fn link_form(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let url = form.get("url").cloned().unwrap_or_default();
    apply_form(&state, &headers, &form, None, move |c| {
        c.add_link(&url, None)
    })
    .await
}

fn error_page(error: &CurateError) -> Response {
    let status = logged_status(error);
    let title = match status {
        StatusCode::CONFLICT => "无法修改",
        StatusCode::NOT_FOUND => "找不到",
        StatusCode::BAD_REQUEST => "请求有误",
        _ => "出错了",
    };
    message_page(status, title, &error.to_string())
}

fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    let mut out = String::new();
    push_head(&mut out, title);
    let _ = write!(
        out,
        "<main class=\"narrow\"><h1>{}</h1><p class=\"notice error\">{}</p>\
         <p><a href=\"/admin\">返回编辑台</a></p></main>\n</body>\n</html>\n",
        escape(title),
        escape(message)
    );
    html(status, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unchanged_fields_are_not_sent_as_edits() {
        let request = form_request(&form(&[
            ("title", "T"),
            ("orig_title", "T"),
            ("summary", "line one\r\nline two"),
            ("orig_summary", "line one\nline two"),
            ("date", "2022-12-21"),
            ("orig_date", "2022-12-20"),
        ]))
        .unwrap();
        assert_eq!(request.title, None);
        assert_eq!(request.summary, None);
        assert_eq!(request.date.as_deref(), Some("2022-12-21"));
        assert!(form_request(&form(&[("action", "explode")])).is_err());
    }
}
