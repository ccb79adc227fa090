"""Documents signed with the real SoftHSM token (dev PKI) through the engine and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from services.certificates.devpki import (
    DEV_AGENCY,
    EXPIRED_PERSON_ROLE,
    OTHER_AGENCY_PERSON_ROLE,
    REVOKED_PERSON_ROLE,
)
from services.signing.adapters.sample_document import (
    ORGANISATION_SIGNATURE_FIELD,
    PERSON_SIGNATURE_FIELD,
)
from services.verification import corpus
from services.verification.adapters.pdf import PdfVerifier
from services.verification.adapters.truststore import TrustStore
from services.verification.domain.model import Indication, SignatureLevel, SignerRole, SubIndication

FAILED = Indication.TOTAL_FAILED


@pytest.fixture(scope="module")
def sealed(issue, sample_pdf: bytes) -> bytes:  # type: ignore[no-untyped-def]
    return issue(sample_pdf)


@pytest.fixture(scope="module")
def verifier(dev_trust: TrustStore) -> PdfVerifier:
    return PdfVerifier(dev_trust)


def test_workflow_output_passes_with_levels_and_roles(verifier: PdfVerifier, sealed: bytes) -> None:
    report = verifier.verify(sealed, sender=DEV_AGENCY.code)
    assert report.indication is Indication.TOTAL_PASSED, report.verdict
    person, organisation, timestamp = report.signatures
    assert (person.role, organisation.role, timestamp.role) == (
        SignerRole.PERSON,
        SignerRole.ORGANISATION,
        SignerRole.DOCUMENT_TIMESTAMP,
    )
    # The organisation seal is finished at B-LTA, which also protects the person's signature.
    assert person.level is SignatureLevel.B_LTA and organisation.level is SignatureLevel.B_LTA
    assert organisation.certificate is not None
    assert organisation.certificate.agency_code == DEV_AGENCY.code


def test_root_only_trust_passes_thanks_to_embedded_chain_and_crls(dev_pki, sealed: bytes) -> None:  # type: ignore[no-untyped-def]
    from asn1crypto import x509 as asn1_x509

    root_only = TrustStore((asn1_x509.Certificate.load(dev_pki.root.public_bytes(Encoding.DER)),))
    report = PdfVerifier(root_only).verify(sealed)
    assert report.indication is Indication.TOTAL_PASSED, report.verdict


def test_person_signed_only_is_missing_the_organisation(
    verifier: PdfVerifier, signing, sample_pdf: bytes
) -> None:  # type: ignore[no-untyped-def]
    person_only = signing.engine.sign_person(sample_pdf, signing.person)
    report = verifier.verify(person_only)
    assert (report.indication, report.sub_indication) == (FAILED, SubIndication.SIGNATURE_MISSING)


@pytest.mark.parametrize(
    ("role", "sub"),
    [
        (REVOKED_PERSON_ROLE, SubIndication.REVOKED),
        (EXPIRED_PERSON_ROLE, SubIndication.EXPIRED),
        (OTHER_AGENCY_PERSON_ROLE, SubIndication.SIGNER_NOT_OF_SENDER),
    ],
)
def test_bad_signers_from_the_token(
    verifier: PdfVerifier, token_sign, sample_pdf: bytes, role: str, sub: SubIndication
) -> None:  # type: ignore[no-untyped-def]
    person = token_sign(sample_pdf, role, PERSON_SIGNATURE_FIELD, certify=True)
    sealed = token_sign(
        corpus.fill_number_and_date(person), "organisation", ORGANISATION_SIGNATURE_FIELD
    )
    report = verifier.verify(sealed)
    assert (report.indication, report.sub_indication) == (FAILED, sub), report.verdict


def test_organisation_before_person_from_the_token(
    verifier: PdfVerifier, token_sign, sample_pdf: bytes
) -> None:  # type: ignore[no-untyped-def]
    sealed = token_sign(sample_pdf, "organisation", ORGANISATION_SIGNATURE_FIELD)
    both = token_sign(sealed, "person", PERSON_SIGNATURE_FIELD)
    report = verifier.verify(both)
    assert (report.indication, report.sub_indication) == (
        FAILED,
        SubIndication.SIGNATURE_ORDER_FAILURE,
    )


def test_untrusted_when_the_trust_store_is_another_root(sealed: bytes) -> None:
    stranger = corpus.SoftPki.create("Unknown Root CA").trust_store()
    report = PdfVerifier(stranger).verify(sealed)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )


@pytest.mark.parametrize(
    ("defect", "sub"),
    [
        ("tampered", SubIndication.HASH_FAILURE),
        ("hide", SubIndication.DISALLOWED_MODIFICATION),
        ("replace", SubIndication.DISALLOWED_MODIFICATION),
    ],
)
def test_defects_of_a_workflow_document(
    verifier: PdfVerifier, sealed: bytes, defect: str, sub: SubIndication
) -> None:
    make = {
        "tampered": corpus.tamper_signed_byte,
        "hide": corpus.shadow_hide,
        "replace": corpus.shadow_replace,
    }[defect]
    report = verifier.verify(make(sealed))
    assert (report.indication, report.sub_indication) == (FAILED, sub), report.verdict


def test_hide_and_replace_on_a_workflow_document(verifier: PdfVerifier, issue) -> None:  # type: ignore[no-untyped-def]
    prepared = corpus.base_document(hidden_alternative=corpus.HIDDEN_ALTERNATIVE)
    sealed = issue(prepared)
    assert verifier.verify(sealed).indication is Indication.TOTAL_PASSED
    report = verifier.verify(corpus.shadow_hide_and_replace(sealed))
    assert (report.indication, report.sub_indication) == (
        FAILED,
        SubIndication.DISALLOWED_MODIFICATION,
    )


def test_swapped_signatures_between_two_workflow_documents(
    verifier: PdfVerifier, issue, sample_pdf: bytes, sealed: bytes
) -> None:  # type: ignore[no-untyped-def]
    other = issue(sample_pdf)
    report = verifier.verify(corpus.swap_signature(sealed, other))
    assert (report.indication, report.sub_indication) == (FAILED, SubIndication.HASH_FAILURE)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.chassis.cli", "verify", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_exit_codes_and_json(tmp_path: Path, sealed: bytes, dev_pki) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.pdf"
    good.write_bytes(sealed)
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(corpus.shadow_hide(sealed))
    passed = _cli(str(good), "--trust", str(dev_pki.directory), "--json")
    assert passed.returncode == 0, passed.stderr
    assert json.loads(passed.stdout)["verdict"]["indication"] == "TOTAL-PASSED"
    # Without --trust: the configured store, in development the dev PKI of $LT_VAR_DIR.
    failed = _cli(str(bad))
    assert failed.returncode == 1
    assert "DISALLOWED_MODIFICATION" in failed.stdout
    assert "Văn bản không hợp lệ" in failed.stdout
    wrong_sender = _cli(str(good), "--sender", "000.00.13.H23")
    assert wrong_sender.returncode == 1 and "SIGNER_NOT_OF_SENDER" in wrong_sender.stdout
    untrusted_dir = tmp_path / "trust"
    untrusted_dir.mkdir()
    (untrusted_dir / "root.pem").write_bytes(
        corpus.SoftPki.create("Other").root.public_bytes(Encoding.PEM)
    )
    indeterminate = _cli(str(good), "--trust", str(untrusted_dir))
    assert indeterminate.returncode == 3
    missing = _cli(str(tmp_path / "nope.pdf"))
    assert missing.returncode == 2 and "nope.pdf" in missing.stderr
