"""nameko-grpc echo service hosted by nameko's ServiceRunner, as ``nameko run`` does it.

``eventlet.monkey_patch()`` comes first, exactly like ``nameko run``
(nameko/cli/__init__.py) — nameko's containers rely on it. Prints ``READY <port>`` once the
service listens on 127.0.0.1, then runs until SIGTERM/SIGINT.
Run with the throwaway nameko venv (requirements-nameko.txt), never the project venv.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402  (must follow monkey_patch, as in `nameko run`)
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

from stubs import add_stubs_to_path  # noqa: E402

# Diagnostic only: nameko_grpc/connection.py polls its socket with SELECT_TIMEOUT = 0.01 s and
# sends queued frames once per loop turn; overriding it shows how much of the latency is that.
SELECT_TIMEOUT_ENV = "ADR0001_NAMEKO_SELECT_TIMEOUT"


def apply_select_timeout_override() -> None:
    """Set nameko_grpc.connection.SELECT_TIMEOUT from the environment, if given."""
    value = os.environ.get(SELECT_TIMEOUT_ENV)
    if value:
        import nameko_grpc.connection

        nameko_grpc.connection.SELECT_TIMEOUT = float(value)


def free_port() -> int:
    """Pick a free loopback port; nameko-grpc cannot report the port it bound to 0."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(stubs_dir: str, port: int) -> None:
    """Run the echo service until a termination signal arrives."""
    add_stubs_to_path(stubs_dir)
    import echo_pb2
    import echo_pb2_grpc
    from nameko import config
    from nameko.runners import ServiceRunner
    from nameko_grpc.entrypoint import Grpc

    apply_select_timeout_override()

    grpc_entrypoint = Grpc.implementing(echo_pb2_grpc.EchoStub)

    class EchoService:
        name = "echo"

        @grpc_entrypoint
        def Say(self, request, context):
            return echo_pb2.EchoReply(text=request.text)

    config.setup({"GRPC_BIND_HOST": "127.0.0.1", "GRPC_BIND_PORT": port})
    runner = ServiceRunner()
    runner.add_service(EchoService)
    runner.start()
    # signal handlers run in the main loop and must not block on eventlet primitives
    signal.signal(signal.SIGTERM, lambda *_: eventlet.spawn_n(runner.stop))
    signal.signal(signal.SIGINT, lambda *_: eventlet.spawn_n(runner.stop))
    print(f"READY {port}", flush=True)
    runner.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stubs", required=True, help="directory with echo_pb2*.py")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    args = parser.parse_args(argv)
    serve(args.stubs, args.port or free_port())
    return 0


if __name__ == "__main__":
    sys.exit(main())
