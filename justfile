# Shortcuts over cargo; the README's two commands need nothing but cargo.

# Generate the Sønderborg demo municipality into ./data and show it.
demo:
    cargo run --release -p kui-cli -- demo

# The whole test suite.
test:
    cargo test --workspace

# What CI runs.
ci:
    bash .ci/run

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Rewrite the committed JSON Schemas after an event changed.
schemas:
    UPDATE_EXPECT=1 cargo test -p kui-domain --test integration schemas

# Rewrite the committed small fixture.
fixtures:
    UPDATE_EXPECT=1 cargo test -p kui-cli --test integration fixture

# Criterion benchmarks.
bench:
    cargo bench -p kui-benches

# The reproducible throughput report on the sonderborg and national presets.
report:
    cargo run --release -p kui-benches --bin kui-bench -- all

# Fuzz one target (segment, ndjson, graphql) with cargo-fuzz until stopped; more libFuzzer
# flags may follow (-max_total_time=600). docs/fuzzing.md explains the flags.
fuzz TARGET *FLAGS:
    mkdir -p fuzz/corpus/{{TARGET}}
    cd fuzz && TMPDIR=/dev/shm ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16} RUSTC_BOOTSTRAP=1 cargo fuzz run {{TARGET}} corpus/{{TARGET}} ../crates/fuzz/corpus/{{TARGET}} -- -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=512 {{FLAGS}}
