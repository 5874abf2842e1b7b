//! `realitycheck init`: drafts a spec from an existing database, for the team to review.
//!
//! Takes a source URL (read through the same read-only session as `extract`) and options; gives
//! the text of a spec that passes `check`: every table and column with its database name and
//! type, keys (declared, else the unique `id`-like column; composite ones too), references
//! (declared foreign keys, and ones the data suggests, marked for review), row counts and
//! children per parent, and a generator per column fitted from aggregates (see `fit`). Columns
//! that look personal are proposed as PII with a mask and a `# review` line saying why.
//!
//! It must never write a value seen fewer than `k` times, nor any value of a column it proposes
//! as PII: raw values live in memory here, column by column, and only k-safe aggregates leave.
//! Quirks it notices (anomalies, placeholders, rare values, orphans) become comments, never
//! generators: what the domain allows is the team's decision.

pub mod fit;
pub mod update;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use anyhow::{Context, bail};
use futures_util::TryStreamExt;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::db::{self, Dialect};
use crate::spec::LogicalType;
use fit::{ColumnFacts, toml_key};

/// What to draft and how much to read.
pub struct Options {
    pub url: String,
    /// Only these tables (all when empty).
    pub tables: Vec<String>,
    pub exclude: Vec<String>,
    /// Read at most this many rows of each table (all when `None`).
    pub sample: Option<u64>,
    /// Values seen fewer than `k` times are never written.
    pub k: u64,
    /// The domain's name in the draft.
    pub domain: String,
    /// The database schema to draft (PostgreSQL schema, MySQL database); `None`: the default.
    pub schema: Option<String>,
}

struct DbColumn {
    name: String,
    db_type: String,
    ty: LogicalType,
    decimal: Option<(u8, u8)>,
}

struct DbTable {
    name: String,
    columns: Vec<DbColumn>,
    rows: u64,
    primary_key: Vec<String>,
    /// Declared foreign keys: (column, parent table, parent column).
    foreign_keys: Vec<(String, String, String)>,
}

/// An integer column type: SQLite's affinity rule (the declared type contains `INT`); elsewhere
/// the type's first word, so `interval` and `point` are not integers.
fn is_integer_type(dialect: Dialect, t: &str) -> bool {
    if dialect == Dialect::Sqlite {
        return t.contains("int");
    }
    let first = t
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("");
    matches!(
        first,
        "int"
            | "integer"
            | "tinyint"
            | "smallint"
            | "mediumint"
            | "bigint"
            | "int2"
            | "int4"
            | "int8"
            | "serial"
            | "bigserial"
            | "smallserial"
            | "serial2"
            | "serial4"
            | "serial8"
    )
}

/// The spec type of a database type, with decimal precision and scale where known.
fn logical_of(dialect: Dialect, db_type: &str) -> (LogicalType, Option<(u8, u8)>) {
    let t = db_type.trim().to_ascii_lowercase();
    let num = |s: &str| -> Option<(u8, u8)> {
        let inner = s.split_once('(')?.1.split_once(')')?.0;
        let mut it = inner.split(',').map(|x| x.trim().parse::<u8>().ok());
        Some((it.next()??, it.next().flatten().unwrap_or(0)))
    };
    if t == "tinyint(1)" || t.starts_with("bool") {
        return (LogicalType::Bool, None);
    }
    if t.starts_with("numeric") || t.starts_with("decimal") {
        return match num(&t) {
            Some((p, s)) if (1..=38).contains(&p) => (LogicalType::Decimal, Some((p, s))),
            _ => (LogicalType::Float, None),
        };
    }
    if is_integer_type(dialect, &t) {
        return (LogicalType::Int, None);
    }
    if t.contains("real") || t.contains("double") || t.contains("float") {
        return (LogicalType::Float, None);
    }
    if t == "date" {
        return (LogicalType::Date, None);
    }
    if t.contains("with time zone") || t == "timestamptz" {
        return (LogicalType::TimestampTz, None);
    }
    if t.starts_with("timestamp") || t.starts_with("datetime") {
        // MySQL's TIMESTAMP is an instant stored in UTC; DATETIME a wall clock.
        if dialect == Dialect::MySql && t.starts_with("timestamp") {
            return (LogicalType::TimestampTz, None);
        }
        return (LogicalType::Timestamp, None);
    }
    if t == "uuid" {
        return (LogicalType::Uuid, None);
    }
    (LogicalType::Text, None)
}

