"""An :class:`~services.distribution.edxml.dsig.XmlSigner` over an agency key in the HSM.

The signing service's gRPC API signs PDFs only (PAdES steps); it has no XML signature call. The
edXML packages and the status packages sent to the national axis are therefore signed here,
with the agency's own key on the same PKCS#11 token (``services/signing/adapters/hsm.py``):
RSA PKCS#1 v1.5 over SHA-256, the certificate read from the token next to the key. The private
key never leaves the token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.signing.adapters.hsm import Hsm, HsmError


class AgencyKeyUnusable(RuntimeError):
    """The agency key cannot sign edXML; the message names the key id and the reason."""


@dataclass
class HsmXmlSigner:
    """Signs with the private key ``key_id`` of ``hsm``; its certificate comes from the token."""

    hsm: Hsm
    key_id: bytes
    _certificate_der: bytes = field(default=b"", init=False, repr=False)

    @property
    def certificate_der(self) -> bytes:
        if not self._certificate_der:
            try:
                self._certificate_der = self.hsm.certificate_der(self.key_id)
            except HsmError as error:
                raise AgencyKeyUnusable(
                    f"key_id {self.key_id.hex()}: no certificate on the token ({error})"
                ) from error
        return self._certificate_der

    def sign(self, data: bytes) -> bytes:
        try:
            return self.hsm.sign(self.key_id, data)
        except HsmError as error:
            raise AgencyKeyUnusable(f"key_id {self.key_id.hex()}: {error}") from error
