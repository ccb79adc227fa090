"""Certificate profiles shared by the development PKI and the verification test corpus.

Both build the same CA shape (RFC 5280 §4.2.1.9/§4.2.1.3): a root with no path-length limit or
an intermediate that may only issue end-entity certificates, key usage keyCertSign + cRLSign,
subject and authority key identifiers, and — when given — where the issuer's CRL is published.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def crl_distribution_point(url: str) -> x509.CRLDistributionPoints:
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


def ca_certificate(
    name: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    *,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    not_before: dt.datetime,
    not_after: dt.datetime,
    issuer_crl_url: str | None = None,
) -> x509.Certificate:
    """A root CA (``issuer`` None: self-signed) or an intermediate signed by ``issuer``."""
    issuer_cert, signing_key = issuer if issuer else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_cert.subject if issuer_cert else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.BasicConstraints(ca=True, path_length=None if issuer is None else 0),
            critical=True,
        )
        .add_extension(CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
        if issuer_crl_url:
            builder = builder.add_extension(crl_distribution_point(issuer_crl_url), critical=False)
    return builder.sign(signing_key, hashes.SHA256())
