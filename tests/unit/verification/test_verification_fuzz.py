"""Fuzzing: mutated signed PDFs and edXML packages always get a verdict or a clean error.

Bounded (derandomized): about 6 s for PDFs and 7 s for packages on a shared 2-core machine.
Stronger than "no crash": a mutation outside the signature value slots of a PDF never passes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.chassis.errors import ServiceError
from services.verification import corpus
from services.verification.domain.model import DocumentReport, Indication
from services.verification.service_layer.verifier import Verifier

_CONTENTS = re.compile(rb"/Contents\s*<([0-9A-Fa-f]*)>")


@pytest.fixture(scope="module")
def fuzz_pdf(issued: dict[str, bytes]) -> bytes:
    return issued["B-T"]


@pytest.fixture(scope="module")
def fuzz_package(pki: corpus.SoftPki) -> bytes:
    raw = Path("/work/shared/conformance/edxml/edoc_revocation.edxml").read_bytes()
    return corpus.signed_edxml(pki, raw)


@pytest.fixture(scope="module")
def fuzz_engine(pki: corpus.SoftPki) -> Verifier:
    return Verifier(pki.trust_store())


@st.composite
def mutations(draw: st.DrawFn, size: int) -> list[tuple[str, int, bytes]]:
    kinds = st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"])
    count = draw(st.integers(1, 4))
    return [
        (
            draw(kinds),
            draw(st.integers(0, size - 1)),
            draw(st.binary(min_size=1, max_size=16)),
        )
        for _ in range(count)
    ]


def apply(data: bytes, steps: list[tuple[str, int, bytes]]) -> tuple[bytes, set[int]]:
    """The mutated bytes and the original positions touched (insertions touch everything)."""
    out = bytearray(data)
    touched: set[int] = set()
    for kind, position, payload in steps:
        position %= max(len(out), 1)
        if kind == "flip":
            out[position] ^= payload[0] or 0x01
            touched.add(position)
        elif kind == "insert":
            out[position:position] = payload
            touched.update(range(len(data)))
        elif kind == "delete":
            del out[position : position + len(payload)]
            touched.update(range(len(data)))
        elif kind == "truncate":
            del out[position:]
            touched.update(range(len(data)))
        else:
            out[position:position] = out[position : position + 4 * len(payload)]
            touched.update(range(len(data)))
    return bytes(out), touched


def _verdict_or_clean_error(engine: Verifier, data: bytes) -> DocumentReport | None:
    try:
        report = engine.verify(data)
    except ServiceError as error:  # a precise, deliberate refusal (size limit...)
        assert error.reason
        return None
    assert isinstance(report, DocumentReport)
    assert report.indication in Indication
    assert report.summary_vi and report.summary_en
    return report


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_pdfs_get_a_verdict_and_never_pass(
    fuzz_engine: Verifier, fuzz_pdf: bytes, data: st.DataObject
) -> None:
    steps = data.draw(mutations(len(fuzz_pdf)))
    mutated, touched = apply(fuzz_pdf, steps)
    report = _verdict_or_clean_error(fuzz_engine, mutated)
    slots = {i for m in _CONTENTS.finditer(fuzz_pdf) for i in range(m.start(1), m.end(1))}
    if report is not None and mutated != fuzz_pdf and touched - slots:
        assert report.indication is not Indication.TOTAL_PASSED, steps


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_packages_get_a_verdict(
    fuzz_engine: Verifier, fuzz_package: bytes, data: st.DataObject
) -> None:
    steps = data.draw(mutations(len(fuzz_package)))
    mutated, _ = apply(fuzz_package, steps)
    _verdict_or_clean_error(fuzz_engine, mutated)
