//! Where log lines go: to the systemd journal (with native fields) when
//! systemd connected our stderr to it, to stderr otherwise, never both, so
//! a line is never logged twice. Filtering follows `RUST_LOG` syntax, with
//! a default level chosen by the command.

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Install the global subscriber. `default_level` (an `EnvFilter`
/// directive such as `"info"` or `"yaowen=debug,warn"`) applies when
/// `RUST_LOG` is unset or invalid. A second call does nothing.
pub fn init(default_level: &str) {
    let stderr_is_journal = std::env::var("JOURNAL_STREAM")
        .ok()
        .is_some_and(|stream| stderr_matches(&stream));
    if stderr_is_journal {
        // A journal socket that cannot be opened falls back to stderr,
        // which systemd still routes to the journal.
        if let Ok(journal) = tracing_journald::layer() {
            let journal = journal.with_syslog_identifier("yaowen".to_string());
            let _ = tracing_subscriber::registry()
                .with(filter(default_level))
                .with(journal)
                .try_init();
            return;
        }
    }
    init_stderr(default_level, stderr_is_journal);
}

/// Plain lines on stderr; without timestamps and colours when the journal
/// records them (it stamps each line itself).
fn init_stderr(default_level: &str, to_journal: bool) {
    use std::io::IsTerminal;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(!to_journal && std::io::stderr().is_terminal());
    let registry = tracing_subscriber::registry().with(filter(default_level));
    let _ = if to_journal {
        registry.with(layer.without_time()).try_init()
    } else {
        registry.with(layer).try_init()
    };
}

fn filter(default_level: &str) -> EnvFilter {
    EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_level))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Whether our stderr is the stream `JOURNAL_STREAM` names. systemd sets
/// the variable for the service's own stdout/stderr; a child whose stderr
/// was redirected inherits the variable but not the stream.
fn stderr_matches(journal_stream: &str) -> bool {
    let Some((device, inode)) = parse_journal_stream(journal_stream) else {
        return false;
    };
    let Ok(stderr) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(stderr).metadata() {
        Ok(metadata) => metadata.dev() == device && metadata.ino() == inode,
        Err(_) => false,
    }
}

/// `"DEVICE:INODE"`, both decimal.
fn parse_journal_stream(text: &str) -> Option<(u64, u64)> {
    let (device, inode) = text.trim().split_once(':')?;
    Some((device.parse().ok()?, inode.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_is_device_and_inode() {
        assert_eq!(parse_journal_stream("8:1234"), Some((8, 1234)));
        assert_eq!(parse_journal_stream(" 0:7\n"), Some((0, 7)));
        assert_eq!(parse_journal_stream("8"), None);
        assert_eq!(parse_journal_stream("a:b"), None);
        assert_eq!(parse_journal_stream(""), None);
    }

    #[test]
    fn a_stream_that_is_not_our_stderr_does_not_match() {
        // A temp file is certainly not the test's stderr.
        let file = tempfile::tempfile().unwrap_or_else(|e| panic!("{e}"));
        let metadata = file.metadata().unwrap_or_else(|e| panic!("{e}"));
        let other = format!("{}:{}", metadata.dev(), metadata.ino());
        assert!(!stderr_matches(&other));
        assert!(!stderr_matches("not-a-stream"));
    }

    #[test]
    fn our_own_stderr_matches() {
        let stderr = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .unwrap_or_else(|e| panic!("{e}"));
        let metadata = std::fs::File::from(stderr)
            .metadata()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(stderr_matches(&format!(
            "{}:{}",
            metadata.dev(),
            metadata.ino()
        )));
    }
}
