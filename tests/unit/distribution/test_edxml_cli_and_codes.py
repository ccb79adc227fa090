"""The ``lienthong edxml`` commands and the status-code mapping."""

from __future__ import annotations

import argparse
import json

import pytest

from services.distribution.edxml.codes import (
    REGISTRY_STATUS_TO_STATUS_CODE,
    STATUS_CODE_NAMES,
    STATUS_CODE_TO_REGISTRY_STATUS,
    Priority,
    StatusCode,
    registry_status_for,
    status_code_for,
)
from services.distribution.entrypoints.cli import register

from .conftest import SAMPLE_FILES, SAMPLES


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lienthong")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: path.name)
def test_parse_build_parse_gives_the_same_json(path, tmp_path, capsysbinary) -> None:
    assert _run(["edxml", "parse", str(path), "--json"]) == 0
    first = capsysbinary.readouterr().out
    (tmp_path / "package.json").write_bytes(first)
    assert _run(["edxml", "build", "--from-json", str(tmp_path / "package.json")]) == 0
    built = capsysbinary.readouterr().out
    assert built.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    (tmp_path / "package.edxml").write_bytes(built)
    assert _run(["edxml", "parse", str(tmp_path / "package.edxml"), "--json"]) == 0
    assert capsysbinary.readouterr().out == first
    assert json.loads(first)["kind"] in ("document", "status")


def test_parse_json_carries_the_values(capsys) -> None:
    assert _run(["edxml", "parse", str(SAMPLES / "status_rejection_02.edxml"), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "status"
    assert document["package"]["status_code"] == "02"
    assert document["package"]["timestamp"] == "2015-09-20T11:08:36+07:00"
    assert document["package"]["from"]["organ_id"] == "000.00.00.H41"


def test_bad_input_is_one_line_on_stderr(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.edxml"
    bad.write_bytes(b"<edXML><unclosed>")
    assert _run(["edxml", "parse", str(bad), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert _run(["edxml", "parse", str(tmp_path / "missing.edxml")]) == 1
    assert _run(["edxml", "build", "--from-json", str(bad)]) == 1
    assert "not JSON" in capsys.readouterr().err


def test_dirty_sample_reports_on_stderr(capsys) -> None:
    assert _run(["edxml", "parse", str(SAMPLES / "edoc_new.edxml")]) == 0
    err = capsys.readouterr().err
    assert "stray byte" in err and "28.22.H17" in err
    assert _run(["edxml", "parse", "--strict", str(SAMPLES / "edoc_new.edxml")]) == 1


def test_status_mapping_covers_every_code_and_the_registry_statuses() -> None:
    from services.registry.domain.status import EdxmlStatusCode, ProcessingStatus

    assert set(STATUS_CODE_TO_REGISTRY_STATUS) == set(StatusCode)
    # Every registry status but the local "deleted" is reported with exactly one code …
    reportable = {s.value for s in ProcessingStatus} - {"deleted"}
    assert set(REGISTRY_STATUS_TO_STATUS_CODE) == reportable
    for registry_status, code in REGISTRY_STATUS_TO_STATUS_CODE.items():
        assert registry_status_for(code) == registry_status
        # … and the registry, which imports this table, reads it the same way.
        assert ProcessingStatus(registry_status).edxml_code == EdxmlStatusCode(code.value)
    for code in StatusCode:
        assert STATUS_CODE_NAMES[code]
    assert registry_status_for("03") == "accepted"
    assert registry_status_for("05") == "in_progress"
    assert registry_status_for("15") == "recalled"
    assert registry_status_for("16") is None
    assert StatusCode.COMPLETED.vietnamese.startswith("Đã xử lý xong")
    with pytest.raises(ValueError, match="registry_status"):
        status_code_for("lost")


def test_priority_names() -> None:
    assert [priority.value for priority in Priority] == [0, 1, 2, 3, 4]
    assert Priority.EXPRESS.vietnamese == "Hỏa tốc"
