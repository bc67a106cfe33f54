#!/usr/bin/env bash
# A ClickHouse cluster of two shards on loopback, for mailtrace's tests and for trying the
# ClickHouse store by hand: two `clickhouse-server` processes (Debian's package, no systemd),
# each with its own config and data under $MT_CH_DIR, both naming the two as cluster
# `mt_cluster` in `remote_servers` (and `mt_cluster_down`: the first shard and one that never
# answers, for the tests of a shard down).
#
#   scripts/clickhouse-cluster.sh start     # installs clickhouse-server if missing (root)
#   scripts/clickhouse-cluster.sh stop
#   scripts/clickhouse-cluster.sh status
#
# HTTP on 127.0.0.1:$((MT_CH_PORT + 1)) and :$((MT_CH_PORT + 2)) (default 28121, 28122), native
# protocol on $((MT_CH_NATIVE + 1)) and +2 (default 29001, 29002). The tests read the first
# shard's address from MAILTRACE_TEST_CLICKHOUSE: `start` prints the line to export.
set -euo pipefail
DIR=${MT_CH_DIR:-/tmp/mailtrace-clickhouse}
PORT=${MT_CH_PORT:-28120}
NATIVE=${MT_CH_NATIVE:-29000}

http() { curl -sf --max-time 2 "http://127.0.0.1:$((PORT + $1))/?query=SELECT%201" > /dev/null; }

install() {
  # the server, and curl to ask it whether it is up
  local want=()
  command -v clickhouse-server > /dev/null || want+=(clickhouse-server)
  command -v curl > /dev/null || want+=(curl)
  [ ${#want[@]} -eq 0 ] && return
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" > /dev/null
}

write_config() {
  local n=$1 d="$DIR/shard$1"
  mkdir -p "$d/data/tmp"
  {
    echo '<?xml version="1.0"?>'
    echo '<yandex>'
    echo "  <logger><level>warning</level><log>$d/server.log</log><errorlog>$d/error.log</errorlog></logger>"
    echo '  <listen_host>127.0.0.1</listen_host>'
    echo "  <http_port>$((PORT + n))</http_port>"
    echo "  <tcp_port>$((NATIVE + n))</tcp_port>"
    echo "  <path>$d/data/</path>"
    echo "  <tmp_path>$d/data/tmp/</tmp_path>"
    echo "  <users_config>$DIR/users.xml</users_config>"
    echo '  <default_profile>default</default_profile>'
    echo '  <default_database>default</default_database>'
    echo '  <timezone>UTC</timezone>'
    echo '  <mark_cache_size>268435456</mark_cache_size>'
    echo '  <remote_servers>'
    echo '    <mt_cluster>'
    for s in 1 2; do
      echo "      <shard><replica><host>127.0.0.1</host><port>$((NATIVE + s))</port></replica></shard>"
    done
    echo '    </mt_cluster>'
    # the first shard and one that never answers (nothing listens on its port): for the tests
    # of a search with a shard down
    echo '    <mt_cluster_down>'
    echo "      <shard><replica><host>127.0.0.1</host><port>$((NATIVE + 1))</port></replica></shard>"
    echo "      <shard><replica><host>127.0.0.1</host><port>$((NATIVE + 9))</port></replica></shard>"
    echo '    </mt_cluster_down>'
    echo '  </remote_servers>'
    echo '</yandex>'
  } > "$d/config.xml"
}

start() {
  install
  mkdir -p "$DIR"
  # one user, `default`, without a password, reachable from loopback only
  cat > "$DIR/users.xml" << 'XML'
<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
</yandex>
XML
  for n in 1 2; do
    if http "$n"; then continue; fi
    write_config "$n"
    clickhouse-server --config-file="$DIR/shard$n/config.xml" > "$DIR/shard$n/stdout.log" 2>&1 &
    echo $! > "$DIR/shard$n/pid"
  done
  for n in 1 2; do
    for _ in $(seq 100); do
      http "$n" && break
      if ! kill -0 "$(cat "$DIR/shard$n/pid" 2> /dev/null || echo 0)" 2> /dev/null; then
        echo "shard $n did not start:" >&2
        cat "$DIR/shard$n/stdout.log" "$DIR/shard$n/error.log" >&2 2> /dev/null || true
        exit 1
      fi
      sleep 0.1
    done
    http "$n" || { echo "shard $n does not answer on port $((PORT + n))" >&2; exit 1; }
  done
  echo "export MAILTRACE_TEST_CLICKHOUSE=http://127.0.0.1:$((PORT + 1))/"
}

stop() {
  for n in 1 2; do
    local f="$DIR/shard$n/pid"
    [ -f "$f" ] || continue
    local pid
    pid=$(cat "$f")
    kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null || true
    rm -f "$f"
  done
}

status() {
  for n in 1 2; do
    if http "$n"; then echo "shard $n: up on port $((PORT + n))"; else echo "shard $n: down"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
