"""A generated corpus of signed PDFs with known verdicts, signed with SOFTWARE keys.

For unit tests, fuzzing and the benchmark: no HSM, no network, a few hundred milliseconds per
document. The PKI here is throw-away (fresh EC P-256 keys every run, ``O=LiênThông TEST``) and
is never trusted outside the process that made it; the integration tests build the same kinds
of documents with the real SoftHSM token and the signing workflow instead.

Documents follow the platform's workflow (services/signing/adapters/pades.py): the person's
certification signature (DocMDP "form filling"), the clerk's number/date fill, the
organisation's approval signature; each level B-B … B-LTA. The defects are the ones issue #5
lists: tampered bytes, swapped signatures, expired / not-yet-valid / revoked / untrusted
signers, wrong agency, organisation before person, and the shadow attacks hide, replace and
hide-and-replace (incremental updates after signing).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from functools import cached_property

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.form_tools import populate_static_text_field
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.certificates.identity import AgencyIdentity, PersonIdentity
from services.certificates.profiles import ca_certificate
from services.signing.adapters.sample_document import (
    DATE_FIELD,
    NUMBER_FIELD,
    ORGANISATION_SIGNATURE_FIELD,
    PERSON_SIGNATURE_FIELD,
)
from services.verification.adapters.truststore import TrustStore

AGENCY = AgencyIdentity(
    name="Sở Thông tin và Truyền thông tỉnh Lạc Hồng", code="000.00.12.H99", province="Lạc Hồng"
)
OTHER_AGENCY = AgencyIdentity(
    name="Sở Tài chính tỉnh Lạc Hồng", code="000.00.13.H99", province="Lạc Hồng"
)
PERSON = PersonIdentity(full_name="Nguyễn Thị Hương Giang", title="Giám đốc", agency=AGENCY)
TEST_MARKER = "LiênThông TEST — không dùng thật"
CRL_URL = "http://pki.lienthong.invalid/test/intermediate.crl"
NUMBER = "123/STTTT-CNTT"
PLACE_AND_DATE = "Lac Hong, 22/11/2026"

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _ca_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_MARKER),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _subject(identity: PersonIdentity | AgencyIdentity | str) -> x509.Name:
    """Same attribute layout as services/certificates/devpki.py."""
    if isinstance(identity, str):
        return _ca_name(identity)
    agency = identity.agency if isinstance(identity, PersonIdentity) else identity
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, agency.province),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency.name),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, agency.code),
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, agency.code),
    ]
    if isinstance(identity, PersonIdentity):
        attributes += [
            x509.NameAttribute(NameOID.TITLE, identity.title),
            x509.NameAttribute(NameOID.COMMON_NAME, identity.full_name),
        ]
    else:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, identity.name))
    return x509.Name(attributes)


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@dataclass(frozen=True)
class SoftSigner:
    name: str
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...]

    def pyhanko(self) -> signers.SimpleSigner:
        key_info = asn1_keys.PrivateKeyInfo.load(
            self.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return signers.SimpleSigner(
            signing_cert=_asn1(self.certificate),
            signing_key=key_info,
            cert_registry=SimpleCertificateStore.from_certs([_asn1(c) for c in self.chain]),
        )


@dataclass
class SoftPki:
    """Root, issuing CA, TSA and signers of every kind the corpus needs; one CRL."""

    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    intermediate: x509.Certificate
    intermediate_key: ec.EllipticCurvePrivateKey
    signers: dict[str, SoftSigner] = field(default_factory=dict)
    revoked_serials: list[int] = field(default_factory=list)

    @classmethod
    def create(cls, root_name: str = "LiênThông TEST Root CA") -> SoftPki:
        now = _now()
        root_key = _key()
        root = _ca(_ca_name(root_name), root_key, None, None, now)
        intermediate_key = _key()
        intermediate = _ca(
            _ca_name("LiênThông TEST Issuing CA"), intermediate_key, root, root_key, now
        )
        pki = cls(root, root_key, intermediate, intermediate_key)
        day = dt.timedelta(days=1)
        pki.add("person", PERSON, now - day, now + 365 * day)
        pki.add("organisation", AGENCY, now - day, now + 365 * day)
        pki.add(
            "tsa",
            "LiênThông TEST Timestamping Authority",
            now - day,
            now + 365 * day,
            timestamping=True,
        )
        pki.add(
            "person-expired",
            PersonIdentity("Lê Quang Vũ", "Phó Giám đốc", AGENCY),
            now - 730 * day,
            now - 365 * day,
        )
        pki.add(
            "person-not-yet-valid",
            PersonIdentity("Đỗ Thu Hà", "Phó Giám đốc", AGENCY),
            now + 30 * day,
            now + 395 * day,
        )
        pki.add(
            "person-revoked",
            PersonIdentity("Trần Văn Đức", "Phó Giám đốc", AGENCY),
            now - day,
            now + 365 * day,
        )
        pki.add(
            "person-other-agency",
            PersonIdentity("Phạm Minh Châu", "Giám đốc", OTHER_AGENCY),
            now - day,
            now + 365 * day,
        )
        pki.add("organisation-other-agency", OTHER_AGENCY, now - day, now + 365 * day)
        pki.revoked_serials.append(pki.signers["person-revoked"].certificate.serial_number)
        return pki

    def add(
        self,
        name: str,
        identity: PersonIdentity | AgencyIdentity | str,
        not_before: dt.datetime,
        not_after: dt.datetime,
        *,
        timestamping: bool = False,
        rsa_key: bool = False,
    ) -> SoftSigner:
        # pyHanko's in-process timestamper and edXML's XML-DSig sign with RSA only.
        key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if timestamping or rsa_key
            else _key()
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(_subject(identity))
            .issuer_name(self.intermediate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=not timestamping,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.intermediate_key.public_key()
                ),
                critical=False,
            )
            .add_extension(_crl_points(CRL_URL), critical=False)
        )
        if timestamping:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        certificate = builder.sign(self.intermediate_key, hashes.SHA256())
        signer = SoftSigner(name, certificate, key, (self.intermediate, self.root))
        self.signers[name] = signer
        return signer

    def crl_der(self) -> bytes:
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.intermediate.subject)
            .last_update(now - dt.timedelta(minutes=5))
            .next_update(now + dt.timedelta(days=30))
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.intermediate_key.public_key()
                ),
                critical=False,
            )
        )
        for serial in self.revoked_serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(now - dt.timedelta(hours=12))
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        return builder.sign(self.intermediate_key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER
        )

    @cached_property
    def crl(self) -> bytes:
        return self.crl_der()

    def trust_store(self, *, with_crl: bool = True, with_intermediate: bool = True) -> TrustStore:
        """The anchor, the issuing CA (edXML signatures carry only the signer), the CRL."""
        return TrustStore(
            anchors=(_asn1(self.root),),
            intermediates=(_asn1(self.intermediate),) if with_intermediate else (),
            crls=(self.crl,) if with_crl else (),
            source="generated test PKI",
        )

    def validation_context(self) -> ValidationContext:
        return ValidationContext(
            trust_roots=[_asn1(self.root)],
            other_certs=[_asn1(self.intermediate)],
            crls=[self.crl],
            allow_fetching=False,
            revocation_mode="hard-fail",
        )

    @cached_property
    def timestamper(self) -> DummyTimeStamper:
        tsa = self.signers["tsa"]
        key_info = asn1_keys.PrivateKeyInfo.load(
            tsa.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return DummyTimeStamper(
            tsa_cert=_asn1(tsa.certificate),
            tsa_key=key_info,
            certs_to_embed=SimpleCertificateStore.from_certs(
                [_asn1(self.intermediate), _asn1(self.root)]
            ),
        )


def _crl_points(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def _ca(
    name: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey | None,
    now: dt.datetime,
) -> x509.Certificate:
    return ca_certificate(
        name,
        key,
        issuer=(issuer, issuer_key) if issuer is not None and issuer_key is not None else None,
        not_before=now - dt.timedelta(days=3650),
        not_after=now + dt.timedelta(days=3650),
    )


# -- documents -------------------------------------------------------------------------------


def base_document(*, hidden_alternative: bytes | None = None) -> bytes:
    """The platform's sample document (fields for both signatures, number and date).

    ``hidden_alternative``: content placed in the file as an unreferenced stream before
    signing — the prepared half of a hide-and-replace shadow attack.
    """
    from services.signing.adapters.sample_document import default_content, generate_sample

    data = generate_sample(default_content(PERSON))[0]
    if hidden_alternative is None:
        return data
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    stream = generic.StreamObject(stream_data=hidden_alternative)
    ref = writer.add_object(stream)
    # Referenced from the catalog under a private key so it survives, but is never drawn.
    writer.root["/LTHidden"] = ref
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sign(
    data: bytes,
    pki: SoftPki,
    signer_name: str,
    field_name: str,
    *,
    level: str = "B-LTA",
    certify: bool = False,
    signing_time: dt.datetime | None = None,
) -> bytes:
    """Sign ``data`` in ``field_name`` with a corpus signer at PAdES ``level``."""
    if level not in LEVELS:
        raise ValueError(f"level {level!r}: expected one of {LEVELS}")
    signer = pki.signers[signer_name]
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=level in ("B-LT", "B-LTA"),
        use_pades_lta=level == "B-LTA",
        validation_context=pki.validation_context() if level in ("B-LT", "B-LTA") else None,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer.pyhanko(),
        timestamper=pki.timestamper if level != "B-B" else None,
    )
    out = io.BytesIO()
    if signing_time is not None:
        session_hook = pdf_signer.init_signing_session

        def with_time(*args, **kwargs):  # type: ignore[no-untyped-def]
            session = session_hook(*args, **kwargs)
            session.system_time = signing_time
            return session

        pdf_signer.init_signing_session = with_time  # type: ignore[method-assign]
    pdf_signer.sign_pdf(writer, output=out)
    return out.getvalue()


def fill_number_and_date(data: bytes, number: str = NUMBER, date: str = PLACE_AND_DATE) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    style = TextBoxStyle()
    populate_static_text_field(writer, NUMBER_FIELD, style, number)
    populate_static_text_field(writer, DATE_FIELD, style, date)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def issued(
    pki: SoftPki,
    *,
    level: str = "B-LTA",
    person: str = "person",
    organisation: str = "organisation",
    base: bytes | None = None,
) -> bytes:
    """Person signs (certification), clerk fills number/date, organisation signs."""
    data = base if base is not None else base_document()
    signed = sign(data, pki, person, PERSON_SIGNATURE_FIELD, level=level, certify=True)
    numbered = fill_number_and_date(signed)
    return sign(numbered, pki, organisation, ORGANISATION_SIGNATURE_FIELD, level=level)


def organisation_before_person(pki: SoftPki, level: str = "B-T") -> bytes:
    data = base_document()
    sealed = sign(data, pki, "organisation", ORGANISATION_SIGNATURE_FIELD, level=level)
    return sign(sealed, pki, "person", PERSON_SIGNATURE_FIELD, level=level)


# -- defects --------------------------------------------------------------------------------

_CONTENTS = re.compile(rb"/Contents\s*<([0-9A-Fa-f]+)>")
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def tamper_signed_byte(data: bytes) -> bytes:
    """Change one byte of page text inside the first signature's signed range."""
    marker = data.find(b"(") if b"BT" not in data else -1
    match = _BYTE_RANGE.search(data)
    assert match is not None, "no signature"
    _, first_len, _, _ = (int(g) for g in match.groups())
    # A byte in the Info dictionary's producer or any literal string early in the file, else
    # in the middle of the first signed range: the digest changes, the structure survives.
    producer = data.find(b"/Producer (")
    position = producer + len(b"/Producer (") if 0 <= producer < first_len else marker
    if position < 0 or position >= first_len:
        position = first_len // 2
        while data[position : position + 1] in b" \r\n\t<>[]()/%":
            position += 1
    mutated = bytearray(data)
    mutated[position] = ord("X") if mutated[position] != ord("X") else ord("Y")
    return bytes(mutated)


