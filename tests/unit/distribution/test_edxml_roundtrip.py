"""build ∘ parse keeps every sample's information; parse ∘ build is the identity on models."""

from __future__ import annotations

import string
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.distribution.edxml.build import build, manifest_for
from services.distribution.edxml.codes import BussinessDocType, Priority, StatusCode
from services.distribution.edxml.errors import InvalidField
from services.distribution.edxml.jsonform import package_from_json, package_to_json
from services.distribution.edxml.model import (
    EDXML_NAMESPACE,
    VIETNAM_TIME,
    Attachment,
    Bussiness,
    DocumentCode,
    DocumentPackage,
    DocumentType,
    MessageHeader,
    Organization,
    OtherInfo,
    PromulgationInfo,
    RawElement,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusPackage,
    TraceHeader,
    TraceHeaderList,
)
from services.distribution.edxml.parse import parse

from .conftest import SAMPLE_FILES


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: path.name)
def test_every_sample_rebuilds_to_an_equal_model(path) -> None:
    first = parse(path.read_bytes())
    rebuilt = build(first.package)
    second = parse(rebuilt, inspect_zips=True)
    assert second.package == first.package
    assert second.warnings == ()  # the output needs no recovery
    assert build(second.package) == rebuilt  # and building is deterministic


def test_builder_writes_the_sample_structure() -> None:
    package = parse(SAMPLE_FILES[0].parent.joinpath("edoc_revocation.edxml").read_bytes()).package
    text = build(package).decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">' in text
    assert '<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">' in text
    order = [
        "<edXML:From>",
        "<edXML:To>",
        "<edXML:DocumentId>",
        "<edXML:Code>",
        "<edXML:PromulgationInfo>",
        "<edXML:DocumentType>",
        "<edXML:Subject>",
        "<edXML:Content>",
        "<edXML:SignerInfo>",
        "<edXML:DueDate>",
        "<edXML:OtherInfo>",
        "<edXML:ResponseFor>",
        "<edXML:SteeringType>",
        "<edXML:ToPlaces>",
        "<edXML:TraceHeaderList>",
        "<Signature",
        "<edXML:edXMLBody>",
        '<edXML:edXMLManifest version="1.0">',
        "<edXML:Reference>",
        "<edXML:ContentId>cid:209</edXML:ContentId>",
        "<edXML:AttachmentEncoded",
        "<edXML:Attachment>",
        '<edXML:ContentTransferEncoded xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">UEsD',
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_unknown_elements_are_kept_and_written_back() -> None:
    data = (
        SAMPLE_FILES[0]
        .parent.joinpath("status.edxml")
        .read_bytes()
        .replace(
            b"<edXML:StatusCode>",
            b'<edXML:FutureField kind="x">gi\xe1\xbb\xaf l\xe1\xba\xa1i</edXML:FutureField>'
            b"<edXML:StatusCode>",
        )
    )
    result = parse(data)
    [extra] = result.package.header_extras
    assert extra.name == "FutureField" and "giữ lại" in extra.xml
    assert any(issue.kind == "unknown-element" for issue in result.issues)
    again = parse(build(result.package))
    assert again.package == result.package


# --- generated models ------------------------------------------------------------------------

_ALPHABET = (
    string.ascii_letters
    + string.digits
    + " .,;:/-()&<>\"'"
    + "ăâđêôơưÁÀẢÃẠấầẩẫậĐđễệỉọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)


def _clean(text: str) -> str | None:
    text = unicodedata.normalize("NFC", text).strip()
    return text or None


texts = st.text(alphabet=_ALPHABET, min_size=1, max_size=40).map(_clean).filter(bool)
optional_texts = st.none() | texts
codes = st.builds(
    lambda a, b, c, letter, d: f"{a:03d}.{b:02d}.{c:02d}.{letter}{d:02d}",
    st.integers(0, 999),
    st.integers(0, 99),
    st.integers(0, 99),
    st.sampled_from("GHKA"),
    st.integers(0, 99),
)
dates = st.none() | st.dates(
    min_value=datetime(1990, 1, 1).date(), max_value=datetime(2090, 1, 1).date()
)
timestamps = st.none() | st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)
).map(lambda moment: moment.replace(microsecond=0, tzinfo=VIETNAM_TIME))
organizations = st.builds(
    Organization,
    organ_id=st.none() | codes,
    organization_in_charge=optional_texts,
    organ_name=optional_texts,
    organ_add=optional_texts,
    email=optional_texts,
    telephone=optional_texts,
    fax=optional_texts,
    website=optional_texts,
)
staff = st.builds(
    StaffInfo,
    department=optional_texts,
    staff=optional_texts,
    email=optional_texts,
    mobile=optional_texts,
)
responses = st.builds(
    ResponseFor,
    organ_id=st.none() | codes,
    code=optional_texts,
    promulgation_date=dates,
    document_id=st.none(),
)
headers = st.builds(
    MessageHeader,
    from_=organizations,
    to=st.lists(organizations, max_size=3).map(tuple),
    document_id=st.none(),
    code=st.none()
    | st.builds(DocumentCode, code_number=optional_texts, code_notation=optional_texts),
    promulgation_info=st.none()
    | st.builds(PromulgationInfo, place=optional_texts, promulgation_date=dates),
    document_type=st.none()
    | st.builds(
        DocumentType, type=optional_texts, type_detail=optional_texts, type_name=optional_texts
    ),
    subject=optional_texts,
    content=optional_texts,
    signer_info=st.none()
    | st.builds(
        SignerInfo, competence=optional_texts, position=optional_texts, full_name=optional_texts
    ),
    due_date=dates,
    other_info=st.none()
    | st.builds(
        OtherInfo,
        priority=st.none() | st.sampled_from(Priority),
        sphere_of_promulgation=optional_texts,
        typer_notation=optional_texts,
        promulgation_amount=st.none() | st.integers(0, 10**6),
        page_amount=st.none() | st.integers(0, 10**6),
        direction=st.none() | st.booleans(),
        appendixes=st.lists(texts, max_size=3).map(tuple),
    ),
    response_for=st.lists(responses, max_size=2).map(tuple),
    steering_type=optional_texts,
    to_places=st.lists(texts, max_size=3).map(tuple),
)
traces = st.builds(
    TraceHeaderList,
    trace_headers=st.lists(
        st.builds(TraceHeader, organ_id=st.none() | codes, timestamp=timestamps), max_size=3
    ).map(tuple),
    bussiness=st.none()
    | st.builds(
        Bussiness,
        document_id=st.none(),
        bussiness_doc_type=st.none() | st.sampled_from(BussinessDocType),
        bussiness_doc_reason=optional_texts,
        paper=st.none() | st.sampled_from(["0", "1"]),
        staff_info=st.none() | staff,
    ),
)
attachments = st.builds(
    Attachment,
    content_id=st.uuids().map(lambda uuid: f"cid:{uuid}"),
    name=optional_texts,
    content_type=st.none() | st.sampled_from(["application/pdf", "application/zip"]),
    description=optional_texts,
    data=st.binary(max_size=300),
)


