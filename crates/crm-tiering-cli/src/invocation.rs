//! The commands the tool prints for a person to run (`demo`'s "the same run by hand", the
//! catch-up hint) work as printed: the program is named `crm-tiering` only when that name on
//! `PATH` is this very binary (after `cargo install --path crates/crm-tiering-cli`); otherwise
//! (`cargo run`, `target/release/crm-tiering`, another version on `PATH`) it is the full path of
//! the running binary. Every word is quoted for a POSIX shell when it needs to be.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The name the binary is installed under.
const NAME: &str = "crm-tiering";

/// The program as a person should type it: `crm-tiering`, or the running binary's full path.
pub(crate) fn program() -> String {
    let exe = std::env::current_exe().ok();
    let path = std::env::var_os("PATH");
    match exe {
        Some(exe) => program_for(&exe, path.as_deref()),
        None => NAME.to_string(),
    }
}

/// [`program`] for a given running binary and `PATH` value.
pub(crate) fn program_for(exe: &Path, path: Option<&OsStr>) -> String {
    let on_path = path.and_then(|p| std::env::split_paths(p).map(|dir| dir.join(NAME)).find(|c| is_executable(c)));
    match on_path {
        Some(found) if same_file(&found, exe) => NAME.to_string(),
        _ => shell_word(&exe.display().to_string()),
    }
}

/// Whether `path` is a file that may be executed.
fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Whether two paths name the same file (symbolic links resolved).
fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| -> Option<PathBuf> { std::fs::canonicalize(p).ok() };
    match (canonical(a), canonical(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// A word for a POSIX shell: as it is when it holds only characters no shell treats specially,
/// otherwise in single quotes (a `'` inside written `'\''`).
pub(crate) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c) || !c.is_ascii());
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

/// A path as a shell word.
pub(crate) fn shell_path(path: &Path) -> String {
    shell_word(&path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("/data/tiering/crm-tiering.db"), "/data/tiering/crm-tiering.db");
        assert_eq!(shell_word("/tmp/my demo/x.db"), "'/tmp/my demo/x.db'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("postgres://u@h:5432/db?sslmode=require"), "'postgres://u@h:5432/db?sslmode=require'");
        assert_eq!(shell_word("/数据/分层.db"), "/数据/分层.db");
        assert_eq!(shell_word(""), "''");
    }

    /// An executable file at `path` (its content does not matter: paths are compared).
    fn executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_name_only_when_path_finds_this_binary() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("my bin");
        let exe = bin.join(NAME);
        executable(&exe);
        let path = std::env::join_paths([dir.path().join("none"), bin.clone()]).unwrap();
        assert_eq!(program_for(&exe, Some(&path)), NAME);
        // A symbolic link on PATH to the running binary is the same binary.
        let linked = dir.path().join("linked");
        std::fs::create_dir(&linked).unwrap();
        std::os::unix::fs::symlink(&exe, linked.join(NAME)).unwrap();
        assert_eq!(program_for(&exe, Some(linked.as_os_str())), NAME);
        // Not on PATH, or another binary of that name first on PATH: the full path, quoted.
        let shown = format!("'{}'", exe.display());
        assert_eq!(program_for(&exe, None), shown);
        assert_eq!(program_for(&exe, Some(dir.path().as_os_str())), shown);
        let other = dir.path().join("other");
        executable(&other.join(NAME));
        let path = std::env::join_paths([other, bin]).unwrap();
        assert_eq!(program_for(&exe, Some(&path)), shown);
    }
}
