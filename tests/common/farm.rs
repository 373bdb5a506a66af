//! The feed farm (`../shared/tools/feedfarm.py`) as a test fixture: started
//! on a free loopback port, polled until healthy, killed when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The farm, killed when the test ends, also on panic.
pub struct Farm {
    child: Child,
    pub port: u16,
}

impl Drop for Farm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn farm_script() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/feedfarm.py");
    assert!(path.is_file(), "feedfarm.py missing at {}", path.display());
    path
}

/// A port that was free a moment ago (the OS picks it; the farm binds it next).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

pub fn start_farm(feeds: usize, truth: &Path) -> Farm {
    let port = free_port();
    let child = Command::new("python3")
        .arg(farm_script())
        .args([
            "--feeds",
            &feeds.to_string(),
            "--items",
            "20",
            "--seed",
            "1",
        ])
        .args(["--port", &port.to_string(), "--max-lifetime", "120"])
        .arg("--truth")
        .arg(truth)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 must be installed to run the feed farm");
    let mut farm = Farm { child, port };
    wait_until_healthy(&mut farm);
    farm
}

/// Polls /healthz; generation of 1,000 feeds takes a few seconds.
fn wait_until_healthy(farm: &mut Farm) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(Some(status)) = farm.child.try_wait() {
            panic!("feedfarm exited early: {status}");
        }
        if let Ok(body) = http_get(farm.port, "/healthz") {
            if body.starts_with(b"ok") {
                return;
            }
        }
        assert!(Instant::now() < deadline, "feedfarm not healthy in time");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A plain HTTP/1.1 GET of 127.0.0.1:`port``path`; the body of a 200.
pub fn http_get(port: u16, path: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&response[..split]);
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(std::io::Error::other(format!(
            "{path}: {}",
            head.lines().next().unwrap_or("")
        )));
    }
    Ok(response[split + 4..].to_vec())
}
