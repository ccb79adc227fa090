"""Validate signed PDFs: pyHanko (full PAdES validation) and poppler's ``pdfsig`` (independent).

Used by the tests, the CLI (``lienthong sign sample`` checks its own output) and the bench.
"""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel

from services.certificates.identity import read_subject
from services.signing.adapters.trust import TrustConfig


@dataclass(frozen=True)
class SignatureReport:
    """pyHanko's verdict on one signature or document timestamp."""

    field_name: str
    signer: str
    is_document_timestamp: bool
    intact: bool
    valid: bool
    trusted: bool
    coverage: SignatureCoverageLevel | None
    modification_level: ModificationLevel | None
    docmdp_ok: bool | None
    has_signature_timestamp: bool
    signature_timestamp_valid: bool | None

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.docmdp_ok is not False


async def async_validate_with_pyhanko(data: bytes, trust: TrustConfig) -> list[SignatureReport]:
    """Validate every signature and document timestamp of ``data`` against ``trust``."""
    reader = PdfFileReader(io.BytesIO(data), strict=True)
    reports = []
    for embedded in reader.embedded_signatures:
        is_timestamp = embedded.sig_object.get("/Type") == "/DocTimeStamp"
        if is_timestamp:
            status = await async_validate_pdf_timestamp(
                embedded, validation_context=trust.validation_context()
            )
            signature_ts_valid = None
            has_ts = False
        else:
            status = await async_validate_pdf_signature(
                embedded,
                signer_validation_context=trust.validation_context(),
                ts_validation_context=trust.validation_context(),
            )
            ts_status = status.timestamp_validity
            has_ts = ts_status is not None
            signature_ts_valid = (
                None
                if ts_status is None
                else bool(ts_status.intact and ts_status.valid and ts_status.trusted)
            )
        reports.append(
            SignatureReport(
                field_name=embedded.field_name,
                signer=read_subject(embedded.signer_cert).common_name,
                is_document_timestamp=is_timestamp,
                intact=bool(status.intact),
                valid=bool(status.valid),
                trusted=bool(status.trusted),
                coverage=status.coverage,
                modification_level=status.modification_level,
                docmdp_ok=status.docmdp_ok,
                has_signature_timestamp=has_ts,
                signature_timestamp_valid=signature_ts_valid,
            )
        )
    return reports


def validate_with_pyhanko(data: bytes, trust: TrustConfig) -> list[SignatureReport]:
    return asyncio.run(async_validate_with_pyhanko(data, trust))


@dataclass(frozen=True)
class PdfsigSignature:
    field_name: str
    signer: str
    signature_valid: bool
    certificate_trusted: bool
    total_document_signed: bool
    raw: str


class NssTrustStore:
    """A throw-away NSS database trusting given roots, for ``pdfsig -nssdir``."""

    def __init__(
        self, root_certificates_der: list[bytes], crls_der: tuple[bytes, ...] | list[bytes] = ()
    ) -> None:
        if shutil.which("certutil") is None:
            raise RuntimeError("certutil (Debian package libnss3-tools) is needed for pdfsig trust")
        self._directory = tempfile.TemporaryDirectory(prefix="lt-nss-")
        self.path = Path(self._directory.name)
        subprocess.run(
            ["certutil", "-N", "-d", f"sql:{self.path}", "--empty-password"],
            check=True,
            capture_output=True,
        )
        for index, der in enumerate(root_certificates_der):
            cert_file = self.path / f"root{index}.der"
            cert_file.write_bytes(der)
            subprocess.run(
                [
                    "certutil",
                    "-A",
                    "-d",
                    f"sql:{self.path}",
                    "-n",
                    f"lt-root-{index}",
                    "-t",
                    "CT,C,C",
                    "-i",
                    str(cert_file),
                ],
                check=True,
                capture_output=True,
            )
        for index, der in enumerate(crls_der):
            crl_file = self.path / f"crl{index}.der"
            crl_file.write_bytes(der)
            # -B: the dev CRLs are signed by software CA keys NSS has no private part of.
            subprocess.run(
                ["crlutil", "-I", "-B", "-d", f"sql:{self.path}", "-i", str(crl_file)],
                check=True,
                capture_output=True,
            )

    def close(self) -> None:
        self._directory.cleanup()


def validate_with_pdfsig(data: bytes, nss: NssTrustStore | None = None) -> list[PdfsigSignature]:
    """Run poppler's ``pdfsig`` on ``data`` and parse its per-signature report."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        # Not "-no-ocsp": with it poppler 22.12 reports "Unknown issue" for the second signature
        # of a file (observed on this machine); our certificates carry no OCSP URL anyway.
        command = ["pdfsig"]
        if nss is not None:
            command += ["-nssdir", f"sql:{nss.path}"]
        result = subprocess.run(
            [*command, handle.name], capture_output=True, text=True, timeout=120
        )
    blocks = re.split(r"^Signature #\d+:\s*$", result.stdout, flags=re.MULTILINE)[1:]
    signatures = []
    for block in blocks:
        field = re.search(r"Signature Field Name: (.*)", block)
        signer = re.search(r"Signer Certificate Common Name: (.*)", block)
        signatures.append(
            PdfsigSignature(
                field_name=field.group(1).strip() if field else "",
                signer=signer.group(1).strip() if signer else "",
                signature_valid="Signature Validation: Signature is Valid." in block,
                certificate_trusted="Certificate Validation: Certificate is Trusted." in block,
                total_document_signed="Total document signed" in block,
                raw=block,
            )
        )
    return signatures
