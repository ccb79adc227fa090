"""Our review of the incremental updates after a signature (adapters/revisions.py).

It must agree with pyHanko's difference analysis on every legitimate document of the corpus,
refuse the shadow attacks itself, and leave every shape it does not know to pyHanko.
"""

from __future__ import annotations

import io
import re

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel

from services.signing.adapters.sample_document import (
    DATE_FIELD,
    NUMBER_FIELD,
    ORGANISATION_SIGNATURE_FIELD,
    PERSON_SIGNATURE_FIELD,
)
from services.verification import corpus
from services.verification.adapters.pdf import PdfVerifier
from services.verification.adapters.revisions import Outcome, RevisionReviewer
from services.verification.domain.model import CheckStatus, Indication, SubIndication

FILL_FIELDS = frozenset({NUMBER_FIELD, DATE_FIELD})


def reviews(data: bytes) -> list[tuple[str, Outcome, ModificationLevel, str]]:
    reader = PdfFileReader(io.BytesIO(data), strict=True)
    reviewer = RevisionReviewer(reader, FILL_FIELDS)
    return [
        (sig.field_name, *_review(reviewer, sig.signed_revision))
        for sig in reader.embedded_signatures
    ]


def _review(reviewer: RevisionReviewer, revision: int) -> tuple[Outcome, ModificationLevel, str]:
    review = reviewer.review_after(revision)
    return review.outcome, review.level, review.reason


def pyhanko_levels(data: bytes) -> list[ModificationLevel]:
    reader = PdfFileReader(io.BytesIO(data), strict=True)
    levels = []
    for sig in reader.embedded_signatures:
        if sig.signed_revision == reader.xrefs.total_revisions - 1:
            levels.append(ModificationLevel.NONE)
            continue
        result = DEFAULT_DIFF_POLICY.review_file(
            reader, sig.signed_revision, field_mdp_spec=sig.fieldmdp, doc_mdp=sig.docmdp_level
        )
        levels.append(
            result.modification_level if isinstance(result, DiffResult) else ModificationLevel.OTHER
        )
    return levels


@pytest.mark.parametrize("level", corpus.LEVELS)
def test_agrees_with_pyhanko_on_issued_documents(issued: dict[str, bytes], level: str) -> None:
    data = issued[level]
    ours = reviews(data)
    assert [outcome for _, outcome, _, _ in ours] == [Outcome.ALLOWED] * len(ours), ours
    assert [level for _, _, level, _ in ours] == pyhanko_levels(data)


def test_agrees_with_pyhanko_when_the_organisation_signs_first(pki: corpus.SoftPki) -> None:
    data = corpus.organisation_before_person(pki)
    ours = reviews(data)
    assert all(outcome is Outcome.ALLOWED for _, outcome, _, _ in ours), ours
    assert [level for _, _, level, _ in ours] == pyhanko_levels(data)


def test_the_person_signature_sees_form_filling(issued: dict[str, bytes]) -> None:
    by_field = {name: level for name, _, level, _ in reviews(issued["B-LTA"])}
    assert by_field[PERSON_SIGNATURE_FIELD] is ModificationLevel.FORM_FILLING
    assert by_field[ORGANISATION_SIGNATURE_FIELD] is ModificationLevel.LTA_UPDATES


@pytest.mark.parametrize(
    ("attack", "expected"),
    [(corpus.shadow_hide, "/Contents changed"), (corpus.shadow_replace, "overwritten")],
)
def test_shadow_attacks_are_refused_by_the_review(
    issued: dict[str, bytes], attack: object, expected: str
) -> None:
    for name, outcome, _, reason in reviews(attack(issued["B-T"])):  # type: ignore[operator]
        assert outcome is Outcome.DISALLOWED, name
        assert expected in reason


def test_hide_and_replace_is_refused_by_the_review(pki: corpus.SoftPki) -> None:
    prepared = corpus.base_document(hidden_alternative=corpus.HIDDEN_ALTERNATIVE)
    attacked = corpus.shadow_hide_and_replace(corpus.issued(pki, level="B-T", base=prepared))
    for _, outcome, _, reason in reviews(attacked):
        assert outcome is Outcome.DISALLOWED
        assert "/Contents" in reason


def test_unknown_shapes_are_left_to_pyhanko(
    issued: dict[str, bytes], verifier: PdfVerifier
) -> None:
    moved = corpus.move_number_field(issued["B-T"])
    assert {outcome for _, outcome, _, _ in reviews(moved)} == {Outcome.UNRECOGNISED}
    report = verifier.verify(moved)
    assert report.sub_indication is SubIndication.DISALLOWED_MODIFICATION


