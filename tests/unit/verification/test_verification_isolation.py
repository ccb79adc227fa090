"""Worker-process isolation: a verdict from the worker, a precise error past the time limit."""

from __future__ import annotations

import pytest

from services.chassis.errors import InvalidArgument
from services.verification import corpus
from services.verification.domain.model import Indication, SubIndication
from services.verification.service_layer.isolation import IsolatedVerifier, VerificationTimeout


@pytest.fixture(scope="module")
def isolated() -> IsolatedVerifier:
    pool = IsolatedVerifier(workers=1, timeout_seconds=120)
    yield pool
    pool.close()


def test_worker_verdicts_errors_and_timeout_with_recovery(
    isolated: IsolatedVerifier, pki: corpus.SoftPki, issued: dict[str, bytes]
) -> None:
    trust = pki.trust_store()
    report = isolated.verify(trust, issued["B-T"], kind="pdf")
    assert report.indication is Indication.TOTAL_PASSED
    wrong = isolated.verify(trust, issued["B-T"], sender=corpus.OTHER_AGENCY.code)
    assert wrong.sub_indication is SubIndication.SIGNER_NOT_OF_SENDER
    with pytest.raises(InvalidArgument) as invalid:
        isolated.verify(trust, issued["B-T"], sender="H99")
    assert invalid.value.field == "sender"
    isolated.timeout_seconds = 0.001  # no real verification finishes in a millisecond
    with pytest.raises(VerificationTimeout) as timeout:
        isolated.verify(trust, issued["B-LTA"])
    assert timeout.value.field == "document" and timeout.value.status == "RESOURCE_EXHAUSTED"
    isolated.timeout_seconds = 120
    # The killed worker was replaced: the pool still answers.
    assert isolated.verify(trust, issued["B-T"]).indication is Indication.TOTAL_PASSED


def test_trust_store_changes_reach_the_worker(
    isolated: IsolatedVerifier, pki: corpus.SoftPki, issued: dict[str, bytes]
) -> None:
    stranger = corpus.SoftPki.create("Unknown Root CA").trust_store()
    report = isolated.verify(stranger, issued["B-T"])
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    assert report.trust_store_version == stranger.version
    assert isolated.verify(pki.trust_store(), issued["B-T"]).indication is Indication.TOTAL_PASSED
