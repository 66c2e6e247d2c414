//! The two backends behind one connection type, and the URL that chooses
//! between them. diesel's derived `establish` tries each backend in turn and
//! lets SQLite accept any string as a file name (STACK.md §5.1), so ioc
//! dispatches on the URL scheme itself and never guesses.

use std::fmt;
use std::path::PathBuf;

use diesel::{Connection, PgConnection, SqliteConnection};

use crate::StoreError;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL, the production store.
    Postgresql(PgConnection),
    /// SQLite, the embedded store.
    Sqlite(SqliteConnection),
}

/// Which database engine a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// A parsed database URL: `postgres://…`, `postgresql://…`, or
/// `sqlite://PATH` (relative to the working directory; `sqlite://:memory:`
/// for a private in-memory database).
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A PostgreSQL connection URL, as libpq takes it.
    Postgres(String),
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A private in-memory SQLite database.
    SqliteMemory,
}

impl DatabaseUrl {
    /// Parses `raw`; any scheme other than the three above is refused.
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidUrl {
            url: redact(raw),
            reason: reason.to_owned(),
        };
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            return match path {
                "" => Err(invalid("no file path after sqlite://")),
                ":memory:" => Ok(DatabaseUrl::SqliteMemory),
                path => Ok(DatabaseUrl::Sqlite(PathBuf::from(path))),
            };
        }
        Err(invalid(
            "expected postgres://USER@HOST:PORT/DB, postgresql://…, or sqlite://PATH",
        ))
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) | DatabaseUrl::SqliteMemory => Backend::Sqlite,
        }
    }

    /// Opens one connection of the backend the URL names, reporting the
    /// driver's own error.
    pub fn connect(&self) -> Result<AnyConnection, StoreError> {
        let fail = |cause| StoreError::Connect {
            database: self.to_string(),
            cause,
        };
        match self {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(AnyConnection::Postgresql)
                .map_err(fail),
            DatabaseUrl::Sqlite(path) => {
                let Some(path_text) = path.to_str() else {
                    return Err(fail(diesel::ConnectionError::InvalidConnectionUrl(
                        "the SQLite path is not valid UTF-8".to_owned(),
                    )));
                };
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        fail(diesel::ConnectionError::BadConnection(format!(
                            "cannot create directory {}: {e}",
                            dir.display()
                        )))
                    })?;
                }
                SqliteConnection::establish(path_text)
                    .map(AnyConnection::Sqlite)
                    .map_err(fail)
            }
            DatabaseUrl::SqliteMemory => SqliteConnection::establish(":memory:")
                .map(AnyConnection::Sqlite)
                .map_err(fail),
        }
    }
}

impl DatabaseUrl {
    /// The URL as it is configured, with every password hidden.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Postgres(url) => redact(url),
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::SqliteMemory => "sqlite://:memory:".to_owned(),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(url) => write!(f, "PostgreSQL database {}", redact(url)),
            DatabaseUrl::Sqlite(path) => write!(f, "SQLite database {}", path.display()),
            DatabaseUrl::SqliteMemory => f.write_str("in-memory SQLite database"),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `url` with every password hidden: the user-info's (up to the last `@`,
/// since a password may hold an unencoded `/` or `?`), any query parameter
/// whose name holds `password`, and, in a libpq `key=value` string that is
/// no URL at all, the value of any such key.
fn redact(url: &str) -> String {
    let scheme_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    };
    let Some((scheme, rest)) = url.split_once("://").filter(|(s, _)| scheme_ok(s)) else {
        return redact_conninfo(url);
    };
    let rest = match rest.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split_once(':').map_or(user_info, |(u, _)| u);
            format!("{user}:***@{host}")
        }
        _ => rest.to_owned(),
    };
    let Some((path, query)) = rest.split_once('?') else {
        return format!("{scheme}://{rest}");
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _))
                if ioc_core::text::percent_decoded(key)
                    .to_ascii_lowercase()
                    .contains("password") =>
            {
                format!("{key}=***")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{scheme}://{path}?{}", query.join("&"))
}

