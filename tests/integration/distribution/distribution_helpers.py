"""Helpers shared by the distribution integration tests (imported by module name)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Province:
    root: str
    departments: list[str]  # level 2, directly under the root
    district: str  # a level-2 unit with communes under it
    communes: list[str]
    offline: str  # does not exchange electronically: paper copy

    @property
    def everyone(self) -> list[str]:
        return [self.root, *self.departments, self.district, *self.communes, self.offline]


def wait_for(condition: Callable[[], object], timeout: float = 60.0, what: str = "") -> object:
    """Poll until ``condition()`` is truthy; fails naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")