/// Rows of a catalogue query as text. With `schema`, the query's default schema (PostgreSQL's
/// `current_schema()`, MySQL's `DATABASE()`) becomes that schema, bound as a parameter.
async fn strings(
    conn: &mut AnyConnection,
    dialect: Dialect,
    sql: &'static str,
    schema: Option<&str>,
    statements: &mut Vec<String>,
) -> anyhow::Result<Vec<Vec<Option<String>>>> {
    let (text, bind) = match (schema, dialect) {
        (Some(sc), Dialect::Postgres) => (sql.replace("current_schema()", "$1"), Some(sc)),
        (Some(sc), Dialect::MySql) => (sql.replace("DATABASE()", "?"), Some(sc)),
        _ => (sql.to_string(), None),
    };
    statements.push(match bind {
        Some(sc) => format!("{text} -- schema: {sc:?}"),
        None => text.clone(),
    });
    // PostgreSQL reuses $1; MySQL needs one bind per `?`.
    let mut q = sqlx::query(AssertSqlSafe(text.clone()));
    if let Some(sc) = bind {
        let n = if dialect == Dialect::MySql {
            text.matches('?').count()
        } else {
            1
        };
        for _ in 0..n {
            q = q.bind(sc.to_string());
        }
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            (0..r.columns().len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i)
                        .or_else(|_| {
                            r.try_get::<Option<i64>, _>(i)
                                .map(|v| v.map(|v| v.to_string()))
                        })
                        .map_err(anyhow::Error::from)
                })
                .collect()
        })
        .collect()
}

/// Tables, columns with their types, primary and foreign keys, as the database declares them.
async fn schema(
    conn: &mut AnyConnection,
    dialect: Dialect,
    db_schema: Option<&str>,
    statements: &mut Vec<String>,
) -> anyhow::Result<Vec<DbTable>> {
    if db_schema.is_some() && dialect == Dialect::Sqlite {
        bail!("--schema does not apply to SQLite (a file is one schema)");
    }
    let (columns_sql, pk_sql, fk_sql): (&'static str, &'static str, &'static str) = match dialect {
        Dialect::Sqlite => (
            "SELECT m.name, p.name, p.type FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
            "SELECT m.name, p.name, CAST(p.pk AS TEXT) FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.pk > 0 ORDER BY m.name, p.pk",
            "SELECT m.name, f.\"from\", f.\"table\", f.\"to\" FROM sqlite_master m \
             JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
        ),
        Dialect::Postgres => (
            "SELECT table_name::text, column_name::text, \
             CASE WHEN data_type = 'numeric' AND numeric_precision IS NOT NULL \
             THEN 'numeric(' || numeric_precision || ',' || COALESCE(numeric_scale, 0) || ')' \
             ELSE data_type::text END \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             ORDER BY table_name, ordinal_position",
            "SELECT tc.table_name::text, kcu.column_name::text, kcu.ordinal_position::text \
             FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu \
             ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema \
             AND tc.table_name = kcu.table_name \
             WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() \
             ORDER BY 1, 3",
            "SELECT kcu.table_name::text, kcu.column_name::text, ccu.table_name::text, ccu.column_name::text \
             FROM information_schema.table_constraints tc \
             JOIN information_schema.key_column_usage kcu \
             ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema \
             JOIN information_schema.constraint_column_usage ccu \
             ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema \
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()",
        ),
        Dialect::MySql => (
            "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), CAST(column_type AS CHAR) \
             FROM information_schema.columns WHERE table_schema = DATABASE() \
             ORDER BY table_name, ordinal_position",
            "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), CAST(ordinal_position AS CHAR) \
             FROM information_schema.key_column_usage WHERE table_schema = DATABASE() \
             AND constraint_name = 'PRIMARY' ORDER BY table_name, ordinal_position",
            "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), \
             CAST(referenced_table_name AS CHAR), CAST(referenced_column_name AS CHAR) \
             FROM information_schema.key_column_usage WHERE table_schema = DATABASE() \
             AND referenced_table_name IS NOT NULL",
        ),
    };
    let mut tables: Vec<DbTable> = Vec::new();
    for r in strings(conn, dialect, columns_sql, db_schema, statements).await? {
        let (t, c, ty) = (
            r[0].clone().unwrap_or_default(),
            r[1].clone().unwrap_or_default(),
            r[2].clone().unwrap_or_default(),
        );
        let (lt, decimal) = logical_of(dialect, &ty);
        let col = DbColumn {
            name: c,
            db_type: ty,
            ty: lt,
            decimal,
        };
        match tables.last_mut() {
            Some(last) if last.name == t => last.columns.push(col),
            _ => tables.push(DbTable {
                name: t,
                columns: vec![col],
                rows: 0,
                primary_key: Vec::new(),
                foreign_keys: Vec::new(),
            }),
        }
    }
    for r in strings(conn, dialect, pk_sql, db_schema, statements).await? {
        if let (Some(t), Some(c)) = (&r[0], &r[1])
            && let Some(tab) = tables.iter_mut().find(|x| &x.name == t)
        {
            tab.primary_key.push(c.clone());
        }
    }
    for r in strings(conn, dialect, fk_sql, db_schema, statements).await? {
        if let (Some(t), Some(c), Some(pt), Some(pc)) = (&r[0], &r[1], &r[2], &r[3])
            && let Some(tab) = tables.iter_mut().find(|x| &x.name == t)
            && !tab.foreign_keys.iter().any(|(x, _, _)| x == c)
        {
            tab.foreign_keys.push((c.clone(), pt.clone(), pc.clone()));
        }
    }
    Ok(tables)
}

