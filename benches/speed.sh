#!/bin/bash
# The speed table of issue 16 in one command: the floor (wc -l, grep -c, zstdcat | grep -c, a
# peer if given), mailtrace reading a log on 1 and 2 threads, indexing it into a fresh store,
# looking up a recipient and a message in a store of 10 M rows, and a historical search over 90
# days. Every row runs in the same invocation, round-robin, so ratios compare like with like on
# a noisy machine; with --old, every mailtrace row also runs with that binary (before/after).
#
#   benches/speed.sh [--log FILE | --size-mb N] [--runs N] [--work DIR] [--old BIN]
#                    [--peer 'CMD {}'] [--pattern TEXT] [--skip-lookup] [--skip-historical]
#
# --log        the log to read (default: a genlog file of --size-mb MiB, default 482: 505 MB)
# --runs       runs per row (default 3); medians are printed, with every run
# --work       where generated logs and the big stores are kept between invocations
#              (default /tmp/mailtrace-speed): the 10 M-row store takes ~5 min to build, the
#              90-day store ~8 min; both are built once
# --old        an older mailtrace binary, timed beside the new one on the same rows
# --peer       another tool reading the same file, `{}` standing for it, e.g.
#              --peer 'pmg-log-tracker -vv -i {}'
# --pattern    what grep counts (default `status=sent`; ` => ` for an Exim main log)
#
# Peak memory is GNU time's maximum resident set size (Debian: apt-get install time).
# Timings are wall-clock seconds of whole processes; MB = 10^6 bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG=""; SIZE_MB=482; RUNS=3; WORK=/tmp/mailtrace-speed; OLD=""; PEER=""; PATTERN="status=sent"
LOOKUP=1; HISTORICAL=1
while [ $# -gt 0 ]; do
  case "$1" in
    --log) LOG=$2; shift 2 ;;
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --old) OLD=$(realpath "$2"); shift 2 ;;
    --peer) PEER=$2; shift 2 ;;
    --pattern) PATTERN=$2; shift 2 ;;
    --skip-lookup) LOOKUP=0; shift ;;
    --skip-historical) HISTORICAL=0; shift ;;
    --bench) shift ;;
    -h|--help) sed -n 2,24p "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
command -v zstd > /dev/null || { echo "needs zstd: apt-get install zstd" >&2; exit 2; }

cargo build --release --quiet --bins --examples
NEW=$PWD/target/release/mailtrace
GEN=$PWD/target/release/examples/genlog
mkdir -p "$WORK"
if [ -z "$LOG" ]; then
  LOG=$WORK/genlog-$SIZE_MB.log
  [ -s "$LOG" ] || "$GEN" --size-mb "$SIZE_MB" --out "$LOG" --seed 1 >&2
fi
ZST=$WORK/$(basename "$LOG").zst
[ -s "$ZST" ] || zstd -3 -q -f -o "$ZST" "$LOG"
BYTES=$(stat -c %s "$LOG")
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
BINS=("new:$NEW"); [ -n "$OLD" ] && BINS=("old:$OLD" "new:$NEW")
READ=(--year 2026 --timezone UTC)

# time ROW CMD...: appends "seconds rss_kib" of one run of CMD to $T/ROW
time_row() {
  local row=$1; shift
  local s e
  s=$(date +%s%N)
  local rc=0
  /usr/bin/time -f "%M" -o "$T/rss" "$@" > /dev/null 2> "$T/err" || rc=$?
  # exit 1 is `search` finding nothing
  [ "$rc" -le 1 ] || { echo "$row failed ($rc):" >&2; cat "$T/err" >&2; exit 1; }
  e=$(date +%s%N)
  echo "$(( (e - s) / 1000 )) $(tail -1 "$T/rss")" >> "$T/$row"
}
# the same through a shell (pipes)
time_sh() { local row=$1; shift; time_row "$row" bash -c "$*"; }

