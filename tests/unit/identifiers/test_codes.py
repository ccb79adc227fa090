from datetime import date

import pytest

from services.identifiers.domain.codes import (
    AgencyCode,
    DocumentId,
    DossierCode,
    InvalidAgencyCode,
    InvalidDocumentId,
    InvalidDossierCode,
    format_number,
    is_valid_agency_code,
)


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("000.00.00.H56", 1),
        ("000.00.01.H56", 2),
        ("000.05.31.H56", 3),
        ("012.05.31.H56", 4),
        ("000.00.00.G22", 1),
    ],
)
def test_valid_codes_and_their_level(code: str, level: int) -> None:
    parsed = AgencyCode.parse(code)
    assert str(parsed) == code
    assert parsed.level == level


@pytest.mark.parametrize(
    ("code", "names"),
    [
        ("28.22.H17", "four groups"),  # the dirty To/OrganId of the conformance corpus
        ("000.00.01.h56", "level-1 group 'h56'"),
        ("000.00.01.H5", "level-1 group 'H5'"),
        ("000.00.01.565", "level-1 group '565'"),
        ("000.0A.01.H56", "level-3 group '0A'"),
        ("000.00.1.H56", "level-2 group '1'"),
        ("00.00.01.H56", "level-4 group '00'"),
        ("000.00.01.H56.1", "four groups"),
        ("", "four groups"),
        ("000 00 01 H56", "four groups"),
    ],
)
def test_invalid_codes_name_the_wrong_group(code: str, names: str) -> None:
    with pytest.raises(InvalidAgencyCode) as err:
        AgencyCode.parse(code)
    assert names in str(err.value)
    assert err.value.field == "code"
    assert not is_valid_agency_code(code)


def test_non_string_code_is_rejected() -> None:
    with pytest.raises(InvalidAgencyCode, match="expected a string"):
        AgencyCode.parse(12345)  # type: ignore[arg-type]


def test_document_id_of_the_national_axis_sample_round_trips() -> None:
    text = "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    doc = DocumentId.parse(text)
    assert str(doc.organ_id) == "000.00.00.G22"
    assert doc.promulgation_date == date(2015, 9, 30)
    assert doc.number == "7816"
    assert doc.notation == "VPCP-TTĐT"
    assert str(doc) == text


def test_document_id_build_pads_numbers_below_ten_and_normalises_to_nfc() -> None:
    decomposed = "QD\u0301-UBND".replace("D\u0301", "Đ")  # build from parts
    doc = DocumentId.build("000.00.01.H56", date(2026, 1, 5), 5, decomposed)
    assert str(doc) == "000.00.01.H56,2026/01/05,05/QĐ-UBND"
    assert format_number(15) == "15"
    with pytest.raises(ValueError):
        format_number(0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("000.00.01.H56,2026/01/05", "three parts"),
        ("000.00.1.H56,2026/01/05,01/QĐ-UBND", "OrganId"),
        ("000.00.01.H56,2026-01-05,01/QĐ-UBND", "yyyy/MM/dd"),
        ("000.00.01.H56,2026/02/30,01/QĐ-UBND", "does not exist"),
        ("000.00.01.H56,2026/01/05,QĐ-UBND", "{Số}/{Ký hiệu}"),
        ("000.00.01.H56,2026/01/05,1a/QĐ-UBND", "must be digits"),
        ("000.00.01.H56,2026/01/05,01/", "empty"),
        ("000.00.01.H56,2026/01/05,01/QĐ UBND", "may hold only"),
    ],
)
def test_bad_document_ids_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(InvalidDocumentId) as err:
        DocumentId.parse(text)
    assert reason in str(err.value)


def test_dossier_code_both_ways() -> None:
    code = DossierCode.build("000.00.01.H56", 2026, "01-TCCB")
    assert str(code) == "000.00.01.H56.2026.01-TCCB"
    assert DossierCode.parse(str(code)) == code
    for bad, reason in [
        ("000.00.01.H56-2026.01", "'{OrganId}.{yyyy}.{notation}'"),
        ("000.00.01.H56.20x6.01", "4 digits"),
        ("00.00.01.H56.2026.01", "agency code"),
        ("000.00.01.H56.2026.", "empty"),
    ]:
        with pytest.raises(InvalidDossierCode) as err:
            DossierCode.parse(bad)
        assert reason in str(err.value), bad
    with pytest.raises(InvalidDossierCode):
        DossierCode.build("000.00.01.H56", 26, "x")
