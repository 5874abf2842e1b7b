//! Unmasked rows. This type has no `Serialize`, no `Clone`, no `Display`, and its `Debug`
//! prints only sizes: a raw value cannot reach a file, a log line or a panic message through
//! it. Only `mask` reads the cells.

/// One table's raw rows, column-major, as the bytes the database returned.
pub struct RawTable {
    name: String,
    columns: Vec<RawColumn>,
    rows: usize,
}

pub struct RawColumn {
    name: String,
    cells: Vec<Option<Vec<u8>>>,
}

impl RawTable {
    pub(crate) fn new(name: &str, columns: &[&str]) -> RawTable {
        RawTable {
            name: name.to_string(),
            columns: columns
                .iter()
                .map(|c| RawColumn {
                    name: c.to_string(),
                    cells: Vec::new(),
                })
                .collect(),
            rows: 0,
        }
    }

    pub(crate) fn push_row(&mut self, cells: Vec<Option<Vec<u8>>>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        for (col, cell) in self.columns.iter_mut().zip(cells) {
            col.cells.push(cell);
        }
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

    pub(crate) fn cell(&self, col: usize, row: usize) -> Option<&[u8]> {
        self.columns[col].cells[row].as_deref()
    }

    /// The rows whose `keep` flag is set.
    pub(crate) fn filter(self, keep: &[bool]) -> RawTable {
        let columns = self
            .columns
            .into_iter()
            .map(|c| RawColumn {
                name: c.name,
                cells: c
                    .cells
                    .into_iter()
                    .zip(keep)
                    .filter(|(_, k)| **k)
                    .map(|(v, _)| v)
                    .collect(),
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

    /// The raw cells; `pub(crate)` so only this crate's masking code can read them.
    pub(crate) fn cells(&self) -> &[Option<Vec<u8>>] {
        &self.cells
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
            self.cells.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_values() {
        let mut t = RawTable::new("customers", &["email"]);
        t.push_row(vec![Some(b"alice@example.com".to_vec())]);
        let shown = format!("{t:?} {:?}", t.columns());
        assert!(!shown.contains("alice"), "{shown}");
        assert!(shown.contains("1 rows"));
    }
}
