"""Hardened XML reading shared by the parser and the signature verifier.

The rules (documented in ``docs/edxml.md``):

- no DTD: a package with a ``DOCTYPE`` is rejected (this rules out entity expansion —
  "billion laughs" — and external entities); entities are never resolved, nothing is fetched
  from the network, ``huge_tree`` stays off so libxml2's depth and text-size limits apply;
- stray bytes before the XML declaration (seen in real traffic: ``1212<?xml ...``) are skipped
  when an XML declaration follows within ``max_stray_prefix_bytes``; the skip is reported;
- namespace prefixes used but never declared (the SDK sample ``edoc.edxml`` writes
  ``edXML:AttachmentEncoded`` outside the element that declares ``edXML``, and ``xlink:href``
  with no ``xlink`` declaration) are repaired by libxml2's recovery mode — only when they are
  the *only* errors — and each one is reported; any other syntax error rejects the package.
"""

from __future__ import annotations

import re

from lxml import etree

from services.distribution.edxml.errors import MalformedPackage, PackageTooLarge
from services.distribution.edxml.model import EDXML_NAMESPACE, Issue

XMLDSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#"
XLINK_NAMESPACE = "http://www.w3.org/1999/xlink"
_UTF8_BOM = b"\xef\xbb\xbf"
_XML_DECLARATION = b"<?xml"
_NAMESPACE_ERROR_TYPES = frozenset({"NS_ERR_UNDEFINED_NAMESPACE"})
_ROOT_START = re.compile(rb"<[A-Za-z_:]")
_DOCTYPE_ERROR = (
    "package: DOCTYPE declarations are not allowed (entity expansion and external "
    "entities are refused)"
)


def _hardened_parser(*, recover: bool, keep_comments: bool) -> etree.XMLParser:
    # A new parser per call: lxml parsers keep state and are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=recover,
        remove_comments=not keep_comments,
        remove_pis=not keep_comments,
        collect_ids=False,
    )


def strip_stray_prefix(
    data: bytes, *, strict: bool, max_stray_prefix_bytes: int
) -> tuple[bytes, list[Issue]]:
    """Skip stray bytes before the XML declaration, reporting it (strict: reject instead)."""
    body = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    if body.startswith(b"<"):
        return data, []
    declaration_at = body.find(_XML_DECLARATION, 0, max_stray_prefix_bytes + len(_XML_DECLARATION))
    if declaration_at <= 0:
        raise MalformedPackage(
            f"package: does not start with '<' and no XML declaration follows within the first "
            f"{max_stray_prefix_bytes} bytes (starts with {bytes(body[:16])!r})"
        )
    stray = bytes(body[:declaration_at])
    reason = f"{declaration_at} stray byte(s) {stray[:32]!r} before the XML declaration"
    if strict:
        raise MalformedPackage(f"package: {reason}")
    return body[declaration_at:], [Issue("package", f"skipped {reason}", "recovery")]


def read_tree(
    data: bytes,
    *,
    strict: bool,
    max_package_bytes: int,
    max_stray_prefix_bytes: int,
    keep_comments: bool = False,
) -> tuple[etree._Element, list[Issue]]:
    """Parse package bytes into an lxml root element under the hardening rules above."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedPackage(f"package: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_package_bytes:
        raise PackageTooLarge(
            f"package: {len(data)} bytes exceeds the limit of {max_package_bytes} bytes"
        )
    if not data.strip():
        raise MalformedPackage("package: empty input")
    data, issues = strip_stray_prefix(
        data, strict=strict, max_stray_prefix_bytes=max_stray_prefix_bytes
    )
    # Refuse a DTD before libxml2 sees it, so no entity is ever declared.
    root_start = _ROOT_START.search(data)
    if b"<!DOCTYPE" in data[: root_start.start() if root_start else len(data)]:
        raise MalformedPackage(_DOCTYPE_ERROR)
    strict_parser = _hardened_parser(recover=False, keep_comments=keep_comments)
    try:
        root = etree.fromstring(data, strict_parser)
    except etree.XMLSyntaxError as error:
        entries = list(strict_parser.error_log)
        namespace_only = bool(entries) and all(
            entry.domain_name == "NAMESPACE" and entry.type_name in _NAMESPACE_ERROR_TYPES
            for entry in entries
        )
        if strict or not namespace_only:
            raise MalformedPackage(f"package: not well-formed XML: {error}") from None
        parser = _hardened_parser(recover=True, keep_comments=keep_comments)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as second:
            raise MalformedPackage(f"package: not well-formed XML: {second}") from None
        if root is None:
            raise MalformedPackage(f"package: not well-formed XML: {error}") from None
        for entry in parser.error_log:
            if entry.domain_name != "NAMESPACE":
                raise MalformedPackage(
                    f"package: not well-formed XML: {entry.message} (line {entry.line})"
                ) from None
            issues.append(
                Issue(
                    f"line {entry.line}",
                    f"{entry.message}; recovered: the undeclared prefix is ignored",
                    "recovery",
                )
            )
    except (ValueError, etree.LxmlError) as error:
        raise MalformedPackage(f"package: cannot be read as XML: {error}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise MalformedPackage(_DOCTYPE_ERROR)
    return root, issues


def local_name(element: etree._Element) -> str | None:
    """The edXML local name of an element, or ``None`` for a foreign-namespace element.

    Accepts the edXML namespace, no namespace (what recovery leaves for an undeclared
    ``edXML:`` prefix: the tag is then literally ``edXML:Name``) and, for ``Signature``, the
    XML-DSig namespace.
    """
    tag = element.tag
    if not isinstance(tag, str):
        return None
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        if namespace == EDXML_NAMESPACE or (namespace == XMLDSIG_NAMESPACE and name == "Signature"):
            return name
        return None
    return tag.rpartition(":")[2]


def element_children(element: etree._Element) -> list[etree._Element]:
    """Child elements only (no comments, processing instructions or entity references)."""
    return [child for child in element if isinstance(child.tag, str)]
