"""Test helpers in the spirit of nameko.testing.services.

- :func:`worker_factory` — a service instance whose dependencies are the values you pass, or
  ``MagicMock`` for the rest: unit-test a use case without any infrastructure.
- :func:`replace_dependencies` — swap some providers of a container before it starts, keeping the
  real ones for the rest (e.g. real database, fake HSM).
- :class:`FakeContext` — enough of ``grpc.ServicerContext`` to call a servicer method directly;
  ``abort`` raises :class:`Aborted` carrying the status and message.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import grpc

from services.chassis.container import ServiceContainer, instantiate
from services.chassis.dependencies import DependencyProvider, declared_dependencies


class _Fixed(DependencyProvider[Any]):
    def __init__(self, value: Any) -> None:
        self.value = value

    def get_dependency(self) -> Any:
        return self.value


def worker_factory(service_cls: type, **dependencies: Any) -> Any:
    declared = declared_dependencies(service_cls)
    unknown = set(dependencies) - set(declared)
    if unknown:
        raise TypeError(f"{service_cls.__name__} declares no dependencies named {sorted(unknown)}")
    providers: dict[str, DependencyProvider[Any]] = {
        name: _Fixed(dependencies[name] if name in dependencies else MagicMock(name=name))
        for name in declared
    }
    return instantiate(service_cls, providers)


def replace_dependencies(container: ServiceContainer, **values: Any) -> None:
    for name, value in values.items():
        if name not in container.providers:
            raise TypeError(f"{container.name} declares no dependency {name!r}")
        container.providers[name] = _Fixed(value)


class Aborted(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class FakeContext:
    def __init__(self, metadata: tuple[tuple[str, str], ...] = (), timeout: float | None = None):
        self._metadata = metadata
        self._timeout = timeout
        self.trailing_metadata: tuple[tuple[str, str], ...] = ()
        self.code_set: grpc.StatusCode | None = None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def time_remaining(self) -> float | None:
        return self._timeout

    def set_trailing_metadata(self, md: tuple[tuple[str, str], ...]) -> None:
        self.trailing_metadata = md

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code_set = code

    def set_details(self, details: str) -> None:
        self.details = details

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise Aborted(code, details)

    def is_active(self) -> bool:
        return True
