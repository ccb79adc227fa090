"""Our own review of the incremental updates made after a PDF signature (NĐ 30/2020 shapes).

pyHanko's generic difference analysis (``StandardDiffPolicy``) rebuilds reverse reference
paths for every object of every later revision; on the platform's two-signature documents it
is about half of a validation. The platform only ever accepts a few update shapes after the
person's certification signature — the clerk filling the number/date fields, the
organisation's signature (field, value, widget appearance), DSS/VRI validation data and a
document timestamp — so this module reads only the objects each later revision's xref section
lists and checks them against those shapes:

* ``ALLOWED`` with the pyHanko :class:`ModificationLevel` the changes amount to (NONE,
  LTA_UPDATES for DSS/metadata/document timestamps, FORM_FILLING for field filling and new
  signatures) — the caller then tells pyHanko to skip its own analysis;
* ``DISALLOWED`` for changes that are never legitimate after signing: a page's content,
  resources or geometry replaced (the shadow attacks "hide" and "hide-and-replace"), a page
  content stream overwritten (shadow attack "replace");
* ``UNRECOGNISED`` for anything else; the caller then runs pyHanko's analysis as before, so
  an unusual but legitimate shape is never refused by this module and an unusual attack is
  never waved through by it.

Nothing here is cached between documents; per document, each revision is reviewed once and
shared by all signatures (the review of revision k does not depend on the signature).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel

# Keys of the catalog that signing tools legitimately touch after a signature.
_CATALOG_UPDATABLE = frozenset({"/DSS", "/Extensions", "/Version", "/Metadata"})
_ACROFORM_UPDATABLE = frozenset({"/Fields", "/SigFlags"})
_VRI_KEYS = frozenset({"/Type", "/Cert", "/CRL", "/OCSP", "/TU", "/TS"})
_FILL_UPDATABLE = frozenset({"/V", "/AP", "/Ff", "/DA"})
_SIGN_UPDATABLE = frozenset({"/V", "/AP"})
# What a page shows and where: changing any of these after signing changes the signed content
# (the shadow attacks). Other page entries (/Tabs, /StructParents...) are left to pyHanko.
_PAGE_DRAWING_KEYS = frozenset(
    {
        "/Contents",
        "/Resources",
        "/MediaBox",
        "/CropBox",
        "/BleedBox",
        "/TrimBox",
        "/ArtBox",
        "/Rotate",
        "/Group",
        "/UserUnit",
        "/Parent",
        "/Type",
    }
)
# A new signature field (merged with its widget) may carry only these: no actions (/AA, /A),
# no locks or seed values (those change what later signatures may do: pyHanko judges them).
_NEW_SIGNATURE_FIELD_KEYS = frozenset(
    {
        "/FT",
        "/T",
        "/TU",
        "/TM",
        "/Type",
        "/Subtype",
        "/F",
        "/Rect",
        "/P",
        "/AP",
        "/V",
        "/Ff",
        "/MK",
        "/DA",
        "/NM",
        "/M",
        "/Border",
        "/BS",
        "/StructParent",
    }
)
_SIGNATURE_VALUE_TYPES = {
    "/Sig": ModificationLevel.FORM_FILLING,
    "/DocTimeStamp": ModificationLevel.LTA_UPDATES,
}
# Bounds for hostile files: deep structures and huge page trees are left to pyHanko.
_MAX_COMPARE_DEPTH = 48
_MAX_WALK_OBJECTS = 20000
_MAX_PAGE_NODES = 5000
# ``N G R``, with the name of the dictionary key right before it when there is one: found by
# its rare ``R`` token first, then read backwards in a short window (one pass over the file).
_REFERENCE_TOKEN = re.compile(rb"[\x00\t\n\f\r ]R(?![A-Za-z0-9_])")
_REFERENCE = re.compile(
    rb"(?:(/[^\x00\t\n\f\r ()<>\[\]{}/%]+)[\x00\t\n\f\r ]*)?"
    rb"(?<![0-9])([0-9]{1,10})[\x00\t\n\f\r ]+[0-9]{1,5}[\x00\t\n\f\r ]+R\Z"
)
_REFERENCE_WINDOW = 160


class Outcome(enum.Enum):
    ALLOWED = "allowed"
    DISALLOWED = "disallowed"
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True)
class UpdateReview:
    """What the updates after one signature amount to.

    ``level`` is meaningful only when ``outcome`` is ALLOWED; ``reason`` names the revision
    and the object for the other outcomes.
    """

    outcome: Outcome
    level: ModificationLevel
    reason: str = ""


_NONE = UpdateReview(Outcome.ALLOWED, ModificationLevel.NONE, "no update after the signature")


class _Unrecognised(Exception):
    pass


class _Disallowed(Exception):
    pass


def _ref_key(value: Any) -> tuple[int, int] | None:
    if isinstance(value, generic.IndirectObject):
        return value.idnum, value.generation
    return None


def _trailer_ref(trailer: Any, name: str) -> tuple[int, int] | None:
    return _ref_key(trailer.raw_get(name)) if name in trailer else None


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    """Structural equality of raw PDF values; references compare by id (not resolved)."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False  # a reference never equals a direct value, nor a name a string
    if kind is generic.IndirectObject:
        return a.idnum == b.idnum and a.generation == b.generation  # type: ignore[no-any-return]
    if depth > _MAX_COMPARE_DEPTH:
        return False  # conservative: "different" never lets a change through
    if isinstance(a, generic.StreamObject):
        return _same_dict(a, b, depth) and a.encoded_data == b.encoded_data
    if isinstance(a, generic.DictionaryObject):
        return _same_dict(a, b, depth)
    if isinstance(a, generic.ArrayObject):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _same_dict(a: Any, b: Any, depth: int) -> bool:
    if set(a.keys()) != set(b.keys()):
        return False
    return all(_same(a.raw_get(key), b.raw_get(key), depth + 1) for key in a)


