//! A PostgreSQL location made into a connection as libpq makes one, for what the driver does
//! not do itself (it reads no environment variable and no file):
//!
//! * the user: the location's, else `PGUSER`, else the user running the process;
//! * the password: the location's, else `PGPASSWORD`, else the password file
//!   ([`crate::pgpass`]: `passfile`, `PGPASSFILE`, `~/.pgpass`);
//! * TLS: `sslmode` (`PGSSLMODE`; `prefer` when neither is given) and `sslrootcert`
//!   (`PGSSLROOTCERT`; `~/.postgresql/root.crt` when it exists, `system` for the system's
//!   roots), taken out of the location before the driver reads the rest.
//!
//! `sslmode`: `disable` never uses TLS; `allow` and `prefer` use it when the server offers it
//! (the driver's `prefer`: a server without TLS gets a plain connection, a failed handshake is
//! an error, not a retry in plain text); `require` always uses it; `verify-ca` also checks the
//! server's certificate against the root certificate; `verify-full` also checks that the
//! certificate names the host. As in libpq, with a root certificate file present `prefer` and
//! `require` check the certificate as `verify-ca` does, and `sslrootcert=system` takes
//! `verify-full` only.

use std::path::{Path, PathBuf};

use openssl::error::ErrorStack;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;
use postgres::config::{Host, SslMode as DriverMode};
use postgres::{Client, Config};
use postgres_openssl::MakeTlsConnector;

use crate::StoreError;
use crate::pg::reason;
use crate::pgpass::{self, Lookup, Target};
use crate::types::percent_decode;

/// An environment variable, none when unset or empty.
type Var<'a> = &'a dyn Fn(&str) -> Option<String>;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(StoreError::Input(format!(
                    "sslmode `{s}` is none of disable, allow, prefer, require, verify-ca, verify-full"
                )));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// The parameters of a location the driver does not read (the last of each key; an empty
/// value is none).
#[derive(Debug, Default, PartialEq, Eq)]
struct Own {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    passfile: Option<String>,
}

impl Own {
    /// Keeps the value when the key is one of these; returns whether it is.
    fn take(&mut self, key: &str, value: String) -> bool {
        let slot = match key {
            "sslmode" => &mut self.sslmode,
            "sslrootcert" => &mut self.sslrootcert,
            "passfile" => &mut self.passfile,
            _ => return false,
        };
        *slot = Some(value).filter(|v| !v.is_empty());
        true
    }
}

/// A connection string (a URL, or a key=value string) without the parameters of [`Own`], and
/// those.
fn take_own(conninfo: &str) -> (String, Own) {
    let mut own = Own::default();
    if conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://") {
        // As the driver reads a URL: the user and password up to the first `@`, the query
        // from the first `?` after it.
        let from = conninfo.find('@').map_or(0, |i| i + 1);
        let Some(q) = conninfo[from..].find('?').map(|i| from + i) else { return (conninfo.to_string(), own) };
        let kept: Vec<&str> = conninfo[q + 1..]
            .split('&')
            .filter(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                !own.take(&percent_decode(k), percent_decode(v))
            })
            .collect();
        let mut out = conninfo[..q].to_string();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
        return (out, own);
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut rest = conninfo;
    while let Some((key, value, after)) = kv_param(rest) {
        let text = rest.get(..rest.len() - after.len()).unwrap_or_default();
        if !own.take(key, value) {
            kept.push(text.trim_start());
        }
        rest = after;
    }
    if !rest.trim().is_empty() {
        // Not well formed: the driver says why.
        kept.push(rest.trim_start());
    }
    (kept.join(" "), own)
}

