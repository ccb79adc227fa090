"""``lienthong stack up|down|status``: run every built service as a background process.

Used by ``make run`` (and by the end-to-end tests). Each service is ``lienthong serve NAME`` with
its log in ``$LT_LOG_DIR/NAME.log`` and its pid in ``$LT_VAR_DIR/run/NAME.pid``; ``up`` returns
once every service answers SERVING on the standard gRPC health check, or fails with the tail of
the log of the one that did not.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.chassis import config
from services.chassis.catalog import SERVICES, ServiceSpec, available_services


def _run_dir() -> Path:
    path = Path(config.get(config.VAR_DIR)) / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid_file(name: str) -> Path:
    return _run_dir() / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pid(name: str) -> int | None:
    try:
        pid = int(_pid_file(name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def health(spec: ServiceSpec, timeout: float = 1.0) -> str:
    try:
        with grpc.insecure_channel(spec.address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout
            )
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    except grpc.RpcError as exc:
        return f"UNREACHABLE ({exc.code().name})"


def _spawn(name: str, arguments: list[str]) -> int:
    pid = running_pid(name)
    if pid:
        return pid
    log_dir = config.log_dir()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"{name}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.chassis.cli", *arguments],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    _pid_file(name).write_text(str(process.pid))
    return process.pid


def start(spec: ServiceSpec) -> int:
    return _spawn(spec.name, ["serve", spec.name])


# The HTTP gateway runs beside the gRPC services; it is checked on /healthz, not gRPC health.
GATEWAY = "gateway"


def gateway_available() -> bool:
    return importlib.util.find_spec("gateway.app") is not None


def gateway_url() -> str:
    from gateway import config as gateway_config

    host = gateway_config.HOST.value() or "127.0.0.1"
    return f"http://{host}:{gateway_config.PORT.value()}"


def gateway_health(timeout: float = 1.0) -> str:
    try:
        with urllib.request.urlopen(f"{gateway_url()}/healthz", timeout=timeout) as reply:
            return "SERVING" if reply.status == 200 else f"HTTP {reply.status}"
    except (OSError, urllib.error.URLError) as exc:
        return f"UNREACHABLE ({type(exc).__name__})"


def wait_gateway(pid: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise RuntimeError(f"gateway exited during start-up; see {_log_tail(GATEWAY)}")
        if gateway_health() == "SERVING":
            return
        time.sleep(0.2)
    raise RuntimeError(f"gateway not answering after {timeout:.0f}s; {_log_tail(GATEWAY)}")


def wait_serving(spec: ServiceSpec, pid: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise RuntimeError(f"{spec.name} exited during start-up; see {_log_tail(spec.name)}")
        if health(spec) == "SERVING":
            return
        time.sleep(0.2)
    raise RuntimeError(f"{spec.name} not SERVING after {timeout:.0f}s; {_log_tail(spec.name)}")


def _log_tail(name: str, lines: int = 15) -> str:
    path = config.log_dir() / f"{name}.log"
    try:
        tail = path.read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return f"(no log at {path})"
    return f"{path}:\n" + "\n".join(tail)


def stop(name: str, timeout: float = 15.0) -> bool:
    pid = running_pid(name)
    if pid is None:
        _pid_file(name).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    _pid_file(name).unlink(missing_ok=True)
    return True


def _selected(names: list[str]) -> list[ServiceSpec]:
    unknown = sorted(set(names) - set(SERVICES) - {GATEWAY})
    if unknown:
        raise SystemExit(f"lienthong stack: unknown services {unknown}; known: {sorted(SERVICES)}")
    return [SERVICES[n] for n in names] if names else available_services()


def _with_gateway(args: argparse.Namespace) -> bool:
    return gateway_available() and (not args.services or GATEWAY in args.services)


def _grpc_specs(args: argparse.Namespace) -> list[ServiceSpec]:
    """The gRPC services named (all built ones when none is named; none for "gateway" alone)."""
    names = [n for n in args.services if n != GATEWAY]
    if args.services and not names:
        return []
    return _selected(names)


def _up(args: argparse.Namespace) -> int:
    specs = _grpc_specs(args)
    pids = {spec.name: start(spec) for spec in specs}
    try:
        for spec in specs:
            wait_serving(spec, pids[spec.name])
        if _with_gateway(args):
            pids[GATEWAY] = _spawn(GATEWAY, ["gateway", "serve"])
            wait_gateway(pids[GATEWAY])
    except RuntimeError as exc:
        print(f"lienthong stack: {exc}", file=sys.stderr)
        return 1
    for spec in specs:
        print(f"  {spec.name:<14} grpc://{spec.address}  (pid {pids[spec.name]})")
    if GATEWAY in pids:
        print(f"  {GATEWAY:<14} {gateway_url()}  (pid {pids[GATEWAY]}; API docs at /docs)")
    return 0


def _down(args: argparse.Namespace) -> int:
    if _with_gateway(args) and stop(GATEWAY):
        print(f"  {GATEWAY}: stopped")
    for spec in reversed(_grpc_specs(args)):
        if stop(spec.name):
            print(f"  {spec.name}: stopped")
    return 0


def _status(args: argparse.Namespace) -> int:
    worst = 0
    for spec in _grpc_specs(args):
        pid = running_pid(spec.name)
        state = health(spec) if pid else "STOPPED"
        worst = worst or (state != "SERVING")
        print(f"  {spec.name:<14} {state:<12} grpc://{spec.address}  pid {pid or '-'}")
    if _with_gateway(args):
        pid = running_pid(GATEWAY)
        state = gateway_health() if pid else "STOPPED"
        worst = worst or (state != "SERVING")
        print(f"  {GATEWAY:<14} {state:<12} {gateway_url()}  pid {pid or '-'}")
    return int(worst)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    stack = subparsers.add_parser("stack", help="start/stop every built service in background")
    sub = stack.add_subparsers(dest="stack_command", required=True, metavar="ACTION")
    for name, handler, text in (
        ("up", _up, "start services and wait until they are SERVING"),
        ("down", _down, "stop services (SIGTERM, then SIGKILL after 15 s)"),
        ("status", _status, "show each service's health"),
    ):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("services", nargs="*", help="default: every built service")
        parser.set_defaults(handler=handler)
