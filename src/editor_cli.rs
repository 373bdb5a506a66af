//! The CLI's editor commands (`curate`, `publish`): directly on the store
//! when no daemon holds it, else through the running daemon's JSON API
//! (sled admits one process), with a clear message when neither works.

use crate::config::Config;
use crate::curate::{CurationRequest, Curator};
use crate::model::{Curation, Digest};
use crate::server::auth;
use crate::store::{Store, StoreError};
use anyhow::{anyhow, bail, Context, Result};
use std::net::SocketAddr;
use std::sync::Arc;

/// How an editor command reaches the store.
enum Route {
    Direct(Curator),
    Daemon(ApiClient),
}

/// Apply `request` to item `id` and say what it is now.
pub fn curate(config: &Config, (id, request): (String, CurationRequest)) -> Result<()> {
    let curation: Curation = match route(config)? {
        Route::Direct(curator) => curator.curate(&id, &request, "cli")?,
        Route::Daemon(api) => api.post(&["api", "items", &id, "curation"], &request)?,
    };
    let mut line = format!("item {id}: {}", state_name(&curation));
    for (field, set) in [
        ("title", curation.title.is_some()),
        ("summary", curation.summary.is_some()),
        ("date", curation.date.is_some()),
    ] {
        if set {
            line.push_str(&format!(", {field} edited"));
        }
    }
    crate::cli::say!("{line}");
    Ok(())
}

/// Publish the digest of `period` (`current` or any day in it).
pub fn publish(config: &Config, period: &str) -> Result<()> {
    let digest: Digest = match route(config)? {
        Route::Direct(curator) => curator.publish(curator.period_start(period)?)?,
        Route::Daemon(api) => api.post(
            &["api", "digests", period, "publish"],
            &serde_json::json!({}),
        )?,
    };
    crate::cli::say!(
        "published the digest {}: {} items",
        digest.period,
        digest.items.len()
    );
    Ok(())
}

fn state_name(curation: &Curation) -> &'static str {
    match curation.state {
        crate::model::CurationState::Auto => "auto",
        crate::model::CurationState::Included => "included",
        crate::model::CurationState::Excluded => "excluded",
        crate::model::CurationState::Pinned => "pinned",
    }
}

fn route(config: &Config) -> Result<Route> {
    match Store::open(&config.store.path) {
        Ok(store) => Ok(Route::Direct(Curator::new(
            Arc::new(config.clone()),
            Arc::new(store),
        ))),
        Err(StoreError::Locked { path }) => {
            let secret = auth::load_secret(
                config.server.token_env.as_deref(),
                config.server.token_file.as_deref(),
            )?;
            let Some(token) = secret else {
                bail!(
                    "the store at {} is in use (is `yaowen run` running?), and no editor token is \
                     set to go through its API: set ${} (or server.token_file) to the daemon's token",
                    path.display(),
                    config
                        .server
                        .token_env
                        .as_deref()
                        .unwrap_or("YAOWEN_ADMIN_TOKEN")
                );
            };
            Ok(Route::Daemon(ApiClient::new(config.server.listen, token)?))
        }
        Err(error) => Err(error.into()),
    }
}

/// A small blocking client for the daemon's API.
struct ApiClient {
    base: url::Url,
    token: String,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl ApiClient {
    fn new(listen: SocketAddr, token: String) -> Result<ApiClient> {
        // A daemon listening on all addresses is reached on loopback.
        let host = match listen.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
            ip if ip.is_unspecified() => "[::1]".to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            std::net::IpAddr::V4(ip) => ip.to_string(),
        };
        let base = url::Url::parse(&format!("http://{host}:{}/", listen.port()))
            .context("the server address is not a URL")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .context("cannot build an HTTP client")?;
        Ok(ApiClient {
            base,
            token,
            runtime,
            client,
        })
    }

    /// POST `body` as JSON to the path made of `segments` (each escaped).
    fn post<T: serde::de::DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &impl serde::Serialize,
    ) -> Result<T> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow!("bad server URL {}", self.base))?
            .extend(segments);
        let body = serde_json::to_vec(body).context("cannot encode the request")?;
        let request = self
            .client
            .post(url.clone())
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.runtime.block_on(async {
            let response = request.send().await.with_context(|| {
                format!(
                    "the store is in use, but no yaowen daemon answers at {}",
                    self.base
                )
            })?;
            let status = response.status();
            let text = response
                .text()
                .await
                .with_context(|| format!("cannot read the answer of {url}"))?;
            if !status.is_success() {
                let message = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("error")?.as_str().map(str::to_string))
                    .unwrap_or(text);
                bail!("the daemon refused ({status}): {message}");
            }
            serde_json::from_str(&text)
                .with_context(|| format!("the daemon's answer from {url} is not what was expected"))
        })
    }
}