/// The first `key = value` of a key=value string: the key, the value (unquoted and
/// unescaped) and what follows it; none at the end or where the string is not well formed.
fn kv_param(s: &str) -> Option<(&str, String, &str)> {
    let s = s.trim_start();
    let (key, rest) = s.split_at(s.find(|c: char| c.is_whitespace() || c == '=')?);
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    if key.is_empty() {
        return None;
    }
    let (quoted, body) = rest.strip_prefix('\'').map_or((false, rest), |b| (true, b));
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.extend(chars.next().map(|(_, n)| n)),
            '\'' if quoted => return Some((key, value, body.get(i + 1..).unwrap_or_default())),
            c if !quoted && c.is_whitespace() => return Some((key, value, body.get(i..).unwrap_or_default())),
            c => value.push(c),
        }
    }
    (!quoted).then_some((key, value, ""))
}

/// Connects to a location (a URL, or the key=value string after `postgres:`); `shown` is the
/// location as it may be shown. The passwords it takes from the environment or the password
/// file are added to `secrets`.
///
/// # Errors
/// [`StoreError::Input`] for an `sslmode` or `sslrootcert` that cannot be used;
/// [`StoreError::Database`] when the location does not parse or the connection fails, with
/// the driver's reason (a TLS handshake or certificate failure, a password refused, ...).
pub(crate) fn connect(conninfo: &str, shown: &str, secrets: &mut Vec<String>) -> Result<Client, StoreError> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let context = || format!("connecting to the store {shown}");
    let (rest, own) = take_own(conninfo);
    let mut config: Config = rest.parse().map_err(|e| StoreError::db(context(), reason(&e, secrets)))?;
    let note = credentials(&mut config, &own, &var, secrets);
    let tls = tls(&mut config, &own, &var)?;
    config.connect(tls).map_err(|e| {
        let mut why = reason(&e, secrets);
        if config.get_password().is_none() && why.contains("password missing") {
            why.push_str(
                "; the server asks for a password: give it in the location, in PGPASSWORD or in the password \
                 file (PGPASSFILE, ~/.pgpass)",
            );
        }
        if let Some(note) = note {
            why.push_str(&format!("; {note}"));
        }
        StoreError::db(context(), why)
    })
}

/// Completes the user and the password of `config` as libpq would; returns why the password
/// file was ignored, if it was.
fn credentials(config: &mut Config, own: &Own, var: Var<'_>, secrets: &mut Vec<String>) -> Option<String> {
    if config.get_user().is_none()
        && let Some(user) = var("PGUSER").or_else(|| whoami::username().ok())
    {
        config.user(&user);
    }
    if config.get_password().is_some() {
        return None;
    }
    let password = match var("PGPASSWORD") {
        Some(p) => p,
        None => {
            let path = pgpass::path(own.passfile.as_deref(), var)?;
            let user = config.get_user().unwrap_or_default();
            let host = match (config.get_hosts().first(), config.get_hostaddrs().first()) {
                (Some(Host::Tcp(h)), _) => h.clone(),
                (None, Some(addr)) => addr.to_string(),
                _ => "localhost".to_string(),
            };
            let target = Target {
                host: &host,
                port: config.get_ports().first().copied().unwrap_or(5432),
                dbname: config.get_dbname().unwrap_or(user),
                user,
            };
            match pgpass::lookup(&path, &target) {
                Lookup::Found(p) => p,
                Lookup::NotFound => return None,
                Lookup::Ignored(why) => return Some(why),
            }
        }
    };
    secrets.push(password.clone());
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    config.password(password);
    None
}

/// Where the root certificates are.
enum Root {
    File(PathBuf),
    System,
}

