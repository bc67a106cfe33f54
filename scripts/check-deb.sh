#!/usr/bin/env bash
# Checks the Debian package that scripts/build-deb.sh built, for real:
#  1. its contents: the stripped binary, the units, a manual page per command, the
#     completions, the conffile, the docs;
#  2. the units, with `systemd-analyze verify` and `security` (exposure at most 2.0) against
#     the installed tree;
#  3. the maintainer scripts, installing it into a Debian 12 tree made with debootstrap:
#     the mailtrace user (in adm) and /var/lib/mailtrace (setgid adm) are made; root's
#     `mailtrace index` writes the system store as its owner; a user in adm searches it with no
#     --store; upgrade keeps an edited conffile; purge removes the store.
# Needs root (debootstrap, chroot) and a Debian mirror (debootstrap is installed if missing).
#   scripts/check-deb.sh [target/debian/mailtrace_*.deb]
# MAILTRACE_DEB_ROOT=DIR keeps the Debian tree there between runs (it is made once).
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:-$(ls -t target/debian/mailtrace_*.deb | head -n 1)}
fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }
ok() { echo "check-deb: ok: $*"; }

# 1. contents
contents=$(dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/bin/mailtrace /etc/mailtrace/config.toml \
  /usr/lib/systemd/system/mailtrace-follow.service /usr/lib/systemd/system/mailtrace-web.service \
  /usr/lib/systemd/system/mailtrace-maintain.service /usr/lib/systemd/system/mailtrace-maintain.timer \
  /usr/share/man/man1/mailtrace.1.gz /usr/share/man/man1/mailtrace-search.1.gz \
  /usr/share/man/man1/mailtrace-store-info.1.gz \
  /usr/share/bash-completion/completions/mailtrace /usr/share/zsh/vendor-completions/_mailtrace \
  /usr/share/fish/vendor_completions.d/mailtrace.fish \
  /usr/share/doc/mailtrace/README.md /usr/share/doc/mailtrace/CLI.md /usr/share/doc/mailtrace/copyright; do
  grep -qx "$f" <<<"$contents" || fail "$deb lacks $f"
done
# one manual page per command of --help
for cmd in $(target/release/mailtrace --help | awk '/^Commands:/ {on=1; next} /^$/ {on=0} on && /^  [a-z]/ {print $1}'); do
  [ "$cmd" = help ] && continue
  grep -qx "/usr/share/man/man1/mailtrace-$cmd.1.gz" <<<"$contents" || fail "no manual page for mailtrace $cmd"
done
dpkg-deb --field "$deb" Depends | grep -q adduser || fail "Depends lacks adduser"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb --control "$deb" "$work/control"
grep -qx /etc/mailtrace/config.toml "$work/control/conffiles" || fail "config.toml is not a conffile"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/mailtrace > "$work/mailtrace"
if readelf -S "$work/mailtrace" | grep -q '\.debug_info'; then fail "the binary is not stripped"; fi
ok "contents ($(wc -l <<<"$contents") entries, $(du -k "$deb" | cut -f1) KiB)"

# 3. install into a Debian 12 tree
root=${MAILTRACE_DEB_ROOT:-$work/root}
if [ ! -x "$root/usr/bin/dpkg" ]; then
  if ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  debootstrap --variant=minbase --include=adduser,systemd bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log"; fail "debootstrap"; }
fi
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
in_root() { chroot "$root" "$@"; }
# a kept tree: from where a failed run left it
in_root dpkg --purge mailtrace >/dev/null 2>&1 || true
for u in alice bob; do in_root deluser --quiet "$u" >/dev/null 2>&1 || true; done
cp "$deb" "$root/tmp/mailtrace.deb"
in_root dpkg -i /tmp/mailtrace.deb >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "dpkg -i"; }
in_root getent passwd mailtrace >/dev/null || fail "no mailtrace user"
in_root id -nG mailtrace | grep -qw adm || fail "mailtrace is not in adm"
[ "$(in_root stat -c '%U:%G %a' /var/lib/mailtrace)" = "mailtrace:adm 2750" ] \
  || fail "/var/lib/mailtrace is $(in_root stat -c '%U:%G %a' /var/lib/mailtrace)"
