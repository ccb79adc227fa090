"""``lienthong registry …``: register books and statistics, read straight from the database.

``lienthong registry book --agency CODE --month 2026-11 --kind outgoing --out FILE.pdf`` prints
the monthly "Sổ đăng ký văn bản đi/đến" as PDF, CSV or XLSX (by the file's extension). It reads
the registry schema directly (read-only, ``LT_DATABASE_URL``) so a clerk can print the book even
when the service is down; the agency's name comes from the identifiers service when it answers
(``--agency-name`` overrides, the code is used otherwise).

``lienthong registry office-hours show --agency CODE`` prints the agency's office hours (read
from the database; the defaults when none are set). ``… office-hours set --agency CODE --day
1-5=07:30-11:30,13:30-17:00 --day 6=07:30-11:30 [--make-up-day 07:30-11:30]
[--day-off 2026-12-01]`` replaces them through the running service, which validates them and
checks the agency in the directory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

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


WEEKDAY_NAMES = ("", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _periods_arg(text: str, option: str) -> list[tuple[str, str]]:
    """``07:30-11:30,13:30-17:00`` → [("07:30", "11:30"), ("13:30", "17:00")]."""
    periods = []
    for part in text.split(","):
        start, dash, end = part.strip().partition("-")
        if not dash:
            raise ValueError(f"{option} {text!r}: each period is START-END, e.g. 07:30-11:30")
        periods.append((start.strip(), end.strip()))
    return periods


def _weekdays_arg(text: str) -> list[int]:
    """``1-5`` → [1, 2, 3, 4, 5]; ``6`` → [6]; ``1,3`` → [1, 3] (ISO weekdays)."""
    days: list[int] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            low = int(first)
            high = int(last) if dash else low
        except ValueError:
            raise ValueError(
                f"--day {text!r}: weekdays are numbers 1 (Monday) … 7 (Sunday)"
            ) from None
        days.extend(range(low, high + 1))
    return days


def _office_hours_request(args: argparse.Namespace) -> Any:
    from lienthong.registry.v1 import registry_pb2 as pb

    hours = pb.OfficeHours(agency_code=args.agency, extra_days_off=args.day_off or [])
    for spec in args.day:
        days, equals, periods = spec.partition("=")
        if not equals:
            raise ValueError(f"--day {spec!r}: give WEEKDAYS=PERIODS, e.g. 1-5=07:30-11:30")
        for weekday in _weekdays_arg(days):
            hours.weekdays.append(
                pb.WeekdayHours(
                    weekday=weekday,
                    periods=[pb.Period(start=s, end=e) for s, e in _periods_arg(periods, "--day")],
                )
            )
    if args.make_up_day:
        hours.make_up_day_periods.extend(
            pb.Period(start=s, end=e) for s, e in _periods_arg(args.make_up_day, "--make-up-day")
        )
    return pb.SetOfficeHoursRequest(office_hours=hours, actor=args.actor)


def _print_hours(hours: Any) -> None:
    """One line per worked weekday, then make-up day hours, own days off, last change."""

    def periods(items: Any) -> str:
        return ", ".join(f"{p.start}-{p.end}" for p in items) or "-"

    print(f"agency\t{hours.agency_code}" + ("\t(defaults)" if hours.is_default else ""))
    for day in hours.weekdays:
        print(f"{WEEKDAY_NAMES[day.weekday]}\t{periods(day.periods)}")
    print(f"make-up day\t{periods(hours.make_up_day_periods)}")
    print(f"days off\t{', '.join(hours.extra_days_off) or '-'}")
    if hours.updated_at:
        print(f"updated\t{hours.updated_at} by {hours.updated_by}")


def _office_hours_show(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from services.chassis.db import make_engine
    from services.chassis.errors import ServiceError
    from services.registry.domain.register_books import check_agency_code
    from services.registry.service_layer.office_hours import hours_of, hours_to_pb

    try:
        check_agency_code("--agency", args.agency)
    except ServiceError as exc:
        return _fail(str(exc))
    engine = make_engine(pool_size=1)
    try:
        with engine.connect() as connection, Session(connection) as session:
            hours = hours_of(SimpleNamespace(session=session), args.agency)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    _print_hours(hours_to_pb(hours))
    return 0


def _office_hours_set(args: argparse.Namespace) -> int:
    import grpc
    from lienthong.registry.v1 import registry_pb2_grpc

    from services.chassis.clients import channel_to
    from services.chassis.grpc_server import ERROR_FIELD_HEADER

    try:
        request = _office_hours_request(args)
    except ValueError as exc:
        return _fail(str(exc))
    channel = channel_to("registry")
    try:
        saved = registry_pb2_grpc.RegistryStub(channel).SetOfficeHours(request, timeout=10)
    except grpc.RpcError as exc:
        call: Any = exc  # a failed unary call is also a grpc.Call
        field = dict(call.trailing_metadata() or ()).get(ERROR_FIELD_HEADER, "")
        return _fail(f"{call.code().name} {field}: {call.details()}")
    finally:
        channel.close()
    _print_hours(saved)
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

    hours = commands.add_parser("office-hours", help="an agency's office hours and days off")
    hours_commands = hours.add_subparsers(dest="office_hours_command", required=True)
    show = hours_commands.add_parser("show", help="print them (the defaults when not set)")
    show.add_argument("--agency", required=True, help="agency code NNN.NN.NN.XNN")
    show.set_defaults(handler=_office_hours_show)
    put = hours_commands.add_parser("set", help="replace them (through the registry service)")
    put.add_argument("--agency", required=True, help="agency code NNN.NN.NN.XNN")
    put.add_argument(
        "--day",
        action="append",
        required=True,
        help="WEEKDAYS=PERIODS, ISO weekdays 1 (Mon)…7 (Sun): 1-5=07:30-11:30,13:30-17:00",
    )
    put.add_argument("--make-up-day", help="hours of a make-up working Saturday (làm bù)")
    put.add_argument("--day-off", action="append", help="an own day off yyyy-MM-dd; repeat")
    put.add_argument("--actor", default="cli", help="who changes them (recorded)")
    put.set_defaults(handler=_office_hours_set)
