//! Connections to the three databases realitycheck speaks to, through sqlx's `Any` driver, and
//! the SQL text that differs between them (quoting, casts, types, read-only sessions).
//!
//! Dynamic SQL is only ever built from names that passed [`quote`] (letters, digits and `_`)
//! and from numbers; values travel as bound parameters. That is what makes each
//! `AssertSqlSafe` below true.

use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, AssertSqlSafe, ConnectOptions, Connection, Executor};

use crate::spec::{ColumnType, LogicalType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    MySql,
}

impl Dialect {
    pub fn of(url: &str) -> anyhow::Result<Dialect> {
        let scheme = url.split(':').next().unwrap_or("");
        Ok(match scheme {
            "sqlite" => Dialect::Sqlite,
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::MySql,
            _ => bail!(
                "unsupported source `{}`: expected a URL starting with sqlite://, postgres:// or mysql://",
                redact_url(url)
            ),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }

    /// A column as text, whatever its type, with raw bytes kept where the database allows
    /// invalid text (SQLite), so encoding anomalies can be measured before masking. `db_type`
    /// (as introspected) matters on MySQL/MariaDB: binary columns are read as their bytes (a
    /// cast to a character set would fail on bytes that are not text), `BIT` as its number, the
    /// rest cast to the connection's character set (so a latin1 column arrives as proper text).
    pub fn select_as_text(self, column: &str, db_type: &str) -> anyhow::Result<String> {
        let q = self.quote(column)?;
        let t = db_type.trim().to_ascii_lowercase();
        Ok(match self {
            Dialect::Sqlite => format!("CAST({q} AS BLOB)"),
            Dialect::Postgres => format!("{q}::text"),
            Dialect::MySql if t.starts_with("bit") => format!("CAST({q} + 0 AS CHAR)"),
            Dialect::MySql if t.contains("blob") || t.contains("binary") => {
                format!("CAST({q} AS BINARY)")
            }
            Dialect::MySql => format!("CAST({q} AS CHAR)"),
        })
    }

    /// Quotes any identifier the database allows (spaces, quotes, mixed case, non-ASCII): the
    /// quote character is doubled inside. Only an empty name, a NUL or more than 128
    /// characters is refused.
    pub fn quote(self, ident: &str) -> anyhow::Result<String> {
        if let Err(e) = crate::spec::db_identifier(ident) {
            bail!("refusing the identifier {ident:?}: {e}");
        }
        Ok(match self {
            Dialect::MySql => format!("`{}`", ident.replace('`', "``")),
            _ => format!("\"{}\"", ident.replace('"', "\"\"")),
        })
    }

    /// A table, in `schema` when one is given: `"sales"."orders"`.
    pub fn table(self, schema: Option<&str>, table: &str) -> anyhow::Result<String> {
        let t = self.quote(table)?;
        Ok(match schema {
            Some(s) => format!("{}.{t}", self.quote(s)?),
            None => t,
        })
    }

    /// The column type a generated column is created with: the engine's own type for each
    /// spec type, so reading it back (and `init`) sees what a real schema would hold.
    pub fn column_type(self, ct: ColumnType) -> String {
        use Dialect::*;
        use LogicalType as L;
        match (self, ct.logical) {
            (Postgres, L::Bool) => "BOOLEAN".into(),
            (MySql, L::Bool) => "TINYINT(1)".into(),
            (Sqlite, L::Bool) => "BOOLEAN".into(),
            (_, L::Int) => match ct.bits {
                8 if self == MySql => "TINYINT".into(),
                8 | 16 => "SMALLINT".into(),
                32 => "INTEGER".into(),
                _ => "BIGINT".into(),
            },
            (Sqlite, L::Float) => "REAL".into(),
            (Postgres, L::Float) => "DOUBLE PRECISION".into(),
            (MySql, L::Float) => "DOUBLE".into(),
            (_, L::Decimal) => format!("DECIMAL({}, {})", ct.precision, ct.scale),
            (_, L::Date) => "DATE".into(),
            (MySql, L::Timestamp | L::TimestampTz) => "DATETIME(6)".into(),
            (Postgres, L::TimestampTz) => "TIMESTAMPTZ".into(),
            (_, L::Timestamp | L::TimestampTz) => "TIMESTAMP".into(),
            (Postgres, L::Uuid) => "UUID".into(),
            (MySql, L::Uuid) => "CHAR(36)".into(),
            (MySql, L::Text) => "TEXT CHARACTER SET utf8mb4".into(),
            (_, L::Text | L::Uuid) => "TEXT".into(),
        }
    }
}

/// What to try next for a connection that failed, from the driver's message.
fn connection_hint(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("refused") {
        ": nothing listens there. Is the server running, and are the host and port right?"
    } else if m.contains("password authentication failed")
        || m.contains("access denied")
        || m.contains("authentication")
    {
        ": the server refused these credentials. Check the user and its password (never printed here)"
    } else if m.contains("does not exist") || m.contains("unknown database") {
        ": the server is up but has no such database. Check the database name in the URL"
    } else if m.contains("tls") || m.contains("ssl") || m.contains("certificate") {
        ": TLS failed. Check `sslmode` in the URL (require, verify-full) and the server's certificate"
    } else if m.contains("name or service not known") || m.contains("failed to lookup") {
        ": the host name does not resolve. Check the host in the URL"
    } else {
        ""
    }
}

/// A connection string with every secret removed (see [`crate::secret`]).
pub fn redact_url(url: &str) -> String {
    crate::secret::redact(url)
}

/// The file a `sqlite:` URL names, if it names one.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Opens one connection. With `read_only`, the session cannot write: SQLite opens the file
/// read-only and immutable (so not even a `-shm` or `-wal` file appears beside it) with
/// `query_only`; PostgreSQL and MySQL make every transaction read-only.
pub async fn connect(
    url: &str,
    read_only: bool,
    timeout_s: u64,
) -> anyhow::Result<(AnyConnection, Dialect)> {
    sqlx::any::install_default_drivers();
    let source = crate::secret::SourceUrl::new(url);
    let dialect = Dialect::of(url)?;
    let mut url = source.expose().to_string();
    if dialect == Dialect::Sqlite && !url.contains("mode=") {
        let file = sqlite_file(&url);
        if read_only && file.as_ref().is_some_and(|f| !f.exists()) {
            bail!(
                "the SQLite source {source} does not exist; check the path (relative paths are read \
                 from the working folder, then beside the spec)"
            );
        }
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(if read_only { "mode=ro" } else { "mode=rwc" });
        // `immutable` makes SQLite create nothing beside the file. A database with a live
        // write-ahead log needs that log read, so it is opened read-only without it.
        let wal = file.map(|f| {
            let mut w = f.into_os_string();
            w.push("-wal");
            std::path::PathBuf::from(w)
        });
        if read_only && !wal.is_some_and(|w| w.exists()) && !url.contains("immutable=") {
            url.push_str("&immutable=1");
        }
    }
    let opts: AnyConnectOptions = url
        .parse()
        .with_context(|| format!("parsing the source URL {source}"))?;
    let mut conn = within_30_s(&source, opts.connect()).await?;
    let setup: Vec<String> = match (dialect, read_only) {
        (Dialect::Sqlite, true) => vec!["PRAGMA query_only = 1".into()],
        (Dialect::Postgres, true) => postgres_read_only(timeout_s),
        (Dialect::MySql, true) => vec!["SET SESSION TRANSACTION READ ONLY".into()],
        (Dialect::MySql, false) => vec!["SET NAMES utf8mb4".into()],
        _ => vec![],
    };
    for s in setup {
        conn.execute(AssertSqlSafe(s.as_str()))
            .await
            .with_context(|| format!("preparing the session on {source}"))?;
    }
    if dialect == Dialect::MySql && read_only {
        // MariaDB and MySQL name the statement timeout differently; whichever exists is set.
        let mariadb = format!("SET SESSION max_statement_time = {timeout_s}");
        let mysql = format!("SET SESSION max_execution_time = {}", timeout_s * 1000);
        if conn.execute(AssertSqlSafe(mariadb.as_str())).await.is_err() {
            let _ = conn.execute(AssertSqlSafe(mysql.as_str())).await;
        }
    }
    Ok((conn, dialect))
}

/// A connection being opened, given 30 s; errors name the source with its secrets removed,
/// plus a hint at the usual cause.
async fn within_30_s<C>(
    source: &crate::secret::SourceUrl,
    connecting: impl std::future::Future<Output = Result<C, sqlx::Error>>,
) -> anyhow::Result<C> {
    tokio::time::timeout(Duration::from_secs(30), connecting)
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "timed out after 30 s connecting to {source}: is the server up and the host and port right?"
            )
        })?
        .map_err(|e| {
            let hint = connection_hint(&e.to_string());
            anyhow::Error::from(e).context(format!("connecting to {source}{hint}"))
        })
}

