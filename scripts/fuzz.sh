#!/usr/bin/env bash
# Coverage-guided fuzzing of mailtrace's readers of outside input with cargo-fuzz (libFuzzer).
# The targets are in fuzz/ (docs/RELIABILITY.md says what each checks). CI does not run this:
# it runs the same target bodies on stable Rust over the corpora (tests/fuzz_targets.rs).
#
#   scripts/fuzz.sh seed                  make fuzz/corpus/* afresh from testdata/ (before a campaign)
#   scripts/fuzz.sh run TARGET [SECS]     fuzz one target (default 60 s); a crash lands in fuzz/artifacts/TARGET/
#   scripts/fuzz.sh campaign SECS [JOBS]  every target SECS seconds, JOBS at a time (default 2), then
#                                         minimise each corpus; prints a table of executions and crashes
#   scripts/fuzz.sh cmin TARGET           minimise one target's corpus in place
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and a nightly toolchain (rustup);
# without nightly it builds with `-s none` and RUSTC_BOOTSTRAP=1 on the stable one.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=(lines journal decode archive state checkpoint criteria web_params clickhouse_sql)
MAX_LEN=8192

fuzz() {
  if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    cargo +nightly fuzz "$@"
  else
    RUSTC_BOOTSTRAP=1 cargo fuzz "$@" -s none
  fi
}

binary() {
  local bin=${MAILTRACE:-target/release/mailtrace}
  [ -x "$bin" ] || cargo build --release --quiet
  echo "$bin"
}

# Splits a log into pieces of whole lines, at most $MAX_LEN/2 bytes each, and keeps the first.
first_piece() {
  python3 - "$1" "$2" "$((MAX_LEN / 2))" <<'PY'
import sys
src, dst, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = b""
for line in open(src, "rb"):
    if len(out) + len(line) > cap:
        break
    out += line
open(dst, "wb").write(out)
PY
}

