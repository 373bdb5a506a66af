//! The JSON API under `/api`: everything the editor UI does, for scripts
//! and the CLI. Callers authenticate with `Authorization: Bearer TOKEN`, or
//! with the UI's session cookie plus `X-CSRF-Token` on state changes.
//! Errors are `{"error": "…"}` with a fitting status.

// A refusal is a ready `Response` returned at once; boxing it buys nothing.
#![allow(clippy::result_large_err)]

use super::auth::{cookie_value, SESSION_COOKIE};
use super::{blocking, status_of, ServerState};
use crate::curate::{CurateError, CurationRequest, Curator};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// Who made a request.
pub(super) enum Caller {
    Bearer,
    Session { csrf_ok: bool },
}

pub(super) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/api/digests", get(list_digests))
        .route("/api/digests/{period}", get(get_digest))
        .route("/api/digests/{period}/publish", post(publish))
        .route("/api/digests/{period}/reopen", post(reopen))
        .route("/api/items", get(search_items))
        .route("/api/items/{id}/curation", post(curate_item))
        .route("/api/links", post(add_link))
        .route("/api/sources", get(list_sources))
        .route("/api", axum::routing::any(not_found))
        .route("/api/{*rest}", axum::routing::any(not_found))
}

/// `{"error": message}` with `status`.
pub(super) fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

fn curate_error(error: &CurateError) -> Response {
    json_error(logged_status(error), &error.to_string())
}

/// The status answering `error`; a server-side failure is also logged, as
/// the editor sees only its message.
pub(super) fn logged_status(error: &CurateError) -> StatusCode {
    let status = status_of(error);
    if status.is_server_error() {
        tracing::error!(%error, "editor request failed");
    }
    status
}

async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "no such API endpoint")
}

/// Identify the caller; `Err` is the response refusing it.
pub(super) fn caller(state: &ServerState, headers: &HeaderMap) -> Result<Caller, Response> {
    let Some(editor) = state.editor() else {
        return Err(json_error(StatusCode::NOT_FOUND, "not found"));
    };
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let token = value.strip_prefix("Bearer ").unwrap_or_default().trim();
        return if editor.token.matches(token) {
            Ok(Caller::Bearer)
        } else {
            Err(json_error(StatusCode::UNAUTHORIZED, "wrong token"))
        };
    }
    let session = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|cookies| cookie_value(cookies, SESSION_COOKIE))
        .and_then(|id| editor.sessions.get(id));
    match session {
        Some(session) => {
            let csrf_ok = headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|token| session.csrf_matches(token));
            Ok(Caller::Session { csrf_ok })
        }
        None => Err(json_error(
            StatusCode::UNAUTHORIZED,
            "log in at /admin or send Authorization: Bearer TOKEN",
        )),
    }
}

/// The caller, refused with 403 when a session request that changes state
/// lacks its CSRF token. Returns the editor name to record.
fn editor_for(
    state: &ServerState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<&'static str, Response> {
    match caller(state, headers)? {
        Caller::Bearer => Ok("api"),
        Caller::Session { csrf_ok } if csrf_ok || method == Method::GET => Ok("web"),
        Caller::Session { .. } => Err(json_error(
            StatusCode::FORBIDDEN,
            "missing or wrong X-CSRF-Token",
        )),
    }
}

fn ok<T: Serialize>(result: Result<T, CurateError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => curate_error(&error),
    }
}

/// Answer a request whose caller `editor_for` admits for `method`: run
/// `work` off the async threads and send its result as JSON.
async fn answer<T: Serialize + Send + 'static>(
    state: &ServerState,
    headers: &HeaderMap,
    method: Method,
    work: impl FnOnce(&Curator) -> Result<T, CurateError> + Send + 'static,
) -> Response {
    match editor_for(state, headers, &method) {
        Ok(_) => ok(blocking(state.curator(), work).await),
        Err(refused) => refused,
    }
}

/// The editor name and JSON body of a state-changing request; the caller is
/// checked before the body, so an unknown caller learns nothing about it.
fn editor_and_body<T>(
    state: &ServerState,
    headers: &HeaderMap,
    body: Result<Json<T>, JsonRejection>,
) -> Result<(&'static str, T), Response> {
    let editor = editor_for(state, headers, &Method::POST)?;
    match body {
        Ok(Json(body)) => Ok((editor, body)),
        Err(rejection) => Err(json_error(StatusCode::BAD_REQUEST, &rejection.body_text())),
    }
}

async fn list_digests(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, Method::GET, |c| c.digests()).await
}

async fn get_digest(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Path(period): Path<String>,
) -> Response {
    answer(&state, &headers, Method::GET, move |c| {
        c.digest(c.period_start(&period)?)
    })
    .await
}

async fn publish(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Path(period): Path<String>,
) -> Response {
    answer(&state, &headers, Method::POST, move |c| {
        c.publish(c.period_start(&period)?)
    })
    .await
}

async fn reopen(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Path(period): Path<String>,
) -> Response {
    answer(&state, &headers, Method::POST, move |c| {
        c.reopen(c.period_start(&period)?)
    })
    .await
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    50
}

async fn search_items(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    let limit = query.limit.clamp(1, 500);
    answer(&state, &headers, Method::GET, move |c| {
        c.search(&query.q, limit)
    })
    .await
}

async fn curate_item(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<CurationRequest>, JsonRejection>,
) -> Response {
    let (editor, request) = match editor_and_body(&state, &headers, body) {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    ok(blocking(state.curator(), move |c| c.curate(&id, &request, editor)).await)
}

#[derive(Debug, Deserialize)]
struct LinkRequest {
    url: String,
    #[serde(default)]
    source: Option<String>,
}

async fn add_link(
    State(state): State<ServerState>,
    headers: HeaderMap,
    body: Result<Json<LinkRequest>, JsonRejection>,
) -> Response {
    let request = match editor_and_body(&state, &headers, body) {
        Ok((_, request)) => request,
        Err(refused) => return refused,
    };
    let result = blocking(state.curator(), move |c| {
        c.add_link(&request.url, request.source.as_deref())
    })
    .await;
    match result {
        Ok(added) => (StatusCode::CREATED, Json(added)).into_response(),
        Err(error) => curate_error(&error),
    }
}

async fn list_sources(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    answer(&state, &headers, Method::GET, |c| c.sources()).await
}

/// Headers for every editor-side response: no framing, no referrer, no
/// sniffing, no caching, scripts and styles from this server only.
pub(super) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