def _changed_keys(before: Any, after: Any) -> set[str]:
    keys = set(before.keys()) | set(after.keys())
    return {
        key
        for key in keys
        if key not in before
        or key not in after
        or not _same(before.raw_get(key), after.raw_get(key))
    }


def _references(value: Any, depth: int = 0) -> Iterator[tuple[int, int]]:
    """Every indirect reference inside a raw value (streams: their dictionary)."""
    if depth > _MAX_COMPARE_DEPTH:
        raise _Unrecognised("object nested too deeply to review")
    key = _ref_key(value)
    if key is not None:
        yield key
    elif isinstance(value, generic.DictionaryObject):
        for item in value:
            yield from _references(value.raw_get(item), depth + 1)
    elif isinstance(value, generic.ArrayObject):
        for item in value:
            yield from _references(item, depth + 1)


@dataclass
class _ByteReferences:
    first_revision: dict[int, int] = field(default_factory=dict)
    keys: dict[int, set[bytes]] = field(default_factory=dict)


@dataclass
class _RevisionFacts:
    """What one revision changed, as recognised so far."""

    level: ModificationLevel = ModificationLevel.LTA_UPDATES
    new_signature_fields: set[tuple[int, int]] = field(default_factory=set)
    new_widgets: set[tuple[int, int]] = field(default_factory=set)

    def raise_level(self, level: ModificationLevel) -> None:
        if level.value > self.level.value:
            self.level = level