/// Sets the driver's TLS mode; returns the connector that checks what `sslmode` asks.
fn tls(config: &mut Config, own: &Own, var: Var<'_>) -> Result<MakeTlsConnector, StoreError> {
    let given = own.sslmode.clone().or_else(|| var("PGSSLMODE"));
    let rootcert = own.sslrootcert.clone().or_else(|| var("PGSSLROOTCERT"));
    let system = rootcert.as_deref() == Some("system");
    let mode = match given {
        Some(m) => SslMode::parse(&m)?,
        None if system => SslMode::VerifyFull,
        None => SslMode::Prefer,
    };
    let root = if system {
        if mode != SslMode::VerifyFull {
            return Err(StoreError::Input(format!(
                "sslmode {} cannot be used with sslrootcert=system: the system's root certificates are \
                 only trusted with sslmode=verify-full",
                mode.name()
            )));
        }
        Some(Root::System)
    } else {
        let path = rootcert
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| Path::new(&h).join(".postgresql").join("root.crt")));
        match path {
            Some(p) if p.exists() => Some(Root::File(p)),
            p if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) => {
                let what = p.map_or_else(
                    || "no root certificate file is given".to_string(),
                    |p| format!("the root certificate file {} does not exist", p.display()),
                );
                return Err(StoreError::Input(format!(
                    "sslmode {} checks the server's certificate but {what}: give the CA's certificate \
                     with sslrootcert=FILE (or PGSSLROOTCERT), or sslrootcert=system",
                    mode.name()
                )));
            }
            _ => None,
        }
    };
    config.ssl_mode(match mode {
        SslMode::Disable => DriverMode::Disable,
        SslMode::Allow | SslMode::Prefer => DriverMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverMode::Require,
    });
    connector(root.as_ref(), mode == SslMode::VerifyFull)
}

