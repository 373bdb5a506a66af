//! The HTTP server inside `yaowen run` (sled admits one process, so while
//! the daemon runs this is the only way in): the published site with
//! ETags, `/healthz`, `/metrics`, and — only when an editor token is
//! configured — the editor UI at `/admin` and the JSON API at `/api`.

mod admin;
mod api;
pub mod auth;
pub mod files;
pub mod metrics;

use crate::config::{Config, SharedConfig};
use crate::curate::{CurateError, Curator};
use crate::store::Store;
use auth::{Sessions, Token, TokenError};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("editor token: {0}")]
    Token(#[from] TokenError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the HTTP server task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// What every request handler shares.
#[derive(Clone)]
pub struct ServerState {
    inner: Arc<Inner>,
}

struct Inner {
    /// Read per request, so a SIGHUP reload reaches the server (its listen
    /// address and token stay as they were at start).
    config: SharedConfig,
    store: Arc<Store>,
    curator: Arc<Curator>,
    /// `None`: no token configured, the server is read-only.
    editor: Option<Editor>,
}

/// The editor side: the token and the browsers logged in with it.
struct Editor {
    token: Token,
    sessions: Sessions,
}

impl ServerState {
    /// State for `config`, with the editor token read from the environment
    /// variable or file the config names. Refuses a token file others can
    /// read.
    pub fn new(config: Arc<Config>, store: Arc<Store>) -> Result<ServerState, ServerError> {
        ServerState::with_shared(SharedConfig::new(config), store)
    }

    /// Like `new`, following reloads of a shared configuration.
    pub fn with_shared(
        config: SharedConfig,
        store: Arc<Store>,
    ) -> Result<ServerState, ServerError> {
        let current = config.get();
        let token = auth::load_token(
            current.server.token_env.as_deref(),
            current.server.token_file.as_deref(),
        )?;
        Ok(ServerState::shared_with_token(config, store, token))
    }

    /// State with an explicit token (`None`: read-only).
    pub fn with_token(config: Arc<Config>, store: Arc<Store>, token: Option<Token>) -> ServerState {
        ServerState::shared_with_token(SharedConfig::new(config), store, token)
    }

    fn shared_with_token(
        config: SharedConfig,
        store: Arc<Store>,
        token: Option<Token>,
    ) -> ServerState {
        let curator = Arc::new(Curator::with_shared(config.clone(), Arc::clone(&store)));
        ServerState {
            inner: Arc::new(Inner {
                config,
                store,
                curator,
                editor: token.map(|token| Editor {
                    token,
                    sessions: Sessions::default(),
                }),
            }),
        }
    }

    /// Whether `/admin` and `/api` are on.
    pub fn editing_enabled(&self) -> bool {
        self.inner.editor.is_some()
    }

    fn config(&self) -> Arc<Config> {
        self.inner.config.get()
    }

    fn curator(&self) -> Arc<Curator> {
        Arc::clone(&self.inner.curator)
    }

    fn editor(&self) -> Option<&Editor> {
        self.inner.editor.as_ref()
    }
}

/// The whole application.
pub fn router(state: ServerState) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text));
    if state.editing_enabled() {
        let editor_side = admin::routes()
            .merge(api::routes())
            .layer(axum::middleware::map_response(api::security_headers));
        app = app.merge(editor_side);
    } else {
        app = app
            .route("/admin", axum::routing::any(read_only))
            .route("/admin/{*rest}", axum::routing::any(read_only))
            .route("/api", axum::routing::any(read_only))
            .route("/api/{*rest}", axum::routing::any(read_only));
    }
    app.fallback(public_file).with_state(state)
}

/// Serve on `listener` until `shutdown` completes, then finish the
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ServerState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// A server running in the background (for the daemon).
pub struct ServerHandle {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
}

impl ServerHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, finish requests in flight, and wait.
    pub async fn stop(self) -> Result<(), ServerError> {
        let _ = self.stop.send(());
        self.task.await?
    }
}

/// Bind `config.server.listen` and serve in a background task.
pub async fn start(config: Arc<Config>, store: Arc<Store>) -> Result<ServerHandle, ServerError> {
    start_shared(SharedConfig::new(config), store).await
}

/// Like `start`, following reloads of a shared configuration.
pub async fn start_shared(
    config: SharedConfig,
    store: Arc<Store>,
) -> Result<ServerHandle, ServerError> {
    let addr = config.get().server.listen;
    let state = ServerState::with_shared(config, store)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let addr = listener.local_addr()?;
    if state.editing_enabled() {
        tracing::info!(%addr, "serving the site, the editor UI at /admin and the API at /api");
    } else {
        tracing::info!(%addr, "serving the site (read-only: no editor token configured)");
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));
    Ok(ServerHandle { addr, stop, task })
}

async fn read_only() -> Response {
    api::json_error(StatusCode::NOT_FOUND, "not found")
}

async fn public_file(State(state): State<ServerState>, request: Request) -> Response {
    files::serve_file(
        &state.config().output.dir,
        request.method(),
        request.uri(),
        request.headers(),
    )
    .await
}

async fn healthz(State(state): State<ServerState>) -> Response {
    let inner = Arc::clone(&state.inner);
    let checked = tokio::task::spawn_blocking(move || metrics::check_store(&inner.store)).await;
    match checked {
        Ok(Ok(items)) => {
            axum::Json(serde_json::json!({"status": "ok", "items": items})).into_response()
        }
        Ok(Err(error)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "error", "error": error.to_string()})),
        )
            .into_response(),
        Err(error) => api::json_error(StatusCode::SERVICE_UNAVAILABLE, &error.to_string()),
    }
}

async fn metrics_text(State(state): State<ServerState>) -> Response {
    let inner = Arc::clone(&state.inner);
    let rendered =
        tokio::task::spawn_blocking(move || metrics::render(&inner.config.get(), &inner.store))
            .await;
    match rendered {
        Ok(Ok(text)) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Ok(Err(error)) => api::json_error(StatusCode::SERVICE_UNAVAILABLE, &error.to_string()),
        Err(error) => api::json_error(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    }
}

/// The HTTP status of a curation failure.
fn status_of(error: &CurateError) -> StatusCode {
    match error {
        CurateError::NoItem(_) => StatusCode::NOT_FOUND,
        CurateError::BadRequest(_) => StatusCode::BAD_REQUEST,
        CurateError::Published { .. } | CurateError::Conflict(_) => StatusCode::CONFLICT,
        CurateError::Links(_)
        | CurateError::Store(_)
        | CurateError::Generate(_)
        | CurateError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Run a blocking curation step off the async threads.
async fn blocking<T: Send + 'static>(
    curator: Arc<Curator>,
    work: impl FnOnce(&Curator) -> Result<T, CurateError> + Send + 'static,
) -> Result<T, CurateError> {
    match tokio::task::spawn_blocking(move || work(&curator)).await {
        Ok(result) => result,
        Err(error) => Err(CurateError::Internal(error.to_string())),
    }
}
