"""The schedule worker: publishes hỏa tốc hẹn giờ deliveries at their time.

A dependency of the distribution service (the container calls ``setup`` and ``stop``; unit
tests replace it like any other). One daemon thread per process sleeps until the earliest held
event is due — at most ``LT_DISTRIBUTION_SCHEDULE_POLL_S`` seconds (default 1; ``0`` turns the
worker off in this process), woken early when a Send holds something new — and publishes what
is due through the outbox (:func:`use_cases.publish_due`). The table is durable, so what a
stopped or killed process held is published by the next one; several processes share the work
without publishing anything twice (row locks, ``SKIP LOCKED``).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from services.chassis import config
from services.chassis.db import Database
from services.chassis.dependencies import DependencyProvider
from services.chassis.timeutil import now
from services.distribution.adapters.axis_sync import seconds_setting
from services.distribution.service_layer import use_cases

log = logging.getLogger(__name__)

POLL_ENV = config.DISTRIBUTION_SCHEDULE_POLL_S.name
DEFAULT_POLL_S = 1.0
#: Do not spin on an event due a few milliseconds from now.
MIN_SLEEP_S = 0.02


def poll_interval(environ: dict[str, str] | None = None) -> float:
    """``LT_DISTRIBUTION_SCHEDULE_POLL_S`` as seconds (0: no worker in this process)."""
    return seconds_setting(POLL_ENV, DEFAULT_POLL_S, environ)


class ScheduleWorker(DependencyProvider["ScheduleWorker"]):
    """Publishes held events when due; ``wake()`` after holding one earlier than the rest."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0

    def setup(self, service_name: str) -> None:
        self.poll_s = poll_interval()
        if self.poll_s == 0 or (self._thread is not None and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"{service_name}-schedule", daemon=True
        )
        self._thread.start()

    def get_dependency(self) -> ScheduleWorker:
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def run_once(self) -> tuple[int, datetime | None]:
        """Publish what is due now; (how many, when the next held event is due)."""
        with self.database.unit_of_work() as uow:
            published = len(use_cases.publish_due(uow))
            uow.commit()
        with self.database.unit_of_work() as uow:
            upcoming = use_cases.next_due(uow)
        if published:
            self.published += published
            log.info("scheduled deliveries published", extra={"count": published})
        return published, upcoming

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                published, upcoming = self.run_once()
            except Exception:  # the database away, or the engine not set up yet: try again
                log.warning("schedule worker: publishing failed; retrying", exc_info=True)
                self._stop.wait(self.poll_s)
                continue
            if published >= use_cases.SCHEDULE_BATCH:
                continue  # more are due
            sleep = self.poll_s
            if upcoming is not None:
                sleep = min(sleep, max((upcoming - now()).total_seconds(), MIN_SLEEP_S))
            self._wake.wait(sleep)
