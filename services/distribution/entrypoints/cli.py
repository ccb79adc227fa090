"""``lienthong edxml ...``: parse and build edXML packages from the command line.

- ``lienthong edxml parse FILE [--json] [--strict]``: the parsed package as JSON on stdout
  (``--json``, the default form) or a short summary; issues go to stderr, one per line.
- ``lienthong edxml build --from-json FILE``: the package bytes on stdout.
- ``lienthong distribution create-topics``: create the service's Kafka topics (idempotent).
Bad input: exit 1 with one line ``error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from services.distribution.edxml.build import build
from services.distribution.edxml.errors import EdxmlError
from services.distribution.edxml.jsonform import package_from_json, package_to_json
from services.distribution.edxml.model import DocumentPackage
from services.distribution.edxml.parse import parse

EXIT_OK = 0
EXIT_BAD_INPUT = 1


def _read(path: str) -> bytes:
    return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()


def _fail(message: str) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _parse_command(args: argparse.Namespace) -> int:
    try:
        result = parse(_read(args.file), strict=args.strict)
    except EdxmlError as error:
        return _fail(f"{args.file}: {error}")
    except OSError as error:
        return _fail(f"{args.file}: {error.strerror or error}")
    for issue in result.issues:
        print(f"{'warning' if issue.kind == 'recovery' else 'issue'}: {issue}", file=sys.stderr)
    package = result.package
    if args.json or not args.summary:
        sys.stdout.write(package_to_json(package) + "\n")
    elif isinstance(package, DocumentPackage):
        header = package.header
        print(
            f"document {header.document_id} from {header.from_.organ_id} "
            f"to {', '.join(str(to.organ_id) for to in header.to)}: {header.subject}"
        )
    else:
        print(f"status {package.status_code} from {package.from_.organ_id}: {package.description}")
    return EXIT_OK


def _build_command(args: argparse.Namespace) -> int:
    try:
        package = package_from_json(_read(args.from_json))
        data = build(package, include_signature=not args.without_signature)
    except EdxmlError as error:
        return _fail(f"{args.from_json}: {error}")
    except OSError as error:
        return _fail(f"{args.from_json}: {error.strerror or error}")
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return EXIT_OK


def _create_topics_command(args: argparse.Namespace) -> int:
    from services.distribution.adapters.topics import TOPICS, create_topics

    created = set(create_topics(replication=args.replication))
    for spec in TOPICS:
        state = "created" if spec.name in created else "exists"
        print(f"{spec.name}\t{spec.partitions}\t{state}")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``edxml`` and ``distribution`` command groups to the ``lienthong`` CLI."""
    distribution = subparsers.add_parser("distribution", help="the distribution hub")
    dist_commands = distribution.add_subparsers(dest="distribution_command", required=True)
    topics_parser = dist_commands.add_parser("create-topics", help="create the Kafka topics")
    topics_parser.add_argument("--replication", type=int, default=1)
    topics_parser.set_defaults(handler=_create_topics_command)

    edxml = subparsers.add_parser("edxml", help="parse and build edXML (QCVN 102:2016) packages")
    commands = edxml.add_subparsers(dest="edxml_command", required=True)

    parse_parser = commands.add_parser("parse", help="parse a package and print it as JSON")
    parse_parser.add_argument("file", help="package file, or - for stdin")
    parse_parser.add_argument("--json", action="store_true", help="print the package as JSON")
    parse_parser.add_argument("--summary", action="store_true", help="print one summary line")
    parse_parser.add_argument(
        "--strict", action="store_true", help="reject instead of recovering or reporting"
    )
    parse_parser.set_defaults(handler=_parse_command)

    build_parser = commands.add_parser("build", help="build a package from its JSON form")
    build_parser.add_argument("--from-json", required=True, help="JSON file, or - for stdin")
    build_parser.add_argument(
        "--without-signature", action="store_true", help="leave out a received Signature"
    )
    build_parser.set_defaults(handler=_build_command)
