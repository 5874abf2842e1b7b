"""The vectorized peer of `realitycheck generate` for benches/orders.toml: numpy draws every
column at once, pyarrow writes zstd Parquet. Same columns and distributions.

    python numpy_generate.py ROWS OUT_DIR
"""
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FIRST = np.array(["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda"])
LAST = np.array(["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis"])
WORDS = np.array(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"])


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1)
    nc = max(n // 10, 1)
    countries = np.array(["US", "DE", "JP", "FR"])
    cw = [0.5, 0.2, 0.1, 0.2]
    pq.write_table(
        pa.table({"id": np.arange(1, nc + 1), "country": rng.choice(countries, nc, p=cw)}),
        os.path.join(out, "customers.parquet"), compression="zstd")
    t0, t1 = np.datetime64("2020-01-01", "us").astype(np.int64), np.datetime64("2026-01-01", "us").astype(np.int64)
    amount = np.round(np.maximum(rng.lognormal(3.5, 0.8, n), 1.0), 2)
    first, last = rng.choice(FIRST, n), rng.choice(LAST, n)
    names = np.char.add(np.char.add(first, " "), last)
    emails = np.char.add(np.char.add(np.char.lower(first), np.char.add(".", np.char.lower(last))),
                         np.char.add(rng.integers(0, 100, n).astype(str), "@example.com"))
    k = rng.integers(0, 7, n)
    w = rng.choice(WORDS, (n, 6))
    notes = np.where(k == 0, "", w[:, 0])
    for j in range(1, 6):
        notes = np.where(k > j, np.char.add(np.char.add(notes, " "), w[:, j]), notes)
    table = pa.table({
        "id": np.arange(1, n + 1),
        "customer_id": rng.integers(1, nc + 1, n),
        "placed_at": pa.array(rng.integers(t0, t1, n), type=pa.int64()).cast(pa.timestamp("us")),
        "status": rng.choice(np.array(["PAID", "SHIPPED", "REFUNDED"]), n, p=[0.7, 0.2, 0.1]),
        "amount": amount,
        "quantity": rng.choice(np.array([1, 2, 3, 5]), n, p=[0.5, 0.25, 0.15, 0.1]),
        "email": emails,
        "name": names,
        "country": rng.choice(countries, n, p=cw),
        "note": pa.array(notes, mask=rng.random(n) < 0.3),
    })
    pq.write_table(table, os.path.join(out, "orders.parquet"), compression="zstd")


if __name__ == "__main__":
    main()
