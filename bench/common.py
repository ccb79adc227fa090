"""Shared helpers for the benchmarks: free ports, subprocess servers, load from client processes."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_process(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_port(
    port: int, process: subprocess.Popen, timeout: float = 60, health: bool = True
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {process.returncode}")
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                if health:
                    health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=1
                    )
                else:
                    grpc.channel_ready_future(channel).result(timeout=1)
            return
        except (grpc.RpcError, grpc.FutureTimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} not ready after {timeout}s")


def stop_process(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def _client(
    make_call: Callable[[int], Callable[[int], None]],
    port: int,
    threads: int,
    seconds: float,
    queue: mp.Queue,
) -> None:
    import threading

    call = make_call(port)
    counts = [0] * threads
    stop_at = time.monotonic() + seconds

    def loop(index: int) -> None:
        n = 0
        while time.monotonic() < stop_at:
            call(n)
            n += 1
        counts[index] = n

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put(sum(counts))


def calls_per_second(
    make_call: Callable[[int], Callable[[int], None]],
    port: int,
    *,
    processes: int = 2,
    threads: int = 4,
    seconds: float = 5.0,
    warmup: float = 1.0,
) -> float:
    """Drive ``make_call(port)`` from several client processes; returns calls per second."""
    ctx = mp.get_context("spawn")
    for duration, keep in ((warmup, False), (seconds, True)):
        queue: mp.Queue = ctx.Queue()
        procs = [
            ctx.Process(target=_client, args=(make_call, port, threads, duration, queue))
            for _ in range(processes)
        ]
        started = time.monotonic()
        for p in procs:
            p.start()
        total = sum(queue.get() for _ in procs)
        for p in procs:
            p.join()
        elapsed = time.monotonic() - started
        if keep:
            return total / max(elapsed, duration)
    raise AssertionError("unreachable")


def interleaved(
    runs: dict[str, tuple[Callable[[int], Callable[[int], None]], int]],
    *,
    rounds: int = 3,
    seconds: float = 3.0,
) -> dict[str, float]:
    """Measure several servers in alternating rounds and return each one's median calls/s.

    Alternating (A, B, A, B, …) instead of A then B keeps a change in background load from
    landing on one side only; the median drops a disturbed round.
    """
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (make_call, port) in runs.items():
            samples[name].append(calls_per_second(make_call, port, seconds=seconds, warmup=0.5))
    return {name: sorted(values)[len(values) // 2] for name, values in samples.items()}
