#!/usr/bin/env bash
# Check deploy/yaowen.service with systemd-analyze: `verify` (syntax, and
# that the executables exist) on a copy whose ExecStart points at a built
# binary, then the `security` exposure score.
# Usage: deploy/verify.sh [path/to/yaowen]   (default: target/release or target/debug)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v systemd-analyze >/dev/null || {
  echo "systemd-analyze not found: apt-get install -y systemd" >&2
  exit 1
}
binary=${1:-}
if [ -z "$binary" ]; then
  for candidate in target/release/yaowen target/debug/yaowen; do
    [ -x "$candidate" ] && { binary=$candidate; break; }
  done
fi
if [ -z "$binary" ]; then
  cargo build --quiet
  binary=target/debug/yaowen
fi
binary=$(realpath "$binary")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s#^ExecStart=/usr/local/bin/yaowen #ExecStart=$binary #" deploy/yaowen.service >"$work/yaowen.service"
grep -q "^ExecStart=$binary " "$work/yaowen.service"

echo "== systemd-analyze verify (ExecStart=$binary)"
# A clean unit prints nothing; verify exits 0 even on some warnings (an
# unknown Type= is "ignored"), so any output counts as a failure.
if ! out=$(systemd-analyze verify "$work/yaowen.service" 2>&1) || [ -n "$out" ]; then
  printf '%s\n' "$out" >&2
  echo "verify: FAILED" >&2
  exit 1
fi
echo "verify: OK"

echo "== systemd-analyze security --offline=true"
systemd-analyze security --offline=true --no-pager "$work/yaowen.service" | tail -n 25
