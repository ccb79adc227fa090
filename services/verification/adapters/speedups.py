"""Behaviour-identical speedups of the libraries under the verification engine.

asn1crypto compares distinguished names through RFC 4518 string preparation
(``NameTypeAndValue._ldap_string_prep``), a pure function of the string that costs about a
sixth of a PDF validation: every embedded certificate is parsed afresh per document, and its
names are prepared again for each comparison in path building and CRL matching. Memoising it
by the input string changes no result (the function ignores ``self``) and is shared by every
trust-store version — it caches string normalisation, never a validation outcome.

pyhanko-certvalidator looks a certificate up in a CRL by scanning every entry
(``validate_crl.find_cert_in_list``), for every certificate of every path of every document: a
national CA's CRL has tens of thousands of entries. :func:`find_cert_in_list` answers from an
index by serial number built once per parsed CRL object — the same answer, in the same order;
CRLs with indirect entries (the certificateIssuer entry extension, whose value carries over to
later entries) go to the original scan.

asn1crypto's ``Name.__eq__`` prepares and compares every attribute value of both names, and
pyHanko compares names many times per signature (issuer/serial matching of every embedded
certificate, ESS certificate ids), on certificates parsed afresh for each document. The answer
is a pure function of the two DER encodings: :func:`_name_eq` answers ``True`` for
byte-identical encodings (same attribute types and values, so equal under RFC 5280 §7.1 too)
and otherwise remembers the original's answer per pair of encodings (LRU) — string
normalisation again, never a validation outcome. ``Name.hashable`` (the prepared form the
path builder indexes certificates by, recomputed on every access) is likewise remembered per
encoding.

pyhanko-certvalidator checks a CRL's signature (``validate_crl._verify_crl_signature``) for
every certificate of every path, re-encoding the whole ``tbsCertList`` each time — asn1crypto
walks every parsed entry to see whether it changed: with a 20 000-entry CRL that walk was
three quarters of a validation. :func:`_verify_crl_signature` remembers, per parsed CRL object
(kept alive, like the index above) and per issuer key and algorithm, that the signature
verified with the stateless default validator; a failure is never remembered (the original
runs again and raises again), and any other validator always gets the original.

pyHanko's PDF parser reads every name, number and keyword one byte at a time through a
generator (``misc.read_until_delimiter``) and decodes each name byte by byte
(``generic._decode_name``). :func:`read_until_delimiter` finds the delimiter in one slice of
the stream and leaves the stream where the original does; :func:`_decode_name` remembers the
decoded text per byte string (a fresh ``NameObject`` each call, since the parser then sets the
object's ``container_ref``; errors are raised anew, never remembered).

The PDF hex-string reader speedup lives in ``services/signing/adapters/pdf_speedups.py``.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic as pdf_generic
from pyhanko.pdf_utils import misc as pdf_misc
from pyhanko_certvalidator.revinfo import validate_crl
from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

_ORIGINAL_PREP = asn1_x509.NameTypeAndValue._ldap_string_prep
_ORIGINAL_FIND = validate_crl.find_cert_in_list
_ORIGINAL_NAME_EQ = asn1_x509.Name.__eq__
_ORIGINAL_VERIFY_CRL_SIGNATURE = validate_crl._verify_crl_signature
_ORIGINAL_NAME_HASHABLE = asn1_x509.Name.hashable
_ORIGINAL_READ_UNTIL_DELIMITER = pdf_generic.read_until_delimiter
_ORIGINAL_DECODE_NAME = pdf_generic._decode_name
_TOKEN_END = re.compile(b"[" + re.escape(pdf_misc.PDF_WHITESPACE + pdf_misc.PDF_DELIMITERS) + b"]")
_TOKEN_CHUNK = 128
_CACHE_SIZE = 8192
_CERTIFICATE_ISSUER_OID = asn1_crl.CRLEntryExtensionId("certificate_issuer").dump()
_MAX_INDEXED_CRLS = 64


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _prepared(string: str) -> str:
    return _ORIGINAL_PREP(None, string)


def _memoised_prep(self: Any, string: str) -> str:
    if not isinstance(string, str):  # the original raises its own errors for odd input
        return _ORIGINAL_PREP(self, string)
    return _prepared(string)


# id(CRL object) -> (the object, the (issuer key, algorithm) pairs its signature verified with).
_verified_crls: OrderedDict[int, tuple[Any, set[tuple[bytes, bytes]]]] = OrderedDict()
_verified_crls_lock = threading.Lock()


def _verify_crl_signature(certificate_list: Any, public_key: Any, sig_validator: Any) -> None:
    if type(sig_validator) is not DefaultSignatureValidator:
        _ORIGINAL_VERIFY_CRL_SIGNATURE(certificate_list, public_key, sig_validator)
        return
    key = id(certificate_list)
    signer = (public_key.dump(), certificate_list["signature_algorithm"].dump())
    with _verified_crls_lock:
        hit = _verified_crls.get(key)
        if hit is not None and hit[0] is certificate_list and signer in hit[1]:
            _verified_crls.move_to_end(key)
            return
    _ORIGINAL_VERIFY_CRL_SIGNATURE(certificate_list, public_key, sig_validator)  # or raises
    with _verified_crls_lock:
        hit = _verified_crls.get(key)
        if hit is None or hit[0] is not certificate_list:
            hit = (certificate_list, set())
            _verified_crls[key] = hit
        hit[1].add(signer)
        while len(_verified_crls) > _MAX_INDEXED_CRLS:
            _verified_crls.popitem(last=False)


def read_until_delimiter(stream: Any) -> bytes:
    """Same contract as pyHanko's: the bytes up to the next whitespace or delimiter, the
    stream left on that byte (or at the end when there is none)."""
    collected = b""
    while True:
        chunk = stream.read(_TOKEN_CHUNK)
        if not chunk:
            return collected
        found = _TOKEN_END.search(chunk)
        if found is not None:
            stream.seek(found.start() - len(chunk), os.SEEK_CUR)
            return collected + chunk[: found.start()]
        collected += chunk


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _decoded_name(name_bytes: bytes) -> str:
    return str(_ORIGINAL_DECODE_NAME(name_bytes))


def _decode_name(name_bytes: bytes) -> Any:
    return pdf_generic.NameObject(_decoded_name(bytes(name_bytes)))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _hashable_of(der: bytes) -> str:
    return str(_ORIGINAL_NAME_HASHABLE.fget(asn1_x509.Name.load(der)))


def _name_hashable(self: Any) -> str:
    return _hashable_of(self.dump())


_name_answers: OrderedDict[tuple[bytes, bytes], bool] = OrderedDict()
_name_answers_lock = threading.Lock()


def _name_eq(self: Any, other: Any) -> bool:
    if not isinstance(other, asn1_x509.Name):
        return bool(_ORIGINAL_NAME_EQ(self, other))
    mine, theirs = self.dump(), other.dump()
    if mine == theirs:
        return True
    key = (mine, theirs) if mine < theirs else (theirs, mine)  # equality is symmetric
    with _name_answers_lock:
        known = _name_answers.get(key)
    if known is not None:
        return known
    answer = bool(_ORIGINAL_NAME_EQ(self, other))
    with _name_answers_lock:
        _name_answers[key] = answer
        while len(_name_answers) > _CACHE_SIZE:
            _name_answers.popitem(last=False)
    return answer


@dataclass
class _CrlIndex:
    indirect: bool = False
    by_serial: dict[bytes, list[Any]] = field(default_factory=dict)


# id(CRL object) -> (the object, kept alive so its id stays its own; its index).
_indexes: OrderedDict[int, tuple[asn1_crl.CertificateList, _CrlIndex]] = OrderedDict()
_indexes_lock = threading.Lock()


def _index_of(certificate_list: asn1_crl.CertificateList) -> _CrlIndex:
    key = id(certificate_list)
    with _indexes_lock:
        hit = _indexes.get(key)
        if hit is not None and hit[0] is certificate_list:
            _indexes.move_to_end(key)
            return hit[1]
    index = _CrlIndex()
    for entry in certificate_list["tbs_cert_list"]["revoked_certificates"]:
        if _CERTIFICATE_ISSUER_OID in entry.dump():
            index = _CrlIndex(indirect=True)
            break
        index.by_serial.setdefault(entry["user_certificate"].dump(), []).append(entry)
    with _indexes_lock:
        _indexes[key] = (certificate_list, index)
        while len(_indexes) > _MAX_INDEXED_CRLS:
            _indexes.popitem(last=False)
    return index


def find_cert_in_list(
    cert: Any, cert_issuer_name: Any, certificate_list: Any, crl_authority_name: Any
) -> Any:
    """Same contract and results as pyhanko-certvalidator's, by index for direct CRLs."""
    index = _index_of(certificate_list)
    if index.indirect:
        return _ORIGINAL_FIND(cert, cert_issuer_name, certificate_list, crl_authority_name)
    if isinstance(cert, asn1_x509.Certificate):
        serial = cert["tbs_certificate"]["serial_number"].dump()
    else:
        serial = cert["ac_info"]["serial_number"].dump()
    # Without indirect entries every entry speaks for the CRL's own authority.
    if crl_authority_name != cert_issuer_name:
        return None, None
    for revoked_cert in index.by_serial.get(serial, ()):
        if not revoked_cert.crl_reason_value:
            crl_reason = asn1_crl.CRLReason("unspecified")
        else:
            crl_reason = revoked_cert.crl_reason_value
        if revoked_cert.critical_extensions - validate_crl.KNOWN_CRL_ENTRY_EXTENSIONS:
            raise NotImplementedError()
        return revoked_cert["revocation_date"].native, crl_reason
    return None, None


