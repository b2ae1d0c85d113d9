//! The PostgreSQL password file as libpq reads it: the `passfile` parameter, else
//! `PGPASSFILE`, else `~/.pgpass`; lines `hostname:port:database:username:password`, `*` for
//! any value in the first four fields, `\:` and `\\` for a colon and a backslash, `#` for a
//! comment; the first line that matches gives the password. A file that the group or others
//! may read or write is ignored (libpq warns on its standard error; this library prints
//! nothing and says so in the error when the connection then fails for want of a password).

use std::path::{Path, PathBuf};

/// What a password is looked up for: the connection's first host (`localhost` for a Unix
/// socket or no host), its port, database and user.
pub(crate) struct Target<'a> {
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) dbname: &'a str,
    pub(crate) user: &'a str,
}

/// What the password file gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The password of the first matching line.
    Found(String),
    /// No file, or no line matches.
    NotFound,
    /// The file is there but was not read: why, for the connection's error.
    Ignored(String),
}

/// The password file's path: the `passfile` parameter, else `PGPASSFILE`, else `.pgpass` in
/// the home directory (`HOME`); none without any of them.
pub(crate) fn path(param: Option<&str>, var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    match param {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => var("PGPASSFILE").map(PathBuf::from).or_else(|| var("HOME").map(|h| Path::new(&h).join(".pgpass"))),
    }
}

/// The password for `target` in the file at `path`.
pub(crate) fn lookup(path: &Path, target: &Target<'_>) -> Lookup {
    let Ok(meta) = std::fs::metadata(path) else { return Lookup::NotFound };
    if !meta.is_file() {
        return Lookup::Ignored(format!("the password file {} is not a plain file", path.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Lookup::Ignored(format!(
                "the password file {} was ignored: the group or others may read it (chmod 0600 it)",
                path.display()
            ));
        }
    }
    match std::fs::read_to_string(path) {
        Ok(text) => find(&text, target).map_or(Lookup::NotFound, Lookup::Found),
        Err(e) => Lookup::Ignored(format!("the password file {} cannot be read ({e})", path.display())),
    }
}

/// The password of the first line of `text` that matches `target`.
pub(crate) fn find(text: &str, target: &Target<'_>) -> Option<String> {
    let port = target.port.to_string();
    let wanted = [target.host, port.as_str(), target.dbname, target.user];
    text.lines().find_map(|line| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') {
            return None;
        }
        let (fields, password) = split(line)?;
        let matches = fields.iter().zip(wanted).all(|((raw, value), want)| *raw == "*" || value == want);
        (matches && !password.is_empty()).then_some(password)
    })
}

/// A line's four fields (as written, and unescaped) and its password; none for a line with
/// fewer than five fields.
fn split(line: &str) -> Option<([(&str, String); 4], String)> {
    let mut fields: [(&str, String); 4] = Default::default();
    let mut rest = line;
    for field in &mut fields {
        let (raw, value, after) = field_of(rest);
        *field = (raw, value);
        rest = after?;
    }
    Some((fields, field_of(rest).1))
}

/// The first field of `s` (as written, and unescaped) and what follows its colon (none when
/// it ends the line).
fn field_of(s: &str) -> (&str, String, Option<&str>) {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    value.push(next);
                }
            }
            ':' => return (&s[..i], value, Some(&s[i + 1..])),
            _ => value.push(c),
        }
    }
    (s, value, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target<'static> {
        Target { host: "db1", port: 5432, dbname: "crm", user: "batch" }
    }

    #[test]
    fn the_first_matching_line_wins_with_wildcards_and_escapes() {
        let text = "# a comment\n\
                    db2:5432:crm:batch:not-this-host\n\
                    db1:5433:crm:batch:not-this-port\n\
                    db1:5432:crm:other:not-this-user\n\
                    db1:*:crm:batch:p\\:ss\\\\word\n\
                    *:*:*:*:too-late\n";
        assert_eq!(find(text, &target()), Some("p:ss\\word".to_string()));
        assert_eq!(find("*:*:*:*:any\r\n", &target()), Some("any".to_string()));
        assert_eq!(find("db1:5432:crm:batch\n", &target()), None, "four fields are no line");
        assert_eq!(find("db1:5432:crm:batch:\n", &target()), None, "an empty password");
        assert_eq!(find("\\*:5432:crm:batch:literal\n", &target()), None, "an escaped star is a star");
        let star = Target { host: "*", ..target() };
        assert_eq!(find("\\*:5432:crm:batch:literal\n", &star), Some("literal".to_string()));
        let colon = Target { user: "a:b", ..target() };
        assert_eq!(find("db1:5432:crm:a\\:b:pw:with:colons\n", &colon), Some("pw".to_string()));
    }

    #[test]
    fn the_path_is_the_parameter_then_pgpassfile_then_home() {
        let env = |k: &str| match k {
            "PGPASSFILE" => Some("/etc/crm/pgpass".to_string()),
            "HOME" => Some("/home/batch".to_string()),
            _ => None,
        };
        let home_only = |k: &str| if k == "HOME" { Some("/home/batch".to_string()) } else { None };
        assert_eq!(path(Some("/p"), &env), Some(PathBuf::from("/p")));
        assert_eq!(path(None, &env), Some(PathBuf::from("/etc/crm/pgpass")));
        assert_eq!(path(None, &home_only), Some(PathBuf::from("/home/batch/.pgpass")));
        assert_eq!(path(None, &|_| None), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_may_read_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgpass");
        std::fs::write(&f, "*:*:*:*:secret\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&f, &target()), Lookup::Found("secret".to_string()));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let Lookup::Ignored(why) = lookup(&f, &target()) else { panic!("read") };
        assert!(why.contains("chmod 0600") && !why.contains("secret"), "{why}");
        assert_eq!(lookup(&dir.path().join("none"), &target()), Lookup::NotFound);
        assert!(matches!(lookup(dir.path(), &target()), Lookup::Ignored(_)));
    }
}
