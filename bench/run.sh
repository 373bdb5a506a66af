#!/usr/bin/env bash
# bench/run.sh - yaowen side by side with newsboat, a feedparser pipeline and
# rss2email on the same feed farm, in the same run; writes bench/RESULTS.md.
#
#   bench/run.sh                     # N=100 and N=1000 (20 items each), ~10 min
#   NS=100 bench/run.sh              # a quick look
#   NO_BUILD=1 bench/run.sh          # reuse target/release/yaowen
#
# The harness itself is ../shared/tools/peers (read-only): it is copied into
# bench/.work/tools at run time, its run_peers.sh is given `run_daemon` from
# bench/peer_yaowen.sh, and its own measure.py, dedupe_eval.py and mkreport.py
# do the measuring. The first run installs the peers (apt + a venv, as root).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
SHARED_TOOLS=${SHARED_TOOLS:-$ROOT/../shared/tools}
WORK=${BENCH_WORK:-$BENCH/.work}
TOOLS=$WORK/tools
export PORT=${PORT:-18765}
export NS=${NS:-"100 1000"}
export BUDGET_S=${BUDGET_S:-1200}
export PASS_CAP_S=${PASS_CAP_S:-150}
export PLAN_100=${PLAN_100:-"yw8:3 nb8:3 nbdef:3 fp8:3 fp16:3 r2e:3"}
export PLAN_1000=${PLAN_1000:-"yw8:3 nb8:3 nbdef:3 fp8:3"}
IDLE_FEEDS=${IDLE_FEEDS:-1000}
IDLE_SAMPLE_S=${IDLE_SAMPLE_S:-25}

[ -f "$SHARED_TOOLS/feedfarm.py" ] || { echo "no feed farm at $SHARED_TOOLS (set SHARED_TOOLS)" >&2; exit 2; }

if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "building yaowen (release)"
  (cd "$ROOT" && cargo build --release --quiet)
fi
export YAOWEN=$ROOT/target/release/yaowen BENCH
[ -x "$YAOWEN" ] || { echo "no $YAOWEN" >&2; exit 2; }

# A writable copy of the harness; the venv in it survives between runs.
mkdir -p "$TOOLS/peers"
cp "$SHARED_TOOLS/feedfarm.py" "$TOOLS/"
cp "$SHARED_TOOLS"/peers/*.sh "$SHARED_TOOLS"/peers/*.py "$SHARED_TOOLS/peers/README.md" "$TOOLS/peers/"
chmod -R u+w "$TOOLS"
if ! command -v newsboat >/dev/null || ! command -v r2e >/dev/null || [ ! -x "$TOOLS/peers/.venv/bin/python" ]; then
  echo "installing the peers (apt + venv; once)"
  "$TOOLS/peers/setup.sh"
fi

# run_peers.sh + yaowen: source run_daemon and route the yw* labels to it.
python3 - "$TOOLS/peers/run_peers.sh" "$TOOLS/peers/run_peers_yaowen.sh" <<'PY'
import sys
src = open(sys.argv[1]).read()
hooks = [
    ('echo "run dir $RUN', 'source "$BENCH/peer_yaowen.sh"\n'),
    ('      r2e)   run_r2e', '      yw*)   run_daemon "$label" "${label#yw}" "$np" ;;\n'),
]
for anchor, insert in hooks:
    assert src.count(anchor) == 1, "run_peers.sh changed: no unique %r" % anchor
    src = src.replace(anchor, insert + anchor)
open(sys.argv[2], "w").write(src)
PY
chmod +x "$TOOLS/peers/run_peers_yaowen.sh"

"$TOOLS/peers/run_peers_yaowen.sh" | tee "$WORK/last-run.log"
RUN_DIR=$(ls -d "$TOOLS"/peers/runs/*/ | sort | tail -1)
RUN_DIR=${RUN_DIR%/}

echo "idle daemon: $IDLE_FEEDS sources, sampling ${IDLE_SAMPLE_S}s after its first cycle"
python3 "$BENCH/idle.py" --yaowen "$YAOWEN" --farm "$TOOLS/feedfarm.py" --port "$PORT" \
  --feeds "$IDLE_FEEDS" --sample-s "$IDLE_SAMPLE_S" --dir "$RUN_DIR/idle" --out "$RUN_DIR/idle.json"

python3 "$BENCH/report.py" --run "$RUN_DIR" --mkreport "$TOOLS/peers/mkreport.py" \
  --python "$TOOLS/peers/.venv/bin/python" --root "$ROOT" > "$BENCH/RESULTS.md"
echo "wrote $BENCH/RESULTS.md (run dir $RUN_DIR)"