/// What makes a PostgreSQL session read-only and bounds each statement.
fn postgres_read_only(timeout_s: u64) -> Vec<String> {
    vec![
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY".into(),
        format!("SET statement_timeout = {}", timeout_s * 1000),
    ]
}

/// A second read-only session on a PostgreSQL source, on the native driver: rows are read
/// through it with `COPY (query) TO STDOUT`, which the generic driver cannot run. Set up as
/// [`connect`] sets up a read-only session.
pub async fn connect_copy(
    url: &str,
    timeout_s: u64,
) -> anyhow::Result<sqlx::postgres::PgConnection> {
    let source = crate::secret::SourceUrl::new(url);
    let opts: sqlx::postgres::PgConnectOptions = source
        .expose()
        .parse()
        .with_context(|| format!("parsing the source URL {source}"))?;
    let mut conn = within_30_s(&source, opts.connect()).await?;
    for s in postgres_read_only(timeout_s) {
        conn.execute(AssertSqlSafe(s.as_str()))
            .await
            .with_context(|| format!("preparing the session on {source}"))?;
    }
    Ok(conn)
}

/// Runs statements in one transaction.
pub async fn execute_all(conn: &mut AnyConnection, statements: &[String]) -> anyhow::Result<()> {
    let mut tx = conn.begin().await.context("starting a transaction")?;
    for s in statements {
        tx.execute(AssertSqlSafe(s.as_str()))
            .await
            .with_context(|| format!("running `{}`", truncate(s, 120)))?;
    }
    tx.commit().await.context("committing")?;
    Ok(())
}

pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://a.db"), "sqlite://a.db");
    }

    /// Any name is quoted with its quote character doubled, so it stays one identifier: an
    /// injection attempt becomes a strange table name, never SQL.
    #[test]
    fn identifiers_are_quoted_whole() {
        let q = |d: Dialect, s: &str| d.quote(s).unwrap_or_default();
        assert_eq!(
            q(Dialect::Postgres, "a\"; DROP TABLE x; --"),
            "\"a\"\"; DROP TABLE x; --\""
        );
        assert_eq!(q(Dialect::MySql, "a`; DROP TABLE x"), "`a``; DROP TABLE x`");
        assert_eq!(q(Dialect::MySql, "orders"), "`orders`");
        assert_eq!(q(Dialect::Sqlite, "Order Items"), "\"Order Items\"");
        assert!(Dialect::Postgres.quote("").is_err());
        assert!(Dialect::Postgres.quote("a\0b").is_err());
        assert_eq!(
            Dialect::Postgres
                .table(Some("Sales Dept"), "Refunds")
                .unwrap_or_default(),
            "\"Sales Dept\".\"Refunds\""
        );
    }
}
