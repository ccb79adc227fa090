"""The national-axis sync worker: polls the axis on a schedule, one replica at a time.

A dependency of the distribution service, like :class:`~.schedule.ScheduleWorker` (the
container calls ``setup`` and ``stop``; unit tests replace it). The service's ``setup`` hands
it the round to run (:meth:`AxisSyncWorker.start`) when an axis is configured
(``LT_DISTRIBUTION_AXIS``). One daemon thread per process then:

- takes a PostgreSQL session advisory lock on its own connection (as the outbox relay's leader
  does), so that across processes and replicas only one polls the axis at a time; the others
  retry the lock every round and take over when the leader's connection goes;
- every ``LT_DISTRIBUTION_AXIS_SYNC_S`` seconds (default 30; ``0``: no worker in this process)
  imports what the axis holds for the hub's agencies and applies the outside receivers'
  statuses; every ``LT_DISTRIBUTION_AXIS_AGENCY_SYNC_S`` seconds (default 86,400: daily) and
  in its first round as leader, syncs the agency list first.

A failing round is logged and retried at the next one; nothing it raises ends the thread.
Both settings are read from ``os.environ`` here (not yet in ``services/chassis/config.py``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import zlib
from collections.abc import Mapping
from typing import Any, Protocol

import psycopg

from services.chassis import config
from services.chassis.db import Database
from services.chassis.dependencies import DependencyProvider
from services.distribution.service_layer.axis_sync import AxisSyncReport

log = logging.getLogger(__name__)

SYNC_ENV = config.DISTRIBUTION_AXIS_SYNC_S.name
AGENCY_SYNC_ENV = config.DISTRIBUTION_AXIS_AGENCY_SYNC_S.name
DEFAULT_SYNC_S = 30.0
DEFAULT_AGENCY_SYNC_S = 86_400.0
#: One leader per database (the distribution schema lives in one); tests name their own.
LEADER_LOCK_NAME = "lienthong.distribution.axis_sync"
#: A database that does not answer must not hang the worker (the next round tries again).
CONNECT_TIMEOUT_S = 10


class AxisRound(Protocol):
    def run(self, *, agencies: bool) -> AxisSyncReport: ...


def seconds_setting(name: str, default: float, environ: Mapping[str, str] | None = None) -> float:
    """A duration setting in seconds: unset → ``default``; 0 → off; negative or text refused."""
    env = os.environ if environ is None else environ
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a number of seconds") from None
    if value < 0 or value != value:  # NaN is not a duration either
        raise ValueError(f"{name}: must be 0 (off) or positive, not {text}")
    return value


def _libpq_url(database: Database) -> str:
    if database.engine is None:
        raise RuntimeError("the distribution database is not set up")
    url = database.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class AxisSyncWorker(DependencyProvider["AxisSyncWorker"]):
    """Runs :class:`AxisRound` every interval while it holds the leader lock."""

    def __init__(self, database: Database, *, lock_name: str = LEADER_LOCK_NAME) -> None:
        self.database = database
        self.lock_key = zlib.crc32(lock_name.encode())
        self.sync_s = DEFAULT_SYNC_S
        self.agency_sync_s = DEFAULT_AGENCY_SYNC_S
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._leader: psycopg.Connection[Any] | None = None
        self._agencies_due_at = 0.0  # monotonic; 0: at the first round as leader
        self.service_name = "distribution"
        self.rounds = 0
        self.last_report: AxisSyncReport | None = None

    # -- life cycle ---------------------------------------------------------------------------
    def setup(self, service_name: str) -> None:
        self.service_name = service_name
        self.sync_s = seconds_setting(SYNC_ENV, DEFAULT_SYNC_S)
        self.agency_sync_s = seconds_setting(AGENCY_SYNC_ENV, DEFAULT_AGENCY_SYNC_S)

    def get_dependency(self) -> AxisSyncWorker:
        return self

    def start(self, job: AxisRound) -> bool:
        """Start polling with ``job``; False when off (interval 0) or already running."""
        if self.sync_s == 0 or (self._thread is not None and self._thread.is_alive()):
            return False
        self.job = job
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"{self.service_name}-axis-sync", daemon=True
        )
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._release()

    @property
    def leading(self) -> bool:
        return self._leader is not None

    # -- leadership ---------------------------------------------------------------------------
    def try_lead(self) -> bool:
        """Hold the leader lock (kept while the connection lives); False if another holds it."""
        if self._leader is not None:
            try:
                self._leader.execute("SELECT 1")
                return True
            except psycopg.Error:  # the connection went, and the lock with it
                log.warning("axis sync: leader connection lost", exc_info=True)
                self._release()
        connection = psycopg.connect(
            _libpq_url(self.database), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        )
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", (self.lock_key,)).fetchone()
        if not (row and row[0]):
            connection.close()
            return False
        self._leader = connection
        self._agencies_due_at = 0.0  # a new leader does not know when the last list sync was
        log.info("axis sync leading", extra={"service": self.service_name})
        return True

    def _release(self) -> None:
        if self._leader is not None:
            with contextlib.suppress(psycopg.Error):
                self._leader.close()  # ends the session: PostgreSQL drops the lock
            self._leader = None

    # -- rounds -------------------------------------------------------------------------------
    def run_round(self) -> AxisSyncReport:
        """One round of ``job`` (the caller leads); the agency list too when it is due."""
        clock = time.monotonic()
        agencies = self.agency_sync_s > 0 and clock >= self._agencies_due_at
        report = self.job.run(agencies=agencies)
        if agencies and not any(f.startswith("agencies") for f in report.failures):
            self._agencies_due_at = clock + self.agency_sync_s
        self.rounds += 1
        self.last_report = report
        if report.imported or report.statuses_applied or report.agencies_added:
            log.info(
                "axis sync round",
                extra={
                    "imported": report.imported,
                    "statuses_applied": report.statuses_applied,
                    "agencies_added": report.agencies_added,
                },
            )
        if report.failures:
            log.warning("axis sync round incomplete", extra={"failures": list(report.failures)})
        return report

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.try_lead():
                    self.run_round()
            except Exception:  # the database away, the axis away: the next round retries
                log.warning("axis sync round failed; retrying", exc_info=True)
            self._stop.wait(self.sync_s)
