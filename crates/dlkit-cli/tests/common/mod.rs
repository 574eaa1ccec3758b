//! What the end-to-end tests share: the `dlkit` binary under test, the repository's root,
//! and runs that must succeed or exit 2 (bad input) without a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `dlkit` binary of this build, without `RUST_BACKTRACE` (messages are compared whole).
pub fn dlkit() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dlkit"));
    c.env_remove("RUST_BACKTRACE");
    c
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `cmd`, which must not panic, whatever its exit status.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("dlkit runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "dlkit panicked:\n{stderr}");
    out
}

/// Runs `cmd`, which must succeed; returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "dlkit failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `cmd`, which must exit 2; returns stderr.
pub fn bad_input(cmd: &mut Command) -> String {
    let out = run(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit 2:\n{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}
