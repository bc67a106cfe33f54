# Contributors' recipes. Nothing here is needed to build, run or test: see README.md.

# The whole test suite, as CI runs it (corpus/eval tests need ../shared)
test:
    cargo test --release

# Formatting and lints, as CI checks them
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# Everything CI does
ci:
    bash .ci/run

# Throughput on a generated log (default ~1 GB) beside grep -c and wc -l; see docs/PERFORMANCE.md
bench size_mb="1024" runs="3":
    cargo bench --bench throughput -- --size-mb {{size_mb}} --runs {{runs}}

# Issue 16's speed table in one run: grep/wc/zstd baselines, read on 1 and 2 threads, index,
# lookups in a 10 M-row store, historical search over 90 days (options: benches/speed.sh --help),
# e.g. `just speed --log /tmp/gen.log --old ../old/target/release/mailtrace`
speed *args:
    benches/speed.sh {{args}}

# Generate a synthetic Postfix log
genlog size_mb="100" out="/tmp/mailtrace-gen.log":
    cargo run --release --example genlog -- --size-mb {{size_mb}} --out {{out}}

# Longer property-test run of the line parser and assembler
fuzz cases="100000":
    PROPTEST_CASES={{cases}} cargo test --release --test fuzz_parser

# The libFuzzer campaign over every target of fuzz/ (needs cargo-fuzz; docs/RELIABILITY.md)
fuzz-campaign secs="1800" jobs="2":
    scripts/fuzz.sh campaign {{secs}} {{jobs}}

# The fuzz targets' short run on stable, as CI does, with more mutations
fuzz-short runs="20000":
    MAILTRACE_FUZZ_RUNS={{runs}} cargo test --release --test fuzz_targets

# Parse the shared corpus and print the unrecognised share per file
corpus:
    cargo test --release --test corpus -- --nocapture
