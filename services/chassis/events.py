"""Events on the Kafka stream: CloudEvents attributes in Kafka headers, protobuf payloads.

This follows the CloudEvents Kafka protocol binding, *binary content mode*: the payload is the
record value (a serialised protobuf message), every context attribute is a header named
``ce_<attribute>`` (UTF-8), ``content-type`` names the payload format, and the record key is the
id of the aggregate the event is about (so one aggregate's events stay in order on one partition).
Topics are versioned: ``lienthong.<service>.<entity>.v1``. See docs/events.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from google.protobuf.message import Message

from services.chassis.timeutil import iso_ms, now

SPEC_VERSION = "1.0"
PROTOBUF_CONTENT_TYPE = "application/protobuf"


def topic_name(service: str, entity: str, version: int = 1) -> str:
    return f"lienthong.{service}.{entity}.v{version}"


@dataclass(frozen=True, slots=True)
class Event:
    """One event as published or consumed."""

    topic: str
    type: str  # reverse-DNS, e.g. "vn.lienthong.identifiers.agency.updated"
    source: str  # "/lienthong/<service>"
    subject: str  # the aggregate id; also the Kafka key
    data: bytes  # serialised protobuf
    dataschema: str = ""  # the protobuf message's full name
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=now)
    content_type: str = PROTOBUF_CONTENT_TYPE

    @classmethod
    def of(cls, topic: str, type_: str, service: str, subject: str, payload: Message) -> Event:
        return cls(
            topic=topic,
            type=type_,
            source=f"/lienthong/{service}",
            subject=subject,
            data=payload.SerializeToString(deterministic=True),
            dataschema=payload.DESCRIPTOR.full_name,
        )

    def headers(self) -> list[tuple[str, bytes]]:
        pairs = [
            ("ce_specversion", SPEC_VERSION),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_subject", self.subject),
            ("ce_time", iso_ms(self.time)),
            ("content-type", self.content_type),
        ]
        if self.dataschema:
            pairs.append(("ce_dataschema", self.dataschema))
        return [(k, v.encode("utf-8")) for k, v in pairs]

    @classmethod
    def from_record(
        cls, topic: str, headers: list[tuple[str, bytes]] | None, value: bytes
    ) -> Event:
        """Decode a consumed record; raises :class:`MalformedEvent` when attributes are missing."""
        attrs = {k: v.decode("utf-8", "replace") for k, v in headers or []}
        missing = [a for a in ("ce_id", "ce_source", "ce_type") if not attrs.get(a)]
        if missing:
            raise MalformedEvent(f"record on {topic} lacks CloudEvents headers {missing}")
        try:
            time = datetime.fromisoformat(attrs.get("ce_time", ""))
        except ValueError:
            time = now()
        return cls(
            topic=topic,
            type=attrs["ce_type"],
            source=attrs["ce_source"],
            subject=attrs.get("ce_subject", ""),
            data=value or b"",
            dataschema=attrs.get("ce_dataschema", ""),
            id=attrs["ce_id"],
            time=time,
            content_type=attrs.get("content-type", PROTOBUF_CONTENT_TYPE),
        )

    def parse(self, message_class: type[Message]) -> Message:
        msg = message_class()
        msg.ParseFromString(self.data)
        return msg


class MalformedEvent(ValueError):
    """A record that is not a CloudEvent of ours; it goes to the dead-letter topic."""