def swap_signature(target: bytes, donor: bytes, index: int = 0) -> bytes:
    """Put the ``index``-th signature value of ``donor`` into ``target`` (same size slot)."""
    target_match = list(_CONTENTS.finditer(target))[index]
    donor_value = list(_CONTENTS.finditer(donor))[index].group(1)
    slot = target_match.group(1)
    replacement = donor_value[: len(slot)].ljust(len(slot), b"0")
    start = target_match.start(1)
    return target[:start] + replacement + target[start + len(slot) :]


def _first_page(
    writer: IncrementalPdfFileWriter,
) -> tuple[generic.IndirectObject, generic.DictionaryObject]:
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    return page_ref, page_ref.get_object()


def _write(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def shadow_hide(data: bytes) -> bytes:
    """Shadow attack "hide": an incremental update draws a white box over part of the page."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    overlay = generic.StreamObject(stream_data=b"q 1 1 1 rg 60 500 480 200 re f Q")
    writer.add_stream_to_page(0, writer.add_object(overlay))
    return _write(writer)


def shadow_replace(data: bytes, new_text: bytes = b"SO TIEN: 9.000.000.000 DONG") -> bytes:
    """Shadow attack "replace": the page's content stream object is overwritten in place."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    _, page = _first_page(writer)
    contents = page.raw_get("/Contents")
    first = contents[0] if isinstance(contents, generic.ArrayObject) else contents
    stream = first.get_object()
    stream._data = b"BT /F1 14 Tf 72 700 Td (" + new_text + b") Tj ET"
    stream._encoded_data = None
    if "/Filter" in stream:
        del stream["/Filter"]
    writer.mark_update(first)
    return _write(writer)


def shadow_hide_and_replace(data: bytes) -> bytes:
    """Shadow attack "hide-and-replace": the page now points at the hidden, pre-signed content.

    ``data`` must come from :func:`base_document` with ``hidden_alternative`` set.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    hidden = writer.root.raw_get("/LTHidden")
    page_ref, page = _first_page(writer)
    page["/Contents"] = hidden
    writer.mark_update(page_ref)
    return _write(writer)


def move_number_field(data: bytes) -> bytes:
    """A whitelisted field moved over the body text: form filling by pyHanko's rules, refused."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    for ref in writer.root["/AcroForm"]["/Fields"]:
        node = ref.get_object()
        if node.get("/T") == NUMBER_FIELD:
            node["/Rect"] = generic.ArrayObject(
                [generic.FloatObject(v) for v in (50, 300, 550, 700)]
            )
            writer.mark_update(ref)
    return _write(writer)


HIDDEN_ALTERNATIVE = b"BT /F1 14 Tf 72 700 Td (NOI DUNG BI THAY THE) Tj ET"


# -- edXML --------------------------------------------------------------------------------

_ORGAN_ID = re.compile(rb"<edXML:OrganId>[^<]*</edXML:OrganId>")


_EDXML_NS = b"http://www.mic.gov.vn/TBT/QCVN_102_2016"
_ATTACHMENT_ENCODED = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)AttachmentEncoded>")


