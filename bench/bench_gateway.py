"""Gateway throughput: an agency-scoped listing endpoint next to a bare ASGI hello endpoint.

Both run in the same uvicorn configuration (one process, the same event loop implementation),
started by this script as subprocesses, and are driven in the same run by the same load
generator: ``--clients`` concurrent keep-alive HTTP/1.1 clients (httpx, asyncio) for
``--seconds`` each, interleaved over ``--rounds`` so machine noise hits both alike.

* hello: a bare ASGI callable answering ``{"hello": "world"}`` — the ceiling of uvicorn plus
  the load generator on this machine.
* inbox: ``GET /v1/documents?direction=incoming`` with a clerk's bearer token — token check,
  agency scope, the registry's gRPC ``List`` (PostgreSQL), protobuf → JSON, problem-free path.

Needs the dev profile and the identifiers and registry services running
(``eval "$(infra/local/env.sh dev)"; .venv/bin/lienthong stack up identifiers registry``) and
the demo users (``python -m gateway seed-users``). The load generator shares the 2 CPU cores
with the servers, so absolute numbers are a floor; the ratio is the point.

Run: ``.venv/bin/python bench/bench_gateway.py [--clients 50] [--seconds 10] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

HELLO_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b'{"hello":"world"}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {timeout} s")


async def drive(url: str, headers: dict[str, str], clients: int, seconds: float) -> dict:
    stop_at = time.monotonic() + seconds
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        begun = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.monotonic() - begun
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": 1e3 * latencies[len(latencies) // 2] if latencies else 0.0,
        "p99_ms": 1e3 * latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
        "errors": errors,
        "requests": len(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--user", default="vanthu.stc")
    parser.add_argument(
        "--password", default=os.environ.get("LT_GATEWAY_DEMO_PASSWORD", "LienThong@2026")
    )
    options = parser.parse_args()

    env = {**os.environ, "LT_LOG_LEVEL": "WARNING", "LT_GATEWAY_LIVE": "0"}
    env.setdefault("LT_GATEWAY_TOKEN_SECRET", "bench-secret-" + "x" * 32)
    # Test runs on the same database leave failed logins from 127.0.0.1 in the audit trail.
    env.setdefault("LT_GATEWAY_LOGIN_MAX_FAILURES_PER_CLIENT", "1000000")
    hello_file = Path(os.environ.get("TMPDIR", "/tmp")) / "lt_bench_hello.py"
    hello_file.write_text(HELLO_APP)
    hello_port, gateway_port = free_port(), free_port()
    uvicorn_common = ["--log-level", "warning", "--no-access-log", "--host", "127.0.0.1"]
    hello = start(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "--app-dir",
            str(hello_file.parent),
            "lt_bench_hello:app",
            "--port",
            str(hello_port),
            *uvicorn_common,
        ],
        env,
    )
    gateway = start(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "--factory",
            "gateway.app:create_app",
            "--port",
            str(gateway_port),
            *uvicorn_common,
        ],
        env,
    )
    try:
        hello_url = f"http://127.0.0.1:{hello_port}/"
        gateway_url = f"http://127.0.0.1:{gateway_port}"
        wait_up(hello_url)
        wait_up(gateway_url + "/healthz")
        login = httpx.post(
            gateway_url + "/v1/auth/login",
            json={"username": options.user, "password": options.password},
            timeout=30,
        )
        if login.status_code != 200:
            raise SystemExit(f"login as {options.user} failed: {login.text}")
        token = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listing = gateway_url + "/v1/documents?direction=incoming&page_size=20"
        check = httpx.get(listing, headers=token, timeout=30)
        if check.status_code != 200:
            raise SystemExit(f"listing failed: {check.status_code} {check.text}")
        shown = len(check.json()["documents"])
        print(
            f"{options.clients} clients, {options.seconds:.0f} s per run, {options.rounds} rounds;"
            f" listing returns {shown} documents per page"
        )
        results: dict[str, list[dict]] = {"hello": [], "inbox": []}
        for round_number in range(1, options.rounds + 1):
            for name, url, headers in (("hello", hello_url, {}), ("inbox", listing, token)):
                result = asyncio.run(drive(url, headers, options.clients, options.seconds))
                results[name].append(result)
                print(
                    f"  round {round_number} {name:<6} {result['rps']:8.0f} req/s  "
                    f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                    f"errors {result['errors']}"
                )
        best = {name: max(r["rps"] for r in runs) for name, runs in results.items()}
        median = {name: statistics.median(r["rps"] for r in runs) for name, runs in results.items()}
        print(
            f"best: hello {best['hello']:.0f} req/s, inbox {best['inbox']:.0f} req/s "
            f"({best['inbox'] / best['hello']:.1%} of bare ASGI); "
            f"median: hello {median['hello']:.0f}, inbox {median['inbox']:.0f}"
        )
        return 1 if any(r["errors"] for runs in results.values() for r in runs) else 0
    finally:
        for process in (hello, gateway):
            process.terminate()
            process.wait(timeout=15)


if __name__ == "__main__":
    sys.exit(main())
