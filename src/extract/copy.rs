//! PostgreSQL rows through `COPY (query) TO STDOUT` (text format) on the native driver: the
//! server streams tab-separated lines, parsed here into the same cells the generic driver gives
//! (each column's text, `None` for NULL), without its per-value conversions.
//!
//! Takes a read-only `PgConnection` and a `SELECT`; gives [`RawTable`] batches. Never writes:
//! `COPY ... TO STDOUT` only reads, and the session is read-only besides.

use futures_util::TryStreamExt;
use sqlx::postgres::PgConnection;

use crate::mask::RawTable;

/// Splits COPY text output into lines, one a row. Chunks may end anywhere, inside a row or a
/// cell; a row is handed on once its newline has arrived.
pub struct CopyRows {
    pending: Vec<u8>,
}

impl CopyRows {
    pub fn new() -> CopyRows {
        CopyRows {
            pending: Vec::new(),
        }
    }

    /// Adds a chunk of the stream and calls `row` with each line it completes.
    pub fn push(
        &mut self,
        chunk: &[u8],
        row: &mut dyn FnMut(&[u8]) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut data = chunk;
        let carried;
        if !self.pending.is_empty() {
            self.pending.extend_from_slice(chunk);
            carried = std::mem::take(&mut self.pending);
            data = &carried;
        }
        let mut start = 0;
        while let Some(end) = memchr(b'\n', &data[start..]) {
            row(&data[start..start + end])?;
            start += end + 1;
        }
        self.pending = data[start..].to_vec();
        Ok(())
    }

    /// The stream ended: nothing may be left unparsed.
    pub fn finish(self) -> anyhow::Result<()> {
        if !self.pending.is_empty() {
            anyhow::bail!("the COPY stream ended inside a row");
        }
        Ok(())
    }
}

fn memchr(b: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|x| *x == b)
}

/// One line of COPY text into the next row of `raw`: cells separated by tabs, `\N` for NULL,
/// backslash escapes undone in `scratch`. Columns past `raw`'s (a sampled union's ordering
/// keys) are not cells. A line with too few cells adds nothing and is an error.
pub fn parse_row(line: &[u8], raw: &mut RawTable, scratch: &mut Vec<u8>) -> anyhow::Result<()> {
    let columns = raw.columns().len();
    let cells = line.iter().filter(|b| **b == b'\t').count() + 1;
    if cells < columns {
        // The count only: a cell's text is a raw value and never goes into a message.
        anyhow::bail!("a COPY row has {cells} cells where {columns} columns were selected");
    }
    for (i, field) in line.split(|b| *b == b'\t').take(columns).enumerate() {
        if field == b"\\N" {
            raw.push_cell(i, None);
        } else if !field.contains(&b'\\') {
            raw.push_cell(i, Some(field));
        } else {
            unescape(field, scratch);
            raw.push_cell(i, Some(scratch));
        }
    }
    raw.end_row();
    Ok(())
}

/// A cell's bytes with COPY's escapes undone into `out` (PostgreSQL's text format: `\b \f \n
/// \r \t \v \\`, octal `\NNN` and hex `\xHH`; any other escaped character stands for itself).
fn unescape(field: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < field.len() {
        let c = field[i];
        if c != b'\\' || i + 1 == field.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = field[i + 1];
        i += 2;
        match e {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut n = 1;
                while n < 3 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                    v = v * 8 + u32::from(field[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            b'x' if i < field.len() && field[i].is_ascii_hexdigit() => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                    v = v * 16 + (field[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
}

/// Runs `COPY (sql) TO STDOUT` and hands its rows to `each` in batches of `batch_rows` (always
/// at least one batch, empty for no rows). Returns the rows read and the statement run.
pub async fn fetch(
    conn: &mut PgConnection,
    sql: &str,
    mut batch: impl FnMut() -> RawTable,
    batch_rows: usize,
    each: &mut (dyn FnMut(RawTable) -> anyhow::Result<()> + Send),
) -> anyhow::Result<(u64, String)> {
    let statement = format!("COPY ({sql}) TO STDOUT");
    let mut stream = conn.copy_out_raw(&statement).await?;
    let mut rows = CopyRows::new();
    let mut raw = batch();
    let mut scratch = Vec::new();
    let (mut read, mut handed) = (0u64, false);
    while let Some(chunk) = stream.try_next().await? {
        rows.push(&chunk, &mut |line| {
            parse_row(line, &mut raw, &mut scratch)?;
            read += 1;
            if raw.rows() >= batch_rows {
                each(std::mem::replace(&mut raw, batch()))?;
                handed = true;
            }
            Ok(())
        })?;
    }
    rows.finish()?;
    if raw.rows() > 0 || !handed {
        each(raw)?;
    }
    Ok((read, statement))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of a stream cut into `chunks`, read back through the key columns (the only
    /// cells extraction may read).
    fn all(chunks: &[&[u8]], columns: usize) -> Vec<Vec<Option<Vec<u8>>>> {
        let names: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut raw = RawTable::new("t", &names, &names);
        let mut scratch = Vec::new();
        let mut r = CopyRows::new();
        for c in chunks {
            r.push(c, &mut |line| parse_row(line, &mut raw, &mut scratch))
                .expect("rows");
        }
        r.finish().expect("complete");
        (0..raw.rows())
            .map(|i| {
                (0..columns)
                    .map(|c| raw.key_cells(c).and_then(|v| v.get(i)).map(<[u8]>::to_vec))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn escapes_nulls_and_split_chunks_are_read_back() {
        let stream: &[u8] = b"1\ta\\tb\\nc\\\\d\t\\N\n2\t\t\\\\N\n3\t\\101\\x42\\q\tx\\r\n";
        let want = vec![
            vec![Some(b"1".to_vec()), Some(b"a\tb\nc\\d".to_vec()), None],
            vec![Some(b"2".to_vec()), Some(vec![]), Some(b"\\N".to_vec())],
            vec![
                Some(b"3".to_vec()),
                Some(b"ABq".to_vec()),
                Some(b"x\r".to_vec()),
            ],
        ];
        assert_eq!(all(&[stream], 3), want);
        // Cut at every byte: the same rows.
        for cut in 0..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(all(&[a, b], 3), want, "cut at {cut}");
        }
        // Ordering columns past the selected ones are not cells.
        assert_eq!(all(&[b"a\tkey\n"], 1), vec![vec![Some(b"a".to_vec())]]);
    }

    #[test]
    fn a_row_of_the_wrong_width_or_a_cut_stream_is_an_error() {
        let mut raw = RawTable::new("t", &["a", "b"], &[]);
        let err = parse_row(b"secret-value", &mut raw, &mut Vec::new())
            .expect_err("one cell for two columns");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert_eq!(raw.rows(), 0, "nothing of the short row was added");
        let mut r = CopyRows::new();
        r.push(b"1\n2", &mut |_| Ok(())).expect("one row");
        assert!(r.finish().is_err(), "the stream ended inside a row");
    }
}
