"""Who a certificate names: person or agency, with the 13-character agency code.

Pure (no I/O). The agency code format ``NNN.NN.NN.XNN`` (e.g. ``000.00.01.H56``) is the
"mã định danh cơ quan" of QĐ 28/2018/QĐ-TTg Điều 10. In certificates the code is read from
``organizationIdentifier`` (2.5.4.97) first, then from an ``OU`` that matches the format.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509

from services.chassis.text import nfc
from services.identifiers.domain import codes
from services.identifiers.domain.codes import AgencyCode, is_valid_agency_code

DEV_MARKER_ORGANISATION = "LiênThông DEV — không dùng thật"
_ORGANIZATION_IDENTIFIER_OID = "2.5.4.97"


class InvalidAgencyCode(ValueError):
    """An agency code does not have the 13-character ``NNN.NN.NN.XNN`` form."""


def check_agency_code(code: str) -> str:
    """Return ``code`` if it is a valid agency code, else raise :class:`InvalidAgencyCode`."""
    try:
        return str(AgencyCode.parse(code))
    except codes.InvalidAgencyCode as exc:
        raise InvalidAgencyCode(
            f"agency code {code!r}: {exc.reason}; expected NNN.NN.NN.XNN, e.g. 000.00.01.H56"
        ) from exc


@dataclass(frozen=True)
class AgencyIdentity:
    """An agency (cơ quan, tổ chức) as named in its organisation certificate."""

    name: str
    code: str
    province: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", nfc(self.name))
        object.__setattr__(self, "province", nfc(self.province))
        check_agency_code(self.code)


@dataclass(frozen=True)
class PersonIdentity:
    """An authorised person (người có thẩm quyền) as named in a personal certificate."""

    full_name: str
    title: str
    agency: AgencyIdentity

    def __post_init__(self) -> None:
        object.__setattr__(self, "full_name", nfc(self.full_name))
        object.__setattr__(self, "title", nfc(self.title))


@dataclass(frozen=True)
class CertificateSubject:
    """What the platform reads from a signer certificate's subject."""

    common_name: str
    title: str | None
    organisation: str | None
    agency_code: str | None

    @property
    def is_person(self) -> bool:
        """A personal certificate names a title; an agency certificate does not."""
        return self.title is not None


def read_subject(certificate: asn1_x509.Certificate) -> CertificateSubject:
    """Extract name, title, organisation and agency code from an asn1crypto certificate."""
    common_name = title = organisation = agency_code = None
    units: list[str] = []
    for rdn in certificate.subject.chosen:
        for attribute in rdn:
            oid = attribute["type"].dotted
            value = attribute["value"].native
            if not isinstance(value, str):
                continue
            value = nfc(value)
            if oid == "2.5.4.3":
                common_name = value
            elif oid == "2.5.4.12":
                title = value
            elif oid == "2.5.4.10":
                organisation = value
            elif oid == "2.5.4.11":
                units.append(value)
            elif oid == _ORGANIZATION_IDENTIFIER_OID and is_valid_agency_code(value):
                agency_code = value
    if agency_code is None:
        agency_code = next((unit for unit in units if is_valid_agency_code(unit)), None)
    return CertificateSubject(
        common_name=common_name or "",
        title=title,
        organisation=organisation,
        agency_code=agency_code,
    )
