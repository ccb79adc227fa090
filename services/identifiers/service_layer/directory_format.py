"""The directory's exchange formats (JSON and CSV, UTF-8): same keys, same order, both ways.

Keys: code, name, abbreviation, parent_code, level, kind, organization_in_charge, address,
email, telephone, fax, website, status, status_effective_from, merged_into,
exchanges_electronically. Errors name the row (1-based; CSV counts the header as row 1) and the
field, so a clerk can fix a 300-line file in one pass.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from services.chassis.errors import InvalidArgument, ServiceError
from services.identifiers.domain.model import Agency, new_agency

COLUMNS = [
    "code", "name", "abbreviation", "parent_code", "level", "kind", "organization_in_charge",
    "address", "email", "telephone", "fax", "website", "status", "status_effective_from",
    "merged_into", "exchanges_electronically",
]  # fmt: skip
MAX_ROWS = 100_000


def agency_to_record(agency: Agency) -> dict[str, Any]:
    values = agency.content_fields()
    record = {key: values[key] for key in COLUMNS}
    record["status"] = agency.status.value
    record["status_effective_from"] = (
        agency.status_effective_from.isoformat() if agency.status_effective_from else None
    )
    return record


def record_to_agency(record: dict[str, Any], where: str) -> Agency:
    unknown = set(record) - set(COLUMNS)
    if unknown:
        raise InvalidArgument(f"{where}: unknown keys {sorted(unknown)}", field="content")
    try:
        return new_agency(**{k: v for k, v in record.items() if v is not None})
    except ServiceError as exc:
        raise InvalidArgument(f"{where}: {exc}", field=exc.field or "content") from exc
    except TypeError as exc:
        raise InvalidArgument(f"{where}: {exc}", field="content") from exc


def parse_json(content: bytes) -> list[Agency]:
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidArgument(f"not UTF-8 JSON: {exc}", field="content") from exc
    if not isinstance(data, list):
        raise InvalidArgument("must be a JSON list of agency objects", field="content")
    _check_size(len(data))
    agencies = []
    for index, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            raise InvalidArgument(f"item {index} is not an object", field="content")
        agencies.append(record_to_agency(record, f"item {index}"))
    return agencies


def parse_csv(content: bytes) -> list[Agency]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"not UTF-8: {exc}", field="content") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("code", "name") if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidArgument(f"the CSV header lacks columns {missing}", field="content")
    agencies = []
    for row_number, row in enumerate(reader, start=2):
        _check_size(row_number)
        if None in row:
            raise InvalidArgument(f"row {row_number}: more cells than columns", field="content")
        record: dict[str, Any] = {k: (v if v != "" else None) for k, v in row.items()}
        if record.get("level") is not None:
            try:
                record["level"] = int(record["level"])
            except ValueError as exc:
                raise InvalidArgument(
                    f"row {row_number}: level {record['level']!r} is not a number", field="level"
                ) from exc
        flag = record.get("exchanges_electronically")
        if flag is not None:
            lowered = flag.strip().lower()
            if lowered not in {"true", "false", "1", "0"}:
                raise InvalidArgument(
                    f"row {row_number}: exchanges_electronically must be true or false",
                    field="exchanges_electronically",
                )
            record["exchanges_electronically"] = lowered in {"true", "1"}
        agencies.append(record_to_agency(record, f"row {row_number}"))
    return agencies


def _check_size(count: int) -> None:
    if count > MAX_ROWS:
        raise InvalidArgument(f"more than {MAX_ROWS} agencies in one import", field="content")


def to_json(agencies: Iterable[Agency]) -> bytes:
    records = [agency_to_record(a) for a in agencies]
    return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def to_csv(agencies: Iterable[Agency]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for agency in agencies:
        record = agency_to_record(agency)
        record["exchanges_electronically"] = "true" if agency.exchanges_electronically else "false"
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return out.getvalue().encode("utf-8")
