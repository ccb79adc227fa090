"""The echo contract served by the chassis (interceptor, access log, health, reflection; no
database): separates what the chassis costs from what a service's own handler costs."""

from __future__ import annotations

import signal
import sys
import threading

from lienthong.echo.v1 import echo_pb2

from services.chassis import logs
from services.chassis.container import ServiceContainer
from services.chassis.entrypoints import Grpc

rpc = Grpc.implementing(echo_pb2, "Echo")


class EchoService:
    name = "echo"

    @rpc
    def Echo(self, request: echo_pb2.EchoMessage, context: object) -> echo_pb2.EchoMessage:
        return request


def main(port: int, threads: int) -> None:
    logs.configure("echo")
    container = ServiceContainer(
        EchoService, address=f"127.0.0.1:{port}", threads=threads, run_relay=False
    )
    container.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    container.stop(grace=0)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
