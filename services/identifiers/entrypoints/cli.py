"""``lienthong codes …`` (offline rules) and ``lienthong agencies …`` (through the service)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from services.identifiers.domain.codes import (
    AgencyCode,
    CodeError,
    DocumentId,
    DossierCode,
)


def _fail(message: str) -> int:
    print(f"lienthong: {message}", file=sys.stderr)
    return 2


def _validate(args: argparse.Namespace) -> int:
    try:
        code = AgencyCode.parse(args.code)
    except CodeError as exc:
        print(f"invalid: {exc.reason}")
        return 1
    print(f"valid: {code} (level {code.level})")
    return 0


def _docid(args: argparse.Namespace) -> int:
    try:
        if args.text:
            doc = DocumentId.parse(args.text)
        else:
            if not (args.organ and args.date and args.number and args.notation):
                return _fail("docid: give TEXT to parse, or --organ --date --number --notation")
            doc = DocumentId.build(
                args.organ, date.fromisoformat(args.date), int(args.number), args.notation
            )
    except (CodeError, ValueError) as exc:
        print(f"invalid: {exc}")
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "organ_id": str(doc.organ_id),
                    "promulgation_date": doc.promulgation_date.isoformat(),
                    "number": doc.number,
                    "notation": doc.notation,
                    "text": str(doc),
                },
                ensure_ascii=False,
            )
        )
    else:
        print(doc)
    return 0


def _dossier(args: argparse.Namespace) -> int:
    try:
        if args.text:
            code = DossierCode.parse(args.text)
        else:
            if not (args.organ and args.year and args.notation):
                return _fail("dossier: give TEXT to parse, or --organ --year --notation")
            code = DossierCode.build(args.organ, int(args.year), args.notation)
    except (CodeError, ValueError) as exc:
        print(f"invalid: {exc}")
        return 1
    print(code)
    return 0


def _stub():  # type: ignore[no-untyped-def]
    from lienthong.identifiers.v1 import identifiers_pb2_grpc

    from services.chassis.clients import channel_to

    return identifiers_pb2_grpc.IdentifiersStub(channel_to("identifiers"))


def _rpc_error(exc: Exception) -> int:
    code = getattr(exc, "code", lambda: None)()
    details = getattr(exc, "details", lambda: str(exc))()
    return _fail(f"{code.name if code else 'error'}: {details}")


def _import(args: argparse.Namespace) -> int:
    import grpc
    from lienthong.identifiers.v1 import identifiers_pb2 as pb

    path = Path(args.file)
    fmt = args.format or ("csv" if path.suffix.lower() == ".csv" else "json")
    request = pb.ImportAgenciesRequest(
        format=pb.DIRECTORY_FORMAT_CSV if fmt == "csv" else pb.DIRECTORY_FORMAT_JSON,
        content=path.read_bytes(),
    )
    try:
        result = _stub().ImportAgencies(request, timeout=120)
    except grpc.RpcError as exc:
        return _rpc_error(exc)
    print(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}")
    return 0


def _export(args: argparse.Namespace) -> int:
    import grpc
    from lienthong.identifiers.v1 import identifiers_pb2 as pb

    fmt = pb.DIRECTORY_FORMAT_CSV if args.format == "csv" else pb.DIRECTORY_FORMAT_JSON
    try:
        content = _stub().ExportAgencies(pb.ExportAgenciesRequest(format=fmt), timeout=60).content
    except grpc.RpcError as exc:
        return _rpc_error(exc)
    if args.out:
        Path(args.out).write_bytes(content)
    else:
        sys.stdout.buffer.write(content)
    return 0


def _search(args: argparse.Namespace) -> int:
    import grpc
    from lienthong.identifiers.v1 import identifiers_pb2 as pb

    try:
        page = _stub().SearchAgencies(
            pb.SearchAgenciesRequest(query=args.query, kinds=args.kind or [], page_size=args.limit),
            timeout=10,
        )
    except grpc.RpcError as exc:
        return _rpc_error(exc)
    for agency in page.agencies:
        print(f"{agency.code}  {agency.name}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    codes = subparsers.add_parser("codes", help="agency codes, document ids, dossier codes")
    codes_sub = codes.add_subparsers(dest="codes_command", required=True, metavar="ACTION")

    validate = codes_sub.add_parser("validate", help="check a 13-character agency code")
    validate.add_argument("code")
    validate.set_defaults(handler=_validate)

    docid = codes_sub.add_parser(
        "docid", help="parse TEXT, or build {OrganId},{yyyy/MM/dd},{Số}/{Ký hiệu}"
    )
    docid.add_argument("text", nargs="?")
    docid.add_argument("--organ")
    docid.add_argument("--date", help="yyyy-MM-dd")
    docid.add_argument("--number")
    docid.add_argument("--notation", help="ký hiệu, e.g. QĐ-UBND")
    docid.add_argument("--json", action="store_true")
    docid.set_defaults(handler=_docid)

    dossier = codes_sub.add_parser(
        "dossier", help="parse TEXT, or build {OrganId}.{yyyy}.{notation}"
    )
    dossier.add_argument("text", nargs="?")
    dossier.add_argument("--organ")
    dossier.add_argument("--year")
    dossier.add_argument("--notation")
    dossier.set_defaults(handler=_dossier)

    agencies = subparsers.add_parser("agencies", help="the agency directory (service must run)")
    agencies_sub = agencies.add_subparsers(dest="agencies_command", required=True, metavar="ACTION")
    imp = agencies_sub.add_parser("import", help="import a JSON or CSV directory (idempotent)")
    imp.add_argument("file")
    imp.add_argument("--format", choices=["json", "csv"])
    imp.set_defaults(handler=_import)
    exp = agencies_sub.add_parser("export", help="export the directory")
    exp.add_argument("--format", choices=["json", "csv"], default="json")
    exp.add_argument("--out")
    exp.set_defaults(handler=_export)
    search = agencies_sub.add_parser("search", help="diacritic-insensitive search")
    search.add_argument("query")
    search.add_argument("--kind", action="append")
    search.add_argument("--limit", type=int, default=20)
    search.set_defaults(handler=_search)
