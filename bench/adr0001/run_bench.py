"""ADR 0001 benchmark: unary Echo.Say calls/s, plain grpcio vs nameko-grpc, on loopback.

Servers:  grpcio  = grpcio_server.py (project venv, sync grpc.server + ThreadPoolExecutor)
          nameko  = nameko_server.py (nameko venv, eventlet-patched nameko ServiceRunner)
Clients:  grpcio  = grpc.insecure_channel (project venv)
          nameko  = nameko_grpc.client.Client (nameko venv)

Every (server, client, concurrency) cell runs ``--repeats`` times, one repeat of the whole
matrix after the other (so a burst of load from other users of the shared machine hits
different cells), and the median is reported with the ratio to grpcio->grpcio at the same
concurrency. Results also go to a JSON file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from stubs import generate_stubs

HERE = Path(__file__).resolve().parent
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
SERVER_SCRIPTS = {"grpcio": HERE / "grpcio_server.py", "nameko": HERE / "nameko_server.py"}
SERVER_READY_TIMEOUT_S = 60
CLIENT_TIMEOUT_S = 900
VERSIONED_PACKAGES = ["grpcio", "protobuf", "nameko", "nameko-grpc", "eventlet", "greenlet", "h2"]


class BenchmarkError(RuntimeError):
    """A server did not start or a client run failed; the message says which and why."""


def package_versions(python: str) -> dict[str, str | None]:
    """Versions of the packages that matter, as installed for interpreter ``python``."""
    script = (
        "import importlib.metadata as m, json, sys\n"
        "out = {'python': sys.version.split()[0]}\n"
        f"for name in {VERSIONED_PACKAGES!r}:\n"
        "    try:\n        out[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n        out[name] = None\n"
        "print(json.dumps(out))\n"
    )
    completed = subprocess.run([python, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(completed.stdout)


class RunningServer:
    """A benchmark server subprocess; ``port`` is known once it printed ``READY <port>``."""

    def __init__(self, kind: str, python: str, stubs_dir: Path) -> None:
        self.kind = kind
        self.process = subprocess.Popen(
            [python, str(SERVER_SCRIPTS[kind]), "--stubs", str(stubs_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=HERE,
        )
        self.port = self._wait_ready()

    def _wait_ready(self) -> int:
        import selectors

        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=SERVER_READY_TIMEOUT_S):
            self.stop()
            raise BenchmarkError(
                f"{self.kind} server: no READY line within {SERVER_READY_TIMEOUT_S}s"
            )
        line = self.process.stdout.readline().strip()
        if not line.startswith("READY "):
            self.stop()
            raise BenchmarkError(f"{self.kind} server: expected 'READY <port>', got {line!r}")
        return int(line.split()[1])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_client(
    python: str, client: str, port: int, stubs_dir: Path, concurrency: int, calls: int
) -> dict:
    """One bounded client run; returns client.py's JSON result."""
    command = [
        python,
        str(HERE / "client.py"),
        "--stubs",
        str(stubs_dir),
        "--client",
        client,
        "--port",
        str(port),
        "--concurrency",
        str(concurrency),
        "--calls",
        str(calls),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, cwd=HERE, timeout=CLIENT_TIMEOUT_S, check=False
    )
    if completed.returncode != 0:
        raise BenchmarkError(
            f"{client} client (c={concurrency}, port {port}) exited "
            f"{completed.returncode}: {completed.stderr.strip()[-2000:]}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--project-python",
        default=sys.executable,
        help="interpreter with grpcio only (default: this one)",
    )
    parser.add_argument(
        "--nameko-python",
        default="/tmp/nameko-venv/bin/python",
        help="interpreter of the throwaway venv from requirements-nameko.txt",
    )
    parser.add_argument("--calls", type=int, default=5000, help="timed calls per run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--servers", nargs="+", default=["grpcio", "nameko"], choices=sorted(SERVER_SCRIPTS)
    )
    parser.add_argument(
        "--clients", nargs="+", default=["grpcio", "nameko"], choices=["grpcio", "nameko"]
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    parser.add_argument(
        "--nameko-select-timeout",
        type=float,
        default=None,
        help="diagnostic: override nameko_grpc SELECT_TIMEOUT (default 0.01 s)",
    )
    args = parser.parse_args(argv)
    if args.nameko_select_timeout is not None:
        # inherited by every nameko server/client subprocess
        os.environ["ADR0001_NAMEKO_SELECT_TIMEOUT"] = str(args.nameko_select_timeout)

    interpreter = {"grpcio": args.project_python, "nameko": args.nameko_python}
    started = dt.datetime.now(VIETNAM)
    loadavg_at_start = os.getloadavg()
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="adr0001-stubs-") as tmp:
        stubs_dir = generate_stubs(Path(tmp), python=args.project_python)
        # repeats outermost, servers restarted each time: a burst of load from other users
        # then hits both servers' cells instead of biasing the ratio between them
        for repeat in range(1, args.repeats + 1):
            for server_kind in args.servers:
                server = RunningServer(server_kind, interpreter[server_kind], stubs_dir)
                try:
                    for concurrency in args.concurrency:
                        for client in args.clients:
                            result = run_client(
                                interpreter[client],
                                client,
                                server.port,
                                stubs_dir,
                                concurrency,
                                args.calls,
                            )
                            result.update({"server": server_kind, "repeat": repeat})
                            runs.append(result)
                            print(
                                f"  {server_kind:6} server <- {client:6} client  "
                                f"c={concurrency}  run {repeat}: "
                                f"{result['calls_per_s']:8.1f} calls/s  "
                                f"errors={result['errors']}",
                                flush=True,
                            )
                            for sample in result.get("error_samples", []):
                                first_line = sample.splitlines()[0] if sample else ""
                                print(f"      error: {first_line}", flush=True)
                finally:
                    server.stop()

    medians: dict[tuple[str, str, int], float] = {}
    for run in runs:
        key = (run["server"], run["client"], run["concurrency"])
        if key not in medians:
            medians[key] = statistics.median(
                r["calls_per_s"]
                for r in runs
                if (r["server"], r["client"], r["concurrency"]) == key
            )
    print(
        f"\nMedian of {args.repeats} runs, {args.calls} timed calls each "
        "(shared 2-core machine: noisy)\n"
    )
    print("| server | client | callers | calls/s (median) | runs | grpcio->grpcio / this |")
    print("|---|---|---|---|---|---|")
    summary = []
    for (server_kind, client, concurrency), median in medians.items():
        baseline = medians.get(("grpcio", "grpcio", concurrency))
        ratio = baseline / median if baseline else None
        each = [
            round(r["calls_per_s"])
            for r in runs
            if (r["server"], r["client"], r["concurrency"]) == (server_kind, client, concurrency)
        ]
        ratio_text = f"{ratio:.1f}x" if ratio else "n/a"
        print(
            f"| {server_kind} | {client} | {concurrency} | {median:.0f} | {each} | {ratio_text} |"
        )
        summary.append(
            {
                "server": server_kind,
                "client": client,
                "concurrency": concurrency,
                "median_calls_per_s": median,
                "runs_calls_per_s": each,
                "slowdown_vs_grpcio": ratio,
            }
        )

    record = {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(VIETNAM).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "loadavg_at_start": loadavg_at_start,
            "loadavg_at_end": os.getloadavg(),
        },
        "versions": {kind: package_versions(python) for kind, python in interpreter.items()},
        "calls_per_run": args.calls,
        "repeats": args.repeats,
        "nameko_select_timeout_override": args.nameko_select_timeout,
        "summary": summary,
        "runs": runs,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
