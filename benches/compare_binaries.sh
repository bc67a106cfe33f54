#!/bin/bash
# Two mailtrace binaries on one log, in the same run, with grep -c beside them (issue 15's
# "no throughput loss beyond 5 %"). The runs alternate (grep, old, new, then the next run);
# each line printed is: who, seconds, peak RSS in KiB (GNU time; 0 for grep).
#
#   OLD=../old/target/release/mailtrace NEW=target/release/mailtrace \
#     benches/compare_binaries.sh /tmp/gen.log 7 [extra mailtrace options…]
#
# PATTERN is what grep counts (default `status=sent`; ` => ` for an Exim main log).
set -euo pipefail
F=$1; RUNS=${2:-5}; shift 2 || true
OLD=${OLD:?the binary before}; NEW=${NEW:-target/release/mailtrace}; PATTERN=${PATTERN:-status=sent}
cat "$F" > /dev/null
for _ in $(seq "$RUNS"); do
  s=$(date +%s.%N); { LC_ALL=C grep -c -- "$PATTERN" "$F" || true; } | cat > /dev/null; e=$(date +%s.%N)
  echo "grep $(echo "$e - $s" | bc) 0"
  for who in old new; do
    B=$OLD; [ "$who" = new ] && B=$NEW
    s=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "/tmp/compare-rss.$who" "$B" stats --log "$F" --year 2026 --timezone UTC --format json "$@" > /dev/null 2>&1
    e=$(date +%s.%N)
    echo "$who $(echo "$e - $s" | bc) $(cat "/tmp/compare-rss.$who")"
  done
done
