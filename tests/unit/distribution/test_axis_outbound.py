"""Outbound through the national axis, without infrastructure: routing of outside agencies, the
simulator's per-receiver send, sent list and status history, signed-status enforcement, and the
axis key setting."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from services.chassis.errors import InvalidArgument
from services.distribution.adapters.national_axis import AxisError, LocalAxisSimulator
from services.distribution.adapters.sample_packages import make_package, software_signer
from services.distribution.domain.routing import ReceiverInfo, plan
from services.distribution.edxml import dsig
from services.distribution.edxml.build import build
from services.distribution.edxml.codes import Priority
from services.distribution.edxml.parse import parse
from services.distribution.entrypoints.grpc import AXIS_KEY_ID_ENV, axis_status_signer

STATUS_03 = Path("/work/shared/conformance/edxml/status_acceptance_03.edxml").read_bytes()
OUTSIDE = "000.00.00.G22"
INSIDE = "000.00.00.H41"


def _status_answering(package: bytes, reporter: str, code: str = "03") -> bytes:
    """The conformance status sample, re-addressed: ``reporter`` answers ``package``."""
    answer = parse(STATUS_03).package
    header = parse(package).package.header  # type: ignore[union-attr]
    answer = dataclasses.replace(
        answer,
        from_=dataclasses.replace(answer.from_, organ_id=reporter),  # type: ignore[union-attr]
        response_for=dataclasses.replace(answer.response_for, document_id=header.document_id),  # type: ignore[union-attr]
        status_code=code,
        signature=None,
    )
    return build(answer, include_signature=False)


def test_an_outside_agency_is_routed_via_the_axis_and_never_on_paper() -> None:
    routes = plan(
        sender_code="000.01.00.H41",
        receivers=[
            ReceiverInfo("000.01.01.H41"),
            ReceiverInfo(OUTSIDE, exchanges_electronically=False, via_axis=True),
        ],
        priority=Priority.NORMAL,
        document_type="quyet_dinh",
        paper_types=frozenset({"quyet_dinh"}),
    )
    by_code = {r.receiver_code: r for r in routes}
    assert not by_code["000.01.01.H41"].via_axis and by_code["000.01.01.H41"].paper_copy
    assert by_code[OUTSIDE].via_axis and not by_code[OUTSIDE].paper_copy


def test_send_to_one_addressed_receiver_only_and_list_what_was_sent() -> None:
    axis = LocalAxisSimulator({OUTSIDE: "VPCP", "000.00.00.G09": "Bộ Tài chính"})
    package = make_package(INSIDE, [OUTSIDE, "000.00.00.G09", "000.01.01.H41"])
    (doc_id,) = axis.send(package, [OUTSIDE])
    assert axis.send(package, [OUTSIDE]) == [doc_id], "idempotent per (package, receiver)"
    assert [d.to_code for d in axis.list_sent(INSIDE)] == [OUTSIDE]
    assert axis.list_sent(OUTSIDE) == []
    with pytest.raises(
        AxisError, match=re.escape("receivers: not addressed in package.To: 000.00.00.G01")
    ):
        axis.send(package, ["000.00.00.G01"])
    with pytest.raises(AxisError, match=re.escape("not on the axis: 000.01.01.H41")):
        axis.send(package, ["000.01.01.H41"])


def test_statuses_are_kept_in_order_with_the_package_as_received() -> None:
    axis = LocalAxisSimulator({OUTSIDE: "VPCP"})
    package = make_package(INSIDE, [OUTSIDE])
    (doc_id,) = axis.send(package, [OUTSIDE])
    arrived = _status_answering(package, OUTSIDE, "01")
    axis.update_status(arrived)
    axis.update_status(_status_answering(package, OUTSIDE, "03"))
    document = axis.get(doc_id)
    assert document.statuses == ("01", "03") and document.status_code == "03"
    assert document.last_status_package != arrived


def test_a_signature_requiring_axis_refuses_unsigned_and_tampered_statuses() -> None:
    axis = LocalAxisSimulator({OUTSIDE: "VPCP"}, require_signed=True)
    package = make_package(INSIDE, [OUTSIDE])
    axis.send(package, [OUTSIDE])
    unsigned = _status_answering(package, OUTSIDE)
    with pytest.raises(AxisError, match=re.escape("status_package.Signature")):
        axis.update_status(unsigned)
    signed = dsig.sign(unsigned, software_signer())
    tampered = signed.replace(b"<edXML:StatusCode>03", b"<edXML:StatusCode>06")
    assert tampered != signed
    with pytest.raises(AxisError, match=re.escape("status_package.Signature")):
        axis.update_status(tampered)
    axis.update_status(signed)
    (document,) = axis.list_sent(INSIDE)
    assert document.statuses == ("03",)


def test_the_axis_key_setting_is_a_hex_key_id_or_unset() -> None:
    assert axis_status_signer({}) is None
    assert axis_status_signer({AXIS_KEY_ID_ENV: "  "}) is None
    with pytest.raises(InvalidArgument) as caught:
        axis_status_signer({AXIS_KEY_ID_ENV: "lt-dev-organisation"})
    assert caught.value.field == AXIS_KEY_ID_ENV
