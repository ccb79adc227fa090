"""Verification throughput: this service's engine vs a naive pyHanko validation, in one run.

Documents: the platform's two-signature shape — the person's certification signature (B-LT),
the clerk's number/date fill, the organisation's approval signature (B-LTA, so one document
timestamp) — signed with the generated software PKI of ``services/verification/corpus.py``
(no HSM needed). Each round validates a fresh copy of every document with both contenders,
interleaved, so machine noise hits both alike; the best and median rounds are printed, and
the median CPU time of this process per document (robust to other processes on the machine).

* naive: what a developer gets from pyHanko as shipped, made correct for these files: per
  document a fresh ValidationContext built from the trust store's DER (anchors,
  intermediates, CRLs) plus the document's DSS (else B-LT files look untrusted offline), one
  ``async_validate_pdf_signature`` / ``async_validate_pdf_timestamp`` per signature, verdict
  from intact + valid + trusted + DocMDP. pyHanko and asn1crypto run unpatched.
* engine: :class:`services.verification.adapters.pdf.PdfVerifier` — everything above plus the
  field whitelist, roles, time at the signature timestamp, the report; trust material cached
  per trust-store version, parsed DSS objects cached by content; its own review of the
  incremental updates after each signature (``adapters/revisions.py``) in place of pyHanko's
  generic difference analysis whenever the updates have a shape NĐ 30 allows (pyHanko's
  analysis still runs for any other shape); behaviour-identical library speedups installed
  (chunked hex reader, memoised name preparation and comparison, indexed CRL lookup).

Two trust-data sizes by default: a toy CRL (1 entry) and a production-sized one (20 000
entries, about 0.9 MB, configured and embedded in every B-LT document as it would be).

Run: ``.venv/bin/python bench/bench_verification.py [--documents N] [--rounds R]
[--crl-entries 1 20000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import (
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko_certvalidator import ValidationContext

from services.signing.adapters import pdf_speedups
from services.signing.adapters.sample_document import (
    ORGANISATION_SIGNATURE_FIELD,
    PERSON_SIGNATURE_FIELD,
)
from services.verification import corpus
from services.verification.adapters import speedups
from services.verification.adapters.pdf import PdfVerifier
from services.verification.adapters.truststore import TrustStore
from services.verification.domain.model import Indication


def two_signature_document(pki: corpus.SoftPki, base: bytes) -> bytes:
    person = corpus.sign(base, pki, "person", PERSON_SIGNATURE_FIELD, level="B-LT", certify=True)
    numbered = corpus.fill_number_and_date(person)
    return corpus.sign(numbered, pki, "organisation", ORGANISATION_SIGNATURE_FIELD, level="B-LTA")


def naive_validate(
    data: bytes, anchors_der: list[bytes], others_der: list[bytes], crls_der: list[bytes]
) -> bool:
    async def run() -> bool:
        reader = PdfFileReader(io.BytesIO(data), strict=True)
        kwargs = {
            "trust_roots": [asn1_x509.Certificate.load(der) for der in anchors_der],
            "other_certs": [asn1_x509.Certificate.load(der) for der in others_der],
            "crls": [asn1_crl.CertificateList.load(der) for der in crls_der],
            "revocation_mode": "hard-fail",
            "allow_fetching": False,
        }
        try:
            context = DocumentSecurityStore.read_dss(reader).as_validation_context(kwargs)
        except NoDSSFoundError:
            context = ValidationContext(**kwargs)
        ok = True
        for embedded in reader.embedded_signatures:
            if embedded.sig_object.get("/Type") == "/DocTimeStamp":
                status = await async_validate_pdf_timestamp(embedded, validation_context=context)
                ok = ok and status.intact and status.valid and status.trusted
            else:
                status = await async_validate_pdf_signature(
                    embedded, signer_validation_context=context, ts_validation_context=context
                )
                ok = ok and status.bottom_line and status.docmdp_ok is not False
        return ok

    return asyncio.run(run())


def measure(crl_entries: int, document_count: int, rounds: int) -> float:
    """Print both contenders' rates for one trust-data size; return the median ratio."""
    pki = corpus.SoftPki.create()
    # Serials of other (unknown) certificates: a production-sized CRL, before anything signs.
    pki.revoked_serials.extend(10**30 + i for i in range(crl_entries))
    base = corpus.base_document()
    documents = [two_signature_document(pki, base) for _ in range(document_count)]
    trust: TrustStore = pki.trust_store()
    anchors_der = [c.dump() for c in trust.anchors]
    others_der = [c.dump() for c in trust.intermediates]
    crls_der = list(trust.crls)
    engine = PdfVerifier(trust)

    def run_naive(data: bytes) -> bool:
        pdf_speedups.uninstall()
        speedups.uninstall()
        try:
            return naive_validate(data, anchors_der, others_der, crls_der)
        finally:
            pdf_speedups.install()
            speedups.install()

    def run_engine(data: bytes) -> bool:
        return engine.verify(data).indication is Indication.TOTAL_PASSED

    # Both must agree that every document is valid, or the comparison means nothing.
    for data in documents:
        if not (run_naive(data) and run_engine(data)):
            raise SystemExit("a benchmark document did not validate; aborting")

    timings: dict[str, list[float]] = {"naive": [], "engine": []}
    # CPU time of this process as well: on a shared machine other processes stretch the wall
    # clock of whichever contender they happen to overlap; both contenders are single-threaded.
    cpu_timings: dict[str, list[float]] = {"naive": [], "engine": []}
    for _ in range(rounds):
        for name, contender in (("naive", run_naive), ("engine", run_engine)):
            started, cpu_started = time.perf_counter(), time.process_time()
            for data in documents:
                contender(bytes(data))
            timings[name].append(time.perf_counter() - started)
            cpu_timings[name].append(time.process_time() - cpu_started)

    n = len(documents)
    print(
        f"{n} two-signature documents (person B-LT + organisation B-LTA), CRL of "
        f"{len(pki.revoked_serials)} entries ({len(pki.crl)} bytes, configured and embedded), "
        f"{rounds} interleaved rounds"
    )
    rates = {}
    for name, measured in timings.items():
        best, median = min(measured), statistics.median(measured)
        rates[name] = (n / best, n / median)
        print(
            f"  {name:<7} best {n / best:6.2f} docs/s   median {n / median:6.2f} docs/s   "
            f"({1000 * best / n:.0f} ms/doc best)"
        )
    ratio = rates["engine"][1] / rates["naive"][1]
    print(
        f"  ratio engine/naive: best {rates['engine'][0] / rates['naive'][0]:.2f}x, "
        f"median {ratio:.2f}x (goal >= 3x)"
    )
    cpu = {name: statistics.median(measured) for name, measured in cpu_timings.items()}
    print(
        f"  CPU time per document (median): naive {1000 * cpu['naive'] / n:.0f} ms, engine "
        f"{1000 * cpu['engine'] / n:.0f} ms, ratio {cpu['naive'] / cpu['engine']:.2f}x"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--crl-entries",
        type=int,
        nargs="+",
        default=[1, 20000],
        help="revoked serials in the issuing CA's CRL, one measurement per value (a national "
        "CA's CRL has tens of thousands; B-LT documents embed it too)",
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # pyHanko's "fetching is not allowed" notes while signing
    print("verification: engine vs naive pyHanko validation")
    for entries in args.crl_entries:
        measure(max(entries - 1, 0), args.documents, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
