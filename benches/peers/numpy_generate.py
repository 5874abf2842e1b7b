"""The vectorized peer of `realitycheck generate` for benches/orders.toml: numpy draws every
column at once, pyarrow.compute builds the strings (no Python loop, no numpy string arrays) and
writes zstd Parquet. Same columns and distributions.

    python numpy_generate.py ROWS OUT_DIR
"""
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

FIRST = pa.array(["James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda"])
LAST = pa.array(["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis"])
WORDS = pa.array(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"])


def pick(rng, values, n, p=None):
    """`n` draws from a pyarrow array of values, by index (dictionary-style, no copies of strings in Python)."""
    idx = rng.choice(len(values), n, p=p)
    return pc.take(values, pa.array(idx))


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1)
    nc = max(n // 10, 1)
    countries = pa.array(["US", "DE", "JP", "FR"])
    cw = [0.5, 0.2, 0.1, 0.2]
    pq.write_table(
        pa.table({"id": np.arange(1, nc + 1), "country": pick(rng, countries, nc, cw)}),
        os.path.join(out, "customers.parquet"), compression="zstd")
    t0, t1 = np.datetime64("2020-01-01", "us").astype(np.int64), np.datetime64("2026-01-01", "us").astype(np.int64)
    first, last = pick(rng, FIRST, n), pick(rng, LAST, n)
    names = pc.binary_join_element_wise(first, last, " ")
    digits = pc.cast(pa.array(rng.integers(0, 100, n)), pa.string())
    emails = pc.binary_join_element_wise(pc.utf8_lower(first), ".", pc.utf8_lower(last), digits, "@example.com", "")
    # Notes: 0..6 words, as a list array joined by spaces.
    k = rng.integers(0, 7, n)
    offsets = np.concatenate([[0], np.cumsum(k)]).astype(np.int32)
    words = pick(rng, WORDS, int(offsets[-1]))
    notes = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), words), " ")
    notes = pc.if_else(pa.array(rng.random(n) < 0.3), pa.scalar(None, pa.string()), notes)
    table = pa.table({
        "id": np.arange(1, n + 1),
        "customer_id": rng.integers(1, nc + 1, n),
        "placed_at": pa.array(rng.integers(t0, t1, n), type=pa.int64()).cast(pa.timestamp("us")),
        "status": pick(rng, pa.array(["PAID", "SHIPPED", "REFUNDED"]), n, [0.7, 0.2, 0.1]),
        "amount": np.round(np.maximum(rng.lognormal(3.5, 0.8, n), 1.0), 2),
        "quantity": rng.choice(np.array([1, 2, 3, 5]), n, p=[0.5, 0.25, 0.15, 0.1]),
        "email": emails,
        "name": names,
        "country": pick(rng, countries, n, cw),
        "note": notes,
    })
    pq.write_table(table, os.path.join(out, "orders.parquet"), compression="zstd")


if __name__ == "__main__":
    main()
