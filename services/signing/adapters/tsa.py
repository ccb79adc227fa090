"""The platform's own RFC 3161 timestamp authority, with its key in the HSM.

* :class:`HsmTimestampAuthority` answers ``TimeStampReq`` objects: it builds the ``TSTInfo``
  and signs it (RSA PKCS#1 v1.5, SHA-256) with the TSA key selected by CKA_ID; the key handle
  is kept per thread (issue #4: re-reading the key on every timestamp costs).
* As a pyHanko ``TimeStamper`` it is used in-process by the signing service.
* :func:`rfc3161_wsgi_app` exposes it as an HTTP RFC 3161 endpoint (``POST``
  ``application/timestamp-query`` → ``application/timestamp-reply``), served by
  :func:`serve_http` or any WSGI server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from asn1crypto import algos, cms, core, tsp, x509
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from services.signing.adapters.der import der_tlv
from services.signing.adapters.hsm import Hsm
from services.signing.adapters.pyhanko_signers import ASN1_CONSTRUCTION_LOCK
from services.signing.adapters.trust import parse_fully

logger = logging.getLogger(__name__)

#: Policy OID of the development TSA (private arc, documented in docs/signing.md).
DEV_TSA_POLICY = "1.3.6.1.4.1.61286.1.1"
MAX_REQUEST_BYTES = 16 * 1024


class HsmTimestampAuthority(DummyTimeStamper):
    """A TSA whose signing key never leaves the token."""

    def __init__(
        self,
        hsm: Hsm,
        key_id: bytes,
        tsa_certificate: x509.Certificate,
        chain: Iterable[x509.Certificate] = (),
        policy_oid: str = DEV_TSA_POLICY,
    ) -> None:
        # pyHanko's base class expects a software key; ours is in the HSM, so None is passed
        # and the signing step is overridden below. SHA-256 for every TSTInfo signature.
        super().__init__(
            tsa_cert=tsa_certificate,
            tsa_key=None,  # type: ignore[arg-type]
            certs_to_embed=list(chain),  # type: ignore[arg-type]
            override_md="sha256",
        )
        self.hsm = hsm
        self.key_id = key_id
        self.policy_oid = policy_oid
        parse_fully(tsa_certificate, *self.certs_to_embed)  # read by every signing thread

    # -- fast path: the constant parts of every token are encoded once ----------------------
    def _constant_parts(self) -> dict[str, bytes]:
        parts = getattr(self, "_parts", None)
        if parts is not None:
            return parts
        with ASN1_CONSTRUCTION_LOCK:  # built from certificate objects shared by threads
            certificates = [self.tsa_cert, *self.certs_to_embed]
            parts = {
                "tsa_name": x509.GeneralName(
                    name="directory_name", value=self.tsa_cert.subject
                ).dump(),
                "signing_certificate_attribute": simple_cms_attribute(
                    "signing_certificate", general.as_signing_certificate(self.tsa_cert)
                ).dump(),
                "sid": cms.IssuerAndSerialNumber(
                    {
                        "issuer": self.tsa_cert.issuer,
                        "serial_number": self.tsa_cert.serial_number,
                    }
                ).dump(),
                "sha256": algos.DigestAlgorithm({"algorithm": "sha256"}).dump(),
                "rsa": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}).dump(),
                "certificates": b"".join(cert.dump() for cert in certificates),
                "policy": core.ObjectIdentifier(self.policy_oid).dump(),
            }
            self._parts = parts
        return parts

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """Answer one request with a token signed in the HSM (RFC 3161 §2.4.2).

        The TSTInfo and signed attributes are built with asn1crypto; the certificates, the
        signer identifier and the algorithm identifiers are pre-encoded, and the SignedData
        envelope is assembled as DER directly: re-serialising parsed certificates dominated
        the cost of a timestamp (18 ms → a few ms).
        """
        parts = self._constant_parts()
        now = dt.datetime.now(dt.UTC)
        serial = int.from_bytes(os.urandom(16), "big") >> 1
        tst_fields = [
            der_tlv(0x02, b"\x01"),  # version v1
            parts["policy"],
            req["message_imprint"].dump(),
            core.Integer(serial).dump(),
            core.GeneralizedTime(now).dump(),
            tsp.Accuracy({"seconds": 1}).dump(),
        ]
        if req["nonce"].native is not None:
            tst_fields.append(req["nonce"].dump())
        tst_fields.append(der_tlv(0xA0, parts["tsa_name"]))  # tsa [0] EXPLICIT GeneralName
        tst_info = der_tlv(0x30, b"".join(tst_fields))
        attributes = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(now)})),
                cms.CMSAttribute.load(parts["signing_certificate_attribute"]),
                simple_cms_attribute("message_digest", hashlib.sha256(tst_info).digest()),
            ]
        ).dump()
        signature = self.hsm.sign(self.key_id, attributes)
        signer_info = der_tlv(
            0x30,
            der_tlv(0x02, b"\x01")
            + parts["sid"]
            + parts["sha256"]
            + b"\xa0"
            + attributes[1:]  # signedAttrs [0] IMPLICIT: same content, new tag
            + parts["rsa"]
            + der_tlv(0x04, signature),
        )
        encapsulated = der_tlv(
            0x30,
            core.ObjectIdentifier("1.2.840.113549.1.9.16.1.4").dump()  # id-ct-TSTInfo
            + der_tlv(0xA0, der_tlv(0x04, tst_info)),
        )
        signed_data = der_tlv(
            0x30,
            der_tlv(0x02, b"\x03")
            + der_tlv(0x31, parts["sha256"])
            + encapsulated
            + der_tlv(0xA0, parts["certificates"])  # certificates [0] IMPLICIT SET OF
            + der_tlv(0x31, signer_info),
        )
        token = der_tlv(
            0x30,
            core.ObjectIdentifier("1.2.840.113549.1.7.2").dump() + der_tlv(0xA0, signed_data),
        )
        granted = der_tlv(0x30, der_tlv(0x02, b"\x00"))  # PKIStatusInfo { status granted }
        return tsp.TimeStampResp.load(der_tlv(0x30, granted + token))

    def _signed_attributes(
        self, tst_info_data: bytes, md_algorithm: str, dt_value: dt.datetime
    ) -> cms.CMSAttributes:
        """Signed attributes as pyHanko's reference implementation builds them."""
        digest = hashlib.new(md_algorithm, tst_info_data).digest()
        return cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute(
                    "signing_time", cms.Time({"utc_time": core.UTCTime(dt_value)})
                ),
                simple_cms_attribute(
                    "signing_certificate", general.as_signing_certificate(self.tsa_cert)
                ),
                simple_cms_attribute("message_digest", digest),
            ]
        )

    def respondder_tlv(self, request_der: bytes) -> bytes:
        """DER in, DER out, with RFC 3161 ``rejection`` for requests that do not parse."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            request.native  # noqa: B018 — forces a full parse, so bad input fails here
            response = self.request_tsa_response(request)
        except (ValueError, TypeError, KeyError) as exc:
            logger.info("TSA rejected a malformed request: %s", type(exc).__name__)
            response = tsp.TimeStampResp(
                {
                    "status": tsp.PKIStatusInfo(
                        {
                            "status": tsp.PKIStatus("rejection"),
                            "fail_info": tsp.PKIFailureInfo({"bad_data_format"}),
                        }
                    )
                }
            )
        return response.dump()


WsgiApp = Callable[[dict, Callable], list[bytes]]


def rfc3161_wsgi_app(authority: HsmTimestampAuthority) -> WsgiApp:
    """WSGI application of the RFC 3161 HTTP transport (RFC 3161 §3.4)."""

    def application(environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [("Allow", "POST")])
            return [b""]
        if environ.get("CONTENT_TYPE", "").split(";")[0].strip() != "application/timestamp-query":
            start_response("415 Unsupported Media Type", [("Content-Type", "text/plain")])
            return [b"Content-Type must be application/timestamp-query\n"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_REQUEST_BYTES:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"Content-Length must be between 1 and 16384\n"]
        body = environ["wsgi.input"].read(length)
        reply = authority.respondder_tlv(body)
        start_response(
            "200 OK",
            [("Content-Type", "application/timestamp-reply"), ("Content-Length", str(len(reply)))],
        )
        return [reply]

    return application


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        logger.debug("TSA %s " + format, self.client_address[0], *args)


def serve_http(authority: HsmTimestampAuthority, host: str, port: int) -> WSGIServer:
    """Build (not start) a WSGI server for the TSA; call ``serve_forever()`` on it."""
    return make_server(host, port, rfc3161_wsgi_app(authority), handler_class=_QuietHandler)
