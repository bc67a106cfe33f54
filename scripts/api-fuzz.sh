#!/usr/bin/env bash
# API contract fuzzing (issue 20): schemathesis against docs/openapi.yaml and a running
# `mailtrace serve` with a token, then every route of the spec without the token.
#
#   MAILTRACE=target/release/mailtrace MAX_EXAMPLES=20 scripts/api-fuzz.sh
#
# Builds nothing: $MAILTRACE (default target/release/mailtrace) is the binary under test.
# 1. A store in a temporary directory from testdata/sample/mail.log and the crafted cases
#    (index --year 2026 --timezone UTC), served on a free loopback port with --token-file.
# 2. schemathesis with every check (no 5xx, statuses, content types, headers and bodies as
#    the spec says, bad input refused, good input accepted), $MAX_EXAMPLES cases per
#    operation (default 20: CI's short run; a campaign gives thousands), the token sent.
# 3. Without the token: every path of the spec answers 401 with the JSON error and
#    `WWW-Authenticate: Bearer`, a wrong token too; the page's own files (docs/API.md) answer
#    200 without one, and hold no data.
# Exits non-zero on any failure, after printing it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MAILTRACE:-target/release/mailtrace}
MAX_EXAMPLES=${MAX_EXAMPLES:-20}
SCHEMATHESIS_VERSION=4.32.5
[ -x "$BIN" ] || { echo "api-fuzz: no binary at $BIN (cargo build --release, or set MAILTRACE)" >&2; exit 2; }
if ! command -v schemathesis > /dev/null; then
  python3 -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2> /dev/null && wait "$server" 2> /dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# the store: the sample day and every crafted case (a few logs have no year-2026 dates: fine)
"$BIN" index --store "$work/store" --year 2026 --timezone UTC \
  testdata/sample/mail.log testdata/cases/*/mail.log > /dev/null 2>&1
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$token" > "$work/token"
"$BIN" serve --store "$work/store" --listen 127.0.0.1:0 --timezone UTC --token-file "$work/token" \
  2> "$work/serve.log" &
server=$!
. scripts/serve-url.sh
base=$(serve_url "$work/serve.log") || exit 1
echo "api-fuzz: $BIN serving $work/store at $base; $MAX_EXAMPLES examples per operation"

failed=0
# 2. the contract, with the token
if ! schemathesis --config-file scripts/api-fuzz.toml --no-color run docs/openapi.yaml --url "$base" --checks all --max-examples "$MAX_EXAMPLES" \
  --header "Authorization: Bearer $token" --seed "${SEED:-$RANDOM}" --workers 2 \
  --request-timeout 30 --suppress-health-check too_slow ${CONTINUE:+--continue-on-failure} \
  --report junit --report-dir "$work/report"; then
  echo "api-fuzz: FAILED: schemathesis found responses that break docs/openapi.yaml (above)" >&2
  failed=1
fi

# 3. the token on every route of the spec; the page's files without it
id=$(curl -sf -H "Authorization: Bearer $token" "$base/api/search?limit=1" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["queue_id"])')
python3 - "$base" "$token" "$id" docs/openapi.yaml << 'EOF' || failed=1
import sys, yaml, urllib.request, urllib.error, json
base, token, some_id, spec = sys.argv[1:]
paths = yaml.safe_load(open(spec))["paths"]
bad = 0
def get(path, headers):
    req = urllib.request.Request(base + path, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
checked = 0
for path in paths:
    url = path.replace("{id}", some_id)
    for headers in ({}, {"Authorization": "Bearer " + token + "x"}, {"Authorization": token}):
        status, h, body = get(url, headers)
        checked += 1
        ok = (status == 401 and h.get("WWW-Authenticate") == "Bearer"
              and h.get("Content-Type") == "application/json" and "error" in json.loads(body))
        if not ok:
            bad += 1
            print(f"api-fuzz: FAILED: {url} with {headers or 'no token'}: {status} {body[:200]!r}")
    status, _, _ = get(url, {"Authorization": "Bearer " + token})
    if status != 200:
        bad += 1
        print(f"api-fuzz: FAILED: {url} with the token: {status}")
# docs/API.md: the page's own files hold no data and need no token
for asset in ("/", "/app.js", "/style.css", "/favicon.svg"):
    status, h, _ = get(asset, {})
    if status != 200 or "default-src 'none'" not in h.get("Content-Security-Policy", ""):
        bad += 1
        print(f"api-fuzz: FAILED: the page's file {asset} without a token: {status}")
print(f"api-fuzz: token: {len(paths)} routes, {checked} requests without a good token, "
      f"{bad} failures; the page's 4 files open")
sys.exit(1 if bad else 0)
EOF
exit $failed
