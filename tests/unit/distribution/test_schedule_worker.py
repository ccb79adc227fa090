"""The schedule worker's setting and its life cycle without a database."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from services.distribution.adapters.schedule import (
    DEFAULT_POLL_S,
    POLL_ENV,
    ScheduleWorker,
    poll_interval,
)


@pytest.mark.parametrize(("text", "seconds"), [("", DEFAULT_POLL_S), ("0", 0.0), ("0.25", 0.25)])
def test_poll_interval_reads_the_setting(text: str, seconds: float) -> None:
    assert poll_interval({POLL_ENV: text}) == seconds


@pytest.mark.parametrize("text", ["soon", "-1"])
def test_poll_interval_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match=POLL_ENV):
        poll_interval({POLL_ENV: text})


def test_zero_means_no_worker_thread_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(POLL_ENV, "0")
    database = MagicMock(side_effect=AssertionError("no database without a worker"))
    worker = ScheduleWorker(database)
    worker.setup("distribution")
    assert worker._thread is None
    worker.stop()
    database.unit_of_work.assert_not_called()


def test_a_failing_database_is_retried_and_stop_ends_the_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(POLL_ENV, "0.01")
    database = MagicMock()
    database.unit_of_work.side_effect = ConnectionError("database away")
    worker = ScheduleWorker(database)
    worker.setup("distribution")
    thread = worker._thread
    assert thread is not None and thread.is_alive()
    worker.stop()
    assert not thread.is_alive()
    assert database.unit_of_work.call_count >= 1
