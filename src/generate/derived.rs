//! Derived (`sql`) columns: Polars SQL over the row's own table, the tables it references
//! (`orders.total` in a refund's amount, joined through the refund's `ref` to orders) and, with
//! `over = "<child table>"`, an aggregate of the rows that reference it (an order's subtotal as
//! `SUM(line_total)` over its items).
//!
//! Takes the generated tables; gives each table's finished frame. Tables are finished in an
//! order where every table comes after the tables its derived columns read, so a child's
//! derived column can read a parent's aggregate; a cycle is an error. Rows keep their order:
//! joins are sorted back by a row index.

use std::collections::HashMap;

use anyhow::{Context, bail};
use polars::prelude::*;
use polars::sql::SQLContext;

use crate::spec::{Column as SpecColumn, ColumnKind, Spec, Table};

const ROW: &str = "__rc_row";
/// The column a derived column's SQL reads for a seeded random number.
pub const RAND: &str = "_rand";

fn mentions(sql: &str, table: &str) -> bool {
    crate::spec::sql_mentions_table(sql, table)
}

/// The parents a derived column joins: `(fk column, parent, parent key)` for each table this one
/// references (first `ref` to it) that the SQL names.
fn joins<'a>(t: &'a Table, sql: &str) -> Vec<(&'a str, &'a str, &'a str)> {
    let mut out: Vec<(&str, &str, &str)> = Vec::new();
    for (c, rt, rc) in t.references() {
        if rt != t.name && mentions(sql, rt) && !out.iter().any(|(_, p, _)| *p == rt) {
            out.push((c.name.as_str(), rt, rc));
        }
    }
    out
}

