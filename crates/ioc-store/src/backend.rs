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

/// `url` with the password of its user-info part replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
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
}