@st.composite
def document_packages(draw) -> DocumentPackage:
    files = tuple(draw(st.lists(attachments, max_size=3, unique_by=lambda a: a.content_id)))
    return DocumentPackage(
        header=draw(headers),
        trace_header_list=draw(st.none() | traces),
        manifest_version="1.0",
        manifest=manifest_for(files),
        attachments=files,
        extras=draw(
            st.lists(
                st.builds(
                    lambda value: RawElement(
                        "edXMLHeader",
                        "Extension",
                        # As the parser serializes a kept element: with the namespaces in scope.
                        f'<edXML:Extension xmlns:edXML="{EDXML_NAMESPACE}" '
                        f'xmlns="{EDXML_NAMESPACE}">{value}</edXML:Extension>',
                    ),
                    st.integers(0, 1000),
                ),
                max_size=1,
            ).map(tuple)
        ),
    )


status_packages = st.builds(
    StatusPackage,
    from_=organizations,
    response_for=st.none() | responses,
    staff_info=st.none() | staff,
    status_code=st.sampled_from(StatusCode),
    description=optional_texts,
    timestamp=timestamps,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document_packages() | status_packages)
def test_parse_of_build_is_identity(package) -> None:
    assert parse(build(package)).package == package
    assert package_from_json(package_to_json(package)) == package


def test_timestamps_are_written_in_vietnam_time() -> None:
    moment = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    status = StatusPackage(status_code=StatusCode.ACCEPTED, timestamp=moment)
    assert b"<edXML:Timestamp>2026/11/22 08:30:00</edXML:Timestamp>" in build(status)
    parsed = parse(build(status)).package.timestamp
    assert parsed == moment and parsed.utcoffset() == timedelta(hours=7)


def test_an_extra_the_builder_cannot_place_is_refused_not_dropped() -> None:
    stray = RawElement("Nowhere", "X", "<X/>")
    with pytest.raises(InvalidField, match="Nowhere"):
        build(StatusPackage(status_code=StatusCode.ARRIVED, extras=(stray,)))


def test_text_xml_cannot_carry_is_refused() -> None:
    package = StatusPackage(status_code=StatusCode.ARRIVED, description="bell \x07")
    with pytest.raises(InvalidField, match="Description"):
        build(package)


def test_update_and_replace_details_round_trip() -> None:
    details = (
        "<edXML:BussinessDocumentInfo><edXML:DocumentInfo>1</edXML:DocumentInfo>"
        "<edXML:DocumentReceiver>0</edXML:DocumentReceiver><edXML:ReceiverList>"
        "<edXML:Receiver><edXML:ReceiverType>1</edXML:ReceiverType>"
        "<edXML:OrganId>000.01.01.H08</edXML:OrganId></edXML:Receiver></edXML:ReceiverList>"
        "</edXML:BussinessDocumentInfo><edXML:ReplacementInfoList><edXML:ReplacementInfo>"
        "<edXML:DocumentId>000.00.01.H01,2018/10/01,10/QĐ-UBND</edXML:DocumentId>"
        "<edXML:OrganIdList><edXML:OrganId>000.01.01.H01</edXML:OrganId>"
        "<edXML:OrganId>000.02.01.H01</edXML:OrganId></edXML:OrganIdList>"
        "</edXML:ReplacementInfo></edXML:ReplacementInfoList>"
    ).encode()
    data = (
        SAMPLE_FILES[0]
        .parent.joinpath("edoc_revocation.edxml")
        .read_bytes()
        .replace(b"</edXML:Bussiness>", details + b"</edXML:Bussiness>")
        .replace(b"<edXML:BussinessDocType>1<", b"<edXML:BussinessDocType>3<")
    )
    result = parse(data)
    bussiness = result.package.trace_header_list.bussiness
    assert bussiness.bussiness_doc_type is BussinessDocType.REPLACE
    assert bussiness.bussiness_document_info.receivers[0].organ_id == "000.01.01.H08"
    [replacement] = bussiness.replacement_info_list
    assert replacement.document_id == "000.00.01.H01,2018/10/01,10/QĐ-UBND"
    assert replacement.organ_ids == ("000.01.01.H01", "000.02.01.H01")
    assert result.issues == ()
    assert parse(build(result.package)).package == result.package
