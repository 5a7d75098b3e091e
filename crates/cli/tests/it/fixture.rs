//! The committed small fixture is exactly what the generator produces.

use std::fs;

use crate::helpers::{kui, small_fixture};

/// `UPDATE_EXPECT=1 cargo test -p kui-cli --test integration fixture` rewrites the file.
#[test]
fn fixture_small_is_what_the_generator_produces() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    kui(&data, &["generate", "--preset", "small"]).ok();
    let out = dir.path().join("small.ndjson");
    let out_text = out.to_str().expect("path");
    kui(&data, &["export", "--out", out_text]).ok();
    let generated = fs::read(&out).unwrap();
    let committed_path = small_fixture();
    if std::env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1") {
        fs::write(&committed_path, &generated).unwrap();
        return;
    }
    let committed = fs::read(&committed_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run UPDATE_EXPECT=1 cargo test -p kui-cli --test integration fixture",
            committed_path.display()
        )
    });
    let (committed_text, generated_text) = (String::from_utf8_lossy(&committed), String::from_utf8_lossy(&generated));
    let diff = similar::TextDiff::from_lines(committed_text.as_ref(), generated_text.as_ref())
        .unified_diff()
        .context_radius(0)
        .header("committed", "generated")
        .to_string();
    assert!(
        committed == generated,
        "fixtures/small.ndjson is stale: run UPDATE_EXPECT=1 cargo test -p kui-cli --test integration fixture; \
         the first differences:\n{}",
        diff.lines().take(12).collect::<Vec<_>>().join("\n")
    );
}
