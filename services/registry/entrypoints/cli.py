"""``lienthong registry …``: register books and statistics, read straight from the database.

``lienthong registry book --agency CODE --month 2026-11 --kind outgoing --out FILE.pdf`` prints
the monthly "Sổ đăng ký văn bản đi/đến" as PDF, CSV or XLSX (by the file's extension). It reads
the registry schema directly (read-only, ``LT_DATABASE_URL``) so a clerk can print the book even
when the service is down; the agency's name comes from the identifiers service when it answers
(``--agency-name`` overrides, the code is used otherwise).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMATS = {".pdf": "pdf", ".csv": "csv", ".xlsx": "xlsx"}


def _fail(message: str) -> int:
    print(f"lienthong registry: {message}", file=sys.stderr)
    return 2


def _agency_name(code: str) -> str:
    try:
        from lienthong.identifiers.v1 import identifiers_pb2_grpc

        from services.chassis.clients import channel_to
        from services.registry.service_layer.directory import GrpcAgencyDirectory

        channel = channel_to("identifiers")
        try:
            stub = identifiers_pb2_grpc.IdentifiersStub(channel)
            return GrpcAgencyDirectory(stub, timeout=3.0).get(code).name
        finally:
            channel.close()
    except Exception as exc:  # the name is cosmetic: print the book with the code
        print(f"lienthong registry: agency name unavailable ({exc}); using {code}", file=sys.stderr)
        return code


def _book(args: argparse.Namespace) -> int:
    from services.chassis.db import make_engine
    from services.chassis.errors import ServiceError
    from services.registry.adapters.repository import DocumentRepository
    from services.registry.domain.register_books import Direction, check_agency_code
    from services.registry.entrypoints.grpc import parse_month
    from services.registry.service_layer.books import RegisterBook, render

    out = Path(args.out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        return _fail(f"--out {out}: the extension must be one of {', '.join(FORMATS)}")
    try:
        check_agency_code("--agency", args.agency)
        first, last = parse_month(args.month, "--month")
    except ServiceError as exc:
        return _fail(str(exc))
    kind = Direction(args.kind)
    book_name = args.book or kind.value
    engine = make_engine(pool_size=1)
    try:
        with engine.connect() as connection:
            from sqlalchemy.orm import Session

            with Session(connection) as session:
                rows = DocumentRepository(session).book_rows(args.agency, book_name, first, last)
    finally:
        engine.dispose()
    name = args.agency_name or _agency_name(args.agency)
    content = render(RegisterBook.of(kind, args.agency, name, first, rows), fmt)
    out.write_bytes(content)
    print(f"{out}: {len(rows)} documents, {len(content)} bytes ({fmt})")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from datetime import date

    from sqlalchemy.orm import Session

    from services.chassis.db import make_engine
    from services.chassis.timeutil import now
    from services.registry.adapters.repository import DocumentRepository

    try:
        first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    except ValueError as exc:
        return _fail(f"--from/--to must be dates yyyy-MM-dd: {exc}")
    engine = make_engine(pool_size=1)
    try:
        with engine.connect() as connection, Session(connection) as session:
            rows = DocumentRepository(session).statistics(
                args.agency or [], first, last, now().date()
            )
    finally:
        engine.dispose()
    header = ("agency", "sent", "received", "on_time", "late", "overdue", "pending", "withdrawn")
    print("\t".join(header))
    for r in rows:
        values = (r.agency_code, r.sent, r.received, r.completed_on_time, r.completed_late,
                  r.overdue, r.pending, r.withdrawn)  # fmt: skip
        print("\t".join(str(v) for v in values))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    registry = subparsers.add_parser("registry", help="register books and statistics")
    commands = registry.add_subparsers(dest="registry_command", required=True, metavar="COMMAND")

    book = commands.add_parser("book", help="print a monthly register book (PDF, CSV, XLSX)")
    book.add_argument("--agency", required=True, help="agency code NNN.NN.NN.XNN")
    book.add_argument("--month", required=True, help="yyyy-MM")
    book.add_argument("--kind", required=True, choices=["outgoing", "incoming"])
    book.add_argument("--out", required=True, help="FILE.pdf, FILE.csv or FILE.xlsx")
    book.add_argument("--book", help="another series, e.g. outgoing-legal-normative/quyet_dinh")
    book.add_argument("--agency-name", help="name printed in the title")
    book.set_defaults(handler=_book)

    stats = commands.add_parser("stats", help="sent/received/on time/overdue per agency")
    stats.add_argument("--agency", action="append", help="repeat for several; default all")
    stats.add_argument("--from", dest="date_from", required=True, help="yyyy-MM-dd")
    stats.add_argument("--to", dest="date_to", required=True, help="yyyy-MM-dd")
    stats.set_defaults(handler=_stats)
