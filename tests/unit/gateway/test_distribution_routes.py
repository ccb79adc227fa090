"""The sender check of uploaded edXML packages and the distribution topics of the live feed."""

from __future__ import annotations

import io

import pytest
from lienthong.distribution.v1 import distribution_pb2 as dpb

from gateway.live import decode
from gateway.problems import Problem
from gateway.routes.distribution import sender_of
from services.chassis.events import Event

SAMPLE = "/work/shared/conformance/edxml/edoc_revocation.edxml"


def test_sender_is_the_from_organ_id_not_a_receivers() -> None:
    with open(SAMPLE, "rb") as package:
        assert sender_of(package) == "000.00.00.G22"


def test_sender_of_garbage_or_a_package_without_from_is_422_on_body() -> None:
    for content in (
        b"<edXML><unclosed>",
        b"<edXML><To><OrganId>000.00.00.H56</OrganId></To></edXML>",
    ):
        with pytest.raises(Problem) as caught:
            sender_of(io.BytesIO(content))
        assert caught.value.status == 422 and caught.value.field == "body"


def test_entities_are_not_expanded_into_the_sender() -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
        b"<edXML><From><OrganId>&e;</OrganId></From></edXML>"
    )
    try:
        sender = sender_of(io.BytesIO(hostile))
    except Problem:
        return  # refused outright: fine
    assert sender == ""


def test_status_reported_concerns_sender_and_receiver() -> None:
    payload = dpb.StatusReported(
        delivery_id="d",
        dispatch_id="p",
        sender_code="000.00.00.H56",
        receiver_code="000.00.03.H56",
        status_code="03",
    )
    event = Event.of(
        "lienthong.distribution.statuses.v1",
        "vn.lienthong.distribution.status.reported",
        "distribution",
        "000.00.03.H56",
        payload,
    )
    live = decode(event)
    assert live is not None and live.agencies == {"000.00.00.H56", "000.00.03.H56"}


def test_an_arrival_concerns_only_the_receiver() -> None:
    payload = dpb.DeliveryDispatched(
        delivery_id="d", dispatch_id="p", sender_code="000.00.00.H56", receiver_code="000.00.03.H56"
    )
    event = Event.of(
        "lienthong.distribution.deliveries.normal.v1",
        "vn.lienthong.distribution.delivery.dispatched",
        "distribution",
        "000.00.03.H56",
        payload,
    )
    live = decode(event)
    assert live is not None and live.agencies == {"000.00.03.H56"}