/// Up to `limit` rows of a table, every column as text: raw values, kept in this module.
async fn read_rows(
    conn: &mut AnyConnection,
    dialect: Dialect,
    schema: Option<&str>,
    t: &DbTable,
    limit: Option<u64>,
    statements: &mut Vec<String>,
) -> anyhow::Result<Vec<Vec<Option<String>>>> {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| dialect.select_as_text(&c.name, &c.db_type))
        .collect::<Result<_, _>>()?;
    let order = match t.primary_key.as_slice() {
        [] => String::new(),
        keys => format!(
            " ORDER BY {}",
            keys.iter()
                .map(|k| Ok(format!(
                    "{}.{}",
                    dialect.table(schema, &t.name)?,
                    dialect.quote(k)?
                )))
                .collect::<anyhow::Result<Vec<_>>>()?
                .join(", ")
        ),
    };
    let sql = format!(
        "SELECT {} FROM {}{order}{}",
        cols.join(", "),
        dialect.table(schema, &t.name)?,
        limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default()
    );
    statements.push(sql.clone());
    let mut out: Vec<Vec<Option<String>>> = vec![Vec::new(); t.columns.len()];
    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        for (i, col) in out.iter_mut().enumerate() {
            let cell: Option<String> = match dialect {
                Dialect::Sqlite => row
                    .try_get::<Option<Vec<u8>>, _>(i)?
                    .map(|b| String::from_utf8_lossy(&b).into_owned()),
                _ => match row.try_get::<Option<String>, _>(i) {
                    Ok(s) => s,
                    Err(_) => row
                        .try_get::<Option<Vec<u8>>, _>(i)?
                        .map(|b| String::from_utf8_lossy(&b).into_owned()),
                },
            };
            col.push(cell);
        }
    }
    Ok(out)
}

async fn count(
    conn: &mut AnyConnection,
    sql: String,
    statements: &mut Vec<String>,
) -> anyhow::Result<u64> {
    let row = sqlx::query(AssertSqlSafe(sql.clone()))
        .fetch_one(&mut *conn)
        .await?;
    statements.push(sql);
    let n: i64 = row.try_get(0)?;
    Ok(n.max(0) as u64)
}

