//! The committed GraphQL SDL, `schemas/schema.graphql`, matches the code.
//! `UPDATE_EXPECT=1` rewrites it.

use std::path::PathBuf;

const UPDATE_HINT: &str = "UPDATE_EXPECT=1 cargo test -p kui-api --test integration schema";

#[test]
fn the_committed_sdl_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/schema.graphql");
    let generated = kui_api::graphql::sdl();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let diff = similar::TextDiff::from_lines(&committed, &generated)
        .unified_diff()
        .context_radius(2)
        .header("committed", "generated")
        .to_string();
    assert!(
        committed == generated,
        "{} is stale; regenerate it with `{UPDATE_HINT}` and review the diff:\n{}",
        path.display(),
        diff.lines().take(80).collect::<Vec<_>>().join("\n")
    );
}
