"""Agency lookups by code over gRPC, next to a bare grpcio echo server measured in the same run.

Both servers run as separate processes with the same number of threads; the same client
processes drive them one after the other. The ratio service / echo says what the chassis, the
protobuf mapping and the directory cost on top of gRPC itself. Goal: ≥ 0.6 (issue #2).

Run with the infrastructure up: ``make bench`` (or ``eval "$(infra/local/env.sh test)"`` and
``python bench/bench_identifiers.py``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import grpc
from common import (
    REPO,
    free_port,
    interleaved,
    start_process,
    stop_process,
    wait_port,
)

THREADS = "8"
GOAL = 0.6


def _codes() -> list[str]:
    rows = json.loads((REPO / "services/identifiers/data/demo_province.json").read_text("utf-8"))
    return [r["code"] for r in rows]


def make_lookup(port: int):
    from lienthong.identifiers.v1 import identifiers_pb2 as pb
    from lienthong.identifiers.v1 import identifiers_pb2_grpc

    stub = identifiers_pb2_grpc.IdentifiersStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    requests = [pb.GetAgencyRequest(code=c) for c in _codes()]

    def call(n: int) -> None:
        stub.GetAgency(requests[n % len(requests)], timeout=10)

    return call


def make_echo(port: int):
    from lienthong.echo.v1 import echo_pb2, echo_pb2_grpc

    stub = echo_pb2_grpc.EchoStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    request = echo_pb2.EchoMessage(text="000.00.01.H56")

    def call(n: int) -> None:
        stub.Echo(request, timeout=10)

    return call


def main() -> int:
    seconds = float(os.environ.get("LT_BENCH_SECONDS", "3"))
    rounds = int(os.environ.get("LT_BENCH_ROUNDS", "5"))
    subprocess_env = {"LT_RUN_RELAY": "0", "LT_GRPC_THREADS": THREADS, "LT_LOG_LEVEL": "INFO"}
    # Seed (idempotent) through the service itself.
    service_port = free_port()
    service = start_process(
        ["-m", "services.chassis.cli", "serve", "identifiers"],
        {**subprocess_env, "LT_IDENTIFIERS_PORT": str(service_port)},
    )
    echo_port = free_port()
    echo = start_process(["bench/echo_server.py", str(echo_port), THREADS])
    chassis_port = free_port()
    chassis_echo = start_process(
        ["bench/chassis_echo_server.py", str(chassis_port), THREADS], {"LT_LOG_LEVEL": "INFO"}
    )
    try:
        wait_port(service_port, service)
        wait_port(echo_port, echo, health=False)
        wait_port(chassis_port, chassis_echo)
        from lienthong.identifiers.v1 import identifiers_pb2 as pb
        from lienthong.identifiers.v1 import identifiers_pb2_grpc

        with grpc.insecure_channel(f"127.0.0.1:{service_port}") as channel:
            identifiers_pb2_grpc.IdentifiersStub(channel).ImportAgencies(
                pb.ImportAgenciesRequest(
                    format=pb.DIRECTORY_FORMAT_JSON,
                    content=(REPO / "services/identifiers/data/demo_province.json").read_bytes(),
                ),
                timeout=120,
            )
        rates = interleaved(
            {
                "echo": (make_echo, echo_port),
                "chassis": (make_echo, chassis_port),
                "lookup": (make_lookup, service_port),
            },
            rounds=rounds,
            seconds=seconds,
        )
        echo_rate, lookup_rate = rates["echo"], rates["lookup"]
    finally:
        stop_process(service)
        stop_process(echo)
        stop_process(chassis_echo)
    ratio = lookup_rate / echo_rate
    print(
        f"identifiers: GetAgency over gRPC, 2 client processes × 4 threads, "
        f"median of {rounds} interleaved rounds of {seconds:.0f} s"
    )
    print(f"  {'bare grpcio echo (baseline)':<34} {echo_rate:>9.0f} calls/s")
    print(
        f"  {'echo on the chassis (no database)':<34} {rates['chassis']:>9.0f} calls/s"
        f"   ({rates['chassis'] / echo_rate:.2f} of the baseline)"
    )
    print(f"  {'identifiers GetAgency':<34} {lookup_rate:>9.0f} calls/s")
    print(f"  {'ratio service/baseline':<34} {ratio:>9.2f}   (goal ≥ {GOAL})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