/// A libpq `key=value …` string with the value of every key holding
/// `password` (quoted or not) replaced by `***`.
fn redact_conninfo(conninfo: &str) -> String {
    let mut out = String::with_capacity(conninfo.len());
    let mut rest = conninfo;
    while let Some(eq) = rest.find('=') {
        let (key_part, after) = rest.split_at(eq);
        let after = &after[1..];
        out.push_str(key_part);
        out.push('=');
        let key = key_part
            .trim_end()
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("");
        let value_start = after.len() - after.trim_start().len();
        let value = &after[value_start..];
        let value_len = if let Some(quoted) = value.strip_prefix('\'') {
            let mut escaped = false;
            quoted
                .char_indices()
                .find(|(_, c)| {
                    let end = *c == '\'' && !escaped;
                    escaped = *c == '\\' && !escaped;
                    end
                })
                .map_or(value.len(), |(i, _)| i + 2)
        } else {
            // An unquoted value ends at the first whitespace not escaped by `\`.
            let mut escaped = false;
            value
                .char_indices()
                .find(|(_, c)| {
                    let end = c.is_whitespace() && !escaped;
                    escaped = *c == '\\' && !escaped;
                    end
                })
                .map_or(value.len(), |(i, _)| i)
        };
        out.push_str(&after[..value_start]);
        if key.to_ascii_lowercase().contains("password") {
            out.push_str("***");
        } else {
            out.push_str(&value[..value_len]);
        }
        rest = &value[value_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_choose_the_backend() {
        let pg = DatabaseUrl::parse("postgres://ioc@127.0.0.1/ioc").expect("url");
        assert_eq!(pg.backend(), Backend::Postgres);
        let lite = DatabaseUrl::parse("sqlite://data/ioc.sqlite3").expect("url");
        assert_eq!(lite, DatabaseUrl::Sqlite(PathBuf::from("data/ioc.sqlite3")));
        assert_eq!(
            DatabaseUrl::parse("sqlite://:memory:").expect("url"),
            DatabaseUrl::SqliteMemory
        );
    }

    #[test]
    fn unknown_schemes_and_conninfo_strings_are_refused() {
        for raw in [
            "host=127.0.0.1 port=1 dbname=x",
            "mysql://root@localhost/x",
            "data/ioc.sqlite3",
            "sqlite://",
        ] {
            let err = DatabaseUrl::parse(raw).unwrap_err();
            assert!(matches!(err, StoreError::InvalidUrl { .. }), "{raw}: {err}");
        }
    }

    #[test]
    fn passwords_never_show() {
        let url =
            DatabaseUrl::parse("postgres://ioc:s3cret@db:5432/ioc?sslmode=require").expect("url");
        let shown = url.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("ioc:***@db:5432/ioc"), "{shown}");
        let err = DatabaseUrl::parse("mysql://root:pw@h/x")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("pw@"), "{err}");
    }

    #[test]
    fn passwords_in_queries_odd_places_and_conninfo_strings_never_show() {
        for raw in [
            "postgres://ioc@db/ioc?sslmode=require&password=s3cret",
            "postgres://ioc@db/ioc?PASSWORD=s3cret",
            "postgres://ioc:s3/cret@db/ioc",
            "postgres://ioc:s3?cret@db:5432/ioc",
            "postgresql://ioc:s3cr@t@db/ioc",
            "postgres://ioc@db/ioc?pass%77ord=s3cret",
        ] {
            let shown = DatabaseUrl::parse(raw).expect("url").to_string();
            assert!(!shown.contains("s3"), "{raw} shown as {shown}");
            assert!(shown.contains("db"), "{shown}");
        }
        for raw in [
            "host=db password=s3cret dbname=ioc",
            "host=db password = 's3 cret' dbname=ioc",
            "host=db sslpassword=s3cret",
            "host=db password=pa://s3 dbname=ioc",
            "host=db password=ab\\ s3 dbname=ioc",
        ] {
            let err = DatabaseUrl::parse(raw).unwrap_err().to_string();
            assert!(!err.contains("s3"), "{raw}: {err}");
            assert!(err.contains("host=db"), "{err}");
        }
    }
}
