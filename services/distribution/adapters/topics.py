"""The distribution service's Kafka topics: names, partitions, keys, payloads.

Created by ``lienthong distribution create-topics`` (idempotent) and by the test fixtures.
Partitions: deliveries are keyed by the receiver's agency code, so one agency's deliveries keep
their order and a consumer group spreads agencies over processes; 12 partitions leave room for
a dozen consumer processes per lane.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from services.chassis.consumer import dead_letter_topic
from services.chassis.kafka import bootstrap
from services.distribution.domain.routing import Lane
from services.distribution.service_layer.use_cases import LANE_TOPICS, STATUS_TOPIC


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    payload: str


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(LANE_TOPICS[Lane.EXPRESS], 12, "receiver agency code",
              "DeliveryDispatched | DeliveryNotice (hỏa tốc, thượng khẩn, hẹn giờ)"),
    TopicSpec(LANE_TOPICS[Lane.NORMAL], 12, "receiver agency code",
              "DeliveryDispatched | DeliveryNotice (thường, khẩn)"),
    TopicSpec(STATUS_TOPIC, 12, "receiver agency code", "StatusReported"),
    TopicSpec(dead_letter_topic(LANE_TOPICS[Lane.EXPRESS]), 1, "as the origin",
              "the failed record + lt_dlt_* headers"),
    TopicSpec(dead_letter_topic(LANE_TOPICS[Lane.NORMAL]), 1, "as the origin",
              "the failed record + lt_dlt_* headers"),
    TopicSpec(dead_letter_topic(STATUS_TOPIC), 1, "as the origin",
              "the failed record + lt_dlt_* headers"),
)  # fmt: skip


def create_topics(replication: int = 1) -> list[str]:
    """Create the missing topics; returns the names created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap())
    created = []
    try:
        existing = set(admin.list_topics())
        for spec in TOPICS:
            if spec.name in existing:
                continue
            try:
                admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, replication)], timeout_ms=20000
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
    return created
