"""Peers of `realitycheck profile` and `compare` on the orders Parquet files.

    python scale_peers.py duckdb   DIR        # SUMMARIZE every column
    python scale_peers.py polars   DIR        # describe + n_unique + value_counts
    python scale_peers.py scipy    DIR_A DIR_B  # KS, Wasserstein, PSI per numeric column; chi-square per category
"""
import sys

import numpy as np


def main():
    what, d = sys.argv[1], sys.argv[2]
    f = f"{d}/orders.parquet"
    if what == "duckdb":
        import duckdb
        duckdb.sql(f"SUMMARIZE SELECT * FROM '{f}'").fetchall()
    elif what == "polars":
        import polars as pl
        df = pl.read_parquet(f)
        df.describe()
        for c in df.columns:
            df[c].n_unique()
            df[c].value_counts()
    elif what == "scipy":
        import pyarrow.parquet as pq
        from scipy import stats
        a, b = pq.read_table(f), pq.read_table(f"{sys.argv[3]}/orders.parquet")
        for c in ["amount", "quantity", "placed_at", "customer_id"]:
            x = a[c].drop_null().cast("int64" if c == "placed_at" else a[c].type).to_numpy().astype(float)
            y = b[c].drop_null().cast("int64" if c == "placed_at" else b[c].type).to_numpy().astype(float)
            stats.ks_2samp(x, y)
            stats.wasserstein_distance(x, y)
            edges = np.unique(np.quantile(x, np.linspace(0, 1, 11)))
            p = np.histogram(x, edges)[0] + 0.5
            q = np.histogram(y, edges)[0] + 0.5
            p, q = p / p.sum(), q / q.sum()
            float(np.sum((q - p) * np.log(q / p)))
        for c in ["status", "country"]:
            va, ca = np.unique(a[c].to_numpy(zero_copy_only=False).astype(str), return_counts=True)
            vb, cb = np.unique(b[c].to_numpy(zero_copy_only=False).astype(str), return_counts=True)
            keys = sorted(set(va) | set(vb))
            t = np.array([[dict(zip(va, ca)).get(k, 0) for k in keys], [dict(zip(vb, cb)).get(k, 0) for k in keys]])
            stats.chi2_contingency(t)
    else:
        raise SystemExit(f"unknown peer {what}")


if __name__ == "__main__":
    main()
