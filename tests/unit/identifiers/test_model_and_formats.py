import json
import unicodedata

import pytest

from services.chassis.errors import FailedPrecondition, InvalidArgument
from services.identifiers.domain.model import AgencyStatus, merge, new_agency
from services.identifiers.service_layer import directory_format
from services.identifiers.service_layer.use_cases import _parents_first


def _agency(**overrides):
    values = {"code": "000.00.01.H56", "name": "Sở Tài chính", "parent_code": "000.00.00.H56"}
    values.update(overrides)
    return new_agency(**values)


def test_new_agency_normalises_names_and_derives_level() -> None:
    agency = _agency(name=unicodedata.normalize("NFD", " Sở  Tài chính "))
    assert agency.name == "Sở Tài chính"
    assert agency.level == 2
    assert agency.name_folded == "so tai chinh"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "000.00.1.H56"}, "code"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 301}, "name"),
        ({"parent_code": "000.00.01.H56"}, "parent_code"),
        ({"email": "not-an-email"}, "email"),
        ({"telephone": "call me"}, "telephone"),
        ({"status": "asleep"}, "status"),
        ({"status": "merged"}, "merged_into"),
        ({"merged_into": "000.00.02.H56"}, "merged_into"),
        ({"status_effective_from": "2025-13-01"}, "status_effective_from"),
        ({"level": 0}, "level"),
        ({"abbreviation": "U B"}, "abbreviation"),
        ({"exchanges_electronically": "yes"}, "exchanges_electronically"),
    ],
)
def test_invalid_fields_are_named(overrides: dict, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        _agency(**overrides)
    assert err.value.field == field


def test_merge_rules() -> None:
    a = _agency()
    b = _agency(code="000.00.02.H56", name="Sở Kế hoạch và Đầu tư")
    from datetime import date

    merged = merge(b, a, date(2025, 3, 1))
    assert merged.status is AgencyStatus.MERGED and merged.merged_into == a.code
    with pytest.raises(FailedPrecondition):
        merge(a, merged, date(2025, 3, 1))  # into an inactive agency
    with pytest.raises(FailedPrecondition):
        merge(merged, a, date(2025, 3, 1))  # already merged
    with pytest.raises(InvalidArgument):
        merge(a, a, date(2025, 3, 1))


def test_json_and_csv_round_trip_the_same_agencies() -> None:
    agencies = [
        _agency(code="000.00.00.H56", name="Ủy ban nhân dân tỉnh Lạc Hồng", parent_code=None),
        _agency(email="stc@lachong.gov.vn", telephone="0263 3822 111"),
        _agency(
            code="000.00.31.H56",
            name="Huyện Đức Trọng",
            status="dissolved",
            status_effective_from="2025-07-01",
            exchanges_electronically=False,
        ),
    ]
    assert directory_format.parse_json(directory_format.to_json(agencies)) == agencies
    assert directory_format.parse_csv(directory_format.to_csv(agencies)) == agencies


def test_csv_errors_name_the_row_and_field() -> None:
    content = (
        "code,name,parent_code,level\n000.00.00.H56,Tỉnh,,1\n000.00.1.H56,Sở,000.00.00.H56,2\n"
    ).encode()
    with pytest.raises(InvalidArgument) as err:
        directory_format.parse_csv(content)
    assert "row 3" in str(err.value) and err.value.field == "code"
    with pytest.raises(InvalidArgument, match="level 'two'"):
        directory_format.parse_csv(b"code,name,level\n000.00.00.H56,X,two\n")
    with pytest.raises(InvalidArgument, match="lacks columns"):
        directory_format.parse_csv(b"id,title\n1,2\n")
    with pytest.raises(InvalidArgument, match="not UTF-8"):
        directory_format.parse_csv("code,name\n000.00.00.H56,Hà Nội\n".encode("utf-16"))


def test_json_errors() -> None:
    with pytest.raises(InvalidArgument, match="JSON list"):
        directory_format.parse_json(b'{"code": "x"}')
    with pytest.raises(InvalidArgument, match="item 1: unknown keys"):
        directory_format.parse_json(json.dumps([{"code": "000.00.00.H56", "nme": "x"}]).encode())


def test_import_order_puts_parents_first_and_refuses_cycles() -> None:
    child = _agency(code="000.00.02.H56", parent_code="000.00.01.H56")
    parent = _agency(code="000.00.01.H56", parent_code="000.00.00.H56")
    root = _agency(code="000.00.00.H56", parent_code=None)
    ordered = [a.code for a in _parents_first([child, parent, root])]
    assert ordered == ["000.00.00.H56", "000.00.01.H56", "000.00.02.H56"]
    a = _agency(code="000.00.01.H56", parent_code="000.00.02.H56")
    b = _agency(code="000.00.02.H56", parent_code="000.00.01.H56")
    with pytest.raises(InvalidArgument, match="cycle"):
        _parents_first([a, b])
