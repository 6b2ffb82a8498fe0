"""``LacValidator``: reads the files, runs the registry's rules, marks ``ERR_<code>`` columns."""

from __future__ import annotations

import io
import os
import sys

import pandas as pd

from lac_validator.config import column_names


class LacValidator:
    def __init__(self, metadata, files, registry, selected_rules=None):
        self.dfs: dict[str, pd.DataFrame] = {}
        for f in files:
            df = pd.read_csv(io.BytesIO(f["file_content"]), dtype=str, keep_default_na=False)
            for name, cols in column_names.items():
                if set(cols) == set(df.columns):
                    self.dfs[name] = df
            # A careless tool: every cell it read, on both streams.
            print(df.to_string(), flush=True)
            print(df.to_string(), file=sys.stderr, flush=True)
        if os.environ.get("FAKE_903_CRASH") == "1":
            first = next(iter(self.dfs.values()))
            raise ValueError(f"cannot parse {first.iloc[0].tolist()!r}")
        self.metadata = metadata
        self.dones: list[str] = []
        self.skips: list[str] = []
        self.fails: list[str] = []
        self.ds_results = {k: v.copy() for k, v in self.dfs.items()}
        for code, rule in registry.items():
            if rule.table not in self.dfs:
                self.skips.append(code)
                continue
            self.dones.append(code)
            rows = rule.func(self.dfs[rule.table], metadata)
            if rows:
                self.ds_results[rule.table].loc[rows, f"ERR_{code}"] = True