seed() {
  local bin tmp c
  bin=$(binary)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  rm -rf fuzz/corpus
  mkdir -p "${TARGETS[@]/#/fuzz/corpus/}"
  # lines: the first lines of every crafted case and of the sample
  for f in testdata/sample/mail.log testdata/cases/*/*.log testdata/exim/*/*.log testdata/garbage/mail.log; do
    [ -f "$f" ] || continue
    c=$(echo "$f" | tr '/' '_')
    first_piece "$f" "fuzz/corpus/lines/$c"
  done
  # decode: a piece of the sample, plain and in the four compressions
  first_piece testdata/sample/mail.log "$tmp/piece.log"
  cp "$tmp/piece.log" fuzz/corpus/decode/plain
  gzip -c "$tmp/piece.log" > fuzz/corpus/decode/gzip
  zstd -q -c "$tmp/piece.log" > fuzz/corpus/decode/zstd
  bzip2 -c "$tmp/piece.log" > fuzz/corpus/decode/bzip2
  xz -c "$tmp/piece.log" > fuzz/corpus/decode/xz
  # journal: the same lines as journalctl -o json and -o export write them
  python3 - "$tmp/piece.log" fuzz/corpus/journal <<'PY'
import json, sys, struct
lines = open(sys.argv[1], "rb").read().splitlines()[:12]
js, ex = [], b""
for i, l in enumerate(lines):
    head, _, msg = l.partition(b": ")
    parts = head.split()
    host, ident = parts[3].decode(), parts[4].decode()
    name, _, pid = ident.partition("[")
    ts = str(1795000000000000 + i * 1000000)
    js.append(json.dumps({"__REALTIME_TIMESTAMP": ts, "_HOSTNAME": host, "SYSLOG_IDENTIFIER": name,
                          "_PID": pid.rstrip("]"), "MESSAGE": msg.decode("utf-8", "replace")}))
    fields = [b"__REALTIME_TIMESTAMP=" + ts.encode(), b"_HOSTNAME=" + host.encode(),
              b"SYSLOG_IDENTIFIER=" + name.encode(), b"_PID=" + pid.rstrip("]").encode()]
    if i % 3 == 0:  # a binary MESSAGE field: name, newline, 64-bit LE length, bytes
        fields.append(b"MESSAGE\n" + struct.pack("<Q", len(msg)) + msg)
    else:
        fields.append(b"MESSAGE=" + msg)
    ex += b"\n".join(fields) + b"\n\n"
open(sys.argv[2] + "/json", "w").write("\n".join(js) + "\n")
open(sys.argv[2] + "/export", "wb").write(ex)
PY
  # archive and state: the sample indexed, its day compacted into an archive
  "$bin" index --store "$tmp/s" --year 2026 --timezone UTC testdata/sample/mail.log >/dev/null 2>&1
  cp "$tmp/s/state.json" fuzz/corpus/state/sample
  "$bin" maintain --store "$tmp/s" --hot-days 1 --archive-days 3650 --now 2026-12-31T00:00:00Z >/dev/null
  for a in "$tmp"/s/archive/*.mtar; do cp "$a" "fuzz/corpus/archive/$(basename "$a")"; done
  # checkpoint: messages in flight when a run stops
  "$bin" index --store "$tmp/p" --year 2026 --timezone UTC testdata/cases/in-progress/mail.log >/dev/null 2>&1
  cp "$tmp/p/state.json" fuzz/corpus/state/in-progress
  for k in "$tmp"/p/open-*.ckpt.zst; do zstd -q -d -c "$k" > "fuzz/corpus/checkpoint/$(basename "$k" .zst)"; done
  # criteria: fields separated by NUL (see fuzz/targets/criteria.rs)
  printf 'alice@example.com\0*@example.org\0invoice 12\0<a@b>\0 4b7f31c0a2 \0bounced,deferred\0inbound\0192.0.2.0/24\0mx1\0 2026-11-24 10:00\0now\0\0spf,dkim\0INBOX\0Europe/Rome\0\007' > fuzz/corpus/criteria/all
  printf '<>\0b@*\0"order 1"\0\0\0in-progress\0\0::1\0\0yesterday\0\0\00024h\0dmarc\0\0+01:00\0\001' > fuzz/corpus/criteria/null-sender
  printf '\0\0\0\0\0\0\0\0\0\0\0\0002w\0' > fuzz/corpus/criteria/last
  # web_params: query strings the page sends
  printf 'to=bob%%40example.com&status=bounced,deferred&last=24h&limit=50' > fuzz/corpus/web_params/search
  printf 'from=%%3C%%3E&subject=order+12&since=2026-11-24T10%%3A00%%3A00Z&until=2026-11-25&historical=1&timezone=Europe%%2FRome' > fuzz/corpus/web_params/window
  printf 'client_ip=2001%%3Adb8%%3A%%3A%%2F32&auth_fail=spf&auth_fail=dkim&spam=true&end_to_end=1&direction=inbound&folder=Junk' > fuzz/corpus/web_params/flags
  # clickhouse_sql: the hostile values of the ClickHouse tests
  python3 - <<'PY'
import json
for i, v in enumerate(json.load(open("testdata/clickhouse/hostile-values.json"))):
    open(f"fuzz/corpus/clickhouse_sql/{i:02}", "w").write(v)
PY
  for t in "${TARGETS[@]}"; do printf '%-15s %3d files %7d bytes\n' "$t" "$(ls fuzz/corpus/$t | wc -l)" "$(cat fuzz/corpus/$t/* | wc -c)"; done
}

# an archive seed is a whole day's file: bigger than a log piece
max_len() { if [ "$1" = archive ]; then echo 65536; else echo $MAX_LEN; fi; }
# decode's read-ahead thread may still be ending when an input is done (it ends when its
# reader is dropped): LeakSanitizer counts its thread-local record as a leak
leaks() { if [ "$1" = decode ]; then echo 0; else echo 1; fi; }

run() {
  local t=$1 secs=${2:-60}
  mkdir -p "fuzz/artifacts/$t" fuzz/logs
  fuzz run "$t" "fuzz/corpus/$t" -- -max_len="$(max_len "$t")" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -detect_leaks="$(leaks "$t")" \
    -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 2>&1 | tee "fuzz/logs/$t.log" | grep -E '^(#[0-9]+.*(pulse|DONE|NEW))|Done|ERROR|panicked|SUMMARY' | tail -5 || true
}

# Keeps the inputs that together reach every edge the corpus reaches (a greedy set cover over
# edges, not hit counts): a few hundred small files per target.
cmin() {
  local t=$1 tmp
  fuzz build "$t" >/dev/null
  tmp=$(mktemp -d)
  "fuzz/target/x86_64-unknown-linux-gnu/release/$t" -set_cover_merge=1 -use_counters=0 \
    -max_len="$(max_len "$t")" -timeout=10 "$tmp" "fuzz/corpus/$t" >/dev/null 2>&1
  rm -rf "fuzz/corpus/$t"
  mv "$tmp" "fuzz/corpus/$t"
}

campaign() {
  local secs=$1 jobs=${2:-2} t
  fuzz build >/dev/null
  printf '%s\n' "${TARGETS[@]}" | xargs -P "$jobs" -I{} "$0" run {} "$secs" >/dev/null
  for t in "${TARGETS[@]}"; do cmin "$t"; done
  printf '| target | seconds | executions | corpus (files) | crashes |\n|---|---:|---:|---:|---:|\n'
  for t in "${TARGETS[@]}"; do
    local runs crashes
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "fuzz/logs/$t.log" | grep -o '[0-9]*$' || echo '?')
    crashes=$(find "fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
    printf '| %s | %s | %s | %s | %s |\n' "$t" "$secs" "$runs" "$(ls "fuzz/corpus/$t" | wc -l)" "$crashes"
  done
}

case "${1:-}" in
  seed) seed ;;
  run) shift; run "$@" ;;
  cmin) shift; cmin "$@" ;;
  campaign) shift; campaign "$@" ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
