//! The daemon: fetches each source on its cron schedule (never sooner than
//! the source asked), regenerates outputs after a cycle that changed
//! anything, reloads `config.toml` on SIGHUP (keeping the old one when the
//! new one is invalid) and stops on SIGINT/SIGTERM with the store flushed.

use crate::cli::{http_client, open_store, runtime};
use crate::config::{Config, SharedConfig, SourceConfig};
use crate::fetch::HttpClient;
use crate::model::SourceState;
use crate::store::Store;
use crate::{generate, pipeline, systemd};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// How long in-flight work may take to wind down after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Run until a stop signal.
pub fn run(config: Config) -> Result<ExitCode> {
    let store = open_store(&config)?;
    let client = http_client(&config)?;
    let runtime = runtime()?;
    // ---- server hook (branch `server`): the HTTP server (site, /healthz,
    // /metrics, editor UI and API) runs beside the scheduler on the same
    // store and stops after it. It keeps the config it started with.
    // A port in use is logged and the daemon goes on fetching (the site
    // may be served by another web server); a bad token file stops it.
    let shared = SharedConfig::new(Arc::new(config.clone()));
    let result = runtime.block_on(async {
        let server = match crate::server::start_shared(shared.clone(), Arc::clone(&store)).await {
            Ok(server) => Some(server),
            Err(error @ crate::server::ServerError::Bind { .. }) => {
                tracing::error!(error = %error, "running without the HTTP server");
                None
            }
            Err(error) => return Err(error.into()),
        };
        let result = Daemon::new(config, shared, store, client).run().await;
        if let Some(Err(error)) = match server {
            Some(server) => Some(server.stop().await),
            None => None,
        } {
            tracing::warn!(error = %error, "the HTTP server did not stop cleanly");
        }
        result
    });
    // ---- end server hook
    // Parsing runs on blocking threads that cannot be cancelled; do not wait
    // for them past the grace period.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    result
}

struct Daemon {
    config_path: PathBuf,
    config: Arc<Config>,
    /// The same configuration as the HTTP server sees it.
    shared: SharedConfig,
    store: Arc<Store>,
    client: HttpClient,
    /// When each source runs next.
    next: HashMap<String, DateTime<Utc>>,
}

enum Wake {
    Due,
    Reload,
    Stop,
}

impl Daemon {
    fn new(config: Config, shared: SharedConfig, store: Arc<Store>, client: HttpClient) -> Self {
        Daemon {
            config_path: config.file.clone(),
            config: Arc::new(config),
            shared,
            store,
            client,
            next: HashMap::new(),
        }
    }

    async fn run(mut self) -> Result<ExitCode> {
        let mut signals = Signals::new()?;
        tracing::info!(
            sources = self.config.sources.len(),
            store = %self.store.path().display(),
            "yaowen started"
        );
        self.plan_all(Utc::now())?;
        if !self.config.output.dir.join("index.html").exists() {
            self.generate();
        }
        notify(systemd::notify_ready());
        let watchdog = systemd::watchdog_interval().map(|interval| {
            let store = Arc::clone(&self.store);
            tokio::spawn(watchdog(store, interval))
        });
        loop {
            let now = Utc::now();
            let due: Vec<String> = self
                .next
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(name, _)| name.clone())
                .collect();
            if !due.is_empty() {
                match self.cycle(&due, &mut signals).await? {
                    Wake::Stop => break,
                    Wake::Reload => self.reload()?,
                    Wake::Due => {}
                }
                continue;
            }
            let wake_at = self.next.values().min().copied();
            let wait = wake_at
                .map(|at| (at - now).to_std().unwrap_or_default())
                // Nothing scheduled: wake now and then to notice nothing.
                .unwrap_or(Duration::from_secs(3600));
            tracing::debug!(wait_secs = wait.as_secs(), "idle");
            match signals.wait_or(tokio::time::sleep(wait)).await {
                Wake::Stop => break,
                Wake::Reload => self.reload()?,
                Wake::Due => {}
            }
        }
        notify(systemd::notify_stopping());
        if let Some(watchdog) = watchdog {
            watchdog.abort();
        }
        self.store.flush()?;
        tracing::info!("stopped; store flushed");
        Ok(ExitCode::SUCCESS)
    }

    /// Fetch the due sources; a stop signal abandons the cycle (every source
    /// already committed is flushed), a reload waits for its end.
    async fn cycle(&mut self, due: &[String], signals: &mut Signals) -> Result<Wake> {
        let config = Arc::clone(&self.config);
        let sources: Vec<&SourceConfig> = due
            .iter()
            .filter_map(|name| config.source(name))
            .filter(|source| source.enabled)
            .collect();
        tracing::info!(sources = sources.len(), "cycle started");
        let store = Arc::clone(&self.store);
        let client = self.client.clone();
        let noop = |_: usize, _: usize| {};
        let cycle = pipeline::run_cycle(&config, &store, &client, &sources, &noop);
        tokio::pin!(cycle);
        let mut reload_requested = false;
        let report = loop {
            tokio::select! {
                report = &mut cycle => break report?,
                wake = signals.next() => match wake {
                    Wake::Stop => {
                        tracing::info!("stop requested: abandoning the cycle");
                        return Ok(Wake::Stop);
                    }
                    Wake::Reload => reload_requested = true,
                    Wake::Due => {}
                },
            }
        };
        tracing::info!(
            new = report.new_items(),
            updated = report.updated_items(),
            failed = report.failed().count(),
            "cycle done"
        );
        if report.changed() {
            self.generate();
        }
        // Idle until the next tick with only what idling needs in memory.
        let store = Arc::clone(&self.store);
        match tokio::task::spawn_blocking(move || store.release_memory()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(error = %error, "cannot reopen the store"),
            Err(error) => tracing::error!(error = %error, "store reopen crashed"),
        }
        let now = Utc::now();
        for name in due {
            self.plan(name, now)?;
        }
        Ok(if reload_requested {
            Wake::Reload
        } else {
            Wake::Due
        })
    }

    fn generate(&self) {
        match generate::generate(&self.config, &self.store) {
            Ok(report) => tracing::info!(files = report.files.len(), "outputs written"),
            Err(error) => tracing::error!(error = %error, "cannot write outputs"),
        }
    }

    /// Re-read the config file; an invalid one is reported and the old one
    /// kept. Settings that need a restart (store path) are reported.
    fn reload(&mut self) -> Result<()> {
        notify(systemd::notify_reloading());
        let result = self.reload_config();
        notify(systemd::notify_ready());
        result
    }

    fn reload_config(&mut self) -> Result<()> {
        match Config::load(&self.config_path) {
            Ok(new_config) => {
                if new_config.store.path != self.config.store.path {
                    tracing::warn!("store.path changed: restart yaowen to use the new store");
                }
                match http_client(&new_config) {
                    Ok(client) => self.client = client,
                    Err(error) => tracing::warn!(error = %error, "keeping the old HTTP settings"),
                }
                if new_config.server.listen != self.config.server.listen {
                    tracing::warn!("server.listen changed: restart yaowen to listen there");
                }
                self.config = Arc::new(new_config);
                self.shared.set(Arc::clone(&self.config));
                self.next.clear();
                self.plan_all(Utc::now())?;
                tracing::info!(
                    sources = self.config.sources.len(),
                    "configuration reloaded"
                );
            }
            Err(errors) => {
                tracing::error!(errors = %errors, "new configuration is invalid; keeping the old one");
            }
        }
        Ok(())
    }

    fn plan_all(&mut self, now: DateTime<Utc>) -> Result<()> {
        let names: Vec<String> = self
            .config
            .sources
            .iter()
            .filter(|s| s.enabled)
            .map(|s| s.name.clone())
            .collect();
        for name in names {
            let state = self.store.source_state(&name)?;
            let at = match self.config.source(&name) {
                Some(source) => first_run(&self.config, source, &state, now),
                None => None,
            };
            self.set_next(&name, at);
        }
        Ok(())
    }

    fn plan(&mut self, name: &str, now: DateTime<Utc>) -> Result<()> {
        let state = self.store.source_state(name)?;
        let at = self
            .config
            .source(name)
            .and_then(|source| next_run(&self.config, source, &state, now));
        self.set_next(name, at);
        Ok(())
    }

    fn set_next(&mut self, name: &str, at: Option<DateTime<Utc>>) {
        match at {
            Some(at) => {
                self.next.insert(name.to_string(), at);
            }
            None => {
                self.next.remove(name);
            }
        }
    }
}

