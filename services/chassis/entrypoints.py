"""Entrypoints: which methods of a service class the outside world can call, and how.

- ``Grpc.implementing(pb2_module, "Identifiers")`` makes a decorator for methods named like the
  RPCs of that protobuf service (as nameko-grpc does); the chassis builds the grpcio handlers
  from the service descriptor, so no generated ``Servicer`` base class is needed.
- ``@event_handler(topic)`` marks a Kafka handler ``(self, event, uow)``; the chassis runs it
  inside a unit of work that also records the event id in the inbox (exactly-once effect).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

GRPC_MARK = "__lienthong_grpc__"
EVENT_MARK = "__lienthong_events__"


@dataclass(frozen=True, slots=True)
class GrpcMethod:
    service: ServiceDescriptor
    method: MethodDescriptor

    @property
    def full_service_name(self) -> str:
        return self.service.full_name

    @property
    def request_class(self) -> type:
        return message_factory.GetMessageClass(self.method.input_type)

    @property
    def response_class(self) -> type:
        return message_factory.GetMessageClass(self.method.output_type)


class Grpc:
    """Decorator factory bound to one protobuf service."""

    def __init__(self, service: ServiceDescriptor) -> None:
        self.service = service

    @classmethod
    def implementing(cls, pb2_module: ModuleType, service_name: str) -> Grpc:
        try:
            return cls(pb2_module.DESCRIPTOR.services_by_name[service_name])
        except KeyError as exc:
            known = sorted(pb2_module.DESCRIPTOR.services_by_name)
            raise LookupError(
                f"{pb2_module.__name__} has no service {service_name!r}; {known}"
            ) from exc

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        method = self.service.methods_by_name.get(fn.__name__)
        if method is None:
            raise LookupError(
                f"{fn.__name__} is not an RPC of {self.service.full_name}: "
                f"{sorted(self.service.methods_by_name)}"
            )
        setattr(fn, GRPC_MARK, GrpcMethod(self.service, method))
        return fn


@dataclass(frozen=True, slots=True)
class EventSubscription:
    topic: str
    group: str | None  # default: "<service>.<method>"
    dead_letter: bool = True
    # Every process gets every event (its own consumer group, from the latest offset, no
    # inbox): for keeping per-process caches fresh, not for effects that must happen once.
    broadcast: bool = False


def event_handler(
    topic: str, *, group: str | None = None, dead_letter: bool = True, broadcast: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        subscription = EventSubscription(topic, group, dead_letter and not broadcast, broadcast)
        subs = [*getattr(fn, EVENT_MARK, ()), subscription]
        setattr(fn, EVENT_MARK, tuple(subs))
        return fn

    return mark


def grpc_methods(service_cls: type) -> dict[str, GrpcMethod]:
    found = {}
    for name in dir(service_cls):
        mark = getattr(getattr(service_cls, name, None), GRPC_MARK, None)
        if mark is not None:
            found[name] = mark
    return found


def event_handlers(service_cls: type) -> dict[str, tuple[EventSubscription, ...]]:
    found = {}
    for name in dir(service_cls):
        subs = getattr(getattr(service_cls, name, None), EVENT_MARK, None)
        if subs:
            found[name] = subs
    return found
