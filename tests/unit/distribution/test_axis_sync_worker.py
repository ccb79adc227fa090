"""The scheduled national-axis sync without infrastructure: settings, which agencies are the
hub's, failure tolerance of a round, the worker's rounds and life cycle, its wiring."""

from __future__ import annotations

import time
from unittest.mock import MagicMock

import pytest

from services.chassis.errors import NotFound, Unavailable
from services.chassis.testing import worker_factory
from services.distribution.adapters.axis_sync import (
    AGENCY_SYNC_ENV,
    DEFAULT_AGENCY_SYNC_S,
    DEFAULT_SYNC_S,
    SYNC_ENV,
    AxisSyncWorker,
    seconds_setting,
)
from services.distribution.adapters.national_axis import LocalAxisSimulator
from services.distribution.domain.routing import ReceiverInfo
from services.distribution.entrypoints.grpc import DistributionService
from services.distribution.service_layer import axis_sync, use_cases
from services.distribution.service_layer.axis_sync import AxisSynchronizer, AxisSyncReport

OURS, OURS_TOO, OUTSIDE, OFFLINE, UNKNOWN = (
    "000.00.01.H56",
    "000.00.02.H56",
    "000.00.00.G22",
    "000.00.41.H56",
    "000.00.00.G99",
)


class FakeDirectory:
    """The identifiers directory as the synchroniser sees it; counts the lookups."""

    def __init__(self) -> None:
        self.known = {
            OURS: ReceiverInfo(OURS),
            OURS_TOO: ReceiverInfo(OURS_TOO),
            OUTSIDE: ReceiverInfo(OUTSIDE, via_axis=True),
            OFFLINE: ReceiverInfo(OFFLINE, exchanges_electronically=False),
        }
        self.lookups = 0
        self.added: list[str] = []

    def receiver(self, code: str) -> ReceiverInfo:
        self.lookups += 1
        if code not in self.known:
            raise NotFound("no such agency", field="identifiers")
        return self.known[code]

    def add_axis_agency(self, code: str, name: str) -> bool:
        if code in self.known:
            return False
        self.known[code] = ReceiverInfo(code, via_axis=True, name=name)
        self.added.append(code)
        return True


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.committed = False

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def commit(self) -> None:
        self.committed = True


@pytest.fixture
def axis() -> LocalAxisSimulator:
    return LocalAxisSimulator(
        known_agencies={c: c for c in (OURS, OURS_TOO, OUTSIDE, OFFLINE, UNKNOWN)}
    )


# -- settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text", "seconds"),
    [
        (SYNC_ENV, "", DEFAULT_SYNC_S),
        (SYNC_ENV, "0", 0.0),
        (SYNC_ENV, " 2.5 ", 2.5),
        (AGENCY_SYNC_ENV, "", DEFAULT_AGENCY_SYNC_S),
        (AGENCY_SYNC_ENV, "3600", 3600.0),
    ],
)
def test_intervals_read_their_settings(name: str, text: str, seconds: float) -> None:
    default = DEFAULT_SYNC_S if name == SYNC_ENV else DEFAULT_AGENCY_SYNC_S
    assert seconds_setting(name, default, {name: text}) == seconds


@pytest.mark.parametrize("text", ["often", "-30", "nan"])
def test_an_interval_that_is_not_a_duration_is_refused_naming_the_setting(text: str) -> None:
    with pytest.raises(ValueError, match=SYNC_ENV):
        seconds_setting(SYNC_ENV, DEFAULT_SYNC_S, {SYNC_ENV: text})


def test_defaults_are_every_30_s_and_the_agency_list_daily() -> None:
    assert (DEFAULT_SYNC_S, DEFAULT_AGENCY_SYNC_S) == (30.0, 86_400.0)


# -- the round --------------------------------------------------------------------------------
def test_the_hubs_agencies_are_those_the_directory_knows_as_ours_and_are_cached(
    axis: LocalAxisSimulator,
) -> None:
    directory = FakeDirectory()
    sync = AxisSynchronizer(FakeUnitOfWork, directory, axis)
    assert sorted(sync.hub_agency_codes()) == [OURS, OURS_TOO]
    looked_up = directory.lookups
    assert looked_up == 5
    assert sorted(sync.hub_agency_codes()) == [OURS, OURS_TOO]
    assert directory.lookups == looked_up, "a warm round asks the directory nothing"
    sync.sync_agencies(AxisSyncReport())
    assert directory.added == [UNKNOWN], "the unknown code is added as an outside agency"
    assert sorted(sync.hub_agency_codes()) == [OURS, OURS_TOO]
    assert directory.lookups == looked_up * 2, "the agency sync forgets the cache"


