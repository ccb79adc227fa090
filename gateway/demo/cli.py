"""``lienthong demo`` (and ``python -m gateway.demo``): run the scenario, print the summary.

Exit status: 0 every step a–h happened; 1 a step did not (the summary names it and why);
2 the gateway did not answer at all.
"""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_PASSWORD = "LienThong@2026"


def default_gateway_url() -> str:
    """The dev gateway: ``http://127.0.0.1:${LT_GATEWAY_PORT:-8080}``."""
    return f"http://127.0.0.1:{os.environ.get('LT_GATEWAY_PORT') or '8080'}"


def _run(args: argparse.Namespace) -> int:
    from gateway.demo.client import Gateway
    from gateway.demo.scenario import Scenario
    from gateway.demo.summary import render

    password = args.password or os.environ.get("LT_GATEWAY_DEMO_PASSWORD") or DEFAULT_PASSWORD
    gateway = Gateway(args.gateway, password)
    try:
        if not gateway.healthy():
            print(
                f"lienthong demo: --gateway {args.gateway}: no answer on /healthz "
                "(start everything with `make run`)",
                file=sys.stderr,
            )
            return 2
        progress = (
            (lambda line: None)
            if args.quiet
            else (lambda line: print(line, file=sys.stderr, flush=True))
        )
        scenario = Scenario(
            gateway,
            receivers_count=args.receivers,
            timeout_s=args.timeout,
            progress=progress,
        )
        report = scenario.run()
    finally:
        gateway.close()
    print(render(report))
    return 0 if report.succeeded else 1


def _positive(text: str) -> int:
    value = int(text)
    if value < 4:
        raise argparse.ArgumentTypeError("must be at least 4 (the agencies that act)")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``demo`` to the ``lienthong`` parser."""
    demo = subparsers.add_parser(
        "demo", help="the end-to-end scenario over the gateway's HTTP API (make demo)"
    )
    demo.add_argument(
        "--gateway",
        default=default_gateway_url(),
        help="gateway base URL (default http://127.0.0.1:$LT_GATEWAY_PORT, port 8080)",
    )
    demo.add_argument("--password", help="demo users' password (default $LT_GATEWAY_DEMO_PASSWORD)")
    demo.add_argument(
        "--receivers", type=_positive, default=30, help="agencies the directive goes to (30)"
    )
    demo.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for each awaited status"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    demo.set_defaults(handler=_run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.demo", usage=argparse.SUPPRESS)
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["demo", *(sys.argv[1:] if argv is None else argv)])
    return int(args.handler(args))
