"""A generated corpus (software keys, no HSM): one PKI and the documents built from it."""

from __future__ import annotations

import logging

import pytest

from services.verification import corpus
from services.verification.adapters.pdf import PdfVerifier


@pytest.fixture(autouse=True)
def _quiet_pyhanko() -> None:
    # pyHanko logs each failed validation with a traceback; the reports are what is asserted.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@pytest.fixture(scope="session")
def pki() -> corpus.SoftPki:
    return corpus.SoftPki.create()


@pytest.fixture(scope="session")
def base_pdf() -> bytes:
    return corpus.base_document()


@pytest.fixture(scope="session")
def verifier(pki: corpus.SoftPki) -> PdfVerifier:
    return PdfVerifier(pki.trust_store())


@pytest.fixture(scope="session")
def issued(pki: corpus.SoftPki, base_pdf: bytes) -> dict[str, bytes]:
    """A valid person + organisation document at each PAdES level."""
    return {level: corpus.issued(pki, level=level, base=base_pdf) for level in corpus.LEVELS}
