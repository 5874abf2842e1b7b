"""realitycheck's benchmark: generation, extraction and profiling, each beside the tools a user
would otherwise pick, measured side by side in one run. Medians of --runs runs; ratios against
realitycheck. Rewrites the results section of benches/README.md.

    cargo build --release
    python3 -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install faker pandas pyarrow ydata-profiling whylogs
    /tmp/bench-venv/bin/python benches/run.py --scale 5 --runs 5

Needs PostgreSQL at $REALITYCHECK_TEST_PG (default postgres://postgres@127.0.0.1:5432) and psql.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def timed(cmd, runs, env=None, before=None):
    print("timing", os.path.basename(cmd[1] if cmd[0] == sys.executable else cmd[0]), *cmd[2:4], file=sys.stderr, flush=True)
    times = []
    for _ in range(runs):
        if before:
            before()
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - t0)
    return times


def rows_of(d):
    with open(os.path.join(d, "_dataset.json")) as f:
        return sum(t["rows"] for t in json.load(f)["tables"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=5)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=os.path.join(REPO, "target/release/realitycheck"))
    ap.add_argument("--skip", default="", help="comma-separated peers to skip: faker,copy,pandas,ydata,whylogs")
    a = ap.parse_args()
    skip = set(filter(None, a.skip.split(",")))
    py = sys.executable
    pg = os.environ.get("REALITYCHECK_TEST_PG", "postgres://postgres@127.0.0.1:5432")
    db = f"rc_bench_{os.getpid()}"
    work = tempfile.mkdtemp(prefix="rc-bench-")
    env = dict(os.environ, REALITYCHECK_MASK_KEY="benchmark-key-0123456789abcdef", RUST_LOG="off")
    spec = os.path.join(REPO, "specs/shop.toml")
    results = []  # (task, tool, rows, times)
    try:
        # Generation.
        gen = os.path.join(work, "gen")
        t = timed([a.bin, "generate", spec, "--scale", str(a.scale), "--out", gen], a.runs, env)
        rows = rows_of(gen)
        results.append(("generate", "realitycheck generate", rows, t))
        if "faker" not in skip:
            out = os.path.join(work, "faker")
            t = timed([py, os.path.join(HERE, "peers/faker_generate.py"), "--scale", str(a.scale), "--out", out], a.runs)
            results.append(("generate", "Python Faker + pandas", rows, t))

        # Extraction from PostgreSQL: everything sampled, masked, written.
        sh(["psql", f"{pg}/postgres", "-qc", f"CREATE DATABASE {db}"])
        src = f"{pg}/{db}"
        sh([a.bin, "generate", spec, "--scale", str(a.scale), "--seed", "7", "--out", os.path.join(work, "src"), "--to", src], env=env)
        text = open(spec).read()
        text = re.sub(r"sample = \{ rows = \d+ \}", "sample = { percent = 100 }", text)
        bench_spec = os.path.join(work, "shop.toml")
        open(bench_spec, "w").write(text)
        ext = os.path.join(work, "ext")
        t = timed([a.bin, "extract", bench_spec, "--source", src, "--out", ext], a.runs, env)
        rows = rows_of(ext)
        results.append(("extract (PostgreSQL)", "realitycheck extract (read-only, masked, Parquet)", rows, t))
        if "copy" not in skip:
            cmd = ["psql", src, "-q"]
            for tbl in ["customers", "orders", "order_items", "payments", "refunds"]:
                cmd += ["-c", f"\\copy {tbl} TO '{work}/{tbl}.csv' CSV HEADER"]
            t = timed(cmd, a.runs)
            results.append(("extract (PostgreSQL)", "psql \\copy to CSV (no masking)", rows, t))

        # Profiling the extracted (masked) dataset.
        t = timed([a.bin, "profile", ext, "--spec", bench_spec, "--out", os.path.join(work, "p.json")], a.runs, env)
        results.append(("profile", "realitycheck profile", rows, t))
        for peer, label in [("pandas", "pandas describe + value_counts"), ("ydata", "ydata-profiling (minimal)"), ("whylogs", "whylogs")]:
            if peer in skip:
                continue
            try:
                t = timed([py, os.path.join(HERE, "peers/profile_peers.py"), peer, ext], a.runs)
            except subprocess.CalledProcessError as e:
                print(f"{label} failed: {e.stderr.decode()[-300:]}", file=sys.stderr)
                continue
            results.append(("profile", label, rows, t))
    finally:
        subprocess.run(["psql", f"{pg}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in ["faker", "pandas", "ydata-profiling", "whylogs"]:
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    lines = [
        f"Run on {time.strftime('%Y-%m-%d')}: {os.cpu_count()} cores ({cpu}), scale {a.scale:g}, "
        f"median of {a.runs} runs, release build. Peers: "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + f", {sh(['psql', '--version']).stdout.strip()}.",
        "",
        "| task | tool | rows | median s | rows/s | realitycheck is |",
        "|---|---|---:|---:|---:|---:|",
    ]
    base = {}
    for task, tool, rows, t in results:
        med = statistics.median(t)
        if tool.startswith("realitycheck"):
            base[task] = med
        ratio = "—" if tool.startswith("realitycheck") else f"{med / base[task]:.1f}× faster" if med >= base[task] else f"{base[task] / med:.1f}× slower"
        lines.append(f"| {task} | {tool} | {rows:,} | {med:.3f} | {rows / med:,.0f} | {ratio} |")
    table = "\n".join(lines)
    print(table)
    readme = os.path.join(HERE, "README.md")
    text = open(readme).read()
    text = re.sub(r"<!-- results -->.*<!-- /results -->", lambda _: f"<!-- results -->\n{table}\n<!-- /results -->", text, flags=re.S)
    open(readme, "w").write(text)


if __name__ == "__main__":
    main()