ok "installed: user mailtrace in adm, /var/lib/mailtrace mailtrace:adm 2750"

# 2. the units, verified by the tree's own systemd (Debian 12's)
in_root systemd-analyze verify --man=no \
  mailtrace-follow.service mailtrace-web.service mailtrace-maintain.service mailtrace-maintain.timer \
  >"$work/verify.log" 2>&1 || { cat "$work/verify.log"; fail "systemd-analyze verify"; }
if [ -s "$work/verify.log" ]; then cat "$work/verify.log"; fail "systemd-analyze verify has warnings"; fi
# hardening: systemd's exposure score, 0 (locked down) to 10, at most 2.0 ("OK")
for u in mailtrace-follow.service mailtrace-web.service mailtrace-maintain.service; do
  in_root systemd-analyze security --offline=true --threshold=20 "$u" >"$work/security.log" 2>&1 \
    || { tail -n 40 "$work/security.log"; fail "$u is exposed above 2.0"; }
done
ok "units pass systemd-analyze verify; exposure $(tail -n 1 "$work/security.log" | awk '{print $(NF-2)}') or less"

# the system store: root indexes (as the store's owner), a user in adm searches with no --store
cp testdata/sample/mail.log "$root/tmp/mail.log"
chmod 640 "$root/tmp/mail.log"
in_root chgrp adm /tmp/mail.log
in_root mailtrace index --year 2026 --timezone UTC /tmp/mail.log 2>"$work/index.log" || { cat "$work/index.log"; fail "index"; }
[ "$(in_root stat -c '%U:%G' /var/lib/mailtrace/mailtrace-store.json)" = "mailtrace:adm" ] \
  || fail "root's index left $(in_root stat -c '%U:%G' /var/lib/mailtrace/mailtrace-store.json) files in the store"
in_root find /var/lib/mailtrace ! -user mailtrace | grep . && fail "files not owned by mailtrace in the store"
in_root adduser --quiet --disabled-password --gecos '' alice >/dev/null
in_root adduser --quiet alice adm >/dev/null
rows=$(in_root runuser -u alice -- mailtrace search --timezone UTC --to marco.rossi@example.com --format csv | wc -l)
[ "$rows" -gt 1 ] || fail "alice found nothing in the system store"
in_root adduser --quiet --disabled-password --gecos '' bob >/dev/null
if in_root runuser -u bob -- mailtrace search --to marco.rossi@example.com --format csv >/dev/null 2>&1; then
  fail "bob, not in adm, could read the store"
fi
if in_root runuser -u alice -- mailtrace index /tmp/mail.log 2>"$work/alice.log"; then
  fail "alice could write the system store"
fi
grep -q "is not yours to write" "$work/alice.log" || { cat "$work/alice.log"; fail "alice's index did not say why"; }
ok "root's index wrote the store as mailtrace; alice (adm) finds $((rows - 1)) rows with no --store, and may not write it; bob (not adm) cannot read it"

# an edited conffile survives reinstalling; purge removes the store and the conffile
echo '# edited' >> "$root/etc/mailtrace/config.toml"
in_root dpkg -i --force-confold /tmp/mailtrace.deb >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; fail "reinstall"; }
grep -q '^# edited' "$root/etc/mailtrace/config.toml" || fail "the edited conffile was replaced"
in_root dpkg --purge mailtrace >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "purge"; }
[ ! -e "$root/var/lib/mailtrace" ] || fail "purge left /var/lib/mailtrace"
[ ! -e "$root/etc/mailtrace/config.toml" ] || fail "purge left the conffile"
ok "reinstall keeps the edited conffile; purge removes the store and the conffile"
echo "check-deb: all checks passed for $deb"
