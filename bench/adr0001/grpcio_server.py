"""Plain grpcio echo server: sync ``grpc.server`` with a ThreadPoolExecutor, loopback only.

Prints ``READY <port>`` on stdout once it serves, then runs until SIGTERM/SIGINT.
Run with the project venv (no eventlet, no nameko).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from concurrent import futures

import grpc
from stubs import add_stubs_to_path


def serve(stubs_dir: str, port: int, workers: int) -> None:
    """Serve Echo.Say on 127.0.0.1:``port`` until a termination signal arrives."""
    add_stubs_to_path(stubs_dir)
    import echo_pb2
    import echo_pb2_grpc

    class EchoServicer(echo_pb2_grpc.EchoServicer):
        def Say(self, request: echo_pb2.EchoRequest, context: grpc.ServicerContext):
            return echo_pb2.EchoReply(text=request.text)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    echo_pb2_grpc.add_EchoServicer_to_server(EchoServicer(), server)
    bound_port = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    stop_requested = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    signal.signal(signal.SIGINT, lambda *_: stop_requested.set())
    print(f"READY {bound_port}", flush=True)
    stop_requested.wait()
    server.stop(grace=1).wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stubs", required=True, help="directory with echo_pb2*.py")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--workers", type=int, default=16, help="ThreadPoolExecutor size")
    args = parser.parse_args(argv)
    serve(args.stubs, args.port, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
