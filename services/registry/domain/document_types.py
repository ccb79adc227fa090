"""Document types (tên loại văn bản) and copy forms (hình thức bản sao).

NĐ 30/2020/NĐ-CP Điều 7 lists 29 types of administrative document; Phụ lục III gives the
abbreviation used in the symbol (ký hiệu) of each, except công văn and thư công, which have
none, and the abbreviations of the three copy forms (Điều 25: sao y, sao lục, trích sao).
The list is data (``services/registry/data/document_types.json``); this module turns it into a
typed, read-only catalogue with lookups by key, abbreviation and (diacritic-insensitive) name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from services.chassis.text import fold, nfc
from services.registry.domain.errors import InvalidField, UnknownDocumentType

DOCUMENT_TYPES_RESOURCE = "document_types.json"


@dataclass(frozen=True, slots=True)
class DocumentType:
    """One type of NĐ 30/2020 Điều 7.

    ``abbreviation`` is ``None`` for công văn and thư công. ``may_be_legal_normative`` marks
    the types that can also be issued as a legal normative document (văn bản quy phạm pháp
    luật), which have their own number series and symbol form ``số/năm/ký hiệu``.
    """

    ordinal: int
    key: str
    name: str
    abbreviation: str | None
    qualifier: str | None = None
    may_be_legal_normative: bool = False

    @property
    def has_abbreviation(self) -> bool:
        """False for công văn and thư công, whose symbol carries no type abbreviation."""
        return self.abbreviation is not None


@dataclass(frozen=True, slots=True)
class CopyForm:
    """A form of copy (bản sao): SY sao y, TrS trích sao, SL sao lục."""

    key: str
    name: str
    abbreviation: str


class DocumentTypeCatalogue:
    """Read-only catalogue of document types and copy forms, loaded from data."""

    def __init__(self, types: list[DocumentType], copy_forms: list[CopyForm]) -> None:
        by_key: dict[str, DocumentType] = {}
        by_abbreviation: dict[str, DocumentType] = {}
        by_folded_name: dict[str, DocumentType] = {}
        for document_type in types:
            for index, value in (
                (by_key, document_type.key),
                (by_folded_name, fold(document_type.name)),
            ):
                if value in index:
                    raise InvalidField("document_types", f"duplicate entry {value!r}")
                index[value] = document_type
            if document_type.abbreviation is not None:
                if document_type.abbreviation in by_abbreviation:
                    raise InvalidField(
                        "document_types",
                        f"abbreviation {document_type.abbreviation!r} used twice",
                    )
                by_abbreviation[document_type.abbreviation] = document_type
        self._types = tuple(sorted(types, key=lambda t: t.ordinal))
        self._by_key: Mapping[str, DocumentType] = MappingProxyType(by_key)
        self._by_abbreviation: Mapping[str, DocumentType] = MappingProxyType(by_abbreviation)
        self._by_folded_name: Mapping[str, DocumentType] = MappingProxyType(by_folded_name)
        self._copy_forms = tuple(copy_forms)
        self._copy_by_abbreviation = MappingProxyType({c.abbreviation: c for c in copy_forms})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DocumentTypeCatalogue:
        """Build the catalogue from the parsed JSON document (see the data file's comment)."""
        try:
            types = [
                DocumentType(
                    ordinal=int(item["ordinal"]),
                    key=str(item["key"]),
                    name=nfc(str(item["name"])),
                    abbreviation=nfc(item["abbreviation"]) if item["abbreviation"] else None,
                    qualifier=nfc(item["qualifier"]) if item.get("qualifier") else None,
                    may_be_legal_normative=bool(item.get("may_be_legal_normative", False)),
                )
                for item in data["document_types"]
            ]
            copy_forms = [
                CopyForm(
                    key=str(c["key"]), name=nfc(c["name"]), abbreviation=nfc(c["abbreviation"])
                )
                for c in data["copy_forms"]
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidField("document_types", f"malformed catalogue data: {exc!r}") from exc
        return cls(types, copy_forms)

    @classmethod
    def load_default(cls) -> DocumentTypeCatalogue:
        """The catalogue shipped with the service (NĐ 30/2020 Điều 7, Phụ lục III)."""
        text = (
            resources.files("services.registry").joinpath("data", DOCUMENT_TYPES_RESOURCE)
        ).read_text(encoding="utf-8")
        return cls.from_mapping(json.loads(text))

    def __iter__(self) -> Iterator[DocumentType]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    @property
    def copy_forms(self) -> tuple[CopyForm, ...]:
        return self._copy_forms

    @property
    def abbreviations(self) -> frozenset[str]:
        return frozenset(self._by_abbreviation)

    def by_key(self, key: str, field: str = "document_type") -> DocumentType:
        try:
            return self._by_key[key]
        except KeyError:
            raise UnknownDocumentType(field, f"no document type with key {key!r}") from None

    def by_abbreviation(self, abbreviation: str, field: str = "document_type") -> DocumentType:
        """Exact, case-sensitive lookup: ``QĐ`` (quyết định) and ``QyĐ`` (quy định) differ."""
        try:
            return self._by_abbreviation[nfc(abbreviation)]
        except KeyError:
            raise UnknownDocumentType(
                field,
                f"{abbreviation!r} is not an abbreviation of NĐ 30/2020 Phụ lục III "
                "(công văn and thư công have none)",
            ) from None

    def by_name(self, name: str, field: str = "document_type") -> DocumentType:
        """Lookup by name, ignoring case and diacritics (``"quyet dinh"`` finds Quyết định)."""
        try:
            return self._by_folded_name[fold(name)]
        except KeyError:
            raise UnknownDocumentType(
                field, f"{name!r} is not one of the 29 types of NĐ 30/2020 Điều 7"
            ) from None

    def copy_form(self, abbreviation: str, field: str = "copy_form") -> CopyForm:
        try:
            return self._copy_by_abbreviation[nfc(abbreviation)]
        except KeyError:
            raise InvalidField(
                field, f"{abbreviation!r} is not a copy form (SY sao y, TrS trích sao, SL sao lục)"
            ) from None
