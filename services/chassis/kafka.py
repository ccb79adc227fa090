"""Kafka clients configured the one way this platform uses them."""

from __future__ import annotations

from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from services.chassis import config


def bootstrap() -> list[str]:
    return [s.strip() for s in config.get(config.KAFKA_BOOTSTRAP).split(",") if s.strip()]


def make_producer(**overrides: Any) -> KafkaProducer:
    """Idempotent producer, acks from all in-sync replicas: a retried send is not duplicated
    by the broker, and a send is confirmed only once it is durable."""
    settings: dict[str, Any] = {
        "bootstrap_servers": bootstrap(),
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "retries": 2147483647,
        "max_in_flight_requests_per_connection": 5,
        "request_timeout_ms": 15000,
        "delivery_timeout_ms": 60000,
    }
    settings.update(overrides)
    return KafkaProducer(**settings)


def make_consumer(*topics: str, group_id: str, **overrides: Any) -> KafkaConsumer:
    """Offsets are committed by the chassis after the handler's transaction, never automatically."""
    settings: dict[str, Any] = {
        "bootstrap_servers": bootstrap(),
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": 200,
        "isolation_level": "read_committed",
        "session_timeout_ms": 10000,
        "heartbeat_interval_ms": 3000,
    }
    settings.update(overrides)
    return KafkaConsumer(*topics, **settings)
