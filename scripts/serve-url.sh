# Sourced by scripts that start `mailtrace serve --listen 127.0.0.1:0` with its stderr in a
# file: `serve_url FILE` waits up to 10 s for the "listening on URL" line and prints the
# http://host:port it names, or prints the file to stderr and returns 1.
serve_url() {
  local base=""
  for _ in $(seq 100); do
    base=$(sed -n 's|^listening on \(http://[^/ ]*\).*|\1|p' "$1")
    [ -n "$base" ] && { echo "$base"; return 0; }
    sleep 0.1
  done
  echo "serve did not start:" >&2
  cat "$1" >&2
  return 1
}
