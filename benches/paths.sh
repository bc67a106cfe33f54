#!/bin/bash
# Delivery paths across servers in one command: a made-up site of five servers
# (examples/genpath.rs) read with --log and from a store fed one server per run, per leg and
# end to end (--end-to-end), beside grep over the same files. Every row runs in the same
# invocation, round-robin, so ratios compare like with like on a noisy machine; with --old,
# every mailtrace row also runs with that binary (one without --end-to-end skips those rows).
#
#   benches/paths.sh [--messages N] [--runs N] [--work DIR] [--old BIN]
#
# --messages   messages the generator writes (default 100000: ~470 MB over five files)
# --runs       runs per row (default 3); medians are printed, with every run
# --work       where the site and its store are kept between invocations
#              (default /tmp/mailtrace-paths)
# --old        an older mailtrace binary, timed beside the new one on the same rows
#
# Peak memory is GNU time's maximum resident set size (Debian: apt-get install time).
# Timings are wall-clock seconds of whole processes.
set -euo pipefail
cd "$(dirname "$0")/.."

MESSAGES=100000; RUNS=3; WORK=/tmp/mailtrace-paths; OLD=""
while [ $# -gt 0 ]; do
  case "$1" in
    --messages) MESSAGES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --old) OLD=$(realpath "$2"); shift 2 ;;
    --bench) shift ;;
    -h|--help) sed -n 2,16p "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }

cargo build --release --quiet --bins --examples
NEW=$PWD/target/release/mailtrace
SITE=$WORK/site-$MESSAGES
if [ ! -s "$SITE/truth.jsonl" ]; then
  mkdir -p "$SITE"
  target/release/examples/genpath --messages "$MESSAGES" --out "$SITE" --seed 1 >&2
fi
LOGS=("$SITE"/*.log)
BYTES=$(cat "${LOGS[@]}" | wc -c)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
BINS=("new:$NEW"); [ -n "$OLD" ] && BINS=("old:$OLD" "new:$NEW")
READ=(--year 2026 --timezone UTC)
# a mailbox of the site, and mail from the edge's client that bounced at the mailbox server
ADDR=anna@example.com
ACROSS=(--client-ip 192.0.2.120 --status bounced)
LOGARGS=(); for f in "${LOGS[@]}"; do LOGARGS+=(--log "$f"); done

# time ROW CMD...: appends "seconds rss_kib" of one run of CMD to $T/ROW
time_row() {
  local row=$1; shift
  local s e rc=0
  s=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$T/rss" "$@" > /dev/null 2> "$T/err" || rc=$?
  # exit 1 is `search` finding nothing
  [ "$rc" -le 1 ] || { echo "$row failed ($rc):" >&2; cat "$T/err" >&2; exit 1; }
  e=$(date +%s%N)
  echo "$(( (e - s) / 1000 )) $(tail -1 "$T/rss")" >> "$T/$row"
}
time_sh() { local row=$1; shift; time_row "$row" bash -c "$*"; }

# the store, fed one server per run (built once per binary and invocation, timed once)
for b in "${BINS[@]}"; do
  who=${b%%:*}; bin=${b#*:}
  rm -rf "$T/store-$who"
  for f in "${LOGS[@]}"; do
    time_row "10 $who index $(basename "$f")" "$bin" index --store "$T/store-$who" "${READ[@]}" "$f"
  done
done

cat "${LOGS[@]}" > /dev/null
echo "reading ${#LOGS[@]} files of $SITE ($BYTES bytes), $RUNS runs ..." >&2
for run in $(seq "$RUNS"); do
  time_sh "01 grep -c ADDR (5 files)" "LC_ALL=C grep -F -c '<$ADDR>' ${LOGS[*]} | cat"
  for b in "${BINS[@]}"; do
    who=${b%%:*}; bin=${b#*:}
    time_row "20 $who search --log --to ADDR" "$bin" search "${LOGARGS[@]}" "${READ[@]}" --to "$ADDR" --format ndjson
    time_row "30 $who search --store --to ADDR" "$bin" search --store "$T/store-$who" --to "$ADDR" --format ndjson
    if "$bin" search --help | grep -q -- --end-to-end; then
      time_row "21 $who search --log --to ADDR --end-to-end" "$bin" search "${LOGARGS[@]}" "${READ[@]}" --to "$ADDR" --end-to-end --format ndjson
      time_row "22 $who search --log --end-to-end --client-ip --status bounced" "$bin" search "${LOGARGS[@]}" "${READ[@]}" "${ACROSS[@]}" --end-to-end --format ndjson
      time_row "31 $who search --store --to ADDR --end-to-end" "$bin" search --store "$T/store-$who" --to "$ADDR" --end-to-end --format ndjson
      time_row "32 $who search --store --end-to-end --client-ip --status bounced" "$bin" search --store "$T/store-$who" "${ACROSS[@]}" --end-to-end --format ndjson
    fi
  done
done

# rows each search gives (of the new binary)
count() { "$NEW" "$@" --format ndjson | wc -l; }
echo
echo "Site: $SITE, ${#LOGS[@]} files, $BYTES bytes, $(cat "${LOGS[@]}" | wc -l) lines, $MESSAGES messages; $RUNS runs; $(nproc) cores; $(date -u +%F)"
echo "Rows: --to ADDR $(count search "${LOGARGS[@]}" "${READ[@]}" --to "$ADDR"), end to end $(count search "${LOGARGS[@]}" "${READ[@]}" --to "$ADDR" --end-to-end); across the path $(count search "${LOGARGS[@]}" "${READ[@]}" "${ACROSS[@]}" --end-to-end) (per leg: $(count search "${LOGARGS[@]}" "${READ[@]}" "${ACROSS[@]}"))"
echo
median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
echo "| work | median s | peak RSS MiB | runs (s) |"
echo "|---|---:|---:|---|"
for f in "$T"/[0-9]*; do
  row=$(basename "$f"); name=${row#* }
  us=$(cut -d' ' -f1 "$f" | median)
  rss=$(cut -d' ' -f2 "$f" | sort -n | tail -1)
  runs=$(cut -d' ' -f1 "$f" | awk '{printf "%s%.3f", (NR>1?", ":""), $1/1e6}')
  printf '| %s | %.3f | %.0f | %s |\n' "$name" "$(awk -v u="$us" 'BEGIN {print u / 1e6}')" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$runs"
done
exit 0
