"""Behaviour-identical speedups of the libraries under the verification engine.

asn1crypto compares distinguished names through RFC 4518 string preparation
(``NameTypeAndValue._ldap_string_prep``), a pure function of the string that costs about a
sixth of a PDF validation: every embedded certificate is parsed afresh per document, and its
names are prepared again for each comparison in path building and CRL matching. Memoising it
by the input string changes no result (the function ignores ``self``) and is shared by every
trust-store version — it caches string normalisation, never a validation outcome.

The PDF hex-string reader speedup lives in ``services/signing/adapters/pdf_speedups.py``.
"""

from __future__ import annotations

import functools
from typing import Any

from asn1crypto import x509 as asn1_x509

_ORIGINAL_PREP = asn1_x509.NameTypeAndValue._ldap_string_prep
_CACHE_SIZE = 8192


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _prepared(string: str) -> str:
    return _ORIGINAL_PREP(None, string)


def _memoised_prep(self: Any, string: str) -> str:
    if not isinstance(string, str):  # the original raises its own errors for odd input
        return _ORIGINAL_PREP(self, string)
    return _prepared(string)


def install() -> None:
    """Memoise name preparation (idempotent)."""
    asn1_x509.NameTypeAndValue._ldap_string_prep = _memoised_prep  # type: ignore[method-assign]


def uninstall() -> None:
    """Restore asn1crypto's own (the benchmark's naive baseline runs libraries as shipped)."""
    asn1_x509.NameTypeAndValue._ldap_string_prep = _ORIGINAL_PREP  # type: ignore[method-assign]


def original_prep() -> Any:
    return _ORIGINAL_PREP