/// The tables a table's derived columns read.
pub fn inputs(t: &Table) -> Vec<String> {
    let mut out = Vec::new();
    for c in &t.columns {
        if let ColumnKind::Derived { sql, over } = &c.kind {
            match over {
                Some(child) => out.push(child.clone()),
                None => out.extend(joins(t, sql).into_iter().map(|(_, p, _)| p.to_string())),
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The words of a piece of SQL, upper-cased (identifiers, keywords, numbers).
fn words(sql: &str) -> Vec<String> {
    sql.split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_uppercase)
        .collect()
}

/// The columns of each table that derived columns of later tables read through a join: the
/// key they join on and every column whose name the SQL holds as a word. When tables stream,
/// only these stay in memory after a table is written.
pub fn joined_columns(spec: &Spec) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for t in &spec.tables {
        for c in &t.columns {
            let ColumnKind::Derived { sql, over: None } = &c.kind else {
                continue;
            };
            let said = words(sql);
            for (_, parent, pk) in joins(t, sql) {
                let Some(pt) = spec.table(parent) else {
                    continue;
                };
                let cols = out.entry(parent.to_string()).or_default();
                for name in pt.columns.iter().map(|pc| pc.name.as_str()) {
                    if (name == pk || said.contains(&name.to_uppercase()))
                        && !cols.iter().any(|x| x == name)
                    {
                        cols.push(name.to_string());
                    }
                }
            }
        }
    }
    out
}

/// Whether every derived column of `t` reads only its own row and the rows it references, so
/// the table can be finished a chunk at a time; what reads more otherwise. Judged from the
/// SQL's words: an aggregate over a child, a window (`OVER`) or an aggregate function.
pub fn row_local(t: &Table) -> Result<(), String> {
    const WHOLE: [&str; 22] = [
        "OVER",
        "SUM",
        "AVG",
        "COUNT",
        "MIN",
        "MAX",
        "STDDEV",
        "STDDEV_SAMP",
        "STDDEV_POP",
        "VARIANCE",
        "VAR_SAMP",
        "VAR_POP",
        "MEDIAN",
        "QUANTILE_CONT",
        "QUANTILE_DISC",
        "FIRST",
        "LAST",
        "ARRAY_AGG",
        "STRING_AGG",
        "ROW_NUMBER",
        "RANK",
        "LAG",
    ];
    const MORE: [&str; 5] = ["LEAD", "DENSE_RANK", "NTILE", "CUME_DIST", "PERCENT_RANK"];
    for c in &t.columns {
        let ColumnKind::Derived { sql, over } = &c.kind else {
            continue;
        };
        let at = format!("`{}.{}`", t.name, c.name);
        if let Some(child) = over {
            return Err(format!("{at} aggregates over `{child}`"));
        }
        if let Some(w) = words(sql)
            .iter()
            .find(|w| WHOLE.contains(&w.as_str()) || MORE.contains(&w.as_str()))
        {
            return Err(format!(
                "{at} uses `{w}`, which reads more than its own row"
            ));
        }
    }
    Ok(())
}

/// Tables in an order where each comes after the tables its derived columns read; the names of
/// a cycle otherwise.
pub fn finish_order(spec: &Spec) -> Result<Vec<&Table>, Vec<String>> {
    let mut done: Vec<&Table> = Vec::new();
    let mut pending: Vec<&Table> = spec.tables.iter().collect();
    while !pending.is_empty() {
        let ready = pending.iter().position(|t| {
            inputs(t)
                .iter()
                .all(|d| d == &t.name || done.iter().any(|x| &x.name == d))
        });
        match ready {
            Some(i) => done.push(pending.remove(i)),
            None => return Err(pending.iter().map(|t| t.name.clone()).collect()),
        }
    }
    Ok(done)
}

/// `df` with the derived column `col` added (Polars SQL over `df` as `t.name`, joined with the
/// finished tables it names, or aggregated over its `over` child).
pub fn derive_column(
    spec: &Spec,
    t: &Table,
    col: &SpecColumn,
    df: DataFrame,
    finished: &HashMap<String, DataFrame>,
    rand: &mut rand_chacha::ChaCha8Rng,
) -> anyhow::Result<DataFrame> {
    let ColumnKind::Derived { sql, over } = &col.kind else {
        bail!("`{}.{}` is not a derived column", t.name, col.name);
    };
    // `_rand`: a seeded uniform number in [0, 1) per row, from this column's own stream.
    let random = sql.contains(RAND) && over.is_none();
    let mut df = df;
    if random {
        use rand::RngExt;
        let u: Vec<f64> = (0..df.height()).map(|_| rand.random::<f64>()).collect();
        df.with_column(Column::from(Series::new(RAND.into(), u)))?;
    }
    let out = derive_inner(spec, t, col, sql, over.as_deref(), df, finished)?;
    Ok(if random { out.drop(RAND)? } else { out })
}

fn derive_inner(
    spec: &Spec,
    t: &Table,
    col: &SpecColumn,
    sql: &str,
    over: Option<&str>,
    df: DataFrame,
    finished: &HashMap<String, DataFrame>,
) -> anyhow::Result<DataFrame> {
    let q = |s: &str| format!("\"{s}\"");
    let (table, name) = (t.name.as_str(), col.name.as_str());
    let mut ctx = SQLContext::new();
    let query = match over {
        Some(child) => {
            let ct = spec
                .table(child)
                .with_context(|| format!("no table `{child}` to aggregate over"))?;
            let (fk, _, pk) = ct
                .references()
                .find(|(_, rt, _)| *rt == table)
                .with_context(|| format!("`{child}` has no `ref` to `{table}`"))?;
            let rows = finished
                .get(child)
                .with_context(|| format!("`{child}` must be finished before `{table}.{name}`"))?;
            let mut actx = SQLContext::new();
            actx.register(child, rows.clone().lazy());
            let agg = crate::frame::sql_collect(
                &mut actx,
                &format!(
                    "SELECT {} AS \"__rc_key\", {sql} AS \"__rc_v\" FROM {} GROUP BY {}",
                    q(&fk.name),
                    q(child),
                    q(&fk.name)
                ),
            )
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("evaluating `{table}.{name}` = `{sql}` over `{child}` as Polars SQL")
            })?;
            ctx.register("__rc_agg", agg.lazy());
            format!(
                "SELECT {t}.*, \"__rc_agg\".\"__rc_v\" AS {n} FROM {t} LEFT JOIN \"__rc_agg\" ON {t}.{pk} = \"__rc_agg\".\"__rc_key\" ORDER BY {t}.{ROW}",
                t = q(table),
                n = q(name),
                pk = q(pk),
            )
        }
        None => {
            let joins = joins(t, sql);
            if joins.is_empty() {
                // No join: the row order cannot move, and specs keep their bytes.
                ctx.register(table, df.lazy());
                let query = format!("SELECT *, {sql} AS {} FROM {}", q(name), q(table));
                return crate::frame::sql_collect(&mut ctx, &query)
                    .map_err(anyhow::Error::from)
                    .with_context(|| {
                        format!("evaluating `{table}.{name}` = `{sql}` as Polars SQL")
                    });
            }
            let mut from = q(table);
            for (fk, parent, pk) in &joins {
                let rows = finished.get(*parent).with_context(|| {
                    format!("`{parent}` must be finished before `{table}.{name}`")
                })?;
                ctx.register(parent, rows.clone().lazy());
                from.push_str(&format!(
                    " LEFT JOIN {p} ON {t}.{fk} = {p}.{pk}",
                    p = q(parent),
                    t = q(table),
                    fk = q(fk),
                    pk = q(pk)
                ));
            }
            format!(
                "SELECT {t}.*, {sql} AS {n} FROM {from} ORDER BY {t}.{ROW}",
                t = q(table),
                n = q(name)
            )
        }
    };
    let df = df.with_row_index(ROW.into(), None)?;
    ctx.register(table, df.lazy());
    let out = crate::frame::sql_collect(&mut ctx, &query)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("evaluating `{table}.{name}` = `{sql}` as Polars SQL"))?;
    Ok(out.drop(ROW)?)
}
