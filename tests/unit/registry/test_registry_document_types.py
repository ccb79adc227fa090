"""The document-type catalogue: NĐ 30/2020 Điều 7 (29 types) and Phụ lục III."""

from __future__ import annotations

import json
import unicodedata
from importlib import resources

import pytest

from services.distribution.edxml.codes import Priority
from services.registry.domain.classification import (
    Confidentiality,
    Signer,
    SignerAuthority,
    Urgency,
    ensure_exchangeable,
)
from services.registry.domain.document_types import DocumentTypeCatalogue
from services.registry.domain.errors import InvalidField, StateSecretNotAllowed, UnknownDocumentType

EXPECTED_ABBREVIATIONS = {
    "NQ", "QĐ", "CT", "QC", "QyĐ", "TC", "TB", "HD", "CTr", "KH", "PA", "ĐA", "DA", "BC", "BB",
    "TTr", "HĐ", "CĐ", "BGN", "BTT", "GUQ", "GM", "GGT", "GNP", "PG", "PC", "PB",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalogue() -> DocumentTypeCatalogue:
    return DocumentTypeCatalogue.load_default()


def test_catalogue_has_the_29_types_and_27_abbreviations(catalogue: DocumentTypeCatalogue) -> None:
    assert len(catalogue) == 29
    assert [t.ordinal for t in catalogue] == list(range(1, 30))
    assert catalogue.abbreviations == EXPECTED_ABBREVIATIONS
    without = sorted(t.name for t in catalogue if not t.has_abbreviation)
    assert without == ["Công văn", "Thư công"]


def test_data_file_is_nfc() -> None:
    text = (
        resources.files("services.registry")
        .joinpath("data", "document_types.json")
        .read_text(encoding="utf-8")
    )
    assert unicodedata.normalize("NFC", text) == text
    assert json.loads(text)["document_types"]


def test_lookups(catalogue: DocumentTypeCatalogue) -> None:
    assert catalogue.by_abbreviation("QĐ").name == "Quyết định"
    assert catalogue.by_abbreviation("QyĐ").name == "Quy định"
    decomposed = unicodedata.normalize("NFD", "QĐ")
    assert catalogue.by_abbreviation(decomposed).key == "quyet_dinh"
    assert catalogue.by_name("  cong VAN ").key == "cong_van"
    assert catalogue.by_name("Tờ trình").abbreviation == "TTr"
    assert catalogue.by_key("to_trinh").name == "Tờ trình"
    assert {t.key for t in catalogue if t.may_be_legal_normative} == {"nghi_quyet", "quyet_dinh"}


@pytest.mark.parametrize("lookup", ["by_abbreviation", "by_name", "by_key"])
def test_unknown_type_names_the_field(catalogue: DocumentTypeCatalogue, lookup: str) -> None:
    with pytest.raises(UnknownDocumentType) as info:
        getattr(catalogue, lookup)("Thông tư", field="type")
    assert info.value.field == "type"


def test_abbreviation_is_case_sensitive(catalogue: DocumentTypeCatalogue) -> None:
    with pytest.raises(UnknownDocumentType):
        catalogue.by_abbreviation("qđ")


def test_copy_forms(catalogue: DocumentTypeCatalogue) -> None:
    assert [c.abbreviation for c in catalogue.copy_forms] == ["SY", "TrS", "SL"]
    assert catalogue.copy_form("TrS").name == "Bản trích sao"
    with pytest.raises(InvalidField, match="copy_form"):
        catalogue.copy_form("BS")


def test_duplicate_abbreviation_in_data_is_refused() -> None:
    data = {
        "document_types": [
            {"ordinal": 1, "key": "a", "name": "A", "abbreviation": "X"},
            {"ordinal": 2, "key": "b", "name": "B", "abbreviation": "X"},
        ],
        "copy_forms": [],
    }
    with pytest.raises(InvalidField, match="used twice"):
        DocumentTypeCatalogue.from_mapping(data)


def test_malformed_data_is_refused() -> None:
    with pytest.raises(InvalidField, match="malformed"):
        DocumentTypeCatalogue.from_mapping({"document_types": [{"name": "x"}], "copy_forms": []})


@pytest.mark.parametrize(
    ("urgency", "code", "label"),
    [
        (Urgency.NORMAL, 0, "thường"),
        (Urgency.URGENT, 1, "khẩn"),
        (Urgency.VERY_URGENT, 2, "thượng khẩn"),
        (Urgency.EXPRESS, 3, "hỏa tốc"),
        (Urgency.EXPRESS_TIMED, 4, "hỏa tốc hẹn giờ"),
    ],
)
def test_urgency_edxml_priority(urgency: Urgency, code: int, label: str) -> None:
    assert urgency.edxml_priority is Priority(code)
    assert Urgency.from_edxml_priority(str(code)) is urgency
    assert Urgency.from_label(label.upper()) is urgency
    assert urgency.label == label


@pytest.mark.parametrize("code", [5, -1, "x", None])
def test_unknown_priority_is_refused(code: object) -> None:
    with pytest.raises(InvalidField, match="urgency"):
        Urgency.from_edxml_priority(code)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "level", [Confidentiality.CONFIDENTIAL, Confidentiality.SECRET, Confidentiality.TOP_SECRET]
)
def test_state_secrets_are_refused_for_exchange(level: Confidentiality) -> None:
    with pytest.raises(StateSecretNotAllowed) as info:
        ensure_exchangeable(level)
    assert level.value in str(info.value)
    assert info.value.status == "FAILED_PRECONDITION"


def test_ordinary_documents_may_be_exchanged() -> None:
    ensure_exchangeable(Confidentiality.NORMAL)
    assert Confidentiality.from_label("tuyet mat") is Confidentiality.TOP_SECRET
    with pytest.raises(InvalidField):
        Confidentiality.from_label("bí mật")


def test_signer_with_authority_prefix() -> None:
    signer = Signer.parse_authority_line("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn An")
    assert signer.authority is SignerAuthority.DEPUTY
    assert signer.competence_and_title == "KT. CHỦ TỊCH PHÓ CHỦ TỊCH"
    plain = Signer.parse_authority_line("CHỦ TỊCH", "CHỦ TỊCH", "Trần Thị Bình")
    assert plain.authority is None
    assert plain.competence_and_title == "CHỦ TỊCH"
    assert [a.value for a in SignerAuthority] == ["TM.", "KT.", "TL.", "TUQ.", "Q."]
    assert SignerAuthority.from_prefix("tuq") is SignerAuthority.BY_DELEGATION


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "", "full_name": "A"}, "signer.title"),
        ({"title": "X", "full_name": "A" * 101}, "signer.full_name"),
        ({"title": "X", "full_name": 5}, "signer.full_name"),
        (
            {"title": "X", "full_name": "A", "authority": SignerAuthority.DEPUTY},
            "signer.on_behalf_of",
        ),
    ],
)
def test_bad_signer_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidField) as info:
        Signer(**kwargs)
    assert info.value.field == field


def test_unknown_authority_prefix() -> None:
    with pytest.raises(InvalidField) as info:
        SignerAuthority.from_prefix("PT.")
    assert info.value.field == "signer.authority"
