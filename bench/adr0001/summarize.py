"""Print one markdown table comparing several ``run_bench.py`` JSON result files side by side.

    python bench/adr0001/summarize.py bench/adr0001/results/run-*.json

Each column is one benchmark run (median of its repeats) with its slowdown versus
grpcio->grpcio at the same number of callers, so the spread between runs is visible.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

LABELS = {"grpcio": "grpcio", "nameko": "nameko-grpc"}


def load(path: Path) -> dict:
    record = json.loads(path.read_text(encoding="utf-8"))
    record["path"] = path
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", nargs="+", type=Path)
    args = parser.parse_args(argv)
    records = [load(path) for path in args.results]
    cells: list[tuple[str, str, int]] = []
    for record in records:
        for row in record["summary"]:
            key = (row["server"], row["client"], row["concurrency"])
            if key not in cells:
                cells.append(key)
    cells.sort(key=lambda key: (key[2], key[0] != "grpcio", key[1] != "grpcio"))
    header = ["server", "client", "callers"] + [
        f"{record['path'].stem} ({record['started'][11:16]}, load "
        f"{record['machine'].get('loadavg_at_end', [0])[0]:.0f})"
        for record in records
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for server, client, callers in cells:
        columns = [LABELS[server], LABELS[client], str(callers)]
        for record in records:
            row = next(
                (
                    r
                    for r in record["summary"]
                    if (r["server"], r["client"], r["concurrency"]) == (server, client, callers)
                ),
                None,
            )
            if row is None:
                columns.append("—")
                continue
            ratio = row["slowdown_vs_grpcio"]
            ratio_text = f" ({ratio:.1f}×)" if ratio and ratio != 1.0 else ""
            columns.append(f"{row['median_calls_per_s']:,.0f}{ratio_text}")
        print("| " + " | ".join(columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
