"""Unary-call load generator: N concurrent callers make a bounded number of Echo.Say calls.

``--client grpcio``  uses a plain ``grpc.insecure_channel`` (project venv is enough).
``--client nameko``  uses ``nameko_grpc.client.Client``, the standalone nameko-grpc client
                     (native threads, no eventlet; needs the nameko venv).

All callers share one channel/client, as a service process would. Prints one JSON object:
calls, errors, seconds, calls_per_s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from stubs import add_stubs_to_path

CALL_TIMEOUT_S = 10.0


class LoadGeneratorError(RuntimeError):
    """The benchmark could not make its warm-up call (server down, wrong client...)."""


def run_callers(
    say: Callable[[Any], Any], make_request: Callable[[int], Any], calls: int, concurrency: int
) -> dict[str, Any]:
    """Split ``calls`` over ``concurrency`` threads, each calling ``say`` sequentially."""
    per_caller = [
        calls // concurrency + (1 if i < calls % concurrency else 0) for i in range(concurrency)
    ]
    errors = [0] * concurrency
    error_samples: list[str] = []  # first few failures, so a report can say what went wrong
    start_barrier = threading.Barrier(concurrency + 1)

    def caller(index: int) -> None:
        start_barrier.wait()
        for sequence in range(per_caller[index]):
            expected = f"{index}-{sequence}"
            try:
                reply = say(make_request(expected))
                if reply.text != expected:
                    errors[index] += 1
                    note_error(f"wrong reply {reply.text!r} for {expected!r}")
            except Exception as error:  # counted, not raised: one failure must not stop the run
                errors[index] += 1
                note_error(f"{type(error).__name__}: {str(error)[:300]}")

    def note_error(description: str) -> None:
        if len(error_samples) < 5:
            error_samples.append(description)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    start_barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "calls": calls,
        "errors": sum(errors),
        "seconds": seconds,
        "calls_per_s": calls / seconds,
        "error_samples": error_samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stubs", required=True, help="directory with echo_pb2*.py")
    parser.add_argument("--client", choices=["grpcio", "nameko"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=200, help="untimed calls first")
    parser.add_argument(
        "--deadline",
        type=float,
        default=CALL_TIMEOUT_S,
        help="per-call deadline in seconds; 0 = send no deadline",
    )
    args = parser.parse_args(argv)
    add_stubs_to_path(args.stubs)
    import echo_pb2
    import echo_pb2_grpc

    def make_request(text: str) -> Any:
        return echo_pb2.EchoRequest(text=text)

    target = f"127.0.0.1:{args.port}"
    # the chassis always sets deadlines; 0 measures the framework without its deadline handling
    deadline = args.deadline or None
    if args.client == "grpcio":
        import grpc

        channel = grpc.insecure_channel(target)
        stub = echo_pb2_grpc.EchoStub(channel)

        def say(request: Any) -> Any:
            return stub.Say(request, timeout=deadline)

        close = channel.close
    else:
        from nameko_grpc.client import Client

        override = os.environ.get("ADR0001_NAMEKO_SELECT_TIMEOUT")
        if override:  # diagnostic only, see nameko_server.py
            import nameko_grpc.connection

            nameko_grpc.connection.SELECT_TIMEOUT = float(override)

        client = Client(f"//{target}", echo_pb2_grpc.EchoStub)
        proxy = client.start()

        def say(request: Any) -> Any:
            return proxy.Say(request, timeout=deadline)

        close = client.stop

    try:
        try:
            say(make_request("warm-up"))
        except Exception as error:
            raise LoadGeneratorError(
                f"{args.client} client: first call to {target} failed: {error!r}"
            ) from error
        run_callers(say, make_request, args.warmup, args.concurrency)
        result = run_callers(say, make_request, args.calls, args.concurrency)
    finally:
        close()
    result.update(
        {
            "client": args.client,
            "concurrency": args.concurrency,
            "deadline_s": deadline,
            "nameko_select_timeout": os.environ.get("ADR0001_NAMEKO_SELECT_TIMEOUT"),
        }
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