/// Children per parent through `fk`: how many parents have each count (zero included), from
/// aggregates the database computes.
async fn children_per_parent(
    conn: &mut AnyConnection,
    dialect: Dialect,
    schema: Option<&str>,
    child: &str,
    fk: &str,
    parent_rows: u64,
    statements: &mut Vec<String>,
) -> anyhow::Result<BTreeMap<u64, u64>> {
    let sql = format!(
        "SELECT CAST(c AS CHAR(20)), COUNT(*) FROM (SELECT COUNT(*) AS c FROM {} WHERE {} IS NOT NULL GROUP BY {}) x GROUP BY c",
        dialect.table(schema, child)?,
        dialect.quote(fk)?,
        dialect.quote(fk)?
    );
    let sql = if dialect == Dialect::Postgres {
        sql.replace("CAST(c AS CHAR(20))", "c::text")
    } else if dialect == Dialect::Sqlite {
        sql.replace("CAST(c AS CHAR(20))", "CAST(c AS TEXT)")
    } else {
        sql
    };
    statements.push(sql.clone());
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = BTreeMap::new();
    let mut with_children = 0;
    for r in rows {
        let c: String = r.try_get(0)?;
        let n: i64 = r.try_get(1)?;
        if let Ok(c) = c.trim().parse::<u64>() {
            out.insert(c, n.max(0) as u64);
            with_children += n.max(0) as u64;
        }
    }
    if parent_rows > with_children {
        out.insert(0, parent_rows - with_children);
    }
    Ok(out)
}

/// A `rows_per` line from children-per-parent counts: counts seen for at least `k` parents
/// with their shares; rarer counts are withheld (and said in a comment).
fn rows_per(parent: &str, counts: &BTreeMap<u64, u64>, k: u64) -> (String, Option<String>) {
    let kept: Vec<(u64, u64)> = counts
        .iter()
        .filter(|(_, n)| **n >= k)
        .map(|(c, n)| (*c, *n))
        .collect();
    let withheld: u64 = counts.iter().filter(|(_, n)| **n < k).map(|(_, n)| n).sum();
    let total: u64 = kept.iter().map(|(_, n)| n).sum();
    if kept.is_empty() {
        return (
            format!("rows_per = {{ parent = \"{parent}\", dist = \"poisson\", mean = 1.0 }}"),
            Some("children per parent: too few parents to fit; review".into()),
        );
    }
    let values: Vec<String> = kept
        .iter()
        .map(|(c, n)| {
            format!(
                "{c} = {}",
                ((*n as f64 / total as f64) * 10_000.0).round().max(1.0) / 10_000.0
            )
        })
        .collect();
    let note = (withheld > 0).then(|| {
        format!("{withheld} parents have child counts seen fewer than {k} times (withheld)")
    });
    (
        format!(
            "rows_per = {{ parent = \"{parent}\", dist = \"weighted\", values = {{ {} }} }}",
            values.join(", ")
        ),
        note,
    )
}

/// A spec name for a database name: lower snake case of letters and digits.
fn spec_name(db: &str, taken: &HashSet<String>) -> String {
    let mut s = String::new();
    let mut prev_lower = false;
    for c in db.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                s.push('_');
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            s.push(c.to_ascii_lowercase());
        } else {
            if !s.ends_with('_') && !s.is_empty() {
                s.push('_');
            }
            prev_lower = false;
        }
    }
    let mut s = s.trim_matches('_').to_string();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("t_{s}");
    }
    s.truncate(60);
    let mut out = s.clone();
    let mut i = 2;
    while taken.contains(&out) {
        out = format!("{s}_{i}");
        i += 1;
    }
    out
}

