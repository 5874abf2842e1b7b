//! Unmasked rows, owned by the masking module. This type has no `Serialize`, no `Clone`, no
//! `Display`, and its `Debug` prints only sizes: a raw value cannot reach a file, a log line or
//! a panic message through it.
//!
//! Extraction builds a [`RawTable`] row by row and hands it to [`super::mask`], which consumes
//! it. Outside this module only the cells of *key* columns (the table's key and its foreign
//! keys, named when the table is made) can be read, because sampling must follow them; every
//! other cell is readable by masking code alone (`pub(in crate::mask)`).

/// One table's raw rows, column-major, as the bytes the database returned.
pub struct RawTable {
    name: String,
    columns: Vec<RawColumn>,
    rows: usize,
}

pub struct RawColumn {
    name: String,
    /// Sampling may read this column (a key or a foreign key).
    key: bool,
    /// Every cell's bytes, one after another: one buffer a column, not one a cell.
    bytes: Vec<u8>,
    /// Where each cell ends in `bytes`.
    ends: Vec<usize>,
    /// Whether each cell holds a value (NULL otherwise).
    present: Vec<bool>,
}

/// A column's cells, read in place: `None` for NULL, else the bytes the database returned.
#[derive(Clone, Copy)]
pub struct Cells<'a> {
    bytes: &'a [u8],
    ends: &'a [usize],
    present: &'a [bool],
}

impl<'a> Cells<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Cell `i`; `None` for NULL or past the end.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        if !*self.present.get(i)? {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.bytes[start..self.ends[i]])
    }

    pub fn iter(self) -> impl Iterator<Item = Option<&'a [u8]>> + 'a {
        (0..self.len()).map(move |i| self.get(i))
    }
}

impl RawColumn {
    fn empty(name: &str, key: bool) -> RawColumn {
        RawColumn {
            name: name.to_string(),
            key,
            bytes: Vec::new(),
            ends: Vec::new(),
            present: Vec::new(),
        }
    }

    fn push(&mut self, cell: Option<&[u8]>) {
        if let Some(b) = cell {
            self.bytes.extend_from_slice(b);
        }
        self.ends.push(self.bytes.len());
        self.present.push(cell.is_some());
    }

    fn view(&self) -> Cells<'_> {
        Cells {
            bytes: &self.bytes,
            ends: &self.ends,
            present: &self.present,
        }
    }
}

impl RawTable {
    /// An empty table; `keys` names the columns extraction may read back for sampling.
    pub(crate) fn new(name: &str, columns: &[&str], keys: &[&str]) -> RawTable {
        RawTable {
            name: name.to_string(),
            columns: columns
                .iter()
                .map(|c| RawColumn::empty(c, keys.contains(c)))
                .collect(),
            rows: 0,
        }
    }

    pub(crate) fn push_row(&mut self, cells: Vec<Option<Vec<u8>>>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        for (col, cell) in self.columns.iter_mut().zip(cells) {
            col.push(cell.as_deref());
        }
        self.rows += 1;
    }

    /// Adds the next cell of column `col`; a row is complete once [`RawTable::end_row`] is
    /// called after a cell of every column.
    pub(crate) fn push_cell(&mut self, col: usize, cell: Option<&[u8]>) {
        self.columns[col].push(cell);
    }

    pub(crate) fn end_row(&mut self) {
        debug_assert!(self.columns.iter().all(|c| c.ends.len() == self.rows + 1));
        self.rows += 1;
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn columns(&self) -> &[RawColumn] {
        &self.columns
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The cells of a key column, for sampling; `None` for any column not declared a key.
    pub(crate) fn key_cells(&self, col: usize) -> Option<Cells<'_>> {
        let c = self.columns.get(col)?;
        c.key.then(|| c.view())
    }

    /// The rows whose `keep` flag is set.
    pub(crate) fn filter(self, keep: &[bool]) -> RawTable {
        let columns = self
            .columns
            .iter()
            .map(|c| {
                let mut out = RawColumn::empty(&c.name, c.key);
                for (cell, k) in c.view().iter().zip(keep) {
                    if *k {
                        out.push(cell);
                    }
                }
                out
            })
            .collect();
        RawTable {
            name: self.name,
            columns,
            rows: keep.iter().filter(|k| **k).count(),
        }
    }
}

impl RawColumn {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw cells: masking code only.
    pub(in crate::mask) fn cells(&self) -> Cells<'_> {
        self.view()
    }
}

impl std::fmt::Debug for RawTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RawTable({}: {} rows x {} columns, values withheld)",
            self.name,
            self.rows,
            self.columns.len()
        )
    }
}

impl std::fmt::Debug for RawColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RawColumn({}: {} cells, values withheld)",
            self.name,
            self.ends.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_values() {
        let mut t = RawTable::new("customers", &["email"], &[]);
        t.push_row(vec![Some(b"alice@example.com".to_vec())]);
        let shown = format!("{t:?} {:?}", t.columns());
        assert!(!shown.contains("alice"), "{shown}");
        assert!(shown.contains("1 rows"));
    }

    #[test]
    fn only_key_columns_can_be_read_outside_masking() {
        let mut t = RawTable::new("customers", &["id", "email"], &["id"]);
        t.push_row(vec![Some(b"1".to_vec()), Some(b"a@b.c".to_vec())]);
        assert!(t.key_cells(0).is_some());
        assert!(t.key_cells(1).is_none(), "email is not a key");
    }
}
