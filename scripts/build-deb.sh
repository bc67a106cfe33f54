#!/usr/bin/env bash
# Builds the Debian package: target/debian/mailtrace_VERSION-1_ARCH.deb
#   scripts/build-deb.sh           (installs cargo-deb with cargo when it is missing)
# The binary, its manual pages and shell completions (made by the binary itself, from the
# same definitions as --help), /etc/mailtrace/config.toml and the systemd units of pkg/debian/.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-deb >/dev/null; then
  echo "cargo-deb is missing: installing it (cargo install cargo-deb --locked)" >&2
  cargo install cargo-deb --locked
fi
cargo build --release --locked
rm -rf target/pkg
mkdir -p target/pkg/man target/pkg/completions
target/release/mailtrace man --out target/pkg/man
gzip -9n target/pkg/man/*.1
target/release/mailtrace completions bash > target/pkg/completions/mailtrace.bash
target/release/mailtrace completions zsh > target/pkg/completions/_mailtrace
target/release/mailtrace completions fish > target/pkg/completions/mailtrace.fish
cargo deb --no-build --locked --strip "$@"
