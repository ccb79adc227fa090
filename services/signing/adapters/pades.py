"""PAdES signatures with pyHanko 0.38 and keys in the HSM: person, number fill, organisation.

The workflow of NĐ 30/2020/NĐ-CP Phụ lục I and QĐ 29/2021/QĐ-UBND Điện Biên Điều 10
(phát hành văn bản điện tử):

1. :meth:`PadesEngine.sign_person` — the authorised person's visible certification signature
   (DocMDP level 2, "form filling and signatures allowed"), PAdES B-LT: RFC 3161 signature
   timestamp from the platform TSA, CRLs and certificates in the DSS.
2. :meth:`PadesEngine.fill_number_and_date` — the clerk's number/symbol and the issue date go
   into the document's text fields as an incremental update (allowed by DocMDP level 2, so
   the person's signature stays valid).
3. :meth:`PadesEngine.sign_organisation` — the organisation's approval signature with the seal
   image, refused unless a valid signature of an authorised person of the same agency is
   present (or the document is declared a digitised copy); finished at B-LTA.
4. :meth:`PadesEngine.sign_attachment` / :meth:`PadesEngine.sign_copy` — organisation
   signature top right of page 1 with text only (number + ISO 8601 time, or copy form +
   copying agency + time), Liberation Serif 10 pt.

Performance measures from issue #4 applied here: ``bytes_reserved`` instead of a dry run,
appearance images encoded once per signer, 1000-upem Vietnamese subset font, key handles kept
per thread, and ``async_*`` methods for callers inside an event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO
from zoneinfo import ZoneInfo

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.form_tools import populate_static_text_field
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import FormFillingError, PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.signers.pdf_signer import DSSContentSettings
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.generic_cms import validate_sig_integrity
from pyhanko.stamp import StaticStampStyle, TextStampStyle
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors

from services.certificates.identity import CertificateSubject, read_subject
from services.signing.adapters import pdf_speedups
from services.signing.adapters.attachments import as_pdf
from services.signing.adapters.fonts import (
    LIBERATION_SERIF,
    LIBERATION_SERIF_ITALIC,
    prepared_font,
)
from services.signing.adapters.hsm import Hsm, KeyAlgorithm
from services.signing.adapters.images import EncodedImage, EncodedImageContent
from services.signing.adapters.pyhanko_signers import PreEncodedPKCS11Signer, VietnamTimePdfSigner
from services.signing.adapters.sample_document import (
    DATE_FIELD,
    NUMBER_FIELD,
    ORGANISATION_SIGNATURE_FIELD,
    PERSON_SIGNATURE_FIELD,
    SEAL_DIAMETER,
)
from services.signing.adapters.trust import TrustConfig, parse_fully
from services.signing.domain.errors import (
    BrokenExistingSignature,
    CorruptPdf,
    DocumentTooLarge,
    EncryptedPdf,
    FormFieldProblem,
    NotAPdf,
    PersonSignatureMissing,
    SignerCertificateExpired,
    SignerCertificateRevoked,
    SignerCertificateUntrusted,
    SigningEngineFailed,
)
from services.signing.domain.placement import Rect, seal_rect, top_right_rect

pdf_speedups.install()

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
#: A document to sign: its bytes, or a seekable binary stream for large files.
Document = bytes | BinaryIO
DEFAULT_MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
# pyHanko counts hex digits (2 per CMS byte). Measured with the dev chain (3 certificates and a
# signature timestamp token): ~11 500. A bigger CMS (longer production chain) falls back to
# pyHanko's dry-run estimate, see PadesEngine._sign.
SIGNATURE_BYTES_RESERVED = 16_384
SIGNER_CHECK_TTL_SECONDS = 300.0
# PAdES baseline B-LT needs the certificates and CRLs in the DSS, not per-signature VRI
# dictionaries (ETSI EN 319 142-1 §5.4.2: VRI is optional); skipping them saves a digest and
# a dictionary per signature.
_DSS_SETTINGS = DSSContentSettings(include_vri=False)


class CopyForm(StrEnum):
    """Hình thức bản sao (NĐ 30/2020/NĐ-CP Điều 25)."""

    SAO_Y = "SAO Y"
    TRICH_SAO = "TRÍCH SAO"
    SAO_LUC = "SAO LỤC"


@dataclass(frozen=True)
class SignerProfile:
    """A signer: HSM key, certificate, chain and (for visible signatures) the image."""

    key_id: bytes
    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...] = ()
    image: EncodedImage | None = None
    algorithm: KeyAlgorithm = KeyAlgorithm.RSA_2048

    def __post_init__(self) -> None:
        parse_fully(self.certificate, *self.chain)  # shared by every signing thread

    @property
    def subject(self) -> CertificateSubject:
        return read_subject(self.certificate)


@dataclass(frozen=True)
class ExistingSignature:
    """A signature already in the document, as validated before signing again."""

    field_name: str
    subject: CertificateSubject
    intact: bool
    valid: bool
    trusted: bool
    is_timestamp: bool


def vietnam_now() -> dt.datetime:
    return dt.datetime.now(VIETNAM).replace(microsecond=0)


@dataclass
class PadesEngine:
    """Signs PDFs with HSM keys; thread-safe (per-thread pyHanko signers and sessions)."""

    hsm: Hsm
    trust: TrustConfig
    timestamper: TimeStamper
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _checked_signers: dict[bytes, float] = field(default_factory=dict, repr=False)
    _check_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _validation_context(self) -> ValidationContext:
        """This thread's validation context, renewed every few minutes.

        pyHanko caches path validations and parsed CRLs inside a context; reusing it across
        documents removes most of the per-signature validation cost of B-LT. Renewal keeps
        revocation data no older than ``SIGNER_CHECK_TTL_SECONDS``.
        """
        now = time.monotonic()
        created = getattr(self._local, "context_created", None)
        if created is None or now - created > SIGNER_CHECK_TTL_SECONDS:
            self._local.context = self.trust.validation_context()
            self._local.context_created = now
        return self._local.context

    # -- input checks -----------------------------------------------------------------------
    def open_document(self, data: Document) -> IncrementalPdfFileWriter:
        """Check size, header, encryption and structure; return a writer for the next revision.

        ``data`` is the document's bytes or a seekable binary stream (a spooled upload, an
        open file): large files are then read by pyHanko as it needs, never copied whole.
        """
        if isinstance(data, bytes | bytearray | memoryview):
            stream: BinaryIO = io.BytesIO(data)
        else:
            stream = data
        size = stream.seek(0, io.SEEK_END)
        if size > self.max_document_bytes:
            raise DocumentTooLarge(
                f"document: {size} bytes exceeds the limit of {self.max_document_bytes} bytes"
            )
        stream.seek(0)
        head = stream.read(1024)
        stream.seek(0)
        if b"%PDF-" not in head:
            raise NotAPdf("document: no %PDF- header in the first 1024 bytes, not a PDF")
        try:
            writer = IncrementalPdfFileWriter(stream, strict=True)
        except PdfError as exc:
            raise CorruptPdf(f"document: unreadable PDF structure ({exc})") from None
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise CorruptPdf(f"document: unreadable PDF structure ({type(exc).__name__})") from None
        if writer.prev.encrypted:
            raise EncryptedPdf("document: encrypted PDFs cannot be signed; remove the password")
        try:
            # Touch every page and field: a broken cross-reference table shows up here.
            pages = writer.root["/Pages"]
            int(pages["/Count"])
            for page_ref in pages["/Kids"]:
                page_ref.get_object()
            for signature in writer.prev.embedded_signatures:
                signature.sig_object.get("/ByteRange")
        except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise CorruptPdf(f"document: broken object structure ({exc})") from None
        return writer

    async def existing_signatures(
        self, reader: PdfFileReader, *, check_trust: bool = False
    ) -> list[ExistingSignature]:
        """Check every signature present; a broken one raises BrokenExistingSignature.

        Integrity is always checked (byte-range digest and the signature value over the signed
        attributes): enough to refuse a document altered after signing. With ``check_trust``
        the signer's certificate is also validated now against the trust configuration
        (path, validity, CRLs; verdicts cached per certificate while the validation context
        lives) — needed before the organisation signs: "a valid signature of an authorised
        person". The full PAdES validation is the verification service's job.
        """
        result = []
        for embedded in reader.embedded_signatures:
            name = embedded.field_name
            is_timestamp = embedded.sig_object.get("/Type") == "/DocTimeStamp"
            try:
                signer_cert = embedded.signer_cert
                intact, valid = validate_sig_integrity(
                    embedded.signer_info,
                    signer_cert,
                    expected_content_type="tst_info" if is_timestamp else "data",
                    actual_digest=embedded.compute_digest(),
                )
                trusted = (
                    check_trust
                    and not is_timestamp
                    and await self._certificate_trusted(signer_cert, embedded.other_embedded_certs)
                )
            except (PdfError, ValueError, KeyError, SigningError) as exc:
                raise BrokenExistingSignature(
                    f"signature field {name!r}: cannot be verified ({type(exc).__name__}: {exc})"
                ) from None
            if not (intact and valid):
                raise BrokenExistingSignature(
                    f"signature field {name!r}: the document was altered after signing "
                    f"(intact={intact}, valid={valid})"
                )
            result.append(
                ExistingSignature(
                    field_name=name,
                    subject=read_subject(signer_cert),
                    intact=intact,
                    valid=valid,
                    trusted=trusted,
                    is_timestamp=is_timestamp,
                )
            )
        return result

    async def _certificate_trusted(
        self, certificate: asn1_x509.Certificate, other_certs: list[asn1_x509.Certificate]
    ) -> bool:
        """Whether ``certificate`` validates now for signing (cached with the context)."""
        context = self._validation_context()
        verdicts = getattr(self._local, "verdicts", None)
        if verdicts is None or verdicts.get("context") is not context:
            verdicts = self._local.verdicts = {"context": context}
        key = certificate.sha256
        if key not in verdicts:
            validator = CertificateValidator(
                certificate, intermediate_certs=other_certs, validation_context=context
            )
            try:
                await validator.async_validate_usage({"digital_signature"})
                verdicts[key] = True
            except (
                cv_errors.PathBuildingError,
                cv_errors.PathValidationError,
                cv_errors.InvalidCertificateError,
                cv_errors.RevokedError,
                cv_errors.ExpiredError,
            ):
                verdicts[key] = False
        return verdicts[key]

    async def check_signer(self, signer: SignerProfile) -> None:
        """Refuse an expired, revoked or untrusted signer certificate (cached 5 minutes)."""
        now = time.monotonic()
        with self._check_lock:
            checked_at = self._checked_signers.get(signer.key_id)
        if checked_at is not None and now - checked_at < SIGNER_CHECK_TTL_SECONDS:
            return
        self.hsm.private_key(signer.key_id)  # KeyNotFound before any work
        certificate = signer.certificate
        validity = certificate["tbs_certificate"]["validity"]
        not_before = validity["not_before"].native
        not_after = validity["not_after"].native
        moment = dt.datetime.now(dt.UTC)
        if not not_before <= moment <= not_after:
            raise SignerCertificateExpired(
                f"signer certificate {certificate.subject.human_friendly}: valid from "
                f"{not_before.astimezone(VIETNAM).isoformat()} to "
                f"{not_after.astimezone(VIETNAM).isoformat()}, not now"
            )
        validator = CertificateValidator(
            certificate,
            intermediate_certs=list(signer.chain),
            validation_context=self._validation_context(),
        )
        try:
            await validator.async_validate_usage({"digital_signature"})
        except cv_errors.RevokedError as exc:
            raise SignerCertificateRevoked(
                f"signer certificate {certificate.subject.human_friendly}: revoked ({exc})"
            ) from None
        except cv_errors.ExpiredError as exc:
            raise SignerCertificateExpired(
                f"signer certificate {certificate.subject.human_friendly}: {exc}"
            ) from None
        except (
            cv_errors.PathBuildingError,
            cv_errors.PathValidationError,
            cv_errors.InvalidCertificateError,
        ) as exc:
            raise SignerCertificateUntrusted(
                f"signer certificate {certificate.subject.human_friendly}: {exc}"
            ) from None
        with self._check_lock:
            self._checked_signers[signer.key_id] = now

    def _pkcs11_signer(self, signer: SignerProfile) -> PKCS11Signer:
        """One pyHanko signer per thread and key: the key handle stays loaded."""
        cache: dict[bytes, PKCS11Signer] | None = getattr(self._local, "signers", None)
        if cache is None or getattr(self._local, "session", None) is not self.hsm.session():
            cache = {}
            self._local.signers = cache
            self._local.session = self.hsm.session()
        cached = cache.get(signer.key_id)
        if cached is None:
            cached = PreEncodedPKCS11Signer(
                self.hsm.session(),
                key_id=signer.key_id,
                signing_cert=signer.certificate,
                ca_chain=list(signer.chain),
                use_raw_mechanism=signer.algorithm is KeyAlgorithm.EC_P256,
                # () not None: None pulls EVERY certificate on the token into each CMS.
                other_certs_to_pull=(),
            )
            cache[signer.key_id] = cached
        return cached

    # -- signing ----------------------------------------------------------------------------
    async def _sign(
        self,
        writer: IncrementalPdfFileWriter,
        signer: SignerProfile,
        meta: signers.PdfSignatureMetadata,
        stamp_style,
        *,
        new_field: fields.SigFieldSpec | None = None,
        text_params: dict[str, str] | None = None,
        signing_time: dt.datetime,
        earlier_document_timestamps: bool = False,
        output: BinaryIO | None = None,
    ) -> bytes:
        """Sign; return the signed document, or ``b""`` when it was written to ``output``.

        ``output`` must be readable, writable and seekable (``w+b``): pyHanko re-reads it to
        add the DSS and the document timestamp.
        """
        context = self._validation_context()
        presign_cache = getattr(self._local, "presign_cache", None)
        if presign_cache is None or presign_cache.get("context") is not context:
            presign_cache = self._local.presign_cache = {"context": context}
        pdf_signer = VietnamTimePdfSigner(
            meta,
            signer=self._pkcs11_signer(signer),
            timestamper=self.timestamper,
            stamp_style=stamp_style,
            new_field_spec=new_field,
            signing_time=signing_time,
            presign_cache=presign_cache,
            # An LTA signature over a document that already has document timestamps must
            # also validate that timestamp chain: not cacheable.
            presign_key=None
            if earlier_document_timestamps and meta.use_pades_lta
            else (signer.key_id, meta.use_pades_lta),
        )
        target = io.BytesIO() if output is None else output
        try:
            await pdf_signer.async_sign_pdf(
                writer,
                bytes_reserved=SIGNATURE_BYTES_RESERVED,
                appearance_text_params=text_params,
                output=target,
            )
        except SigningError as exc:
            if "allocated" not in str(exc):
                raise SigningEngineFailed(f"pyHanko: {exc}") from None
            # The reservation was too small for this signer's CMS: let pyHanko size it.
            if output is not None:
                output.seek(0)
                output.truncate()
            signed = await self._sign_with_estimate(writer, pdf_signer, text_params)
            if output is None:
                return signed
            output.write(signed)
            return b""
        return target.getvalue() if output is None else b""

    @staticmethod
    async def _sign_with_estimate(
        writer: IncrementalPdfFileWriter,
        pdf_signer: signers.PdfSigner,
        text_params: dict[str, str] | None,
    ) -> bytes:
        output = io.BytesIO()
        writer.prev.stream.seek(0)
        retry = IncrementalPdfFileWriter(io.BytesIO(writer.prev.stream.read()), strict=True)
        try:
            await pdf_signer.async_sign_pdf(
                retry, appearance_text_params=text_params, output=output
            )
        except SigningError as exc:
            raise SigningEngineFailed(f"pyHanko: {exc}") from None
        return output.getvalue()

    async def async_sign_person(
        self,
        data: Document,
        signer: SignerProfile,
        *,
        field_name: str = PERSON_SIGNATURE_FIELD,
        rect: Rect | None = None,
        reason: str = "Ký ban hành văn bản",
        output: BinaryIO | None = None,
    ) -> bytes:
        """Visible certification signature (DocMDP 2) of the authorised person, B-LT."""
        writer = self.open_document(data)
        existing = await self.existing_signatures(writer.prev)
        await self.check_signer(signer)
        if signer.image is None:
            raise FormFieldProblem("signer image: a person's signature needs its PNG image")
        new_field = self._field_spec(writer, field_name, rect)
        now = vietnam_now()
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            certify=True,
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=True,
            dss_settings=_DSS_SETTINGS,
            validation_context=self._validation_context(),
            reason=reason,
            name=signer.subject.common_name,
        )
        style = StaticStampStyle(
            background=EncodedImageContent(signer.image),
            border_width=0,
            background_opacity=1.0,
        )
        return await self._sign(
            writer,
            signer,
            meta,
            style,
            new_field=new_field,
            signing_time=now,
            earlier_document_timestamps=any(sig.is_timestamp for sig in existing),
            output=output,
        )

    def _field_spec(
        self, writer: IncrementalPdfFileWriter, field_name: str, rect: Rect | None
    ) -> fields.SigFieldSpec | None:
        """None if the empty field exists; else a new field at ``rect`` (required then)."""
        if self._find_field(writer, field_name) is not None:
            if rect is not None:
                raise FormFieldProblem(
                    f"signature field {field_name!r}: exists already, coordinates not allowed"
                )
            return None
        if rect is None:
            raise FormFieldProblem(
                f"signature field {field_name!r}: not in the document and no coordinates given"
            )
        return fields.SigFieldSpec(
            sig_field_name=field_name,
            on_page=0,
            box=(rect.x0, rect.y0, rect.x1, rect.y1),  # type: ignore[arg-type]
        )

    @staticmethod
    def _find_field(writer: IncrementalPdfFileWriter, field_name: str):
        try:
            field_list = writer.root["/AcroForm"]["/Fields"]
        except KeyError:
            return None
        for field_ref in field_list:
            field_dict = field_ref.get_object()
            if field_dict.get("/T") == field_name:
                return field_dict
        return None

    def _widget_rect(self, writer: IncrementalPdfFileWriter, field_name: str) -> Rect | None:
        field_dict = self._find_field(writer, field_name)
        if field_dict is None:
            return None
        widget = field_dict["/Kids"][0].get_object() if "/Kids" in field_dict else field_dict
        x0, y0, x1, y1 = (float(value) for value in widget["/Rect"])
        return Rect(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def fill_number_and_date(self, data: Document, **kwargs: str) -> bytes:
        return _run(self.async_fill_number_and_date(data, **kwargs))

    async def async_fill_number_and_date(
        self,
        data: Document,
        *,
        number: str,
        place_and_date: str,
        number_field: str = NUMBER_FIELD,
        date_field: str = DATE_FIELD,
    ) -> bytes:
        """Write the number/symbol and the date line into their fields (incremental update)."""
        writer = self.open_document(data)
        await self.existing_signatures(writer.prev)
        self._fill_fields(writer, number, place_and_date, number_field, date_field)
        output = io.BytesIO()
        writer.write(output)
        return output.getvalue()

    @staticmethod
    def _fill_fields(
        writer: IncrementalPdfFileWriter,
        number: str,
        place_and_date: str,
        number_field: str = NUMBER_FIELD,
        date_field: str = DATE_FIELD,
    ) -> None:
        centred = layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        )
        left = layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        )
        for name, value, font_path, rule in (
            (number_field, number, LIBERATION_SERIF, left),
            (date_field, place_and_date, LIBERATION_SERIF_ITALIC, centred),
        ):
            style = TextBoxStyle(
                font=GlyphAccumulatorFactory(str(prepared_font(font_path)), font_size=13),
                font_size=13,
                box_layout_rule=rule,
            )
            try:
                populate_static_text_field(writer, name, style, value)
            except FormFillingError as exc:
                raise FormFieldProblem(f"text field {name!r}: {exc}") from None

    async def async_sign_organisation(
        self,
        data: Document,
        signer: SignerProfile,
        *,
        digitised_copy: bool = False,
        field_name: str = ORGANISATION_SIGNATURE_FIELD,
        person_field_name: str = PERSON_SIGNATURE_FIELD,
        reason: str = "Ký số của cơ quan, tổ chức",
        number: str | None = None,
        place_and_date: str | None = None,
        output: BinaryIO | None = None,
    ) -> bytes:
        """The organisation's seal signature over the person's, finished at B-LTA.

        With ``number`` and ``place_and_date`` the clerk's fields are filled in the same
        incremental update that carries the seal (the clerk numbers, then seals): one revision
        fewer to parse, check and write than ``fill_number_and_date`` followed by this.
        """
        if (number is None) != (place_and_date is None):
            raise FormFieldProblem("number/place_and_date: give both or neither")
        writer = self.open_document(data)
        existing = await self.existing_signatures(writer.prev, check_trust=not digitised_copy)
        await self.check_signer(signer)
        agency_code = signer.subject.agency_code
        if agency_code is None:
            raise SignerCertificateUntrusted(
                "organisation certificate: no agency code (organizationIdentifier or OU)"
            )
        if not digitised_copy:
            persons = [
                sig
                for sig in existing
                if not sig.is_timestamp
                and sig.subject.is_person
                and sig.intact
                and sig.valid
                and sig.trusted
                and sig.subject.agency_code == agency_code
            ]
            if not persons:
                others = (
                    ", ".join(
                        f"{sig.subject.common_name} ({sig.subject.agency_code})" for sig in existing
                    )
                    or "none"
                )
                raise PersonSignatureMissing(
                    f"document: no valid signature of an authorised person of agency "
                    f"{agency_code}; signatures present: {others}"
                )
        if signer.image is None:
            raise FormFieldProblem("signer image: the organisation signature needs the seal PNG")
        rect = None
        if self._find_field(writer, field_name) is None:
            person_rect = self._widget_rect(writer, person_field_name)
            if person_rect is None:
                raise FormFieldProblem(
                    f"signature field {field_name!r}: missing, and no {person_field_name!r} "
                    "to place the seal against"
                )
            rect = seal_rect(person_rect, SEAL_DIAMETER)
        new_field = self._field_spec(writer, field_name, rect)
        if number is not None and place_and_date is not None:
            self._fill_fields(writer, number, place_and_date)
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=True,
            dss_settings=_DSS_SETTINGS,
            use_pades_lta=True,
            validation_context=self._validation_context(),
            reason=reason + (" (bản số hóa)" if digitised_copy else ""),
            name=signer.subject.common_name,
        )
        style = StaticStampStyle(
            background=EncodedImageContent(signer.image),
            border_width=0,
            background_opacity=1.0,
        )
        return await self._sign(
            writer,
            signer,
            meta,
            style,
            new_field=new_field,
            signing_time=vietnam_now(),
            earlier_document_timestamps=any(sig.is_timestamp for sig in existing),
            output=output,
        )

    async def _text_signature(
        self,
        data: Document,
        signer: SignerProfile,
        lines: list[str],
        *,
        field_name: str,
        reason: str,
        width: float,
    ) -> bytes:
        writer = self.open_document(data)
        existing = await self.existing_signatures(writer.prev)
        await self.check_signer(signer)
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        x0, y0, x1, y1 = (float(value) for value in page["/MediaBox"])
        height = 10 + 13 * len(lines)
        rect = top_right_rect(x1 - x0, y1 - y0, width, height)
        rect = Rect(rect.x0 + x0, rect.y0 + y0, rect.x1 + x0, rect.y1 + y0)
        new_field = self._field_spec(writer, field_name, rect)
        signing_time = vietnam_now()
        text_params = {"signed_at": signing_time.isoformat()}
        template = "\n".join(line.replace("%", "%%") for line in lines)
        style = TextStampStyle(
            stamp_text=template.replace("{signed_at}", "%(signed_at)s"),
            text_box_style=TextBoxStyle(
                font=GlyphAccumulatorFactory(str(prepared_font(LIBERATION_SERIF)), font_size=10),
                font_size=10,
                leading=12,
            ),
            border_width=0,
            background=None,
            inner_content_layout=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MAX,
                y_align=layout.AxisAlignment.ALIGN_MAX,
                inner_content_scaling=layout.InnerScaling.NO_SCALING,
            ),
        )
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=True,
            dss_settings=_DSS_SETTINGS,
            use_pades_lta=True,
            validation_context=self._validation_context(),
            reason=reason,
            name=signer.subject.common_name,
        )
        return await self._sign(
            writer,
            signer,
            meta,
            style,
            new_field=new_field,
            text_params=text_params,
            signing_time=signing_time,
            earlier_document_timestamps=any(sig.is_timestamp for sig in existing),
        )

    async def async_sign_attachment(
        self,
        data: Document,
        signer: SignerProfile,
        *,
        number: str,
        field_name: str = ORGANISATION_SIGNATURE_FIELD,
        filename: str = "",
    ) -> bytes:
        """Attachment in a separate file: number/symbol and ISO 8601 time, top right, no image.

        Given as bytes, an image (a scan) is first wrapped into a one-page PDF; other non-PDF
        types raise ``UnsupportedAttachment`` (see ``adapters/attachments.py``).
        """
        if isinstance(data, bytes | bytearray):
            data = as_pdf(bytes(data), filename)
        return await self._text_signature(
            data,
            signer,
            [number, "{signed_at}"],
            field_name=field_name,
            reason="Ký số của cơ quan, tổ chức trên phụ lục kèm theo văn bản",
            width=170,
        )

    async def async_sign_copy(
        self,
        data: Document,
        signer: SignerProfile,
        *,
        copy_form: CopyForm,
        copying_agency: str,
        field_name: str = ORGANISATION_SIGNATURE_FIELD,
    ) -> bytes:
        """Copy (sao y / trích sao / sao lục): copy form, copying agency and time, top right."""
        return await self._text_signature(
            data,
            signer,
            [copy_form.value, copying_agency, "{signed_at}"],
            field_name=field_name,
            reason=f"{copy_form.value.capitalize()} văn bản",
            width=230,
        )

    # -- synchronous wrappers (not usable inside a running event loop: await async_*) ----------
    def sign_person(self, data: Document, signer: SignerProfile, **kwargs) -> bytes:
        return _run(self.async_sign_person(data, signer, **kwargs))

    def sign_organisation(self, data: Document, signer: SignerProfile, **kwargs) -> bytes:
        return _run(self.async_sign_organisation(data, signer, **kwargs))

    def sign_attachment(self, data: Document, signer: SignerProfile, **kwargs) -> bytes:
        return _run(self.async_sign_attachment(data, signer, **kwargs))

    def sign_copy(self, data: Document, signer: SignerProfile, **kwargs) -> bytes:
        return _run(self.async_sign_copy(data, signer, **kwargs))


def _run(coroutine):
    """Run ``coroutine`` to completion from synchronous code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    coroutine.close()
    raise RuntimeError(
        "synchronous signing API called inside a running event loop; await the async_* method"
    )
