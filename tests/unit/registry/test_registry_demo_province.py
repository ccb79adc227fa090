"""The demo province "Tỉnh Lạc Hồng" (services/identifiers/data/demo_province.{json,csv})."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from services.registry.domain.symbols import DocumentSymbol

DATA = Path(__file__).resolve().parents[3] / "services" / "identifiers" / "data"
COLUMNS = [
    "code", "name", "abbreviation", "parent_code", "level", "kind", "organization_in_charge",
    "address", "email", "telephone", "fax", "website", "status", "status_effective_from",
    "merged_into", "exchanges_electronically",
]  # fmt: skip
CODE = re.compile(r"(\d{3})\.(\d{2})\.(\d{2})\.(H56)")
KINDS = {
    "province", "office", "department", "district", "commune", "ward", "special_zone",
    "public_unit", "school", "health_station", "other",
}  # fmt: skip
PROVINCE = "000.00.00.H56"


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return json.loads((DATA / "demo_province.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def by_code(rows: list[dict]) -> dict[str, dict]:
    return {row["code"]: row for row in rows}


def _code_level(code: str) -> int:
    match = CODE.fullmatch(code)
    assert match, code
    a, b, c, _ = match.groups()
    return 4 if a != "000" else 3 if b != "00" else 2 if c != "00" else 1


def test_size_and_keys(rows: list[dict]) -> None:
    assert len(rows) >= 320
    for row in rows:
        assert list(row) == COLUMNS, row["code"]


def test_codes_are_unique_and_well_formed(rows: list[dict]) -> None:
    counts = Counter(row["code"] for row in rows)
    assert [code for code, n in counts.items() if n > 1] == []
    for row in rows:
        assert CODE.fullmatch(row["code"]), row["code"]
        assert len(row["code"]) == 13
        assert row["level"] == _code_level(row["code"]), row["code"]
        assert isinstance(row["exchanges_electronically"], bool)
        assert row["kind"] in KINDS, row["kind"]


def test_every_parent_exists_and_the_tree_is_consistent(rows: list[dict], by_code: dict) -> None:
    roots = [row for row in rows if row["parent_code"] is None]
    assert [r["code"] for r in roots] == [PROVINCE]
    for row in rows:
        if row["parent_code"] is None:
            continue
        parent = by_code.get(row["parent_code"])
        assert parent is not None, f"{row['code']}: parent {row['parent_code']} missing"
        assert row["organization_in_charge"] == parent["name"], row["code"]
        assert parent["status"] == "active", f"{row['code']} hangs under {parent['status']}"
        if row["kind"] in {"commune", "ward", "special_zone"}:
            # Two-level government: communes answer to the province, codes keep the old group.
            assert row["parent_code"] == PROVINCE
            former_district = f"000.00.{row['code'][7:9]}.H56"
            assert by_code[former_district]["kind"] == "district"
        elif row["level"] == 4:
            assert row["parent_code"] == "000" + row["code"][3:]
        elif row["level"] == 3:
            assert row["parent_code"] == f"000.00.{row['code'][7:9]}.H56"


def test_merged_targets_exist_and_are_active(rows: list[dict], by_code: dict) -> None:
    merged = [row for row in rows if row["status"] == "merged"]
    assert len(merged) >= 10
    for row in merged:
        target = by_code.get(row["merged_into"])
        assert target is not None, row["code"]
        assert target["status"] == "active"
        assert row["status_effective_from"] == "2025-07-01"
        assert row["exchanges_electronically"] is False
    for row in rows:
        if row["status"] != "merged":
            assert row["merged_into"] is None, row["code"]


def test_reform_shape(rows: list[dict]) -> None:
    kinds = Counter(row["kind"] for row in rows)
    districts = [row for row in rows if row["kind"] == "district"]
    assert len(districts) >= 6
    assert all(
        d["status"] == "dissolved" and d["status_effective_from"] == "2025-07-01" for d in districts
    )
    assert kinds["commune"] + kinds["ward"] + kinds["special_zone"] >= 100
    assert kinds["public_unit"] + kinds["school"] >= 100
    assert sum(row["level"] == 4 for row in rows) >= 50
    assert sum(row["exchanges_electronically"] for row in rows) > 0.8 * len(rows)
    names = {row["name"] for row in rows}
    for required in ("Sở Tài chính", "Sở Nội vụ", "Sở Nông nghiệp và Môi trường", "Thanh tra tỉnh"):
        assert required in names


def test_text_is_nfc_and_contacts_are_plausible(rows: list[dict]) -> None:
    emails = Counter(row["email"] for row in rows)
    assert [e for e, n in emails.items() if n > 1] == []
    for row in rows:
        for column in ("name", "abbreviation", "organization_in_charge", "address"):
            value = row[column]
            assert unicodedata.is_normalized("NFC", value), (row["code"], column)
            assert value == " ".join(value.split()) and value, (row["code"], column)
        assert row["email"].endswith("@lachong.gov.vn")
        assert re.fullmatch(r"0216 3\d{2} \d{4}", row["telephone"]), row["telephone"]
        assert row["fax"] == "" or re.fullmatch(r"0216 3\d{2} \d{4}", row["fax"])
        assert row["website"] == "" or row["website"].startswith("https://")


def test_abbreviations_build_symbols(rows: list[dict]) -> None:
    for row in rows:
        symbol = DocumentSymbol.for_typed_document(1, "QĐ", row["abbreviation"])
        assert symbol.text == f"01/QĐ-{row['abbreviation']}"


def test_csv_holds_the_same_rows(rows: list[dict]) -> None:
    text = (DATA / "demo_province.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == COLUMNS
    csv_rows = list(reader)
    assert len(csv_rows) == len(rows)
    for json_row, csv_row in zip(rows, csv_rows, strict=True):
        expected = {
            key: (
                ""
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
            for key, value in json_row.items()
        }
        assert csv_row == expected


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_demo_province", DATA / "generate_demo_province.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve string annotations through sys.modules while the class is built.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_committed_files_are_the_generator_output() -> None:
    generator = _generator()
    agencies = generator.Builder().build()
    assert generator.render_json(agencies) == (DATA / "demo_province.json").read_text(
        encoding="utf-8"
    )
    assert generator.render_csv(agencies) == (DATA / "demo_province.csv").read_text(
        encoding="utf-8"
    )


def test_identifiers_importer_round_trips_the_files() -> None:
    directory = pytest.importorskip("services.identifiers.service_layer.directory_format")
    content = (DATA / "demo_province.json").read_bytes()
    agencies = directory.parse_json(content)
    assert directory.to_json(agencies) == content
    assert directory.parse_csv((DATA / "demo_province.csv").read_bytes()) == agencies
