#!/usr/bin/env bash
# `serve` under load while `follow` commits (issue 20): wrk from a second process on loopback
# against a mix of API calls, with a follower appending to the same store every 2 s.
#
#   [MAILTRACE=BIN] benches/load.sh [--size-mb 50] [--duration 60s] [--connections 50] [--work DIR]
#
# 1. genlog writes SIZE+5 MB (examples/genlog.rs, seed 1); the first SIZE MB (cut at a line)
#    are indexed into a store, the rest is what a writer loop appends, 400 lines every 0.5 s.
# 2. `follow --store S --interval 2` follows the growing file (it commits every 2 s), and
#    `serve` reads the same store, its "now" the end of the indexed log (so `last=1h` means
#    something).
# 3. `wrk -t2 -cCONN -dDUR --latency -s benches/load.lua`: rotates through searches by
#    recipient, domain, status and last=1h, a trace by queue id, and the stats.
# Prints a markdown table: requests/s, p50/p99, non-2xx and socket errors (both must be 0),
# and the peak RSS (VmHWM) of serve and follow at the end. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=50; DURATION=60s; CONNECTIONS=50; WORK=/tmp/mailtrace-load
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) SIZE=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    -h|--help) sed -n 2,16p "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v wrk > /dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 2; }
# $MAILTRACE: the binary under test (else built here); the generator is built beside it
if [ -z "${MAILTRACE:-}" ]; then
  cargo build --release --quiet --bin mailtrace --example genlog
fi
BIN=${MAILTRACE:-$PWD/${CARGO_TARGET_DIR:-target}/release/mailtrace}
GENLOG=$(dirname "$BIN")/examples/genlog

mkdir -p "$WORK"
full=$WORK/gen-$SIZE.log
[ -s "$full" ] || "$GENLOG" --size-mb $((SIZE + 5)) --out "$full" --seed 1 > /dev/null
# the indexed part ends at a line; the rest is appended while wrk runs
cut_at=$(head -c $((SIZE * 1024 * 1024)) "$full" | wc -l)
rm -rf "$WORK/store" "$WORK/live.log" "$WORK/rest.log"
head -n "$cut_at" "$full" > "$WORK/live.log"
tail -n +$((cut_at + 1)) "$full" > "$WORK/rest.log"
echo "load: indexing $(du -m "$WORK/live.log" | cut -f1) MB" >&2
"$BIN" index --store "$WORK/store" --year 2026 --timezone UTC "$WORK/live.log" > /dev/null 2>&1

# "now": the last indexed line's time
last=$(tail -n 1 "$WORK/live.log" | cut -c1-15)
now=$(date -u -d "$last 2026" +%Y-%m-%dT%H:%M:%SZ)

pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; }
trap stop EXIT
"$BIN" follow --store "$WORK/store" --interval 2 --year 2026 --timezone UTC "$WORK/live.log" \
  2> "$WORK/follow.log" &
follow=$!; pids+=("$follow")
(
  exec < "$WORK/rest.log"
  while true; do
    for _ in $(seq 400); do IFS= read -r line || exit 0; printf '%s\n' "$line"; done >> "$WORK/live.log"
    sleep 0.5
  done
) &
pids+=("$!")
"$BIN" serve --store "$WORK/store" --listen 127.0.0.1:0 --timezone UTC --now "$now" 2> "$WORK/serve.log" &
serve=$!; pids+=("$serve")
. scripts/serve-url.sh
base=$(serve_url "$WORK/serve.log") || exit 1

# the URLs: recipients, a domain, statuses and a queue id that are in the log
rcpt=$(curl -s "$base/api/search?status=delivered&limit=1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["rows"][0]; print(r["to"], r["queue_id"])')
set -- $rcpt
urls=(
  "/api/search?to=$1"
  "/api/search?to=@${1#*@}&limit=100"
  "/api/search?status=bounced&limit=100"
  "/api/search?status=deferred,rejected&limit=50"
  "/api/search?last=1h&limit=200"
  "/api/trace/$2"
  "/api/stats?last=1h"
)
printf '%s\n' "${urls[@]}" > "$WORK/urls.txt"
echo "load: wrk -t2 -c$CONNECTIONS -d$DURATION --latency against $base (${#urls[@]} URLs)" >&2
commits_before=$(grep -c . "$WORK/follow.log" || true)
URLS=$WORK/urls.txt wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency \
  -s benches/load.lua "$base" | tee "$WORK/wrk.txt" >&2

hwm() { awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$1/status"; }
serve_rss=$(hwm "$serve"); follow_rss=$(hwm "$follow")
rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
total=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt"); non2xx=${non2xx:-0}
sockerr=$(awk -F'[ ,]+' '/Socket errors/ {print $4 + $6 + $8 + $10}' "$WORK/wrk.txt"); sockerr=${sockerr:-0}
grown=$(($(stat -c %s "$WORK/live.log") / 1024 / 1024))
echo
echo "| wrk | requests | req/s | p50 | p99 | non-2xx | socket errors | serve VmHWM | follow VmHWM |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
echo "| -t2 -c$CONNECTIONS -d$DURATION, ${#urls[@]} URLs, follow --interval 2 on a growing log ($SIZE → $grown MB) | $total | $rps | $p50 | $p99 | $non2xx | $sockerr | $serve_rss | $follow_rss |"
[ "$non2xx" = 0 ] && [ "$sockerr" = 0 ]
