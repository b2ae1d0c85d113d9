//! The commands `crm-tiering demo` prints work as printed, pasted into a shell: with the binary
//! not on PATH (as after `cargo build` or `cargo run`) they name its full path; with it on PATH
//! as `crm-tiering` (as after `cargo install`) they name `crm-tiering`. Paths with spaces are
//! quoted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_crm-tiering");

/// A command run with a given PATH in a given directory.
fn with_path(cmd: &mut Command, path: &str, cwd: &Path) -> Output {
    cmd.env("PATH", path).current_dir(cwd).output().expect("runs")
}

/// The demo's printed commands: the indented lines after "the same run by hand".
fn printed_commands(stdout: &str) -> Vec<String> {
    let after = stdout.split("the same run by hand").nth(1).unwrap_or_else(|| panic!("no commands in {stdout}"));
    after.lines().filter(|l| l.starts_with("  ")).map(|l| l.trim().to_string()).collect()
}

/// Runs the demo with `path` as PATH, then every command it printed through `sh -c`, each in
/// a fresh directory with the same PATH; returns the commands.
fn demo_then_commands(dir: &Path, path: &str) -> Vec<String> {
    let out = dir.join("my demo");
    let demo = [BIN, "demo", "--out", out.to_str().unwrap(), "--customers", "300", "--months", "2"];
    let o = with_path(Command::new(demo[0]).args(&demo[1..]), path, dir);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&o.stderr));
    let commands = printed_commands(&text);
    assert!((5..=6).contains(&commands.len()), "run, history, export (explain), two loan months: {text}");
    assert!(commands.iter().filter(|c| c.contains(" loans --month ")).count() == 2, "{text}");
    for (k, command) in commands.iter().enumerate() {
        let cwd = dir.join(format!("paste-{k}"));
        std::fs::create_dir(&cwd).unwrap();
        let o = with_path(Command::new("/bin/sh").args(["-c", command]), path, &cwd);
        assert_eq!(
            o.status.code(),
            Some(0),
            "printed command failed: {command}\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(dir.join("paste-0/NEW.db").exists(), "the run by hand made its store");
    assert!(out.join("export").is_dir(), "the export wrote its files");
    commands
}

#[test]
fn printed_commands_name_the_binary_by_its_path_when_not_on_path() {
    let dir = tempfile::tempdir().unwrap();
    let commands = demo_then_commands(dir.path(), "/usr/bin:/bin");
    let shown = Path::new(BIN).canonicalize().unwrap();
    for command in &commands {
        assert!(!command.starts_with("crm-tiering "), "{command}");
        assert!(command.contains("/my demo/"), "each command names the demo's directory: {command}");
        assert!(command.contains(" '/"), "a path with a space is quoted: {command}");
    }
    // The binary Cargo built, by its full path.
    assert!(commands[0].starts_with(&format!("{} run --month ", shown.display())), "{}", commands[0]);
}

#[test]
fn printed_commands_name_crm_tiering_when_it_is_on_path() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("crm-tiering")).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let commands = demo_then_commands(dir.path(), &path);
    for command in &commands {
        assert!(command.starts_with("crm-tiering "), "{command}");
    }
}