/// The drafted spec's text.
pub async fn draft(opts: &Options) -> anyhow::Result<String> {
    let (mut conn, dialect) = db::connect(&opts.url, true, 300).await?;
    let mut statements = Vec::new();
    let sch = opts.schema.as_deref();
    let mut tables = schema(&mut conn, dialect, sch, &mut statements)
        .await
        .with_context(|| format!("reading the schema of {}", db::redact_url(&opts.url)))?;
    let all: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    for t in opts.tables.iter().chain(&opts.exclude) {
        if !all.contains(t) {
            bail!(
                "the source has no table `{t}`{}",
                crate::spec::did_you_mean(t, all.iter().map(String::as_str))
            );
        }
    }
    tables.retain(|t| {
        (opts.tables.is_empty() || opts.tables.contains(&t.name)) && !opts.exclude.contains(&t.name)
    });
    if tables.is_empty() {
        bail!("no table to draft: the source's schema is empty, or every table was excluded");
    }
    for t in tables.iter_mut() {
        t.rows = count(
            &mut conn,
            format!("SELECT COUNT(*) FROM {}", dialect.table(sch, &t.name)?),
            &mut statements,
        )
        .await?;
    }

    // Spec names, and each table's rows read once.
    let mut taken = HashSet::new();
    let names: HashMap<String, String> = tables
        .iter()
        .map(|t| {
            let n = spec_name(&t.name, &taken);
            taken.insert(n.clone());
            (t.name.clone(), n)
        })
        .collect();
    let mut values: HashMap<String, Vec<Vec<Option<String>>>> = HashMap::new();
    for t in &tables {
        let v = read_rows(&mut conn, dialect, sch, t, opts.sample, &mut statements)
            .await
            .with_context(|| format!("reading table `{}`", t.name))?;
        values.insert(t.name.clone(), v);
    }

    // Keys: declared, else an `id`-like column whose read values are all present and distinct.
    let mut keys: HashMap<String, Vec<String>> = HashMap::new();
    let mut key_notes: HashMap<String, String> = HashMap::new();
    for t in &tables {
        if !t.primary_key.is_empty() {
            keys.insert(t.name.clone(), t.primary_key.clone());
            continue;
        }
        let vals = &values[&t.name];
        let unique = |i: usize| {
            let v = &vals[i];
            let set: HashSet<&Option<String>> = v.iter().collect();
            !v.is_empty() && v.iter().all(Option::is_some) && set.len() == v.len()
        };
        let candidate = t.columns.iter().enumerate().find(|(i, c)| {
            let n = c.name.to_ascii_lowercase();
            (n == "id" || n == format!("{}_id", t.name.to_ascii_lowercase()))
                && c.ty == LogicalType::Int
                && unique(*i)
        });
        if let Some((_, c)) = candidate {
            keys.insert(t.name.clone(), vec![c.name.clone()]);
            key_notes.insert(
                t.name.clone(),
                format!(
                    "key `{}`: no primary key is declared; its values are all present and distinct",
                    c.name
                ),
            );
        }
    }
    // References: declared, else a column named after a table (`customer_id`, `manager_id` of
    // the same table) whose read values all are keys of that table.
    let key_values: HashMap<String, HashSet<String>> = tables
        .iter()
        .filter_map(|t| {
            let k = keys.get(&t.name)?;
            let [one] = k.as_slice() else { return None };
            let i = t.columns.iter().position(|c| &c.name == one)?;
            Some((
                t.name.clone(),
                values[&t.name][i].iter().flatten().cloned().collect(),
            ))
        })
        .collect();
    let mut refs: HashMap<(String, String), (String, String, bool)> = HashMap::new();
    for t in &tables {
        for (c, pt, pc) in &t.foreign_keys {
            if names.contains_key(pt) {
                refs.insert((t.name.clone(), c.clone()), (pt.clone(), pc.clone(), false));
            }
        }
        for (i, c) in t.columns.iter().enumerate() {
            if refs.contains_key(&(t.name.clone(), c.name.clone()))
                || keys
                    .get(&t.name)
                    .is_some_and(|k| k.len() == 1 && k[0] == c.name)
            {
                continue;
            }
            let n = c.name.to_ascii_lowercase();
            let Some(stem) = n.strip_suffix("_id").or_else(|| n.strip_suffix("id")) else {
                continue;
            };
            let stem = stem.trim_end_matches('_');
            let present: Vec<&String> = values[&t.name][i].iter().flatten().collect();
            if present.is_empty() {
                continue;
            }
            // The table the name points at (`customer` → customers), else this table itself
            // when every value is one of its own keys (a manager, a parent category).
            let target = tables
                .iter()
                .filter(|p| {
                    let pn = p.name.to_ascii_lowercase();
                    pn == stem || pn == format!("{stem}s") || pn == format!("{stem}es")
                })
                .chain(std::iter::once(t))
                .find(|p| {
                    // Nearly every value (99 %): the rest are orphans, listed as a quirk.
                    key_values.get(&p.name).is_some_and(|ks| {
                        let hits = present.iter().filter(|v| ks.contains(**v)).count();
                        hits * 100 >= present.len() * 99
                    })
                });
            if let Some(p) = target
                && let Some([pk]) = keys.get(&p.name).map(Vec::as_slice)
            {
                refs.insert(
                    (t.name.clone(), c.name.clone()),
                    (p.name.clone(), pk.clone(), true),
                );
            }
        }
    }

    // Tables in an order where parents come first; each child follows its first reference to
    // another table whose values are never null.
    let mut out = String::new();
    let read_what: Vec<String> = tables
        .iter()
        .map(|t| format!("{} ({} rows)", t.name, t.rows))
        .collect();
    writeln!(
        out,
        "# A draft spec by `realitycheck init`, to review before use: the domain's rules are the \
         team's to state.\n# Read from {} with a read-only session: {}.\n# Values seen fewer than {} \
         times and every value of a column proposed as PII are left out.\n# Review checklist: \
         every `# review` line (PII classes and masks, inferred keys and references); the quirks \
         listed under each table (decide what the domain allows);\n# generators fitted to data \
         (replace them with what the domain says); rules (none are drafted).",
        db::redact_url(&opts.url),
        read_what.join(", "),
        opts.k
    )?;
    writeln!(out, "# Statements run:")?;
    for s in &statements {
        writeln!(out, "#   {}", s.replace('\n', " "))?;
    }
    writeln!(
        out,
        "\n[domain]\nname = {}\nseed = 1\n\n[source]\nurl = {}{}\n\n[masking]\nkey_env = \"REALITYCHECK_MASK_KEY\"\nunclassified = \"refuse\"\nk = {}\n",
        fit_quote(&opts.domain),
        fit_quote(&db::redact_url(&opts.url)),
        sch.map(|s| format!("\nschema = {}", fit_quote(s)))
            .unwrap_or_default(),
        opts.k
    )?;
    for t in &tables {
        let tname = &names[&t.name];
        writeln!(out, "[tables.{tname}]")?;
        if &t.name != tname {
            writeln!(out, "db_name = {}", fit_quote(&t.name))?;
        }
        // The parent a child table's rows follow: its first non-null reference to another table.
        let parent_link = t.columns.iter().enumerate().find_map(|(i, c)| {
            let (pt, _, _) = refs.get(&(t.name.clone(), c.name.clone()))?;
            (pt != &t.name && values[&t.name][i].iter().all(Option::is_some))
                .then(|| (c.name.clone(), pt.clone()))
        });
        match &parent_link {
            Some((fk, pt)) => {
                let parent_rows = tables.iter().find(|x| &x.name == pt).map_or(0, |x| x.rows);
                let counts = children_per_parent(
                    &mut conn,
                    dialect,
                    sch,
                    &t.name,
                    fk,
                    parent_rows,
                    &mut statements,
                )
                .await?;
                let (line, note) = rows_per(&names[pt], &counts, opts.k);
                if let Some(n) = note {
                    writeln!(out, "# {n}")?;
                }
                writeln!(out, "{line}")?;
            }
            None => {
                let rows = t.rows.max(1);
                if rows > 100_000 {
                    writeln!(
                        out,
                        "# production has {} rows; scaled to 100000 (use --scale)",
                        t.rows
                    )?;
                }
                writeln!(out, "rows = {}", rows.min(100_000))?;
            }
        }
        match keys.get(&t.name).map(Vec::as_slice) {
            Some([one]) => {
                if let Some(n) = key_notes.get(&t.name) {
                    writeln!(out, "# review: {n}")?;
                }
                writeln!(out, "key = {}", fit_quote(&col_name(t, one)))?;
            }
            Some(many) => writeln!(
                out,
                "key = [{}]",
                many.iter()
                    .map(|k| fit_quote(&col_name(t, k)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?,
            None => writeln!(
                out,
                "# no key: no primary key is declared and no `id` column is unique"
            )?,
        }
        writeln!(out, "[tables.{tname}.columns]")?;
        let mut quirks: Vec<String> = Vec::new();
        let mut taken_cols = HashSet::new();
        for (i, c) in t.columns.iter().enumerate() {
            let cname = spec_name(&c.name, &taken_cols);
            taken_cols.insert(cname.clone());
            let db_name = if cname != c.name {
                format!(", db_name = {}", fit_quote(&c.name))
            } else {
                String::new()
            };
            let vals = &values[&t.name][i];
            let single_key = keys
                .get(&t.name)
                .is_some_and(|k| k.len() == 1 && k[0] == c.name);
            if let Some((pt, pc, inferred)) = refs.get(&(t.name.clone(), c.name.clone())) {
                let nulls = vals.iter().filter(|v| v.is_none()).count();
                let null_rate = if nulls > 0 && !vals.is_empty() {
                    format!(
                        ", null_rate = {}",
                        ((nulls as f64 / vals.len() as f64) * 10_000.0).round() / 10_000.0
                    )
                } else {
                    String::new()
                };
                if *inferred {
                    writeln!(
                        out,
                        "# review: `{}` references `{pt}.{pc}`: not declared; every value read is one of its keys",
                        c.name
                    )?;
                }
                let target = tables.iter().find(|x| &x.name == pt);
                let pcol = target.map_or(pc.clone(), |x| col_name(x, pc));
                writeln!(
                    out,
                    "{} = {{ ref = \"{}.{}\"{null_rate}{db_name} }}",
                    toml_key(&cname),
                    names[pt],
                    pcol
                )?;
                // Orphans: values with no parent key among those read.
                if let Some(ks) = key_values.get(pt) {
                    let orphans = vals.iter().flatten().filter(|v| !ks.contains(*v)).count();
                    if orphans > 0 {
                        quirks.push(format!(
                            "`{cname}`: {orphans} values with no row in `{}`",
                            names[pt]
                        ));
                    }
                }
                continue;
            }
            if single_key && c.ty == LogicalType::Int {
                writeln!(
                    out,
                    "{} = {{ gen = \"sequence\"{db_name} }}",
                    toml_key(&cname)
                )?;
                continue;
            }
            let fitted = fit::fit(&ColumnFacts {
                name: &c.name,
                db_type: &c.db_type,
                ty: c.ty,
                decimal: c.decimal,
                values: vals,
                k: opts.k,
            });
            for cm in &fitted.comments {
                writeln!(out, "# {cname}: {cm}")?;
            }
            for q in &fitted.quirks {
                quirks.push(format!("`{cname}`: {q}"));
            }
            let mut line = fitted.line;
            if !db_name.is_empty() {
                // Before the closing brace (and any comment after it).
                if let Some(at) = line.rfind(" }") {
                    line.insert_str(at, &db_name);
                }
            }
            writeln!(out, "{} = {line}", toml_key(&cname))?;
        }
        quirks.extend(correlated(t, &values[&t.name], &keys, &refs));
        if !quirks.is_empty() {
            writeln!(
                out,
                "# Quirks seen in production (left out of the generators; decide what the domain allows):"
            )?;
            for q in quirks {
                writeln!(out, "#   {q}")?;
            }
        }
        writeln!(out)?;
    }
    Ok(out)
}

/// Measured columns of a table that move together (|Pearson r| >= 0.1 over rows where both are
/// present): the draft generates them independently, so each pair is listed for review.
fn correlated(
    t: &DbTable,
    vals: &[Vec<Option<String>>],
    keys: &HashMap<String, Vec<String>>,
    refs: &HashMap<(String, String), (String, String, bool)>,
) -> Vec<String> {
    let measured: Vec<(usize, Vec<f64>)> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.ty.is_measured()
                && fit::pii_by_name(&c.name).is_none()
                && !keys.get(&t.name).is_some_and(|k| k.contains(&c.name))
                && !refs.contains_key(&(t.name.clone(), c.name.clone()))
        })
        .map(|(i, c)| {
            let v = vals[i]
                .iter()
                .map(|x| {
                    x.as_deref()
                        .and_then(|s| {
                            if c.ty.is_temporal() {
                                crate::mask::parse_instant(s).map(|t| t as f64)
                            } else {
                                s.trim().parse::<f64>().ok()
                            }
                        })
                        .unwrap_or(f64::NAN)
                })
                .collect();
            (i, v)
        })
        .collect();
    let mut out = Vec::new();
    // Categories that go with another column (status and amount, country and currency): the
    // draft's choices are independent, so each strong association is listed as well, with the
    // same measures and budgets `compare` uses.
    let categorical: Vec<(String, Vec<Option<String>>)> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            matches!(c.ty, LogicalType::Text | LogicalType::Bool)
                && fit::pii_by_name(&c.name).is_none()
                && !keys.get(&t.name).is_some_and(|k| k.contains(&c.name))
                && !refs.contains_key(&(t.name.clone(), c.name.clone()))
        })
        .filter(|(i, _)| {
            let distinct: HashSet<&str> = vals[*i].iter().flatten().map(String::as_str).collect();
            (2..=100).contains(&distinct.len())
        })
        .take(crate::profile::pairs::MAX_CATEGORICAL_COLUMNS)
        .map(|(i, c)| (c.name.clone(), vals[i].clone()))
        .collect();
    let numeric: Vec<(String, Vec<f64>)> = measured
        .iter()
        .take(crate::profile::pairs::MAX_PAIR_COLUMNS)
        .map(|(i, v)| (t.columns[*i].name.clone(), v.clone()))
        .collect();
    for a in crate::profile::pairs::associations(&categorical, &numeric) {
        // Beyond what chance alone reaches in a sample this size (the 99 % chi-square bound).
        let chance = (crate::compare::stats::chi2_quantile(a.dof as usize, 0.01)
            / a.n.max(1) as f64
            / a.scale.max(1) as f64)
            .sqrt();
        if a.n >= 30 && a.value - chance >= 0.05 {
            let what = if a.measure == "eta" {
                format!("correlation ratio η = {:.2}", a.value)
            } else {
                format!("Cramér's V = {:.2}", a.value)
            };
            out.push(format!(
                "`{}` goes with `{}` ({what}); generated independently here: state the dependency with `by` and `cases`, or leave it as a finding",
                col_name(t, &a.b),
                col_name(t, &a.a)
            ));
        }
    }
    for (a, (i, x)) in measured.iter().enumerate() {
        for (j, y) in measured.iter().skip(a + 1) {
            let pairs: Vec<(f64, f64)> = x
                .iter()
                .zip(y)
                .filter(|(p, q)| p.is_finite() && q.is_finite())
                .map(|(p, q)| (*p, *q))
                .collect();
            if pairs.len() < 30 {
                continue;
            }
            let n = pairs.len() as f64;
            let (mx, my) = (
                pairs.iter().map(|p| p.0).sum::<f64>() / n,
                pairs.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
            for (p, q) in &pairs {
                sxy += (p - mx) * (q - my);
                sxx += (p - mx).powi(2);
                syy += (q - my).powi(2);
            }
            if sxx <= 0.0 || syy <= 0.0 {
                continue;
            }
            let r = sxy / (sxx * syy).sqrt();
            if r.abs() >= 0.1 {
                out.push(format!(
                    "`{}` and `{}` move together (Pearson r = {r:+.2}); generated independently here: if one is computed from the other, write it as a `sql` column; if one follows the other in time, use `after`",
                    col_name(t, &t.columns[*i].name),
                    col_name(t, &t.columns[*j].name)
                ));
            }
        }
    }
    out
}

/// The spec name `init` gives a column of a table (as in the draft).
fn col_name(t: &DbTable, db: &str) -> String {
    let mut taken = HashSet::new();
    for c in &t.columns {
        let n = spec_name(&c.name, &taken);
        if c.name == db {
            return n;
        }
        taken.insert(n);
    }
    spec_name(db, &HashSet::new())
}

fn fit_quote(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_types_by_their_first_word() {
        for (d, t, int) in [
            (Dialect::Postgres, "interval", false),
            (Dialect::Postgres, "point", false),
            (Dialect::Postgres, "bigint", true),
            (Dialect::Postgres, "smallint", true),
            (Dialect::MySql, "int(11) unsigned", true),
            (Dialect::MySql, "tinyint(4)", true),
            (Dialect::MySql, "point", false),
            (Dialect::Sqlite, "unsigned big int", true),
        ] {
            assert_eq!(is_integer_type(d, t), int, "{t}");
        }
    }
}
