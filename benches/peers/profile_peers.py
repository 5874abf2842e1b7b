"""The peers of `realitycheck profile`: the same Parquet folder profiled by pandas, ydata-profiling
and whylogs — the tools a data engineer would otherwise reach for.

    python benches/peers/profile_peers.py pandas|ydata|whylogs DIR
"""

import glob
import os
import sys
import warnings

import pandas as pd

warnings.filterwarnings("ignore")


def tables(d):
    for f in sorted(glob.glob(os.path.join(d, "*.parquet"))):
        yield os.path.basename(f)[:-8], pd.read_parquet(f)


def run_pandas(d):
    # Per-column statistics, quantiles and top values: what `profile` computes.
    for _, df in tables(d):
        df.describe(include="all", percentiles=[0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])
        for c in df.columns:
            df[c].isna().sum()
            df[c].nunique()
            s = df[c]
            if s.dtype == object or pd.api.types.is_string_dtype(s):
                s.value_counts().head(200)
                # Object columns also hold decimals and dates; lengths are of the text values.
                text = s.dropna()
                if text.dtype == object:
                    text = text[text.map(lambda v: isinstance(v, str))].astype(str)
                text.str.len().describe()


def run_ydata(d):
    from ydata_profiling import ProfileReport

    for name, df in tables(d):
        ProfileReport(df, minimal=True, progress_bar=False, title=name).to_json()


def run_whylogs(d):
    import numpy as np

    # whylogs 1.x still names np.unicode_, which NumPy 2 removed; alias it rather than pin NumPy 1.
    if not hasattr(np, "unicode_"):
        np.unicode_ = np.str_
    import whylogs as why

    for _, df in tables(d):
        why.log(df).view().to_pandas()


if __name__ == "__main__":
    {"pandas": run_pandas, "ydata": run_ydata, "whylogs": run_whylogs}[sys.argv[1]](sys.argv[2])
