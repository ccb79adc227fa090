"""Errors of the distribution domain; each names the field and the reason."""

from __future__ import annotations

from services.chassis.errors import FailedPrecondition, InvalidArgument


class InvalidRoute(InvalidArgument):
    """A receiver list that cannot be routed (bad code, empty, the sender itself …)."""


class IllegalDeliveryTransition(FailedPrecondition):
    """A status the delivery's state machine does not allow from its current state."""

    def __init__(self, current: str, code: str, reason: str, field: str = "status_code") -> None:
        super().__init__(f"{code} is not allowed from {current}: {reason}", field=field)
        self.current = current
        self.code = code


class DocumentFrozen(FailedPrecondition):
    """The sender recalled the document: it stays in the records but nothing more happens."""
