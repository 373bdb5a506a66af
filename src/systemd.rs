//! Talking to systemd without a crate: the `sd_notify` protocol (one
//! datagram of `KEY=value` lines to `$NOTIFY_SOCKET`) for `Type=notify`
//! readiness, status text and the watchdog. Every call is a no-op when the
//! process was not started by systemd, so the daemon calls them
//! unconditionally.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// A notification that could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("NOTIFY_SOCKET is not a usable socket address: {0:?}")]
    BadAddress(String),
    #[error("cannot notify systemd at {socket:?}: {error}")]
    Send { socket: String, error: io::Error },
}

/// Where notifications go: the socket named by `NOTIFY_SOCKET`, or nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifier {
    socket: Option<String>,
}

impl Notifier {
    /// The notifier for this process, from `$NOTIFY_SOCKET`.
    pub fn from_env() -> Notifier {
        Notifier::new(std::env::var("NOTIFY_SOCKET").ok())
    }

    /// A notifier for `socket`: a path, or an abstract name starting with
    /// `@`; `None` or empty sends nothing.
    pub fn new(socket: Option<String>) -> Notifier {
        Notifier {
            socket: socket.filter(|s| !s.is_empty()),
        }
    }

    /// Whether a supervisor listens (we run under `Type=notify`).
    pub fn is_enabled(&self) -> bool {
        self.socket.is_some()
    }

    /// Send one message (newline-separated `KEY=value` assignments).
    pub fn send(&self, message: &str) -> Result<(), NotifyError> {
        let Some(socket) = &self.socket else {
            return Ok(());
        };
        let fail = |error| NotifyError::Send {
            socket: socket.clone(),
            error,
        };
        let sender = UnixDatagram::unbound().map_err(fail)?;
        let sent = match socket.strip_prefix('@') {
            Some(name) => send_abstract(&sender, name, message.as_bytes()),
            None if socket.starts_with('/') => sender.send_to(message.as_bytes(), socket),
            None => return Err(NotifyError::BadAddress(socket.clone())),
        };
        sent.map(|_| ()).map_err(fail)
    }
}

/// Abstract socket names (`@name`) exist only on Linux.
#[cfg(target_os = "linux")]
fn send_abstract(sender: &UnixDatagram, name: &str, message: &[u8]) -> io::Result<usize> {
    use std::os::linux::net::SocketAddrExt;
    let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    sender.send_to_addr(message, &address)
}

#[cfg(not(target_os = "linux"))]
fn send_abstract(_sender: &UnixDatagram, _name: &str, _message: &[u8]) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract sockets exist only on Linux",
    ))
}

/// `READY=1`: start-up is done (send after the store is open).
pub fn notify_ready() -> Result<(), NotifyError> {
    Notifier::from_env().send("READY=1")
}

/// `STOPPING=1`: shutdown has begun.
pub fn notify_stopping() -> Result<(), NotifyError> {
    Notifier::from_env().send("STOPPING=1")
}

/// `RELOADING=1`: a configuration reload has begun; send
/// [`notify_ready`] when it is done.
pub fn notify_reloading() -> Result<(), NotifyError> {
    Notifier::from_env().send("RELOADING=1")
}

/// `STATUS=…`: one line shown by `systemctl status`.
pub fn notify_status(text: &str) -> Result<(), NotifyError> {
    Notifier::from_env().send(&status_message(text))
}

/// `WATCHDOG=1`: we are alive. Send only while healthy, at about half of
/// [`watchdog_interval`].
pub fn notify_watchdog() -> Result<(), NotifyError> {
    Notifier::from_env().send("WATCHDOG=1")
}

/// The watchdog timeout systemd enforces on this process (`WatchdogSec=`),
/// or `None` when there is no watchdog or it is meant for another process.
pub fn watchdog_interval() -> Option<Duration> {
    let usec = std::env::var("WATCHDOG_USEC").ok();
    let pid = std::env::var("WATCHDOG_PID").ok();
    watchdog_interval_from(usec.as_deref(), pid.as_deref(), std::process::id())
}

/// [`watchdog_interval`] from the variables' values and our own pid.
pub fn watchdog_interval_from(
    usec: Option<&str>,
    pid: Option<&str>,
    own_pid: u32,
) -> Option<Duration> {
    if let Some(pid) = pid {
        if pid.trim().parse::<u32>().ok() != Some(own_pid) {
            return None;
        }
    }
    let usec: u64 = usec?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// A newline would start a new assignment: status text is one line.
fn status_message(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("STATUS={line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(socket: &UnixDatagram) -> String {
        let mut buffer = [0u8; 4096];
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap_or_else(|e| panic!("timeout: {e}"));
        let n = socket
            .recv(&mut buffer)
            .unwrap_or_else(|e| panic!("recv: {e}"));
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    }

    #[test]
    fn messages_reach_a_path_socket() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap_or_else(|e| panic!("bind: {e}"));
        let notifier = Notifier::new(Some(path.display().to_string()));
        assert!(notifier.is_enabled());
        for message in ["READY=1", "WATCHDOG=1", "STOPPING=1"] {
            notifier
                .send(message)
                .unwrap_or_else(|e| panic!("send: {e}"));
            assert_eq!(receive(&listener), message);
        }
        notifier
            .send(&status_message("fetched 12 sources\n3 failed"))
            .unwrap_or_else(|e| panic!("send: {e}"));
        assert_eq!(receive(&listener), "STATUS=fetched 12 sources 3 failed");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn messages_reach_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("yaowen-test-notify-{}", std::process::id());
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        let listener = UnixDatagram::bind_addr(&address).unwrap_or_else(|e| panic!("bind: {e}"));
        let notifier = Notifier::new(Some(format!("@{name}")));
        notifier
            .send("READY=1")
            .unwrap_or_else(|e| panic!("send: {e}"));
        assert_eq!(receive(&listener), "READY=1");
    }

    #[test]
    fn without_a_socket_nothing_happens() {
        for socket in [None, Some(String::new())] {
            let notifier = Notifier::new(socket);
            assert!(!notifier.is_enabled());
            assert!(notifier.send("READY=1").is_ok());
        }
    }

    #[test]
    fn a_missing_socket_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let gone = dir.path().join("nobody-listens");
        let notifier = Notifier::new(Some(gone.display().to_string()));
        assert!(matches!(
            notifier.send("READY=1"),
            Err(NotifyError::Send { .. })
        ));
        let relative = Notifier::new(Some("relative/socket".into()));
        assert!(matches!(
            relative.send("READY=1"),
            Err(NotifyError::BadAddress(_))
        ));
    }

    #[test]
    fn watchdog_honours_its_pid() {
        let five_s = Some(Duration::from_secs(5));
        assert_eq!(watchdog_interval_from(Some("5000000"), None, 42), five_s);
        assert_eq!(
            watchdog_interval_from(Some("5000000"), Some("42"), 42),
            five_s
        );
        assert_eq!(watchdog_interval_from(Some("5000000"), Some("7"), 42), None);
        assert_eq!(watchdog_interval_from(None, Some("42"), 42), None);
        assert_eq!(watchdog_interval_from(Some("0"), None, 42), None);
        assert_eq!(watchdog_interval_from(Some("soon"), None, 42), None);
    }
}