cat "$LOG" "$ZST" > /dev/null
echo "reading $LOG ($BYTES bytes), $RUNS runs ..." >&2
for run in $(seq "$RUNS"); do
  time_row "01 wc -l" env LC_ALL=C wc -l "$LOG"
  time_sh "02 grep -c" "LC_ALL=C grep -c -- '$PATTERN' '$LOG' | cat"
  time_sh "03 zstdcat | grep -c" "zstdcat '$ZST' | LC_ALL=C grep -c -- '$PATTERN' | cat"
  [ -n "$PEER" ] && time_sh "04 peer: ${PEER%% *}" "${PEER//\{\}/$LOG}"
  for b in "${BINS[@]}"; do
    who=${b%%:*}; bin=${b#*:}
    if "$bin" stats --help | grep -q -- --threads; then
      time_row "10 $who stats --threads 1" "$bin" stats --threads 1 --log "$LOG" "${READ[@]}" --format json
      time_row "11 $who stats --threads 2" "$bin" stats --threads 2 --log "$LOG" "${READ[@]}" --format json
      time_row "12 $who search --log --to (2 threads)" "$bin" search --threads 2 --log "$LOG" "${READ[@]}" --to nobody@example.invalid
    else
      # a binary from before --threads reads on one thread
      time_row "10 $who stats (one thread)" "$bin" stats --log "$LOG" "${READ[@]}" --format json
      time_row "12 $who search --log --to (one thread)" "$bin" search --log "$LOG" "${READ[@]}" --to nobody@example.invalid
    fi
    rm -rf "$T/store"
    time_row "13 $who index (fresh store)" "$bin" index --store "$T/store" "${READ[@]}" "$LOG"
    du -sb "$T/store" | cut -f1 > "$T/size-$who"
  done
done

if [ "$LOOKUP" = 1 ]; then
  S10=$WORK/store10m
  if [ ! -d "$S10" ]; then
    echo "building a 10 M-row store in $S10 (once, ~5 min) ..." >&2
    cargo bench --quiet --bench store -- --skip-ingest --store-dir "$S10" --runs 1 --queries 1 > "$WORK/store10m.log" 2>&1
  fi
  ROWS=$("$NEW" store info --store "$S10" --format json | grep -o '"rows": *[0-9]*' | grep -o '[0-9]*$' | paste -sd+ | bc)
  # a recipient and a message of the store: the newest rows
  SAMPLE=$("$NEW" search --store "$S10" --since 2000-01-01 --limit 20 --format ndjson)
  ADDR=$(echo "$SAMPLE" | grep -o '"to":"[^"]*"' | sed -n 7p | cut -d'"' -f4)
  QID=$(echo "$SAMPLE" | grep -o '"queue_id":"[^"]*"' | sed -n 3p | cut -d'"' -f4)
  echo "lookups in $S10 ($ROWS rows): --to $ADDR, show $QID ..." >&2
  for run in $(seq $((RUNS * 3))); do
    for b in "${BINS[@]}"; do
      who=${b%%:*}; bin=${b#*:}
      time_row "20 $who search --store --to ADDR ($ROWS rows)" "$bin" search --store "$S10" --to "$ADDR"
      time_row "21 $who show QID ($ROWS rows)" "$bin" show --store "$S10" "$QID"
    done
  done
fi

if [ "$HISTORICAL" = 1 ]; then
  S90=$WORK/store90
  if [ ! -d "$S90/archive" ]; then
    echo "building a 90-day store in $S90 (once, ~8 min) ..." >&2
    mkdir -p "$WORK/days"
    for i in $(seq 0 89); do
      day=$(date -u -d "2026-11-23 - $((89 - i)) days" +%F)
      f=$WORK/days/$day.log
      [ -s "$f" ] && continue
      this=$(date -u -d "$day" '+%b %e'); next=$(date -u -d "$day + 1 day" '+%b %e')
      "$GEN" --size-mb 52 --out "$T/day.log" --seed $((i + 1)) > /dev/null
      LC_ALL=C sed -e "s/^Nov 10 /$this /" -e "s/^Nov 11 /$next /" "$T/day.log" > "$f"
      zstd -3 -q -f "$f"
    done
    rm -rf "$S90"
    "$NEW" index --store "$S90" "${READ[@]}" "$WORK"/days/*.log > /dev/null
    "$NEW" maintain --store "$S90" --hot-days 10 --archive-days 90 --now 2026-11-23T12:00:00Z > /dev/null
  fi
  OLDEST=$(ls "$WORK"/days/*.log | head -1)
  HADDR=$(grep -o -m1 'to=<[^>]*>' "$OLDEST" | sed 's/to=<\(.*\)>/\1/')
  HMID=$(grep -o -m1 'message-id=<[^>]*>' "$OLDEST" | sed 's/message-id=<\(.*\)>/\1/')
  echo "historical searches in $S90: --to $HADDR, --message-id $HMID ..." >&2
  for run in $(seq "$RUNS"); do
    time_sh "30 zstdcat 80 days | grep -F ADDR" "zstdcat $(ls "$WORK"/days/*.log | head -80 | sed 's/$/.zst/' | tr '\n' ' ') 2>/dev/null | LC_ALL=C grep -F -c '$HADDR' | cat"
    for b in "${BINS[@]}"; do
      who=${b%%:*}; bin=${b#*:}
      time_row "31 $who search --historical --to ADDR (90 days)" "$bin" search --store "$S90" --historical --now 2026-11-23T12:00:00Z --to "$HADDR" --format ndjson
      time_row "32 $who search --historical --message-id (90 days)" "$bin" search --store "$S90" --historical --now 2026-11-23T12:00:00Z --message-id "$HMID" --format ndjson
    done
  done
fi

# the table: median seconds, MB/s and share of grep -c for reads of the log, peak RSS
median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
GREP_US=$(cut -d' ' -f1 "$T/02 grep -c" | median)
echo
echo "Log: $LOG, $BYTES bytes, $(LC_ALL=C wc -l < "$LOG") lines; $RUNS runs (lookups: $((RUNS * 3))); $(nproc) cores; $(date -u +%F)"
echo
echo "| work | median s | MB/s | vs grep -c | peak RSS MiB | runs (s) |"
echo "|---|---:|---:|---:|---:|---|"
for f in "$T"/[0-9]*; do
  row=$(basename "$f"); name=${row#* }
  us=$(cut -d' ' -f1 "$f" | median)
  rss=$(cut -d' ' -f2 "$f" | sort -n | tail -1)
  runs=$(cut -d' ' -f1 "$f" | awk '{printf "%s%.3f", (NR>1?", ":""), $1/1e6}')
  case "$row" in
    0*|1*) mbs=$(awk -v b="$BYTES" -v u="$us" 'BEGIN {printf "%.0f", b / u}')
           share=$(awk -v g="$GREP_US" -v u="$us" 'BEGIN {printf "%.1f %%", 100 * g / u}') ;;
    *) mbs="-"; share="-" ;;
  esac
  printf '| %s | %.3f | %s | %s | %.0f | %s |\n' "$name" "$(awk -v u="$us" 'BEGIN {print u / 1e6}')" "$mbs" "$share" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$runs"
done
for who in old new; do
  [ -f "$T/size-$who" ] && echo "- $who store of the log: $(awk -v s="$(cat "$T/size-$who")" 'BEGIN {printf "%.1f MB", s / 1e6}')"
done
exit 0
