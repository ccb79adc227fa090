"""Signing refusals, each a class of its own so the gRPC layer can map it to a precise status.

The mapping to gRPC status codes lives here (as names, so the domain imports no gRPC):
bad input is INVALID_ARGUMENT, a missing prerequisite FAILED_PRECONDITION, a missing key
NOT_FOUND, a token refusing the PIN UNAUTHENTICATED or PERMISSION_DENIED.
"""

from __future__ import annotations


class SigningRefused(Exception):
    """Base class: the signing operation was refused; nothing but the audit entry is written."""

    grpc_status = "INTERNAL"


class InvalidDocument(SigningRefused):
    """The input document cannot be signed as it is."""

    grpc_status = "INVALID_ARGUMENT"


class NotAPdf(InvalidDocument):
    """The input does not start with a ``%PDF-`` header."""


class EncryptedPdf(InvalidDocument):
    """The PDF is encrypted; the platform signs only unencrypted documents."""


class CorruptPdf(InvalidDocument):
    """The PDF structure (cross-reference table, trailer, objects) cannot be read."""


class DocumentTooLarge(InvalidDocument):
    """The input exceeds the configured size limit."""


class UnsupportedAttachment(InvalidDocument):
    """An attachment of a type that is neither PDF nor wrappable was given."""


class BrokenExistingSignature(InvalidDocument):
    """A signature already in the document does not verify (document altered after signing)."""


class FormFieldProblem(InvalidDocument):
    """A form field the workflow needs is missing, of the wrong type, or already filled."""


class SignerCertificateProblem(SigningRefused):
    """The signer's certificate cannot be used to sign now."""

    grpc_status = "FAILED_PRECONDITION"


class SignerCertificateExpired(SignerCertificateProblem):
    """The signer's certificate is outside its validity period."""


class SignerCertificateRevoked(SignerCertificateProblem):
    """The signer's certificate is on its CA's revocation list."""


class SignerCertificateUntrusted(SignerCertificateProblem):
    """The signer's certificate does not chain to a configured trust anchor."""


class PersonSignatureMissing(SigningRefused):
    """The organisation signature was requested before a valid authorised person's signature.

    NĐ 30/2020/NĐ-CP Phụ lục I and QĐ 29/2021/QĐ-UBND Điện Biên Điều 10 khoản 2: the clerk
    numbers the document and signs for the organisation only after the authorised person
    signed; the only exception is a digitised copy of a paper original (Điều 10 khoản 5).
    """

    grpc_status = "FAILED_PRECONDITION"


class SigningEngineFailed(SigningRefused):
    """The PDF engine failed unexpectedly (reported with the engine's error class)."""

    grpc_status = "INTERNAL"
