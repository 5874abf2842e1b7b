//! k-anonymity over declared quasi-identifiers, measured on the masked sample: rows are grouped
//! by the masked values of a table's quasi-identifier columns, and a group smaller than `k`
//! singles its rows out. Takes masked columns; gives counts only.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::frame::Values;

/// k-anonymity of one table over its quasi-identifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KAnonymity {
    pub table: String,
    pub columns: Vec<String>,
    pub k: u64,
    pub rows: u64,
    pub groups: u64,
    /// The smallest group (0 for a table with no rows).
    pub min_group: u64,
    /// Rows in groups of fewer than `k` rows.
    pub rows_below_k: u64,
    pub groups_below_k: u64,
}

impl KAnonymity {
    pub fn holds(&self) -> bool {
        self.rows_below_k == 0
    }
}

/// Group sizes over a table's quasi-identifiers, counted a batch at a time.
pub struct Groups {
    table: String,
    columns: Vec<String>,
    k: u64,
    rows: u64,
    groups: HashMap<Vec<Option<String>>, u64>,
}

impl Groups {
    pub fn new(table: &str, columns: &[&str], k: u64) -> Groups {
        Groups {
            table: table.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            k,
            rows: 0,
            groups: HashMap::new(),
        }
    }

    /// Counts the `rows` rows of one batch; `columns` are its masked quasi-identifier values,
    /// in the order given to [`Groups::new`] (null is a value of its own).
    pub fn add(&mut self, columns: &[&Values], rows: usize) {
        for i in 0..rows {
            let key: Vec<Option<String>> = columns.iter().map(|v| v.key_at(i)).collect();
            *self.groups.entry(key).or_default() += 1;
        }
        self.rows += rows as u64;
    }

    pub fn finish(self) -> KAnonymity {
        let k = self.k;
        let below: Vec<u64> = self.groups.values().copied().filter(|n| *n < k).collect();
        KAnonymity {
            table: self.table,
            columns: self.columns,
            k,
            rows: self.rows,
            groups: self.groups.len() as u64,
            min_group: self.groups.values().copied().min().unwrap_or(0),
            rows_below_k: below.iter().sum(),
            groups_below_k: below.len() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Groups the rows of `columns` (masked values; null is a value of its own) and counts.
    fn measure(table: &str, columns: &[(&str, &Values)], rows: usize, k: u64) -> KAnonymity {
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let mut g = Groups::new(table, &names, k);
        let values: Vec<&Values> = columns.iter().map(|(_, v)| *v).collect();
        g.add(&values, rows);
        g.finish()
    }

    /// Counted by hand: (US, 1980) x3, (US, 1990) x2, (DE, 1980) x1, (null, 1980) x1.
    #[test]
    fn counts_groups_like_a_hand_count() {
        let country = Values::Text(
            ["US", "US", "US", "US", "US", "DE", ""]
                .iter()
                .map(|s| (!s.is_empty()).then(|| s.to_string()))
                .collect(),
        );
        let year = Values::Int(vec![
            Some(1980),
            Some(1980),
            Some(1980),
            Some(1990),
            Some(1990),
            Some(1980),
            Some(1980),
        ]);
        let r = measure("people", &[("country", &country), ("year", &year)], 7, 3);
        assert_eq!(r.groups, 4);
        assert_eq!(r.min_group, 1);
        assert_eq!(r.groups_below_k, 3);
        assert_eq!(r.rows_below_k, 4);
        assert!(!r.holds());
        let r = measure("people", &[("country", &country), ("year", &year)], 7, 1);
        assert!(r.holds());
    }
}
