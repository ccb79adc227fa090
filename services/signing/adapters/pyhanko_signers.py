"""pyHanko signer classes tuned for throughput; their output is what pyHanko would produce.

* :class:`PreEncodedPKCS11Signer` — PKCS#11 signer whose PAdES signed attributes and CMS
  envelope are assembled from DER encoded once per signer (asn1crypto re-serialising parsed
  certificates and names for every signature was the largest CPU cost).
* :class:`VietnamTimePdfSigner` — PdfSigner with a caller-fixed signing time (+07:00) and a
  reusable pre-signing validation result.

Every output is validated by pyHanko and poppler in ``tests/integration/signing``.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import ClassVar

from asn1crypto import algos, cms, core
from pyhanko.sign import signers
from pyhanko.sign.attributes import SigningCertificateV2Provider
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

from services.signing.adapters.der import der_tlv

_CONTENT_TYPE_DATA_ATTRIBUTE = der_tlv(
    0x30,
    core.ObjectIdentifier("1.2.840.113549.1.9.3").dump()  # id-contentType
    + der_tlv(0x31, core.ObjectIdentifier("1.2.840.113549.1.7.1").dump()),  # id-data
)
_MESSAGE_DIGEST_OID = core.ObjectIdentifier("1.2.840.113549.1.9.4").dump()

#: Held while asn1crypto builds new structures out of certificate objects shared by threads.
#: asn1crypto computes encodings lazily and in place; two threads serialising the same shared
#: name at once were seen to corrupt it ("Integer value must be an integer ... not NoneType").
#: Only first-use encodings take it (never across an ``await``).
ASN1_CONSTRUCTION_LOCK = threading.Lock()
_PARTS_BY_SIGNER: dict[tuple, dict[str, bytes]] = {}


class PreEncodedPKCS11Signer(PKCS11Signer):
    """PKCS11Signer whose CMS envelope is assembled from DER encoded once per signer.

    pyHanko rebuilds the SignedData with asn1crypto for every signature, copying the parsed
    certificates into new structures and re-serialising them node by node — the largest
    single CPU cost of a signature once the rest is tuned. The content is identical: version,
    digest algorithm, encapsulated content info, the signer's certificate and chain, and one
    SignerInfo (issuer-and-serial identifier, signed attributes, signature, unsigned
    attributes). Integration tests validate every output with pyHanko and poppler.
    """

    _VERSIONS: ClassVar[dict[str, int]] = {"v1": 1, "v3": 3, "v4": 4}

    async def signed_attrs(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        attr_settings=None,
        content_type: str = "data",
        use_pades: bool = False,
        timestamper=None,
        dry_run: bool = False,
        is_pdf_sig: bool = True,
    ) -> cms.CMSAttributes:
        """The signed attributes pyHanko would produce, encoded without re-serialising.

        For a PAdES signature pyHanko's providers yield exactly one attribute besides
        contentType and messageDigest: signingCertificateV2, which only depends on the
        signer's certificate. Building it through asn1crypto cost ~30 ms per signature; it is
        encoded once and reused. Any other combination of providers takes pyHanko's path.
        """
        providers = list(
            self._signed_attr_providers(
                data_digest=data_digest,
                digest_algorithm=digest_algorithm,
                use_cades=use_pades,
                attr_settings=attr_settings or PdfCMSSignedAttributes(),
                timestamper=timestamper,
                is_pdf_sig=is_pdf_sig,
            )
        )
        if content_type == "data" and [type(p) for p in providers] == [
            SigningCertificateV2Provider
        ]:
            message_digest = der_tlv(
                0x30, _MESSAGE_DIGEST_OID + der_tlv(0x31, der_tlv(0x04, data_digest))
            )
            encoded = [
                _CONTENT_TYPE_DATA_ATTRIBUTE,
                message_digest,
                self._constant_parts()["signing_certificate_v2"],
            ]
            # DER: the elements of a SET OF are ordered by their encodings.
            return cms.CMSAttributes.load(der_tlv(0x31, b"".join(sorted(encoded))))
        # Not a plain PAdES signature: pyHanko's own path (never taken by PadesEngine).
        return await super().signed_attrs(
            data_digest,
            digest_algorithm,
            attr_settings=attr_settings,
            content_type=content_type,
            use_pades=use_pades,
            timestamper=timestamper,
            dry_run=dry_run,
            is_pdf_sig=is_pdf_sig,
        )

    def _constant_parts(self) -> dict[str, bytes]:
        """DER of the parts that only depend on the certificates, encoded once per process."""
        parts = getattr(self, "_parts", None)
        if parts is not None:
            return parts
        with ASN1_CONSTRUCTION_LOCK:
            key = (self.signing_cert.sha256, tuple(c.sha256 for c in self.cert_registry))
            parts = _PARTS_BY_SIGNER.get(key)
            if parts is None:
                certificates = [
                    self.signing_cert,
                    *(c for c in self.cert_registry if c != self.signing_cert),
                ]
                parts = {
                    "certificates": b"".join(c.dump() for c in certificates),
                    "sid": cms.IssuerAndSerialNumber(
                        {
                            "issuer": self.signing_cert.issuer,
                            "serial_number": self.signing_cert.serial_number,
                        }
                    ).dump(),
                    "signing_certificate_v2": simple_cms_attribute(
                        "signing_certificate_v2", as_signing_certificate_v2(self.signing_cert)
                    ).dump(),
                }
                _PARTS_BY_SIGNER[key] = parts
        self._parts = parts
        return parts

    def _package_signature(  # type: ignore[override]
        self,
        *,
        digest_algorithm: str,
        cms_version,
        signed_attrs: cms.CMSAttributes,
        signature: bytes,
        unsigned_attrs: cms.CMSAttributes | None,
        encap_content_info,
    ) -> cms.ContentInfo:
        if self.attribute_certs or digest_algorithm.startswith("shake"):
            return super()._package_signature(
                digest_algorithm=digest_algorithm,
                cms_version=cms_version,
                signed_attrs=signed_attrs,
                signature=signature,
                unsigned_attrs=unsigned_attrs,
                encap_content_info=encap_content_info,
            )
        parts = self._constant_parts()
        digest_algorithm_der = algos.DigestAlgorithm({"algorithm": digest_algorithm}).dump()
        signed_attrs_der = signed_attrs.dump()
        signer_info = (
            der_tlv(0x02, b"\x01")
            + parts["sid"]
            + digest_algorithm_der
            + b"\xa0"
            + signed_attrs_der[1:]  # [0] IMPLICIT SET OF Attribute
            + self.get_signature_mechanism_for_digest(digest_algorithm).dump()
            + der_tlv(0x04, signature)
        )
        if unsigned_attrs is not None and len(unsigned_attrs):
            signer_info += b"\xa1" + unsigned_attrs.dump()[1:]  # [1] IMPLICIT
        encapsulated = cms.EncapsulatedContentInfo(
            encap_content_info or {"content_type": "data"}
        ).dump()
        version = self._VERSIONS[cms_version]
        signed_data = der_tlv(
            0x30,
            der_tlv(0x02, bytes([version]))
            + der_tlv(0x31, digest_algorithm_der)
            + encapsulated
            + der_tlv(0xA0, parts["certificates"])  # certificates [0] IMPLICIT SET OF
            + der_tlv(0x31, der_tlv(0x30, signer_info)),
        )
        signed_data_oid = core.ObjectIdentifier("1.2.840.113549.1.7.2").dump()
        return cms.ContentInfo.load(der_tlv(0x30, signed_data_oid + der_tlv(0xA0, signed_data)))


class VietnamTimePdfSigner(signers.PdfSigner):
    """PdfSigner whose signing time (``/M``, stamp text) is fixed by the caller, in +07:00."""

    def __init__(
        self,
        *args,
        signing_time: dt.datetime,
        presign_cache: dict | None = None,
        presign_key: tuple | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time
        self._presign_cache = presign_cache
        self._presign_key = presign_key

    def init_signing_session(self, pdf_out, existing_fields_only=False):
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self._signing_time
        cache, key = self._presign_cache, self._presign_key
        if cache is not None and key is not None:
            # The pre-signing validation (signer path, TSA path, CRLs to embed for B-LT)
            # depends only on the signer, the TSA and the validation context: reuse it for
            # every document while the context lives (see PadesEngine._validation_context).
            compute = session.perform_presign_validation

            async def cached_presign_validation(pdf_out=None):
                status = cache.get(key)
                if status is None:
                    status = cache[key] = await compute(pdf_out)
                return status

            session.perform_presign_validation = cached_presign_validation
        return session