/// Log a failed systemd notification; the daemon runs on regardless.
fn notify(result: Result<(), systemd::NotifyError>) {
    if let Err(error) = result {
        tracing::warn!(error = %error, "cannot notify systemd");
    }
}

/// Ping the systemd watchdog at half its interval, but only while the store
/// answers: a wedged store should get the service restarted.
async fn watchdog(store: Arc<Store>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval / 2);
    loop {
        ticker.tick().await;
        let check = Arc::clone(&store);
        let healthy = tokio::task::spawn_blocking(move || check.check_health())
            .await
            .map(|result| result.is_ok())
            .unwrap_or(false);
        if healthy {
            notify(systemd::notify_watchdog());
        } else {
            tracing::error!("store unhealthy: withholding the watchdog ping");
        }
    }
}

/// When a source first runs after start-up: now, if it never ran or a
/// scheduled run was missed while yaowen was down; else its next tick.
pub fn first_run(
    config: &Config,
    source: &SourceConfig,
    state: &SourceState,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let missed = match state.last_attempt {
        None => true,
        Some(last) => config
            .next_run(source, last)
            .is_some_and(|tick| tick <= now),
    };
    let not_before = state.next_due.unwrap_or(now);
    if missed && not_before <= now {
        Some(now)
    } else {
        next_run(config, source, state, now)
    }
}

/// The next cron tick after `now` (plus the source's jitter) that is not
/// sooner than the source asked to be fetched again.
pub fn next_run(
    config: &Config,
    source: &SourceConfig,
    state: &SourceState,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let tick = match state.next_due {
        // A tick exactly at next_due counts, hence the second's slack.
        Some(due) if due > now => config.next_run(source, due - chrono::Duration::seconds(1))?,
        _ => config.next_run(source, now)?,
    };
    Some(tick + jitter(&source.name, config.schedule.jitter_secs))
}

/// A stable per-source offset in `[0, jitter_secs]`, so hundreds of sources
/// on one schedule do not all fire in the same second.
pub fn jitter(name: &str, jitter_secs: u64) -> chrono::Duration {
    if jitter_secs == 0 {
        return chrono::Duration::zero();
    }
    let offset = xxhash_rust::xxh3::xxh3_64(name.as_bytes()) % (jitter_secs + 1);
    chrono::Duration::seconds(i64::try_from(offset).unwrap_or(0))
}

/// SIGINT/SIGTERM (stop) and SIGHUP (reload).
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                terminate: signal(SignalKind::terminate())?,
                hangup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn next(&mut self) -> Wake {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => Wake::Stop,
                _ = tokio::signal::ctrl_c() => Wake::Stop,
                _ = self.hangup.recv() => Wake::Reload,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Wake::Stop
        }
    }

    async fn wait_or(&mut self, sleep: impl std::future::Future<Output = ()>) -> Wake {
        tokio::select! {
            _ = sleep => Wake::Due,
            wake = self.next() => wake,
        }
    }
}
