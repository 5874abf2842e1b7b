"""The peer of `realitycheck generate`: the shop domain of specs/shop.toml written by hand with
Python Faker + NumPy, into Parquet with pyarrow — what a team would otherwise write.

    python benches/peers/faker_generate.py --scale 5 --out /tmp/faker
"""

import argparse
import os
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from faker import Faker


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    fake = Faker()
    Faker.seed(a.seed)
    rng = np.random.default_rng(a.seed)

    n = int(round(2000 * a.scale))
    start, end = datetime(2019, 1, 1), datetime(2026, 11, 1)
    span = int((end - start).total_seconds())
    customers = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "email": [fake.email() for _ in range(n)],
            "full_name": [fake.name() for _ in range(n)],
            "phone": [fake.numerify("+1-###-###-####") for _ in range(n)],
            "country": rng.choice(["US", "DE", "JP", "FR"], n, p=[0.5, 0.2, 0.1, 0.2]),
            "created_at": [start + timedelta(seconds=int(s)) for s in rng.integers(0, span, n)],
        }
    )

    per = rng.poisson(3.0, n)
    parent = np.repeat(np.arange(n), per)
    m = len(parent)
    total = rng.lognormal(3.5, 0.8, m)
    while (total < 5).any():
        bad = total < 5
        total[bad] = rng.lognormal(3.5, 0.8, bad.sum())
    total = np.round(total, 2)
    coupon = [fake.bothify("???-####").upper() for _ in range(m)]
    coupon = [None if x < 0.02 else c for c, x in zip(coupon, rng.random(m))]
    placed = customers["created_at"].to_numpy()[parent] + pd.to_timedelta(rng.integers(0, 30 * 86400, m), unit="s")
    orders = pd.DataFrame(
        {
            "id": np.arange(1, m + 1),
            "customer_id": parent + 1,
            "status": rng.choice(["PAID", "SHIPPED", "REFUNDED"], m, p=[0.7, 0.2, 0.1]),
            "total": total,
            "coupon_code": coupon,
            "placed_at": placed,
            "item_count": (total / 20).astype(int) + 1,
        }
    )

    per = rng.integers(1, 5, m)
    op = np.repeat(np.arange(m), per)
    k = len(op)
    items = pd.DataFrame(
        {
            "id": np.arange(1, k + 1),
            "order_id": op + 1,
            "sku": [fake.numerify("SKU-#####") for _ in range(k)],
            "quantity": rng.integers(1, 6, k),
            "unit_price": np.round(rng.uniform(1, 200, k), 2),
        }
    )
    payments = pd.DataFrame(
        {
            "id": np.arange(1, m + 1),
            "order_id": np.arange(1, m + 1),
            "method": rng.choice(["card", "paypal", "bank_transfer"], m, p=[0.7, 0.2, 0.1]),
            "paid_at": placed + pd.to_timedelta(rng.integers(0, 2 * 86400, m), unit="s"),
        }
    )
    per = rng.poisson(0.15, m)
    rp = np.repeat(np.arange(m), per)
    r = len(rp)
    refunds = pd.DataFrame(
        {
            "id": np.arange(1, r + 1),
            "order_id": rp + 1,
            "amount": np.round(rng.uniform(0.5, 5.0, r), 2),
            "reason": rng.choice(["damaged", "late", "unwanted"], r, p=[0.3, 0.2, 0.5]),
            "created_at": placed[rp] + pd.to_timedelta(rng.integers(0, 30 * 86400, r), unit="s"),
        }
    )
    for name, df in [("customers", customers), ("orders", orders), ("order_items", items), ("payments", payments), ("refunds", refunds)]:
        df.to_parquet(os.path.join(a.out, f"{name}.parquet"), compression="zstd", index=False)


if __name__ == "__main__":
    main()