def edxml_with_attachments(
    package: bytes, attachments: list[tuple[str, str, bytes]], *, sender: str | None = None
) -> bytes:
    """``package`` with its AttachmentEncoded replaced by (name, content type, data) items and,
    with ``sender``, its first OrganId (From) set to that code. Not signed."""
    opening = _ATTACHMENT_ENCODED.search(package)
    if opening is None:
        raise ValueError("the package has no AttachmentEncoded element")
    prefix = opening.group(1)  # samples write it with and without the edXML: prefix
    closing = b"</" + prefix + b"AttachmentEncoded>"
    start, end = opening.start(), package.index(closing) + len(closing)
    items = b"".join(
        b"<%(p)sAttachment><%(p)sContentId>cid:%(i)d</%(p)sContentId>"
        b"<%(p)sAttachmentName>%(n)s</%(p)sAttachmentName>"
        b"<%(p)sDescription>%(n)s</%(p)sDescription><%(p)sContentType>%(t)s</%(p)sContentType>"
        b'<edXML:ContentTransferEncoded xmlns:edXML="%(ns)s">%(d)s</edXML:ContentTransferEncoded>'
        b"</%(p)sAttachment>"
        % {
            b"p": prefix,
            b"i": index,
            b"n": name.encode(),
            b"t": content_type.encode(),
            b"ns": _EDXML_NS,
            b"d": base64.b64encode(data),
        }
        for index, (name, content_type, data) in enumerate(attachments, start=900)
    )
    encoded = opening.group(0) + items + closing
    rewritten = package[:start] + encoded + package[end:]
    if sender is not None:
        rewritten = _ORGAN_ID.sub(
            f"<edXML:OrganId>{sender}</edXML:OrganId>".encode(), rewritten, count=1
        )
    return rewritten


def signed_edxml(pki: SoftPki, package: bytes) -> bytes:
    """``package`` with its first OrganId (From) set to :data:`AGENCY`, signed by the agency.

    RSA-SHA256 enveloped XML-DSig written by the edXML codec, key and certificate from the
    corpus PKI (an RSA organisation certificate is added on first use).
    """
    from services.distribution.edxml.dsig import SoftwareRsaSigner, sign

    signer = pki.signers.get("organisation-rsa")
    if signer is None:
        now = _now()
        signer = pki.add(
            "organisation-rsa",
            AGENCY,
            now - dt.timedelta(days=1),
            now + dt.timedelta(days=365),
            rsa_key=True,
        )
    assert isinstance(signer.key, rsa.RSAPrivateKey)
    rewritten = _ORGAN_ID.sub(
        f"<edXML:OrganId>{AGENCY.code}</edXML:OrganId>".encode(), package, count=1
    )
    return sign(rewritten, SoftwareRsaSigner(signer.key, signer.certificate))
