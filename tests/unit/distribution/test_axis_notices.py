"""Recall / update / replace on the national axis: the packages and the simulator's answers."""

from __future__ import annotations

import dataclasses

from services.distribution.adapters.national_axis import LocalAxisSimulator
from services.distribution.adapters.sample_packages import make_package
from services.distribution.edxml import dsig
from services.distribution.edxml.build import build
from services.distribution.edxml.codes import BussinessDocType
from services.distribution.edxml.dsig import SoftwareRsaSigner
from services.distribution.edxml.model import DocumentPackage, ReplacementInfo
from services.distribution.edxml.parse import parse
from services.distribution.service_layer.use_cases import notice_package

SENDER = "000.00.05.H56"
OUTSIDE = "000.00.00.G22"
OTHER_OUTSIDE = "000.00.00.G17"


def _axis() -> LocalAxisSimulator:
    return LocalAxisSimulator(
        known_agencies={OUTSIDE: "Văn phòng Chính phủ", OTHER_OUTSIDE: "Sở TTTT Hải Phòng"}
    )


def _parsed(content: bytes) -> DocumentPackage:
    package = parse(content).package
    assert isinstance(package, DocumentPackage)
    return package


def test_the_recall_package_is_the_original_header_with_type_1_signed(
    software_signer: SoftwareRsaSigner,
) -> None:
    original = make_package(SENDER, [OUTSIDE], subject="Về việc thu hồi thử")
    content = notice_package(original, BussinessDocType.RECALL, "Ban hành nhầm", software_signer)
    recall = _parsed(content)
    first = _parsed(original)
    assert recall.header == first.header
    assert recall.trace_header_list is not None and recall.trace_header_list.bussiness
    assert recall.trace_header_list.bussiness.bussiness_doc_type is BussinessDocType.RECALL
    assert recall.trace_header_list.bussiness.bussiness_doc_reason == "Ban hành nhầm"
    assert recall.attachments == ()
    checked = dsig.verify(content)
    assert checked.valid and checked.certificate_der == software_signer.certificate_der


def test_the_simulator_answers_a_recall_with_13_then_15_or_16() -> None:
    axis = _axis()
    axis.refuse_notices[OTHER_OUTSIDE] = "đã ban hành văn bản thực hiện"
    original = make_package(SENDER, [OUTSIDE, OTHER_OUTSIDE])
    agreed_id, refused_id = axis.send(original)
    recall = notice_package(original, BussinessDocType.RECALL, "Thu hồi", None)
    axis.send(recall, [OUTSIDE, OTHER_OUTSIDE])
    assert axis.get(agreed_id).statuses == ("13", "15")
    assert axis.get(refused_id).statuses == ("13", "16")
    assert axis.notice_reason(OTHER_OUTSIDE) == "đã ban hành văn bản thực hiện"
    # Sent again (a redelivered event): answered once.
    axis.send(recall, [OUTSIDE])
    assert axis.get(agreed_id).statuses == ("13", "15")


def test_the_simulator_answers_an_update_on_the_document_it_names() -> None:
    axis = _axis()
    first = make_package(SENDER, [OUTSIDE], number=11)
    other = make_package(SENDER, [OUTSIDE], number=12)
    (first_id,) = axis.send(first)
    (other_id,) = axis.send(other)
    update = _parsed(make_package(SENDER, [OUTSIDE], number=13, kind=BussinessDocType.UPDATE))
    trace = update.trace_header_list
    assert trace is not None and trace.bussiness is not None
    named = dataclasses.replace(
        update,
        trace_header_list=dataclasses.replace(
            trace,
            bussiness=dataclasses.replace(
                trace.bussiness,
                replacement_info_list=(
                    ReplacementInfo(
                        document_id=_parsed(first).header.document_id, organ_ids=(OUTSIDE,)
                    ),
                ),
            ),
        ),
        signature=None,
    )
    axis.send(build(named, include_signature=False))
    assert axis.get(first_id).statuses == ("13", "15")
    assert axis.get(other_id).statuses == ()