class RevisionReviewer:
    """Reviews the incremental updates of one document; make one per document (not shared)."""

    def __init__(self, reader: PdfFileReader, fill_fields: frozenset[str]) -> None:
        self._reader = reader
        self._xrefs = reader.xrefs
        self._fill_fields = fill_fields
        self._objects: dict[tuple[int, int, Any], Any] = {}
        self._revisions: dict[int, UpdateReview] = {}
        self._byte_references: _ByteReferences | None = None

    # -- object access ------------------------------------------------------------------

    def _at(self, key: tuple[int, int], revision: int) -> Any:
        """The object ``key`` as it stood at ``revision`` (None: not present then)."""
        ref = generic.Reference(key[0], key[1], pdf=self._reader)
        marker = self._xrefs.get_historical_ref(ref, revision)
        if marker is None:
            return None
        cache_key = (key[0], key[1], marker)
        try:
            return self._objects[cache_key]
        except KeyError:
            pass
        if marker == self._xrefs[ref]:
            value = self._reader.get_object(ref)  # current version: the reader's cache
        else:
            value = self._reader.get_object(ref, revision=revision)
        self._objects[cache_key] = value
        return value

    def _dict_at(self, key: tuple[int, int], revision: int, what: str) -> Any:
        value = self._at(key, revision)
        if not isinstance(value, generic.DictionaryObject):
            raise _Unrecognised(f"{what} (object {key[0]}) is not a dictionary")
        return value

    def _references_in_bytes(self) -> _ByteReferences:
        """Who refers to which object number, from a byte-level scan of the file.

        Every ``N G R`` in each revision's body and in the decoded object streams it introduces,
        with the dictionary key in front of it. A false match in binary data only makes the
        review more cautious (more objects look referenced, by more keys).
        """
        if self._byte_references is not None:
            return self._byte_references
        xrefs = self._xrefs
        ends = [xrefs.get_xref_container_info(r).end_location for r in range(xrefs.total_revisions)]
        found = _ByteReferences()
        stream = self._reader.stream
        stream.seek(0)
        data = stream.read(ends[-1] if ends else 0)
        start = 0
        for revision, end in enumerate(ends):
            chunks = [data[start:end]]
            for container in xrefs.object_streams_used_in(revision):
                chunks.append(self._reader.get_object(container).data)
            for chunk in chunks:
                for token in _REFERENCE_TOKEN.finditer(chunk):
                    end_of_token = token.end()
                    window = chunk[max(0, end_of_token - _REFERENCE_WINDOW) : end_of_token]
                    match = _REFERENCE.search(window)
                    if match is None:
                        continue
                    number = int(match.group(2))
                    found.first_revision.setdefault(number, revision)
                    found.keys.setdefault(number, set()).add(match.group(1) or b"")
            start = max(start, end)
        self._byte_references = found
        return found

    # -- public -------------------------------------------------------------------------

    def review_after(self, signed_revision: int) -> UpdateReview:
        """The combined review of every revision after ``signed_revision``."""
        total = self._xrefs.total_revisions
        if signed_revision >= total - 1:
            return _NONE
        level = ModificationLevel.NONE
        unrecognised: UpdateReview | None = None
        for revision in range(signed_revision + 1, total):
            review = self.review_revision(revision)
            if review.outcome is Outcome.DISALLOWED:
                return review
            if review.outcome is Outcome.UNRECOGNISED:
                unrecognised = unrecognised or review
            elif review.level.value > level.value:
                level = review.level
        if unrecognised is not None:
            return unrecognised
        return UpdateReview(Outcome.ALLOWED, level, f"{total - 1 - signed_revision} update(s)")

    def review_revision(self, revision: int) -> UpdateReview:
        cached = self._revisions.get(revision)
        if cached is None:
            try:
                facts = self._review(revision)
                cached = UpdateReview(Outcome.ALLOWED, facts.level)
            except _Disallowed as exc:
                cached = UpdateReview(
                    Outcome.DISALLOWED, ModificationLevel.OTHER, f"revision {revision}: {exc}"
                )
            except _Unrecognised as exc:
                cached = UpdateReview(
                    Outcome.UNRECOGNISED, ModificationLevel.OTHER, f"revision {revision}: {exc}"
                )
            except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
                # Malformed structure: let pyHanko's own analysis (and its errors) decide.
                cached = UpdateReview(
                    Outcome.UNRECOGNISED,
                    ModificationLevel.OTHER,
                    f"revision {revision}: unreadable ({type(exc).__name__})",
                )
            except Exception as exc:  # PdfReadError etc.: pyHanko decides
                cached = UpdateReview(
                    Outcome.UNRECOGNISED,
                    ModificationLevel.OTHER,
                    f"revision {revision}: unreadable ({type(exc).__name__})",
                )
            self._revisions[revision] = cached
        return cached

    # -- one revision -------------------------------------------------------------------

    def _review(self, revision: int) -> _RevisionFacts:
        xrefs = self._xrefs
        previous = revision - 1
        if xrefs.refs_freed_in_revision(revision):
            raise _Unrecognised("objects freed")
        trailer_before = self._reader.trailer.flatten(previous)
        trailer_after = self._reader.trailer.flatten(revision)
        if "/Encrypt" in trailer_after:
            raise _Unrecognised("encryption added")
        catalog = _ref_key(trailer_after.raw_get("/Root"))
        if catalog is None or catalog != _ref_key(trailer_before.raw_get("/Root")):
            raise _Unrecognised("the document catalog was replaced")
        info_before = _trailer_ref(trailer_before, "/Info")
        info = _trailer_ref(trailer_after, "/Info")
        if info_before is not None and info != info_before:
            raise _Unrecognised("the document information dictionary was replaced")

        changed = {(ref.idnum, ref.generation) for ref in xrefs.explicit_refs_in_revision(revision)}
        changed -= {(ref.idnum, ref.generation) for ref in xrefs.xref_stream_refs}
        existing = {
            key
            for key in changed
            if xrefs.get_historical_ref(generic.Reference(*key), previous) is not None
        }
        new = changed - existing
        facts = _RevisionFacts()

        catalog_before = self._dict_at(catalog, previous, "catalog")
        catalog_after = self._dict_at(catalog, revision, "catalog")
        volatile = _changed_keys(catalog_before, catalog_after) if catalog in changed else set()
        if volatile - _CATALOG_UPDATABLE:
            raise _Unrecognised(f"catalog entries {sorted(volatile - _CATALOG_UPDATABLE)} changed")
        for key in ("/Extensions", "/Version"):
            if key in volatile and any(True for _ in _references(catalog_after.raw_get(key))):
                raise _Unrecognised(f"catalog {key} refers to other objects")
        dss = self._catalog_ref(catalog_after, "/DSS")
        dss_before = self._catalog_ref(catalog_before, "/DSS")
        metadata = self._catalog_ref(catalog_after, "/Metadata")
        metadata_before = self._catalog_ref(catalog_before, "/Metadata")
        acroform = self._catalog_ref(catalog_after, "/AcroForm")

        for key in sorted(existing - {catalog}):
            if key == info:
                self._check_referenced_only_by(key, {b"/Info"}, "document information")
            elif key == metadata and key == metadata_before:
                self._check_referenced_only_by(key, {b"/Metadata"}, "XMP metadata")
            elif key == dss and key == dss_before:
                self._check_referenced_only_by(key, {b"/DSS"}, "DSS")
            elif key == acroform:
                self._review_acroform(key, previous, revision, new, facts)
            elif (
                self._maybe_vri(key, previous)
                and dss_before is not None
                and (self._is_vri_entry(key, dss_before, previous))
            ):
                self._check_keys(key, previous, revision, _VRI_KEYS, "VRI entry")
            else:
                self._review_other(key, previous, revision, new, facts)

        self._check_new_objects(new, revision, facts)
        return facts

    def _catalog_ref(self, catalog: Any, name: str) -> tuple[int, int] | None:
        if name not in catalog:
            return None
        key = _ref_key(catalog.raw_get(name))
        if key is None:
            raise _Unrecognised(f"catalog {name} is a direct object")
        return key

    def _check_referenced_only_by(self, key: tuple[int, int], names: set[bytes], what: str) -> None:
        """The document information, XMP metadata and DSS are never drawn — unless the same
        object also serves as something drawn (a content stream, a form XObject): refuse that.
        Checked on the bytes, so that these objects need not be parsed at all."""
        referrers = self._references_in_bytes().keys.get(key[0], set())
        if referrers - names:
            raise _Unrecognised(f"the {what} object {key[0]} is also referenced otherwise")

    def _check_keys(
        self,
        key: tuple[int, int],
        previous: int,
        revision: int,
        allowed: frozenset[str],
        what: str,
    ) -> None:
        for moment in (previous, revision):
            value = self._dict_at(key, moment, what)
            if isinstance(value, generic.StreamObject) or set(value.keys()) - allowed:
                raise _Unrecognised(f"{what} (object {key[0]}) has unexpected entries")

    def _maybe_vri(self, key: tuple[int, int], previous: int) -> bool:
        """Cheap pre-check (fields and pages are the usual changed objects): a plain dict."""
        before = self._at(key, previous)
        return (
            isinstance(before, generic.DictionaryObject)
            and not isinstance(before, generic.StreamObject)
            and "/FT" not in before
            and before.get("/Type") != "/Page"
        )

    def _is_vri_entry(self, key: tuple[int, int], dss: tuple[int, int], previous: int) -> bool:
        store = self._at(dss, previous)
        if not isinstance(store, generic.DictionaryObject) or "/VRI" not in store:
            return False
        vri = store.raw_get("/VRI")
        if not isinstance(vri, generic.DictionaryObject):
            return False
        return any(_ref_key(vri.raw_get(name)) == key for name in vri)

    def _review_acroform(
        self,
        key: tuple[int, int],
        previous: int,
        revision: int,
        new: set[tuple[int, int]],
        facts: _RevisionFacts,
    ) -> None:
        before = self._dict_at(key, previous, "AcroForm")
        after = self._dict_at(key, revision, "AcroForm")
        volatile = _changed_keys(before, after)
        if volatile - _ACROFORM_UPDATABLE:
            unexpected = sorted(volatile - _ACROFORM_UPDATABLE)
            raise _Unrecognised(f"AcroForm entries {unexpected} changed")
        if "/Fields" in volatile:
            previous_fields = before.raw_get("/Fields") if "/Fields" in before else None
            added = _appended(previous_fields, after.raw_get("/Fields"), "AcroForm /Fields")
            for field_key in added:
                if field_key not in new:
                    raise _Unrecognised(f"existing object {field_key[0]} added to /Fields")
                facts.new_signature_fields.add(field_key)

    def _review_other(
        self,
        key: tuple[int, int],
        previous: int,
        revision: int,
        new: set[tuple[int, int]],
        facts: _RevisionFacts,
    ) -> None:
        before = self._at(key, previous)
        after = self._at(key, revision)
        if isinstance(before, generic.StreamObject) or not isinstance(
            before, generic.DictionaryObject
        ):
            if isinstance(before, generic.StreamObject) and self._is_page_content(key, previous):
                raise _Disallowed(f"page content stream (object {key[0]}) overwritten")
            raise _Unrecognised(f"object {key[0]} changed")
        if not isinstance(after, generic.DictionaryObject) or isinstance(
            after, generic.StreamObject
        ):
            raise _Unrecognised(f"object {key[0]} changed its kind")
        if before.get("/Type") == "/Page":
            self._review_page(key, before, after, new, facts)
            return
        if "/FT" not in before or "/Parent" in before or "/Kids" in before:
            raise _Unrecognised(f"object {key[0]} changed")
        if "/Parent" in after or "/Kids" in after:
            raise _Unrecognised(f"form field (object {key[0]}) restructured")
        volatile = _changed_keys(before, after)
        field_type = before.get("/FT")
        name = str(before.get("/T", ""))
        if field_type == "/Tx" and name in self._fill_fields and after.get("/FT") == "/Tx":
            if volatile - _FILL_UPDATABLE:
                raise _Unrecognised(f"form field {name!r} entries {sorted(volatile)} changed")
            for key_name in ("/V", "/DA"):
                if key_name in after and any(True for _ in _references(after.raw_get(key_name))):
                    raise _Unrecognised(f"form field {name!r} {key_name} refers to other objects")
            self._allow_appearance(after, volatile, facts)
            facts.raise_level(ModificationLevel.FORM_FILLING)
            return
        if field_type == "/Sig" and after.get("/FT") == "/Sig" and "/V" not in before:
            if volatile - _SIGN_UPDATABLE:
                raise _Unrecognised(f"signature field {name!r} entries {sorted(volatile)} changed")
            if "/V" in after:
                self._allow_signature_value(after, revision, new, facts, name)
            self._allow_appearance(after, volatile, facts)
            facts.raise_level(ModificationLevel.FORM_FILLING)
            return
        raise _Unrecognised(f"form field {name!r} (object {key[0]}) changed")

    def _allow_signature_value(
        self,
        field_dict: Any,
        revision: int,
        new: set[tuple[int, int]],
        facts: _RevisionFacts,
        name: str,
    ) -> None:
        value = _ref_key(field_dict.raw_get("/V"))
        if value is None or value not in new:
            raise _Unrecognised(f"signature field {name!r} value is not a new object")
        signature = self._at(value, revision)
        level = _SIGNATURE_VALUE_TYPES.get(
            signature.get("/Type") if isinstance(signature, generic.DictionaryObject) else None
        )
        if level is None:
            raise _Unrecognised(f"signature field {name!r} value is not a signature")
        facts.raise_level(level)

    def _allow_appearance(self, field_dict: Any, volatile: set[str], facts: _RevisionFacts) -> None:
        if "/AP" in volatile and "/AP" in field_dict:
            appearance = field_dict.raw_get("/AP")
            if not isinstance(appearance, generic.DictionaryObject):
                raise _Unrecognised("appearance dictionary is not direct")

    def _review_page(
        self,
        key: tuple[int, int],
        before: Any,
        after: Any,
        new: set[tuple[int, int]],
        facts: _RevisionFacts,
    ) -> None:
        volatile = _changed_keys(before, after)
        drawn = volatile & _PAGE_DRAWING_KEYS
        if drawn:
            raise _Disallowed(f"page object {key[0]}: {', '.join(sorted(drawn))} changed")
        if volatile - {"/Annots"}:
            raise _Unrecognised(
                f"page object {key[0]}: {', '.join(sorted(volatile - {'/Annots'}))} changed"
            )
        if "/Annots" in volatile:
            previous = before.raw_get("/Annots") if "/Annots" in before else None
            for widget in _appended(previous, after.raw_get("/Annots"), "page /Annots"):
                if widget not in new:
                    raise _Unrecognised(f"existing object {widget[0]} added to a page's /Annots")
                facts.new_widgets.add(widget)

    def _is_page_content(self, key: tuple[int, int], revision: int) -> bool:
        """Whether ``key`` is a content stream of a page at ``revision`` (bounded walk)."""
        catalog = _ref_key(self._reader.trailer.flatten(revision).raw_get("/Root"))
        if catalog is None:
            return False
        pages = self._at(catalog, revision)
        stack = [_ref_key(pages.raw_get("/Pages"))] if "/Pages" in pages else []
        seen: set[tuple[int, int]] = set()
        while stack and len(seen) < _MAX_PAGE_NODES:
            node_key = stack.pop()
            if node_key is None or node_key in seen:
                continue
            seen.add(node_key)
            node = self._at(node_key, revision)
            if not isinstance(node, generic.DictionaryObject):
                continue
            if "/Kids" in node:
                stack.extend(_ref_key(kid) for kid in node.raw_get("/Kids"))
            if "/Contents" in node:
                contents = node.raw_get("/Contents")
                items = contents if isinstance(contents, generic.ArrayObject) else [contents]
                if any(_ref_key(item) == key for item in items):
                    return True
        return False

    def _check_new_objects(
        self, new: set[tuple[int, int]], revision: int, facts: _RevisionFacts
    ) -> None:
        fields = facts.new_signature_fields
        if facts.new_widgets != fields:
            raise _Unrecognised("new widgets and new signature fields do not match")
        for key in sorted(fields):
            field_dict = self._dict_at(key, revision, "new signature field")
            extra = set(field_dict.keys()) - _NEW_SIGNATURE_FIELD_KEYS
            if field_dict.get("/FT") != "/Sig" or extra:
                raise _Unrecognised(f"new field (object {key[0]}) is not a plain signature field")
            if "/V" in field_dict:
                name = str(field_dict.get("/T", ""))
                self._allow_signature_value(field_dict, revision, new, facts, name)
            else:
                facts.raise_level(ModificationLevel.FORM_FILLING)
            self._allow_appearance(field_dict, {"/AP"}, facts)
        # A reference written before this revision to an object that did not exist yet would
        # make the new object part of whatever held that reference (say a page's resources)
        # without changing any existing object: a dangling-reference variant of the shadow
        # attacks. Such files are left to pyHanko.
        early = self._references_in_bytes().first_revision
        dangling = sorted(key[0] for key in new if early.get(key[0], revision) < revision)
        if dangling:
            raise _Unrecognised(f"objects {dangling[:5]} were referenced before they existed")


def _appended(before: Any, after: Any, what: str) -> list[tuple[int, int]]:
    """References appended to an array (``before`` may be None); anything else is refused."""
    if before is None:
        before = generic.ArrayObject()
    if not isinstance(before, generic.ArrayObject) or not isinstance(after, generic.ArrayObject):
        raise _Unrecognised(f"{what} is not a direct array")
    # list(): ArrayObject's indexing resolves references, iteration does not.
    old_items, new_items = list(before), list(after)
    if len(new_items) < len(old_items) or not all(
        _same(x, y) for x, y in zip(old_items, new_items[: len(old_items)], strict=True)
    ):
        raise _Unrecognised(f"{what}: entries removed or reordered")
    added = []
    for item in new_items[len(old_items) :]:
        key = _ref_key(item)
        if key is None:
            raise _Unrecognised(f"{what}: a direct entry was added")
        added.append(key)
    return added


__all__ = ["Outcome", "RevisionReviewer", "UpdateReview"]
