//! deploy/yaowen.service: the readiness protocol and the hardening an
//! operator expects are there, and, where systemd-analyze is installed
//! (CI installs the `systemd` package), systemd itself accepts the unit.

use std::path::Path;
use std::process::Command;

fn unit_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/yaowen.service");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `Key=value` lines of the unit, comments and blank lines left out.
fn directives(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with(['#', ';', '[']))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect()
}

#[test]
fn unit_is_notify_and_hardened() {
    let found = directives(&unit_text());
    let value_of = |key: &str| {
        found
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    let expected = [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        (
            "ExecStart",
            "/usr/local/bin/yaowen --config /etc/yaowen/config.toml run",
        ),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("Restart", "on-failure"),
        ("TimeoutStopSec", "15"),
        ("StateDirectory", "yaowen"),
        ("EnvironmentFile", "-/etc/yaowen/env"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("NoNewPrivileges", "yes"),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
        ("SystemCallFilter", "@system-service"),
        ("SystemCallArchitectures", "native"),
        ("CapabilityBoundingSet", ""),
        ("AmbientCapabilities", ""),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("ProtectClock", "yes"),
        ("ProtectHostname", "yes"),
        ("RestrictNamespaces", "yes"),
        ("RestrictRealtime", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("UMask", "0027"),
    ];
    let missing: Vec<String> = expected
        .iter()
        .filter(|(key, value)| !value_of(key).contains(value))
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    assert!(
        missing.is_empty(),
        "deploy/yaowen.service lacks: {missing:?}"
    );
    let watchdog = value_of("WatchdogSec");
    assert!(
        watchdog.len() == 1 && !watchdog[0].is_empty() && watchdog[0] != "0",
        "WatchdogSec must be set: {watchdog:?}"
    );
    let user = value_of("User");
    let dynamic = value_of("DynamicUser");
    assert!(
        user.iter().any(|u| !u.is_empty() && *u != "root") || dynamic.contains(&"yes"),
        "the service must not run as root"
    );
}

#[test]
fn systemd_analyze_verifies_the_unit() {
    let available = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !available {
        eprintln!("note: systemd-analyze not on PATH; skipping `systemd-analyze verify` (apt-get install systemd)");
        return;
    }
    // verify checks that ExecStart exists: point it at the binary under test.
    let binary = env!("CARGO_BIN_EXE_yaowen");
    let text = unit_text().replace(
        "ExecStart=/usr/local/bin/yaowen ",
        &format!("ExecStart={binary} "),
    );
    assert!(text.contains(binary), "ExecStart was not rewritten");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let unit = dir.path().join("yaowen.service");
    std::fs::write(&unit, text).unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap_or_else(|e| panic!("systemd-analyze: {e}"));
    // Some mistakes (an unknown Type=) are warnings with exit status 0:
    // a clean unit prints nothing at all.
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && printed.trim().is_empty(),
        "systemd-analyze verify failed ({}):\n{printed}",
        output.status
    );
}

#[test]
fn example_config_validates_and_lives_in_the_state_directory() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/config.toml");
    let config = yaowen::config::Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let state = Path::new("/var/lib/yaowen");
    // The service can write only its StateDirectory.
    assert!(
        config.store.path.starts_with(state),
        "{:?}",
        config.store.path
    );
    assert!(
        config.output.dir.starts_with(state),
        "{:?}",
        config.output.dir
    );
    for source in &config.sources {
        if let yaowen::config::SourceKind::Wechat { links_file } = &source.kind {
            assert!(links_file.starts_with(state), "{links_file:?}");
        }
    }
}
