//! PostgreSQL rows through `COPY (query) TO STDOUT` (text format) on the native driver: the
//! server streams tab-separated lines, parsed here into the same cells the generic driver gives
//! (each column's text, `None` for NULL), without its per-value conversions.
//!
//! Takes a read-only `PgConnection` and a `SELECT`; gives [`RawTable`] batches. Never writes:
//! `COPY ... TO STDOUT` only reads, and the session is read-only besides.

use futures_util::TryStreamExt;
use sqlx::postgres::PgConnection;

use crate::mask::RawTable;

/// Splits COPY text output into rows of cells. Chunks may end anywhere, inside a row or a
/// cell; a row is parsed once its newline has arrived.
pub struct CopyRows {
    columns: usize,
    pending: Vec<u8>,
}

impl CopyRows {
    pub fn new(columns: usize) -> CopyRows {
        CopyRows {
            columns,
            pending: Vec::new(),
        }
    }

    /// Adds a chunk of the stream and calls `row` for each row it completes.
    pub fn push(
        &mut self,
        chunk: &[u8],
        row: &mut dyn FnMut(Vec<Option<Vec<u8>>>) -> anyhow::Result<()>,
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
            row(parse_row(&data[start..start + end], self.columns)?)?;
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

/// One line of COPY text: cells separated by tabs, `\N` for NULL, backslash escapes.
fn parse_row(line: &[u8], columns: usize) -> anyhow::Result<Vec<Option<Vec<u8>>>> {
    // Columns past the first `columns` (a sampled union's ordering keys) are not cells.
    let cells: Vec<Option<Vec<u8>>> = line
        .split(|b| *b == b'\t')
        .take(columns)
        .map(parse_cell)
        .collect();
    if cells.len() != columns {
        // The count only: a cell's text is a raw value and never goes into a message.
        anyhow::bail!(
            "a COPY row has {} cells where {columns} columns were selected",
            cells.len()
        );
    }
    Ok(cells)
}

/// A cell's bytes with COPY's escapes undone (PostgreSQL's text format: `\b \f \n \r \t \v \\`,
/// octal `\NNN` and hex `\xHH`; any other escaped character stands for itself).
fn parse_cell(field: &[u8]) -> Option<Vec<u8>> {
    if field == b"\\N" {
        return None;
    }
    if !field.contains(&b'\\') {
        return Some(field.to_vec());
    }
    let mut out = Vec::with_capacity(field.len());
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
    Some(out)
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
    let columns = batch().columns().len();
    let mut stream = conn.copy_out_raw(&statement).await?;
    let mut rows = CopyRows::new(columns);
    let mut raw = batch();
    let (mut read, mut handed) = (0u64, false);
    while let Some(chunk) = stream.try_next().await? {
        rows.push(&chunk, &mut |cells| {
            raw.push_row(cells);
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

    fn all(chunks: &[&[u8]], columns: usize) -> Vec<Vec<Option<Vec<u8>>>> {
        let mut out = Vec::new();
        let mut r = CopyRows::new(columns);
        for c in chunks {
            r.push(c, &mut |row| {
                out.push(row);
                Ok(())
            })
            .expect("rows");
        }
        r.finish().expect("complete");
        out
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
    }

    #[test]
    fn a_row_of_the_wrong_width_or_a_cut_stream_is_an_error() {
        let mut r = CopyRows::new(2);
        let err = r
            .push(b"secret-value\n", &mut |_| Ok(()))
            .expect_err("one cell for two columns");
        let mut extra = Vec::new();
        CopyRows::new(1)
            .push(b"a\tkey\n", &mut |row| {
                extra.push(row);
                Ok(())
            })
            .expect("ordering columns past the cells are left out");
        assert_eq!(extra, vec![vec![Some(b"a".to_vec())]]);
        assert!(!err.to_string().contains("secret"), "{err}");
        let mut r = CopyRows::new(1);
        r.push(b"1\n2", &mut |_| Ok(())).expect("one row");
        assert!(r.finish().is_err(), "the stream ended inside a row");
    }
}