def test_one_agencys_failure_does_not_stop_the_others_and_is_reported(
    axis: LocalAxisSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported: list[str] = []

    def fake_import(uow, directory, axis_, code):  # type: ignore[no-untyped-def]
        if code == OURS:
            raise Unavailable("identifiers unavailable", field="identifiers")
        imported.append(code)
        return 2

    monkeypatch.setattr(use_cases, "import_from_axis", fake_import)
    monkeypatch.setattr(use_cases, "apply_axis_statuses", lambda uow, axis_: 3)
    report = AxisSynchronizer(FakeUnitOfWork, FakeDirectory(), axis).run(agencies=True)
    assert imported == [OURS_TOO]
    assert (report.imported, report.statuses_applied, report.hub_agencies) == (2, 3, 2)
    assert report.agencies_added == 1 and report.agencies_listed == 5
    assert not report.ok and len(report.failures) == 1
    assert report.failures[0].startswith(f"import {OURS}:")


def test_an_axis_that_is_away_is_a_failed_round_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    axis = MagicMock()
    axis.agencies.side_effect = ConnectionError("axis unreachable")
    monkeypatch.setattr(use_cases, "apply_axis_statuses", MagicMock(side_effect=OSError("down")))
    report = AxisSynchronizer(FakeUnitOfWork, FakeDirectory(), axis).run(agencies=True)
    assert [f.split(":")[0] for f in report.failures] == ["agencies", "hub agencies", "statuses"]
    assert report.imported == 0


# -- the worker -------------------------------------------------------------------------------
class CountingRound:
    """Records each round's ``agencies`` flag; can raise, or report a failed agency sync."""

    def __init__(self, *, fail: bool = False, agency_sync_fails: bool = False) -> None:
        self.calls: list[bool] = []
        self.fail = fail
        self.agency_sync_fails = agency_sync_fails

    def run(self, *, agencies: bool) -> AxisSyncReport:
        self.calls.append(agencies)
        if self.fail:
            raise RuntimeError("round blew up")
        failed = agencies and self.agency_sync_fails
        return AxisSyncReport(failures=("agencies: axis away",) if failed else ())


def test_zero_means_no_thread_and_no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SYNC_ENV, "0")
    database = MagicMock()
    worker = AxisSyncWorker(database)
    worker.setup("distribution")
    assert worker.start(CountingRound()) is False
    assert worker._thread is None
    worker.stop()
    assert not database.mock_calls


def test_the_agency_list_is_synced_in_the_first_round_then_when_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(AGENCY_SYNC_ENV, "3600")
    worker = AxisSyncWorker(MagicMock())
    worker.setup("distribution")
    worker.job = CountingRound()
    for _ in range(3):
        worker.run_round()
    assert worker.job.calls == [True, False, False]
    worker._agencies_due_at = time.monotonic() - 1  # an hour later
    worker.run_round()
    assert worker.job.calls[-1] is True and worker.rounds == 4


def test_a_failed_agency_sync_is_tried_again_next_round() -> None:
    worker = AxisSyncWorker(MagicMock())
    worker.setup("distribution")
    worker.job = CountingRound(agency_sync_fails=True)
    worker.run_round()
    worker.run_round()
    assert worker.job.calls == [True, True]


def test_a_round_that_raises_is_retried_and_stop_ends_the_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SYNC_ENV, "0.01")
    worker = AxisSyncWorker(MagicMock())
    worker.setup("distribution")
    monkeypatch.setattr(worker, "try_lead", lambda: True)
    job = CountingRound(fail=True)
    assert worker.start(job)
    thread = worker._thread
    deadline = time.monotonic() + 10
    while len(job.calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(job.calls) >= 3, "the thread kept going after failures"
    assert thread is not None and thread.is_alive()
    worker.stop()
    assert not thread.is_alive()


def test_a_database_that_is_away_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SYNC_ENV, "0.01")
    database = MagicMock()
    database.engine = None  # never set up: the leader lock cannot be taken
    worker = AxisSyncWorker(database)
    worker.setup("distribution")
    job = CountingRound()
    assert worker.start(job)
    thread = worker._thread
    time.sleep(0.05)
    assert thread is not None and thread.is_alive()
    worker.stop()
    assert job.calls == [] and not worker.leading


# -- wiring -----------------------------------------------------------------------------------
def test_the_service_starts_the_worker_only_with_an_axis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LT_DISTRIBUTION_AXIS", "simulator")
    worker = MagicMock()
    service = worker_factory(DistributionService, axis_sync=worker)
    (job,), _ = worker.start.call_args
    assert isinstance(job, axis_sync.AxisSynchronizer) and job.axis is service.axis
    monkeypatch.setenv("LT_DISTRIBUTION_AXIS", "")
    idle = MagicMock()
    worker_factory(DistributionService, axis_sync=idle)
    idle.start.assert_not_called()
