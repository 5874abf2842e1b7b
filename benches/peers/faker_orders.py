"""Faker's peer of `realitycheck generate` for benches/orders.toml, row by row as Faker users
write it (names, e-mails and words from Faker), pandas to Parquet.

    python faker_orders.py ROWS OUT_DIR
"""
import os
import random
import sys
from datetime import datetime, timedelta

import pandas as pd
from faker import Faker


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    fake, rnd = Faker(), random.Random(1)
    Faker.seed(1)
    nc = max(n // 10, 1)
    countries, cw = ["US", "DE", "JP", "FR"], [0.5, 0.2, 0.1, 0.2]
    pd.DataFrame({"id": range(1, nc + 1), "country": rnd.choices(countries, cw, k=nc)}).to_parquet(
        os.path.join(out, "customers.parquet"), compression="zstd")
    start, span = datetime(2020, 1, 1), (datetime(2026, 1, 1) - datetime(2020, 1, 1)).total_seconds()
    rows = []
    for i in range(1, n + 1):
        rows.append((i, rnd.randint(1, nc), start + timedelta(seconds=rnd.random() * span),
                     rnd.choices(["PAID", "SHIPPED", "REFUNDED"], [0.7, 0.2, 0.1])[0],
                     round(max(rnd.lognormvariate(3.5, 0.8), 1.0), 2),
                     rnd.choices([1, 2, 3, 5], [0.5, 0.25, 0.15, 0.1])[0],
                     fake.email(), fake.name(), rnd.choices(countries, cw)[0],
                     None if rnd.random() < 0.3 else " ".join(fake.words(rnd.randint(0, 6)))))
    cols = ["id", "customer_id", "placed_at", "status", "amount", "quantity", "email", "name", "country", "note"]
    pd.DataFrame(rows, columns=cols).to_parquet(os.path.join(out, "orders.parquet"), compression="zstd")


if __name__ == "__main__":
    main()
