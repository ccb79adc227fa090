"""The hash-chained audit log: any edit, removal or reordering is found."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from services.signing.domain.audit import (
    GENESIS_HASH,
    VIETNAM,
    AuditChainBroken,
    AuditEvent,
    InMemoryAuditLog,
    Outcome,
    verify_chain,
)


def _event(index: int, outcome: Outcome = Outcome.SIGNED) -> AuditEvent:
    return AuditEvent(
        requested_by="Nguyễn Văn An",
        operation="sign_person",
        key_id="6c74",
        document_sha256_before=f"{index:064x}",
        document_sha256_after=None if outcome is not Outcome.SIGNED else f"{index + 1:064x}",
        outcome=outcome,
        at=dt.datetime(2026, 11, 22, 9, 0, index, tzinfo=VIETNAM),
    )


def _log(count: int) -> InMemoryAuditLog:
    log = InMemoryAuditLog()
    for index in range(count):
        log.append(_event(index, Outcome.REFUSED if index == 2 else Outcome.SIGNED))
    return log


def test_chain_links_from_genesis() -> None:
    records = _log(5).records()
    assert records[0].previous_hash == GENESIS_HASH
    assert all(b.previous_hash == a.record_hash for a, b in itertools.pairwise(records))
    assert verify_chain(records) == 5


def test_edited_record_is_found() -> None:
    records = list(_log(5).records())
    records[3] = dataclasses.replace(
        records[3], event=dataclasses.replace(records[3].event, requested_by="Kẻ gian")
    )
    with pytest.raises(AuditChainBroken, match="record 4") as caught:
        verify_chain(records)
    assert caught.value.sequence == 4


def test_removed_record_is_found() -> None:
    records = list(_log(5).records())
    del records[1]
    with pytest.raises(AuditChainBroken, match="sequence gap"):
        verify_chain(records)


def test_rehashed_forgery_breaks_the_next_link() -> None:
    from services.signing.domain.audit import chain

    records = list(_log(4).records())
    forged = chain(records[0], dataclasses.replace(records[1].event, detail="sửa"))
    records[1] = forged
    with pytest.raises(AuditChainBroken, match="previous_hash"):
        verify_chain(records)


def test_decomposed_and_precomposed_names_hash_alike() -> None:
    import unicodedata

    composed = _event(1)
    decomposed = dataclasses.replace(
        composed, requested_by=unicodedata.normalize("NFD", composed.requested_by)
    )
    log_a, log_b = InMemoryAuditLog(), InMemoryAuditLog()
    assert log_a.append(composed).record_hash == log_b.append(decomposed).record_hash


def test_signed_outcome_needs_the_after_hash() -> None:
    with pytest.raises(ValueError, match="document_sha256_after"):
        dataclasses.replace(_event(1), document_sha256_after=None)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        dataclasses.replace(_event(1), at=dt.datetime(2026, 1, 1))
