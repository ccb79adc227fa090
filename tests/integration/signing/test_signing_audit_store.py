"""The audit log in a real PostgreSQL: chained appends, concurrent writers, no edits."""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid

import pytest
import sqlalchemy as sa

from services.signing.adapters.audit_store import PostgresAuditLog
from services.signing.domain.audit import VIETNAM, AuditEvent, Outcome

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def audit_log() -> PostgresAuditLog:
    url = os.environ.get("LT_DATABASE_URL")
    if not url:
        raise RuntimeError(
            "signing audit tests need PostgreSQL: LT_DATABASE_URL is not set "
            "(run `make test`, or `. infra/local/env.sh test`)"
        )
    from services.chassis.migrations import upgrade

    upgrade("signing", url=url)
    return PostgresAuditLog(sa.create_engine(url))


def _event(marker: str, outcome: Outcome = Outcome.SIGNED) -> AuditEvent:
    return AuditEvent(
        requested_by=f"văn thư {marker}",
        operation="sign_organisation",
        key_id="6c742d6465762d6f7267",
        document_sha256_before="a" * 64,
        document_sha256_after="b" * 64 if outcome is Outcome.SIGNED else None,
        outcome=outcome,
        detail="" if outcome is Outcome.SIGNED else "PersonSignatureMissing: …",
        at=dt.datetime.now(VIETNAM),
    )


def test_appends_link_to_the_stored_tail_and_read_back_identically(audit_log) -> None:  # type: ignore[no-untyped-def]
    marker = uuid.uuid4().hex[:8]
    first = audit_log.append(_event(marker))
    second = audit_log.append(_event(marker, Outcome.REFUSED))
    assert second.sequence == first.sequence + 1
    assert second.previous_hash == first.record_hash
    assert audit_log.get(second.sequence) == second
    assert audit_log.verify() >= 2


def test_concurrent_appends_keep_one_chain(audit_log) -> None:  # type: ignore[no-untyped-def]
    marker = uuid.uuid4().hex[:8]
    start = max((r.sequence for r in audit_log.records()), default=0)

    def append_many() -> None:
        for _ in range(10):
            audit_log.append(_event(marker))

    threads = [threading.Thread(target=append_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    appended = list(audit_log.records(start + 1))
    assert len(appended) >= 40
    assert audit_log.verify() >= 40


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE signing.audit_log SET requested_by = 'kẻ gian' WHERE sequence = 1",
        "DELETE FROM signing.audit_log WHERE sequence = 1",
        "TRUNCATE signing.audit_log",
    ],
)
def test_edits_are_refused_by_the_database(audit_log, statement: str) -> None:  # type: ignore[no-untyped-def]
    audit_log.append(_event(uuid.uuid4().hex[:8]))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), audit_log.engine.begin() as conn:
        conn.execute(sa.text(statement))
