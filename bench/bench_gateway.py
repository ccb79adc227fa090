"""Gateway throughput: an agency-scoped listing endpoint next to a bare ASGI hello endpoint.

Both run in the same uvicorn configuration (one process, the same event loop implementation),
started by this script as subprocesses, and are driven in the same run by the same load
generator: ``--clients`` concurrent keep-alive HTTP/1.1 connections (plain asyncio) for
``--seconds`` each, interleaved over ``--rounds`` so machine noise hits both alike.

* hello: a bare ASGI callable answering ``{"hello": "world"}`` — the ceiling of uvicorn plus
  the load generator on this machine.
* me: ``GET /v1/me`` — the gateway alone (FastAPI, token check, JSON), no service call.
* inbox: ``GET /v1/inbox`` with a clerk's bearer token — token check, agency scope, the
  distribution service's gRPC ``ListInbox`` (PostgreSQL), protobuf → JSON. When the
  distribution service is not running, the registry's incoming register
  (``GET /v1/documents?direction=incoming``, gRPC ``List``) stands in, and the output says so.

Runs on the profile in the environment (``make bench``: the test profile): it starts the
identifiers, registry and distribution services that are not running yet (``lienthong stack
up``), imports the demo province, migrates the gateway's schema and seeds the demo users, and
stops at the end only the services it started. The load generator shares the 2 CPU cores with
the servers, so absolute numbers are a floor; the ratio is the point.

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


SERVICES = ("identifiers", "registry", "distribution")


def lienthong(*arguments: str) -> None:
    """Run a ``lienthong`` command of this checkout; its failure ends the benchmark."""
    done = subprocess.run(
        [PYTHON, "-m", "services.chassis.cli", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"lienthong {' '.join(arguments)} failed: {done.stderr or done.stdout}")


def prepare_stack() -> list[str]:
    """Start what the listing needs; returns the services this run started."""
    from services.chassis.stack import running_pid

    started = [name for name in SERVICES if not running_pid(name)]
    lienthong("stack", "up", *SERVICES)
    lienthong("agencies", "import", "services/identifiers/data/demo_province.json")
    lienthong("gateway", "migrate")
    lienthong("gateway", "seed-users", "--no-signing-key")
    return started


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


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One keep-alive HTTP/1.1 GET on an open connection; returns the status code."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
        elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def drive(url: str, headers: dict[str, str], clients: int, seconds: float) -> dict:
    """``clients`` keep-alive connections, each sending GETs back to back for ``seconds``.

    A minimal asyncio HTTP/1.1 client: httpx's pool, tried first, tops out near 170 req/s at 50
    concurrent requests on this machine (less than one client alone), which would have measured
    the load generator instead of the servers.
    """
    parsed = httpx.URL(url)
    target = parsed.raw_path.decode()
    lines = [f"GET {target} HTTP/1.1", f"Host: {parsed.host}:{parsed.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    stop_at = time.monotonic() + seconds
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        try:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    if await _get(reader, writer, request) != 200:
                        errors += 1
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

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

    started_services = prepare_stack()
    try:
        return measure(options)
    finally:
        if started_services:
            lienthong("stack", "down", *started_services)


def measure(options: argparse.Namespace) -> int:
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
        listing = gateway_url + "/v1/inbox?page_size=20"
        check = httpx.get(listing, headers=token, timeout=30)
        if check.status_code == 503:
            listing = gateway_url + "/v1/documents?direction=incoming&page_size=20"
            check = httpx.get(listing, headers=token, timeout=30)
        if check.status_code != 200:
            raise SystemExit(f"listing failed: {check.status_code} {check.text}")
        body = check.json()
        shown = len(body.get("entries", body.get("documents", [])))
        print(
            f"{options.clients} clients, {options.seconds:.0f} s per run, {options.rounds} rounds;"
            f" {listing.removeprefix(gateway_url)} returns {shown} rows per page"
        )
        results: dict[str, list[dict]] = {"hello": [], "me": [], "inbox": []}
        for round_number in range(1, options.rounds + 1):
            contenders = (
                ("hello", hello_url, {}),
                ("me", gateway_url + "/v1/me", token),
                ("inbox", listing, token),
            )
            for name, url, headers in contenders:
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
            f"best: hello {best['hello']:.0f} req/s, me {best['me']:.0f}, "
            f"inbox {best['inbox']:.0f} ({best['inbox'] / best['hello']:.1%} of bare ASGI); "
            f"median: hello {median['hello']:.0f}, me {median['me']:.0f}, "
            f"inbox {median['inbox']:.0f}"
        )
        return 1 if any(r["errors"] for runs in results.values() for r in runs) else 0
    finally:
        for process in (hello, gateway):
            process.terminate()
            process.wait(timeout=15)


if __name__ == "__main__":
    sys.exit(main())
