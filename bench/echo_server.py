"""A bare grpcio echo server: no chassis, no interceptor, no database — the baseline."""

from __future__ import annotations

import signal
import sys
import threading
from concurrent import futures

import grpc
from lienthong.echo.v1 import echo_pb2_grpc


class Echo(echo_pb2_grpc.EchoServicer):
    def Echo(self, request, context):
        return request


def main(port: int, threads: int) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads))
    echo_pb2_grpc.add_EchoServicer_to_server(Echo(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print(f"echo listening on 127.0.0.1:{port}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    server.stop(1).wait()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
