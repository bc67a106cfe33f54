#!/usr/bin/env bash
# The ClickHouse store beside the embedded one, in one run (issue 17):
#   1. ingest: `mailtrace index` of the same log into a fresh embedded store and into the
#      2-shard cluster of scripts/clickhouse-cluster.sh (Distributed tables), beside `grep -c`;
#   2. latency at >= 5 M rows: the cluster's messages copied server-side (INSERT … SELECT with
#      ARRAY JOIN range(N), every copy under other ids and addresses, with its look-up keys
#      and its trace text, its timeline and raw lines left out: only `show` reads those, and
#      it shows an original), then, once the server's merges are done, `search --to ADDR`,
#      `search --to @DOMAIN` (the first 1000 rows, then every row) and `show QID` timed end
#      to end, medians.
#
#   benches/clickhouse.sh LOG [COPIES] [RUNS]      (the cluster must be running)
set -euo pipefail
LOG=${1:?usage: benches/clickhouse.sh LOG [COPIES] [RUNS]}
COPIES=${2:-116}
RUNS=${3:-5}
BIN=${MAILTRACE:-target/release/mailtrace}
PORT=${MT_CH_PORT:-28120}
H1=127.0.0.1:$((PORT + 1)); H2=127.0.0.1:$((PORT + 2))
DB=mt_bench
CH="clickhouse://$H1/$DB?cluster=mt_cluster"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
q() { curl -sf "http://$1/?max_memory_usage=4000000000" --data-binary "$2"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# stdout through a pipe: GNU grep stops at the first match when it is /dev/null
secs() { local s e; s=$(date +%s.%N); "$@" 2> /dev/null | cat > /dev/null || true; e=$(date +%s.%N); echo "$e - $s" | bc; }
timed() { # label, command…: median of RUNS, peak RSS of the last run
  local label=$1; shift
  local m; m=$(for _ in $(seq "$RUNS"); do secs "$@"; done | median)
  local rss; rss=$( (/usr/bin/time -f %M "$@" 2>&1 > /dev/null || true) | tail -1)
  printf '| %s | %.3f s | %s MB |\n' "$label" "$m" "$((rss / 1024))"
}
for h in $H1 $H2; do q "$h" "DROP DATABASE IF EXISTS $DB" > /dev/null; done
"$BIN" store init --store "$CH" --shard "clickhouse://$H1/$DB" --shard "clickhouse://$H2/$DB" > /dev/null
cat "$LOG" > /dev/null
echo "| what | median of $RUNS | peak RSS |"
echo "| --- | --- | --- |"
timed "grep -c status=sent ($(du -m "$LOG" | cut -f1) MB)" env LC_ALL=C grep -c status=sent "$LOG"
# each run into an empty store (the cluster's tables emptied first)
timed "index into the embedded store" sh -c "rm -rf '$WORK/embedded'; '$BIN' index --store '$WORK/embedded' --year 2026 --timezone UTC '$LOG'"
EMPTY="for h in $H1 $H2; do for t in traces_local lines_local keys_local; do curl -sf http://\$h/ --data-binary \"TRUNCATE TABLE $DB.\$t\"; done; done"
timed "index into ClickHouse (2 shards)" sh -c "$EMPTY; rm -rf '$WORK/state'; '$BIN' index --store '$CH' --state '$WORK/state' --year 2026 --timezone UTC '$LOG'"
# the copies
COLS=$(q "$H1" "SELECT name FROM system.columns WHERE database = '$DB' AND table = 'traces_local' FORMAT TSV" |
  awk '
    $1 == "trace_id" { print "concat(trace_id, '\''~'\'', toString(n))"; next }
    $1 == "rcpt" { print "arrayMap(x -> concat('\''c'\'', toString(n), '\''.'\'', x), rcpt)"; next }
    $1 == "queue_ids" { print "arrayMap(x -> concat(x, '\''C'\'', toString(n)), queue_ids)"; next }
    $1 == "message_id" { print "concat(toString(n), '\''.'\'', message_id)"; next }
    $1 == "sender" { print "concat('\''c'\'', toString(n), '\''.'\'', sender)"; next }
    $1 == "orig" { print "arrayMap(x -> if(x = '\'''\'', x, concat('\''c'\'', toString(n), '\''.'\'', x)), orig)"; next }
    $1 == "timeline" || $1 == "lines" { print "'\'''\''"; next }
    { print $1 }' | paste -sd,)
for h in $H1 $H2; do
  q "$h" "INSERT INTO $DB.traces_local SELECT $COLS FROM $DB.traces_local ARRAY JOIN range($COPIES) AS n WHERE n > 0 AND deleted = 0" &
done
wait
# their look-up keys, changed as the columns were (domains stay)
KEY="multiIf(startsWith(key, 'r:') OR startsWith(key, 's:'), concat(substring(key, 1, 2), 'c', toString(n), '.', substring(key, 3)), \
  startsWith(key, 'q:'), concat(key, 'C', toString(n)), startsWith(key, 'm:'), concat('m:', toString(n), '.', substring(key, 3)), key)"
for h in $H1 $H2; do
  q "$h" "INSERT INTO $DB.keys_local SELECT day, $KEY, concat(trace_id, '~', toString(n)) FROM $DB.keys_local ARRAY JOIN range($COPIES) AS n WHERE n > 0" &
done
wait
# measured once the server's merges of the copies are done, as a store at rest
while [ "$(q "$H1" "SELECT count() FROM system.merges")$(q "$H2" "SELECT count() FROM system.merges")" != "00" ]; do sleep 1; done
ROWS=$(q "$H1" "SELECT sum(if(length(rcpt) = 0, 1, length(rcpt))) FROM $DB.traces FINAL WHERE deleted = 0")
ADDR=$("$BIN" search --store "$WORK/embedded" --status delivered --limit 1 --format ndjson | grep -o '"to":"[^"]*"' | cut -d'"' -f4)
QID=$("$BIN" search --store "$WORK/embedded" --status delivered --limit 1 --format ndjson | grep -o '"queue_id":"[^"]*"' | cut -d'"' -f4)
DOM=${ADDR#*@}
timed "embedded ($(du -sm "$WORK/embedded" | cut -f1) MB): search --to ADDR" "$BIN" search --store "$WORK/embedded" --to "$ADDR"
timed "embedded: show QID" "$BIN" show --store "$WORK/embedded" "$QID"
timed "ClickHouse ($ROWS rows): search --to ADDR" "$BIN" search --store "$CH" --to "$ADDR"
timed "ClickHouse ($ROWS rows): search --to @DOMAIN --limit 1000" "$BIN" search --store "$CH" --to "@$DOM" --limit 1000
timed "ClickHouse ($ROWS rows): search --to @DOMAIN, every row ($(q "$H1" "SELECT count() FROM $DB.keys WHERE key = 'rd:$DOM'") messages)" "$BIN" search --store "$CH" --to "@$DOM"
timed "ClickHouse ($ROWS rows): show QID" "$BIN" show --store "$CH" "$QID"
