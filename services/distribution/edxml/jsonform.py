"""Package ↔ JSON, stable and reversible.

Form: ``{"kind": "document" | "status", "package": {...}}``. Inside ``package`` the keys are
the model's field names (``from_`` is written ``from``); ``None`` fields are written as
``null``; tuples as arrays; dates ``yyyy-MM-dd``; timestamps ISO 8601 with the Vietnam offset
(``2018-09-28T17:25:11+07:00``); enums as their wire value (priority ``0``, status ``"01"``);
attachment bytes as standard base64 in ``data``. Keys are sorted so equal packages give equal
text. ``package_from_json(package_to_json(p)) == p``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import types
import typing
from datetime import date, datetime
from enum import Enum
from typing import Any

from services.distribution.edxml.errors import InvalidField
from services.distribution.edxml.model import VIETNAM_TIME, DocumentPackage, StatusPackage

_KINDS: dict[str, type] = {"document": DocumentPackage, "status": StatusPackage}


def _key(name: str) -> str:
    return name.rstrip("_")


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {
            _key(item.name): _to_plain(getattr(value, item.name))
            for item in dataclasses.fields(value)
        }
    if isinstance(value, tuple):
        return [_to_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(VIETNAM_TIME).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def package_to_dict(package: DocumentPackage | StatusPackage) -> dict[str, Any]:
    """The JSON-ready dict of a package."""
    kind = "document" if isinstance(package, DocumentPackage) else "status"
    return {"kind": kind, "package": _to_plain(package)}


def package_to_json(package: DocumentPackage | StatusPackage, *, indent: int | None = 2) -> str:
    """The package as JSON text (UTF-8 safe, Vietnamese kept as is, keys sorted)."""
    return json.dumps(package_to_dict(package), ensure_ascii=False, sort_keys=True, indent=indent)


def _from_plain(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        arguments = [argument for argument in typing.get_args(hint) if argument is not type(None)]
        if value is None:
            return None
        return _from_plain(arguments[0], value, path)
    if origin is tuple:
        if not isinstance(value, list):
            raise InvalidField(path, f"expected an array, got {type(value).__name__}")
        (item_hint, _ellipsis) = typing.get_args(hint)
        return tuple(
            _from_plain(item_hint, item, f"{path}[{index}]") for index, item in enumerate(value)
        )
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise InvalidField(path, f"expected an object, got {type(value).__name__}")
        hints = typing.get_type_hints(hint)
        names = {_key(item.name): item.name for item in dataclasses.fields(hint)}
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise InvalidField(f"{path}.{unknown[0]}", "unknown key")
        return hint(
            **{
                names[key]: _from_plain(hints[names[key]], item, f"{path}.{key}")
                for key, item in value.items()
            }
        )
    try:
        if isinstance(hint, type) and issubclass(hint, Enum):
            return hint(value)
        if hint is datetime:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise InvalidField(path, "timestamps need an offset (+07:00)")
            return parsed.astimezone(VIETNAM_TIME)
        if hint is date:
            return date.fromisoformat(value)
        if hint is bytes:
            return base64.b64decode(value, validate=True)
    except (TypeError, ValueError, binascii.Error) as error:
        raise InvalidField(path, f"{value!r} is not a valid {hint.__name__}: {error}") from None
    expected = {str: str, int: int, bool: bool}.get(hint)
    if expected is not None:
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise InvalidField(path, f"expected {expected.__name__}, got {type(value).__name__}")
        return value
    raise InvalidField(path, f"unsupported type {hint!r}")


def package_from_dict(document: Any) -> DocumentPackage | StatusPackage:
    """Rebuild a package from :func:`package_to_dict` output; :class:`InvalidField` if wrong."""
    if not isinstance(document, dict) or set(document) != {"kind", "package"}:
        raise InvalidField("$", 'expected an object with exactly "kind" and "package"')
    cls = _KINDS.get(document["kind"])
    if cls is None:
        raise InvalidField("$.kind", f"{document['kind']!r} is not one of {sorted(_KINDS)}")
    return _from_plain(cls, document["package"], "$.package")


def package_from_json(text: str | bytes) -> DocumentPackage | StatusPackage:
    """Rebuild a package from JSON text."""
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidField("$", f"not JSON: {error}") from None
    return package_from_dict(document)
