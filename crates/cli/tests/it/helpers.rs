//! Running the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixed "now" of every test run.
pub const NOW: &str = "2026-11-01T12:00:00Z";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn kui(data: &Path, args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_kui"))
        .arg("--data")
        .arg(data)
        .arg("--now")
        .arg(NOW)
        .args(args)
        .env_remove("KUI_DATA")
        .env_remove("KUI_NOW")
        .output()
        .expect("cannot run kui");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn fails_with(self, code: i32, message: &str) -> Run {
        assert_eq!(self.code, code, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        assert!(
            self.stderr.contains(message),
            "expected {message:?} in stderr:\n{}",
            self.stderr
        );
        self
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn small_fixture() -> PathBuf {
    workspace_root().join("fixtures/small.ndjson")
}

/// A fresh data directory with the committed small fixture imported.
pub fn small_data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = small_fixture();
    let fixture = fixture.to_str().expect("path");
    kui(&dir.path().join("data"), &["import", fixture]).ok();
    dir
}
