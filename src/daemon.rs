//! The daemon: runs a fetch cycle on the configured cron schedule and
//! regenerates the outputs after a cycle that changed anything. Stops
//! between cycles on SIGINT/SIGTERM, with the store flushed.

use crate::cli::{http_client, open_store, runtime};
use crate::config::Config;
use crate::{generate, pipeline};
use anyhow::Result;
use chrono::Utc;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub fn run(config: Config) -> Result<ExitCode> {
    let store = open_store(&config)?;
    let client = http_client(&config)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        // ---- server hook (branch `server`): the HTTP server runs beside the
        // scheduler on the same store, and stops when the loop ends.
        let server =
            crate::server::start(std::sync::Arc::new(config.clone()), Arc::clone(&store)).await?;
        // ---- end server hook
        let mut first = true;
        loop {
            if !first {
                let now = Utc::now();
                let Some(next) = config.schedule.cron.next_after(now, config.digest.timezone)
                else {
                    tracing::warn!("the schedule has no future run; stopping");
                    break;
                };
                let wait = (next - now).to_std().unwrap_or_default();
                tracing::info!(next = %next, "waiting for the next cycle");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown_signal() => break,
                }
            }
            first = false;
            let sources: Vec<_> = config.sources.iter().filter(|s| s.enabled).collect();
            let noop = |_: usize, _: usize| {};
            let cycle = pipeline::run_cycle(&config, &store, &client, &sources, &noop);
            let report = tokio::select! {
                report = cycle => report?,
                _ = shutdown_signal() => break,
            };
            if report.changed() || !config.output.dir.join("index.html").exists() {
                generate::generate(&config, &store)?;
            }
            tracing::info!(
                new = report.new_items(),
                failed = report.failed().count(),
                "cycle done"
            );
        }
        // ---- server hook (branch `server`)
        server.stop().await?;
        // ---- end server hook
        store.flush()?;
        tracing::info!("stopped");
        // Give log lines a moment to reach stderr before exit.
        tokio::time::sleep(Duration::from_millis(10)).await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
