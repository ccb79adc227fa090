"""Issue #3's numbering test: 4 processes × 8 threads allocate 20,000 numbers in one book while
one process is killed (SIGKILL, mid-transaction) and restarted. Afterwards the numbers are
exactly 1..N — no gap, no duplicate — and every number has its document and its event.

Each process is a "replica" running the real use case against the real PostgreSQL; the agency
directory is a static one (the identifiers service is not what is under test here).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from tests.integration.registry.conftest import fresh_agency_code

WORKER = Path(__file__).with_name("allocator_worker.py")
TARGET = 20_000
PROCESSES = 4
THREADS = 8


def _start(agency: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), agency, str(TARGET), str(THREADS)],
        env=dict(os.environ),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _counter(engine: sa.Engine, agency: str) -> int:
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT last_number FROM registry.book_counters WHERE agency_code = :a"),
            {"a": agency},
        ).scalar()
    return value or 0


def test_numbers_stay_continuous_and_unique_across_replicas_and_a_killed_one(
    engine, registry_schema, tmp_path
):
    agency = fresh_agency_code()
    logs = [tmp_path / f"worker{i}.log" for i in range(PROCESSES)]
    workers = [_start(agency, log) for log in logs]
    try:
        # Kill one replica once the book is well under way, while it is mid-transaction.
        while _counter(engine, agency) < 3000:
            assert all(w.poll() is None for w in workers), "a worker died on its own"
            time.sleep(0.2)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        assert workers[0].returncode == -signal.SIGKILL
        killed_at = _counter(engine, agency)
        workers[0] = _start(agency, logs[0])  # the replica comes back
        for worker in workers:
            worker.wait(timeout=270)  # generous: the shared 2-core dev host is often overloaded
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert [w.returncode for w in workers] == [0] * PROCESSES, [
        log.read_text()[-2000:] for log in logs
    ]
    assert killed_at < TARGET

    with engine.connect() as conn:
        numbers = [
            row.number
            for row in conn.execute(
                sa.text(
                    "SELECT number FROM registry.documents WHERE agency_code = :a ORDER BY number"
                ),
                {"a": agency},
            )
        ]
        drafts = conn.execute(
            sa.text(
                "SELECT count(*) FROM registry.documents WHERE agency_code = :a AND number IS NULL"
            ),
            {"a": agency},
        ).scalar_one()
        counter = _counter(engine, agency)
        # Every allocated number has exactly one number_assigned event in the outbox.
        events = conn.execute(
            sa.text(
                """SELECT d.number, count(o.id) AS events
                   FROM registry.documents d
                   LEFT JOIN registry.outbox o
                     ON o.key = d.id::text AND o.type = :event_type
                   WHERE d.agency_code = :a
                   GROUP BY d.number"""
            ),
            {"a": agency, "event_type": "vn.lienthong.registry.document.number_assigned"},
        ).all()
        symbols = conn.execute(
            sa.text(
                "SELECT count(DISTINCT number_and_symbol) FROM registry.documents "
                "WHERE agency_code = :a"
            ),
            {"a": agency},
        ).scalar_one()
    n = len(numbers)
    assert n >= TARGET
    assert numbers == list(range(1, n + 1)), "numbers must be exactly 1..N"
    assert counter == n, "the counter must equal the last number handed out"
    assert drafts == 0, "a killed transaction must not leave a half-registered document"
    assert sorted(e.number for e in events) == numbers
    assert all(e.events == 1 for e in events), "each number needs exactly one event"
    assert symbols == n
