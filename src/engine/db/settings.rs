//! Where to connect: a MySQL or PostgreSQL server, user and database, parsed from a URL or given
//! in parts. Owns the one rule about secrets: settings display themselves with the password
//! replaced by `***`, and URL parse errors never echo the URL.

use anyhow::{Context, Result, bail};
use url::Url;

/// A MySQL (or MariaDB) server and database.
#[derive(Clone)]
pub struct MysqlSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub database: String,
}

/// A PostgreSQL server and database.
#[derive(Clone)]
pub struct PgSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub database: String,
}

impl MysqlSettings {
    pub fn from_url(url: &str) -> Result<Self> {
        let parts = UrlParts::parse(url, "mysql", 3306)?;
        Ok(Self {
            host: parts.host,
            port: parts.port,
            user: parts.user.unwrap_or_else(|| "root".to_owned()),
            password: parts.password,
            database: parts
                .database
                .context("the URL names no database: add /DATABASE")?,
        })
    }

    /// The connection without its password, for output and logs.
    pub fn display(&self) -> String {
        display_url(
            "mysql",
            &self.user,
            self.password.is_some(),
            &self.host,
            self.port,
            &self.database,
        )
    }
}

impl PgSettings {
    pub fn from_url(url: &str, what: &str) -> Result<Self> {
        let parts = UrlParts::parse(url, "postgres", 5432).with_context(|| what.to_owned())?;
        let database = parts
            .database
            .with_context(|| format!("{what}: the URL names no database: add /DATABASE"))?;
        // PostgreSQL cuts a longer name to 63 bytes without a word: two names could meet.
        if database.len() > 63 {
            bail!(
                "{what}: the database name is {} bytes long; PostgreSQL keeps at most 63: \
                 choose a shorter name",
                database.len()
            );
        }
        Ok(Self {
            host: parts.host,
            port: parts.port,
            user: parts.user.unwrap_or_else(|| "postgres".to_owned()),
            password: parts.password,
            database,
        })
    }

    /// The same server, another database (used to create a missing rollup database).
    pub fn with_database(&self, database: &str) -> Self {
        Self {
            database: database.to_owned(),
            ..self.clone()
        }
    }

    /// The connection without its password, for output and logs.
    pub fn display(&self) -> String {
        display_url(
            "postgres",
            &self.user,
            self.password.is_some(),
            &self.host,
            self.port,
            &self.database,
        )
    }
}

// Debug must not leak the password either (anyhow contexts, dbg!, panics).
impl std::fmt::Debug for MysqlSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

fn display_url(
    scheme: &str,
    user: &str,
    has_password: bool,
    host: &str,
    port: u16,
    db: &str,
) -> String {
    let secret = if has_password { ":***" } else { "" };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    format!("{scheme}://{user}{secret}@{host}:{port}/{db}")
}

struct UrlParts {
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
}

impl UrlParts {
    /// Parses `scheme://user:password@host:port/database`. Errors describe the problem without
    /// repeating the URL, which may hold a password.
    fn parse(raw: &str, scheme: &str, default_port: u16) -> Result<Self> {
        let url = Url::parse(raw).map_err(|err| anyhow::anyhow!("not a valid URL: {err}"))?;
        let accepted: &[&str] = if scheme == "postgres" {
            &["postgres", "postgresql"]
        } else {
            &["mysql", "mariadb"]
        };
        if !accepted.contains(&url.scheme()) {
            bail!("URL scheme is {:?}, expected {scheme}://", url.scheme());
        }
        let host = match url.host() {
            Some(url::Host::Ipv6(addr)) => addr.to_string(),
            Some(host) => host.to_string(),
            None => bail!("the URL names no host"),
        };
        let decode = |s: &str| -> Result<String> {
            percent_decode(s).context("user or password is not valid percent-encoded UTF-8")
        };
        let user = Some(url.username())
            .filter(|u| !u.is_empty())
            .map(decode)
            .transpose()?;
        let password = url
            .password()
            .filter(|p| !p.is_empty())
            .map(decode)
            .transpose()?;
        let database = url.path().trim_start_matches('/');
        let database = if database.is_empty() {
            None
        } else {
            Some(decode(database)?)
        };
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            user,
            password,
            database,
        })
    }
}

fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_url_is_parsed_and_displayed_without_password() {
        let t = MysqlSettings::from_url("mysql://app:s%40cret@db:3307/movies").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str()),
            ("db", 3307, "app")
        );
        assert_eq!(t.password.as_deref(), Some("s@cret"));
        assert_eq!(t.display(), "mysql://app:***@db:3307/movies");
        assert!(!format!("{t:?}").contains("cret"));
    }

    #[test]
    fn bad_url_error_does_not_echo_the_password() {
        for url in [
            "mysql://u:hunter2@/x",
            "postgres://u:hunter2@h:99999/x",
            "http://u:hunter2@h/x",
        ] {
            let err = format!("{:#}", MysqlSettings::from_url(url).err().unwrap());
            assert!(!err.contains("hunter2"), "{err}");
            let err = format!(
                "{:#}",
                PgSettings::from_url(url, "ROLLUP_DATABASE_URL")
                    .err()
                    .unwrap()
            );
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn postgres_url_defaults() {
        let t = PgSettings::from_url("postgresql://127.0.0.1/rollup", "x").unwrap();
        assert_eq!(
            (t.port, t.user.as_str(), t.database.as_str()),
            (5432, "postgres", "rollup")
        );
        assert_eq!(t.display(), "postgres://postgres@127.0.0.1:5432/rollup");
        assert!(PgSettings::from_url("postgres://h:5432", "x").is_err());
    }
}
