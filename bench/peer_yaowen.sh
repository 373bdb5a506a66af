# peer_yaowen.sh - yaowen as one more peer of ../shared/tools/peers/run_peers.sh.
# Sourced by the copy of run_peers.sh that bench/run.sh makes at run time
# (the shared harness is read-only); uses its $RUN, $N, $FARM, $PY, `passes`
# and `dedupe`. Needs $YAOWEN (the release binary) and $BENCH (this dir).
#
# Label ywT: [fetch] concurrency = per_host = T (like the peers' T threads).
# Every farm feed is on one host, 127.0.0.1, so min_host_interval_ms = 0
# (the shipped default of 1000 ms would pace 1000 feeds to 1000 s; a real
# feed list spreads over many hosts and pays no such wait).
run_daemon() {  # label threads passes
  local label=$1 threads=$2 np=$3 d=$RUN/$1-$N
  mkdir -p "$d"
  curl -sf "$FARM/feeds.opml" > "$d/feeds.opml"
  cat > "$d/config.toml" <<CONF
[store]
path = "store"
[output]
dir = "public"
[digest]
period = "weekly"
[feed]
items = 50
[fetch]
concurrency = $threads
per_host = $threads
min_host_interval_ms = 0
CONF
  "$YAOWEN" --config "$d/config.toml" opml import "$d/feeds.opml" --allow-private > "$d/import.log" 2>&1 \
    || { echo "  yaowen opml import failed: $(tail -1 "$d/import.log")"; return 0; }
  # One pass is everything a cycle does: fetch, parse, dedupe, summarise,
  # store and write every output.
  passes "$label" "$np" "$YAOWEN --config $d/config.toml items --json --limit 100000000 | wc -l" \
    "$YAOWEN" --config "$d/config.toml" run --once
  # Stored copies are kept (folded into their story); what a reader sees is
  # each story's head, so the heads are what is scored.
  "$YAOWEN" --config "$d/config.toml" items --json --limit 100000000 > "$d/items.jsonl" 2>> "$d/import.log"
  python3 "$BENCH/shown.py" --items "$d/items.jsonl" --truth "$RUN/truth-$N.json" \
    --heads "$d/shown_links.txt" --out "$RUN/merges.jsonl" --peer "$label" --n "$N"
  dedupe "$label" link --lines "$d/shown_links.txt"
}