def _with_dangling_overlay(data: bytes) -> tuple[bytes, int]:
    """The page draws ``/Shadow``, an XObject reference to an object that does not exist."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    missing = 900
    resources = page["/Resources"]
    resources["/XObject"] = generic.DictionaryObject(
        {generic.NameObject("/Shadow"): generic.IndirectObject(missing, 0, writer)}
    )
    writer.mark_update(page_ref)
    writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=b"/Shadow Do")))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), missing


def _define_object(
    data: bytes,
    number: int,
    body: bytes,
    entries: str = "/Type /XObject /Subtype /Form /BBox [0 0 600 850]",
) -> bytes:
    """Append a hand-written incremental update that (re)defines stream object ``number``."""
    reader = PdfFileReader(io.BytesIO(data), strict=True)
    previous = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    root = reader.trailer.raw_get("/Root")
    data = data if data.endswith(b"\n") else data + b"\n"
    offset = len(data)
    stream = (
        f"{number} 0 obj\n<< {entries} /Length {len(body)} >>\nstream\n".encode()
        + body
        + b"\nendstream\nendobj\n"
    )
    xref_at = offset + len(stream)
    tail = (
        f"xref\n{number} 1\n{offset:010d} 00000 n \ntrailer\n<< /Size {number + 1} "
        f"/Root {root.idnum} {root.generation} R /Prev {previous} >>\n"
        f"startxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return data + stream + tail


def test_an_object_referenced_before_it_existed_is_left_to_pyhanko(
    pki: corpus.SoftPki, verifier: PdfVerifier
) -> None:
    prepared, missing = _with_dangling_overlay(corpus.base_document())
    signed = corpus.issued(pki, level="B-T", base=prepared)
    attacked = _define_object(signed, missing, b"q 1 1 1 rg 0 0 600 850 re f Q")
    for _, outcome, _, reason in reviews(attacked):
        assert outcome is Outcome.UNRECOGNISED
        assert "referenced before they existed" in reason
    report = verifier.verify(attacked)
    assert report.indication is not Indication.TOTAL_PASSED, report.verdict


def test_verifier_reports_the_review_reason(
    issued: dict[str, bytes], verifier: PdfVerifier
) -> None:
    report = verifier.verify(corpus.shadow_replace(issued["B-T"]))
    assert report.sub_indication is SubIndication.DISALLOWED_MODIFICATION
    details = [
        check.detail
        for signature in report.signatures
        for check in signature.checks
        if check.name == "modifications" and check.status is CheckStatus.FAIL
    ]
    assert details and all("overwritten" in detail for detail in details)


def _append_update(data: bytes, objects: dict[int, bytes]) -> bytes:
    """Append a hand-written incremental update (re)defining ``objects`` (number → body)."""
    reader = PdfFileReader(io.BytesIO(data), strict=True)
    previous = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    root = reader.trailer.raw_get("/Root")
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets = {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n"
    for number, offset in sorted(offsets.items()):
        out += f"{number} 1\n{offset:010d} 00000 n \n".encode()
    size = max(int(reader.trailer["/Size"]), max(objects) + 1)
    out += (
        f"trailer\n<< /Size {size} /Root {root.idnum} {root.generation} R /Prev {previous} >>\n"
        f"startxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return bytes(out)


def test_a_content_stream_posing_as_metadata_is_not_waved_through() -> None:
    # The catalog's /Metadata points at the page's content stream; overwriting that stream in
    # a later revision must not pass as an XMP metadata update. (pyHanko refuses to write or
    # sign such a file, so both updates are written by hand and the review asked directly.)
    base = corpus.base_document()
    reader = PdfFileReader(io.BytesIO(base), strict=True)
    catalog_ref = reader.trailer.raw_get("/Root")
    content = reader.root["/Pages"]["/Kids"][0].raw_get("/Contents")
    catalog = generic.DictionaryObject({key: reader.root.raw_get(key) for key in reader.root})
    catalog["/Metadata"] = content
    serialised = io.BytesIO()
    catalog.write_to_stream(serialised)
    prepared = _append_update(base, {catalog_ref.idnum: serialised.getvalue()})
    text = b"BT /F1 14 Tf (9.000.000) Tj ET"
    attacked = _append_update(
        prepared,
        {content.idnum: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)},
    )
    attacked_reader = PdfFileReader(io.BytesIO(attacked), strict=True)
    review = RevisionReviewer(attacked_reader, FILL_FIELDS).review_after(
        attacked_reader.xrefs.total_revisions - 2
    )
    assert review.outcome is Outcome.UNRECOGNISED
    assert "also referenced otherwise" in review.reason
