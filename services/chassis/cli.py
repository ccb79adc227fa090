"""``lienthong``: the platform's command line.

Each service adds its own command group from ``services/<service>/entrypoints/cli.py`` through a
``register(subparsers)`` function; handlers return the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from services.chassis import config
from services.chassis.catalog import SERVICES

# Services whose CLI modules are loaded, in the order their groups appear in --help.
CLI_MODULES = [
    "services.chassis.stack",
    "services.identifiers.entrypoints.cli",
    "services.registry.entrypoints.cli",
    "services.signing.entrypoints.cli",
    "services.verification.entrypoints.cli",
    "services.distribution.entrypoints.cli",
    "services.certificates.entrypoints.cli",
    "gateway.cli",
    "gateway.demo.cli",
]


def _serve(args: argparse.Namespace) -> int:
    from services.chassis.container import serve

    spec = SERVICES[args.service]
    if not spec.available:
        print(f"lienthong: the {args.service} service is not built yet", file=sys.stderr)
        return 2
    if args.migrate:
        from services.chassis.migrations import alembic_config, upgrade

        try:
            alembic_config(args.service)
        except FileNotFoundError:
            pass
        else:
            upgrade(args.service)
    return serve(args.service)


def _migrate(args: argparse.Namespace) -> int:
    from services.chassis.migrations import services_with_migrations, upgrade

    targets = services_with_migrations() if args.service == "all" else [args.service]
    for service in targets:
        upgrade(service)
        print(f"{service}: schema at head")
    return 0


def _config(args: argparse.Namespace) -> int:
    if args.markdown:
        print(config.markdown_table())
        try:
            from gateway import config as gateway_config
        except ImportError:
            return 0
        print("\n### Gateway\n")
        print(config.markdown_table(gateway_config.SETTINGS))
        return 0
    width = max(len(name) for name, _, _ in config.describe())
    for name, value, help_text in config.describe():
        print(f"{name:<{width}}  {value}\n{'':<{width}}  {help_text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lienthong", description="LiênThông — văn bản điện tử liên thông."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run one service until SIGTERM")
    serve.add_argument("service", choices=sorted(SERVICES))
    serve.add_argument(
        "--no-migrate",
        dest="migrate",
        action="store_false",
        help="do not apply the service's migrations first",
    )
    serve.set_defaults(handler=_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("service", nargs="?", default="all")
    migrate.set_defaults(handler=_migrate)

    cfg = sub.add_parser("config", help="show every setting and its current value")
    cfg.add_argument("--markdown", action="store_true", help="print docs/configuration.md table")
    cfg.set_defaults(handler=_config)

    for module_name in CLI_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that service has no CLI yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
