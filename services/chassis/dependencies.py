"""Declared dependencies, nameko-style: a service class names what it needs, the chassis builds it.

::

    class IdentifiersService:
        name = "identifiers"
        db = Database(schema="identifiers", metadata=metadata)

        @rpc
        def GetAgency(self, request, context): ...

At start the container calls ``setup()`` on every provider, then injects ``get_dependency()``
into one service instance per process; at stop it calls ``stop()``. Tests swap providers'
values with :func:`services.chassis.testing.worker_factory`, never the class itself.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

T = TypeVar("T")


class DependencyProvider(Generic[T]):
    """Declared as a class attribute of a service; injected as its value on the instance."""

    attr_name: str = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr_name = name

    def setup(self, service_name: str) -> None:
        """Acquire process-wide resources (pools, clients). Called once, after any fork."""

    def get_dependency(self) -> T:
        raise NotImplementedError

    def stop(self) -> None:
        """Release what ``setup`` acquired."""

    # A provider is a descriptor only for discovery; reading it off the class returns itself.
    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        return instance.__dict__.get(self.attr_name, self)


def declared_dependencies(service_cls: type) -> dict[str, DependencyProvider[Any]]:
    found: dict[str, DependencyProvider[Any]] = {}
    for klass in reversed(service_cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, DependencyProvider):
                found[name] = value
    return found


class Config(DependencyProvider[dict[str, str]]):
    """A snapshot of the process environment (12-factor config) as a dependency."""

    def setup(self, service_name: str) -> None:
        import os

        self._env = dict(os.environ)

    def get_dependency(self) -> dict[str, str]:
        return self._env