def install() -> None:
    """Memoise name preparation and decoding, compare identical names by bytes, index CRL
    lookups, remember verified CRL signatures, read PDF tokens in slices (idempotent)."""
    asn1_x509.NameTypeAndValue._ldap_string_prep = _memoised_prep  # type: ignore[method-assign]
    asn1_x509.Name.__eq__ = _name_eq  # type: ignore[method-assign,assignment]
    asn1_x509.Name.hashable = property(_name_hashable)  # type: ignore[method-assign,assignment]
    validate_crl.find_cert_in_list = find_cert_in_list
    pdf_generic.read_until_delimiter = read_until_delimiter
    pdf_generic._decode_name = _decode_name
    validate_crl._verify_crl_signature = _verify_crl_signature


def uninstall() -> None:
    """Restore the libraries' own (the benchmark's naive baseline runs them as shipped)."""
    asn1_x509.NameTypeAndValue._ldap_string_prep = _ORIGINAL_PREP  # type: ignore[method-assign]
    asn1_x509.Name.__eq__ = _ORIGINAL_NAME_EQ  # type: ignore[method-assign]
    asn1_x509.Name.hashable = _ORIGINAL_NAME_HASHABLE  # type: ignore[method-assign]
    validate_crl.find_cert_in_list = _ORIGINAL_FIND
    pdf_generic.read_until_delimiter = _ORIGINAL_READ_UNTIL_DELIMITER
    pdf_generic._decode_name = _ORIGINAL_DECODE_NAME
    validate_crl._verify_crl_signature = _ORIGINAL_VERIFY_CRL_SIGNATURE


def original_prep() -> Any:
    return _ORIGINAL_PREP


def original_find() -> Any:
    return _ORIGINAL_FIND


def original_name_eq() -> Any:
    return _ORIGINAL_NAME_EQ


def original_read_until_delimiter() -> Any:
    return _ORIGINAL_READ_UNTIL_DELIMITER


def original_decode_name() -> Any:
    return _ORIGINAL_DECODE_NAME


def original_verify_crl_signature() -> Any:
    return _ORIGINAL_VERIFY_CRL_SIGNATURE


def original_name_hashable() -> Any:
    return _ORIGINAL_NAME_HASHABLE.fget
