"""What happens to grpcio in a process after ``eventlet.monkey_patch()`` (what nameko needs).

Each scenario runs in a fresh child process (monkey-patching cannot be undone) under a hard
wall-clock limit; the parent reports WORKS / ERROR <exception> / HANG (killed after the limit,
with the child's faulthandler stack dump showing where it was stuck).

Scenarios:
  baseline_unpatched   grpc.server (ThreadPoolExecutor) + grpc client in one process, no eventlet
  patched_in_process   eventlet.monkey_patch(), then the same server + client in one process
  patched_greenthread  as above, but the call is made from an eventlet greenthread (as a
                       nameko worker would make it)
  patched_client_only  patched process calls an unpatched grpcio server in another process
  patched_server_only  patched process serves; an unpatched process calls it
  patched_client_blocks_hub
                       patched process calls an unpatched server whose reply takes 1 s, while
                       a greenthread ticks every 10 ms: counts the ticks during the call
                       (about 100 if the call lets other greenthreads run, 0 if it blocks them)

Run with the nameko venv (eventlet installed):  python eventlet_grpcio_demo.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

SCENARIOS = [
    "baseline_unpatched",
    "patched_in_process",
    "patched_greenthread",
    "patched_client_only",
    "patched_server_only",
    "patched_client_blocks_hub",
]
SLOW_PREFIX = "sleep:"  # a request text "sleep:1.0" makes the demo server wait 1 s
CALL_DEADLINE_S = 5.0
CHILD_LIMIT_S = 30.0
STUBS_DIR_ENV = "ADR0001_STUBS"


def start_server():
    """Plain grpcio echo server on a free loopback port; returns (server, port)."""
    from concurrent import futures

    import echo_pb2
    import echo_pb2_grpc
    import grpc

    class EchoServicer(echo_pb2_grpc.EchoServicer):
        def Say(self, request, context):
            if request.text.startswith(SLOW_PREFIX):
                time.sleep(float(request.text[len(SLOW_PREFIX) :]))
            return echo_pb2.EchoReply(text=request.text)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    echo_pb2_grpc.add_EchoServicer_to_server(EchoServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def call_once(port: int, calls: int = 3, text: str = "xin chào") -> str:
    """Make ``calls`` unary calls with a deadline; returns the last reply text."""
    import echo_pb2
    import echo_pb2_grpc
    import grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = echo_pb2_grpc.EchoStub(channel)
        reply = None
        for number in range(calls):
            request_text = text if text.startswith(SLOW_PREFIX) else f"{text} {number}"
            reply = stub.Say(echo_pb2.EchoRequest(text=request_text), timeout=CALL_DEADLINE_S)
        return reply.text


def child(scenario: str) -> None:
    """Body of one scenario; prints one line ``RESULT <json>`` when it gets that far."""
    import faulthandler

    # a native-thread watchdog: if the scenario wedges, the stacks show where
    faulthandler.dump_traceback_later(CHILD_LIMIT_S - 5, exit=False)
    if scenario.startswith("patched"):
        import eventlet

        eventlet.monkey_patch()
    sys.path.insert(0, os.environ[STUBS_DIR_ENV])
    started = time.monotonic()
    if scenario in ("baseline_unpatched", "patched_in_process"):
        server, port = start_server()
        text = call_once(port)
        server.stop(grace=None)
    elif scenario == "patched_greenthread":
        import eventlet

        server, port = start_server()
        text = eventlet.spawn(call_once, port).wait()
        server.stop(grace=None)
    elif scenario == "patched_client_only":
        peer = subprocess.Popen(
            [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True, env=os.environ
        )
        port = int(peer.stdout.readline().split()[1])
        try:
            text = call_once(port)
        finally:
            peer.terminate()
    elif scenario == "patched_client_blocks_hub":
        import eventlet

        peer = subprocess.Popen(
            [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True, env=os.environ
        )
        port = int(peer.stdout.readline().split()[1])
        ticks = [0]

        def ticker() -> None:
            while True:
                eventlet.sleep(0.01)
                ticks[0] += 1

        ticking = eventlet.spawn(ticker)
        eventlet.sleep(0.1)  # let the ticker start
        try:
            before = ticks[0]
            call_started = time.monotonic()
            text = call_once(port, calls=1, text=f"{SLOW_PREFIX}1.0")
            call_seconds = time.monotonic() - call_started
            text = (
                f"{text!r} after {call_seconds:.2f}s; ticker advanced "
                f"{ticks[0] - before} times during the call"
            )
        finally:
            ticking.kill()
            peer.terminate()
    elif scenario == "patched_server_only":
        server, port = start_server()
        # the unpatched caller runs in its own process so only the server side is patched
        completed = subprocess.run(
            [sys.executable, __file__, "--call", str(port)],
            capture_output=True,
            text=True,
            timeout=CHILD_LIMIT_S - 8,
            env=os.environ,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"unpatched caller failed: {completed.stderr.strip()[-500:]}")
        text = completed.stdout.strip()
        server.stop(grace=None)
    else:
        raise ValueError(f"scenario: unknown name {scenario!r}")
    faulthandler.cancel_dump_traceback_later()
    print(
        "RESULT " + json.dumps({"reply": text, "seconds": round(time.monotonic() - started, 3)}),
        flush=True,
    )


def versions() -> dict[str, str]:
    import importlib.metadata as metadata

    found = {"python": sys.version.split()[0]}
    for name in ("grpcio", "protobuf", "eventlet", "greenlet", "nameko"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def run_scenario(scenario: str) -> dict:
    """Run one scenario in a child process and classify what happened."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", scenario],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    try:
        stdout, stderr = process.communicate(timeout=CHILD_LIMIT_S)
        outcome = None
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        outcome = "HANG"
    elapsed = round(time.monotonic() - started, 1)
    result_line = next((line for line in stdout.splitlines() if line.startswith("RESULT ")), None)
    if outcome is None:
        outcome = "WORKS" if process.returncode == 0 and result_line else "ERROR"
    stderr_lines = stderr.splitlines()
    # faulthandler prints "... (most recent call first):" then the innermost frame
    stuck_in = [
        stderr_lines[i + 1].strip()
        for i, line in enumerate(stderr_lines[:-1])
        if "most recent call first" in line
    ]
    error_lines = stuck_in[:1] or [
        line
        for line in stderr_lines
        if line.strip() and "Warning" not in line and "eventlet" not in line.lower()
    ]
    return {
        "scenario": scenario,
        "outcome": outcome,
        "exit_code": process.returncode,
        "wall_seconds": elapsed,
        "result": json.loads(result_line[7:]) if result_line else None,
        "stderr_tail": stderr.strip().splitlines()[-40:],
        "last_error": error_lines[-1:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", choices=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--call", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scenarios", nargs="+", default=SCENARIOS, choices=SCENARIOS)
    parser.add_argument("--json", action="store_true", help="print full JSON results")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    if args.serve or args.call:
        sys.path.insert(0, os.environ[STUBS_DIR_ENV])
        if args.call:
            print(call_once(args.call))
            return 0
        server, port = start_server()
        print(f"READY {port}", flush=True)
        server.wait_for_termination()
        return 0

    import tempfile

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from stubs import generate_stubs

    with tempfile.TemporaryDirectory(prefix="adr0001-stubs-") as tmp:
        from pathlib import Path

        os.environ[STUBS_DIR_ENV] = str(generate_stubs(Path(tmp)))
        print("versions:", json.dumps(versions()))
        results = [run_scenario(scenario) for scenario in args.scenarios]
    for result in results:
        detail = result["result"] or (result["last_error"][0] if result["last_error"] else "")
        if result["outcome"] == "HANG" and detail:
            detail = f"stuck in: {detail}"
        print(
            f"{result['scenario']:22} {result['outcome']:6} exit={result['exit_code']} "
            f"wall={result['wall_seconds']}s  {detail}"
        )
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