/// A TLS connector that trusts `root` (checks no certificate without one) and checks the host
/// name when `full`.
fn connector(root: Option<&Root>, full: bool) -> Result<MakeTlsConnector, StoreError> {
    let setup = |e: ErrorStack| StoreError::db("setting up TLS", e);
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(setup)?;
    match root {
        Some(Root::File(path)) => {
            let shown = path.display();
            let pem = std::fs::read(path)
                .map_err(|e| StoreError::Input(format!("the root certificate file {shown} cannot be read: {e}")))?;
            let certs = X509::stack_from_pem(&pem).ok().filter(|c| !c.is_empty()).ok_or_else(|| {
                StoreError::Input(format!("the root certificate file {shown} holds no PEM certificate"))
            })?;
            // Only these: not the system's roots the connector starts with.
            let mut store = X509StoreBuilder::new().map_err(setup)?;
            for cert in certs {
                store.add_cert(cert).map_err(setup)?;
            }
            builder.set_cert_store(store.build());
        }
        Some(Root::System) => {}
        None => builder.set_verify(SslVerifyMode::NONE),
    }
    let mut tls = MakeTlsConnector::new(builder.build());
    tls.set_callback(move |c, _| {
        c.set_verify_hostname(full);
        Ok(())
    });
    Ok(tls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(sslmode: Option<&str>, sslrootcert: Option<&str>, passfile: Option<&str>) -> Own {
        let s = |v: Option<&str>| v.map(str::to_string);
        Own { sslmode: s(sslmode), sslrootcert: s(sslrootcert), passfile: s(passfile) }
    }

    #[test]
    fn the_parameters_the_driver_does_not_read_are_taken_out() {
        let cases = [
            ("postgres://u:p@db1/crm", "postgres://u:p@db1/crm", own(None, None, None)),
            ("postgres://u@db1/crm?sslmode=verify-full", "postgres://u@db1/crm", own(Some("verify-full"), None, None)),
            (
                "postgresql://u:p?x@db1:5433/crm?application_name=a&sslrootcert=%2Fetc%2Fca.pem&sslmode=require&passfile=/p",
                "postgresql://u:p?x@db1:5433/crm?application_name=a",
                own(Some("require"), Some("/etc/ca.pem"), Some("/p")),
            ),
            ("postgres://db1/crm?sslmode=", "postgres://db1/crm", own(None, None, None)),
            (
                "host=db1 sslmode = verify-ca  dbname=crm sslrootcert='/etc/my ca.pem' password='a b\\'c'",
                "host=db1 dbname=crm password='a b\\'c'",
                own(Some("verify-ca"), Some("/etc/my ca.pem"), None),
            ),
            ("host=db1 sslmode=prefer sslmode=disable", "host=db1", own(Some("disable"), None, None)),
            ("host=db1 passfile=/a\\ b", "host=db1", own(None, None, Some("/a b"))),
            (
                "host=db1 sslmode=require dbname='unterminated",
                "host=db1 dbname='unterminated",
                own(Some("require"), None, None),
            ),
            ("host=db1 junk", "host=db1 junk", own(None, None, None)),
        ];
        for (given, rest, want) in cases {
            assert_eq!(take_own(given), (rest.to_string(), want), "{given}");
        }
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn the_password_is_the_locations_then_pgpassword_then_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "db1:5432:crm:batch:from-file\n*:*:*:*:any\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let passfile = own(None, None, file.to_str());
        let password = |location: &str, vars: &'static [(&'static str, &'static str)]| {
            let mut config: Config = location.parse().unwrap();
            let mut secrets = Vec::new();
            assert_eq!(credentials(&mut config, &passfile, &env(vars), &mut secrets), None);
            let p = config.get_password().map(|p| String::from_utf8(p.to_vec()).unwrap());
            // A password from outside the location is a secret (the location's are already).
            assert!(secrets.is_empty() || secrets == p.iter().cloned().collect::<Vec<_>>(), "{secrets:?}");
            (config.get_user().map(str::to_string), p)
        };
        let some = |s: &str| Some(s.to_string());
        let pgpassword = &[("PGPASSWORD", "from-env")];
        assert_eq!(password("postgres://batch:given@db1/crm", pgpassword), (some("batch"), some("given")));
        assert_eq!(password("postgres://batch@db1/crm", pgpassword), (some("batch"), some("from-env")));
        assert_eq!(password("postgres://batch@db1/crm", &[]), (some("batch"), some("from-file")));
        assert_eq!(password("postgres://db1/crm", &[("PGUSER", "batch")]), (some("batch"), some("from-file")));
        assert_eq!(password("host=db1 port=5433 dbname=crm user=batch", &[]), (some("batch"), some("any")));
    }

    #[test]
    fn sslmode_and_sslrootcert_are_checked_before_connecting() {
        let mut config = Config::new();
        let err = |o: Own, vars: &'static [(&'static str, &'static str)], config: &mut Config| {
            tls(config, &o, &env(vars)).err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(err(own(Some("verify"), None, None), &[], &mut config).contains("sslmode `verify` is none of"));
        assert!(err(own(None, None, None), &[("PGSSLMODE", "Require")], &mut config).contains("`Require`"));
        let e = err(own(Some("verify-full"), Some("/nonexistent/ca.pem"), None), &[], &mut config);
        assert!(e.contains("/nonexistent/ca.pem does not exist"), "{e}");
        let e = err(own(Some("verify-ca"), None, None), &[("HOME", "/nonexistent")], &mut config);
        assert!(e.contains("/nonexistent/.postgresql/root.crt"), "{e}");
        let e = err(own(Some("require"), Some("system"), None), &[], &mut config);
        assert!(e.contains("only trusted with sslmode=verify-full"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate\n").unwrap();
        let o = own(Some("verify-ca"), empty.to_str(), None);
        assert!(tls(&mut config, &o, &env(&[])).err().is_some_and(|e| e.to_string().contains("holds no PEM")));
        for (o, vars, mode) in [
            (own(None, None, None), &[][..], DriverMode::Prefer),
            (own(Some("disable"), None, None), &[("PGSSLMODE", "require")][..], DriverMode::Disable),
            (own(None, None, None), &[("PGSSLMODE", "require")][..], DriverMode::Require),
            (own(Some("allow"), None, None), &[][..], DriverMode::Prefer),
            (own(None, Some("system"), None), &[][..], DriverMode::Require),
            (own(Some("require"), Some("/nonexistent/ca.pem"), None), &[][..], DriverMode::Require),
        ] {
            let vars: &'static [(&'static str, &'static str)] = vars;
            assert!(tls(&mut config, &o, &env(vars)).is_ok(), "{o:?}");
            assert_eq!(config.get_ssl_mode(), mode, "{o:?}");
        }
    }
}
