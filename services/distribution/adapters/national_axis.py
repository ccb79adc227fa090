"""The national document exchange axis (Trục liên thông văn bản quốc gia), as a port.

Documents to or from outside the province go through it: send a package, list what was
received for an agency (and what an agency sent, with the statuses its receivers gave), get
one, update a status, and sync the agency list. Production binds an SDK client of the axis
here; :class:`LocalAxisSimulator` is the in-memory axis that tests use (same contract, no
network). Status packages sent to the axis carry the agency's XML-DSig (QĐ 28/2018 Điều 6:
the exchanged packages are signed); the simulator can insist on it (``require_signed``).

Recall, update and replace travel as document packages with ``BussinessDocType`` 1, 2 or 3.
A recall carries the recalled document's own ``DocumentId`` (as the axis's sample
``edoc_revocation.edxml`` does); an update or replacement names the earlier document in
``Bussiness/ReplacementInfoList`` (else, an update keeping its ``DocumentId``, by that). The
simulator plays the outside receiver's software: it records 13 on the earlier document and
answers 15 at once, or 16 for the agencies in ``refuse_notices`` (code → reason) — except for
the ``hub_agencies``, whose hub answers through ``update_status`` itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from services.distribution.edxml import dsig
from services.distribution.edxml.codes import BussinessDocType, StatusCode
from services.distribution.edxml.errors import EdxmlError
from services.distribution.edxml.model import DocumentPackage, StatusPackage
from services.distribution.edxml.parse import parse


class AxisError(RuntimeError):
    """The axis refused a call; the message names the field and the reason."""


@dataclass(frozen=True, slots=True)
class AxisDocument:
    id: str
    from_code: str
    to_code: str
    package: bytes
    status_code: str = ""  # the latest status its receiver gave
    statuses: tuple[str, ...] = ()  # every status, in the order given
    last_status_package: bytes = b""  # as received, signature included
    notes: tuple[str, ...] = ()  # each status's Description (the reason of a 02 or 16)


@dataclass(frozen=True, slots=True)
class AxisAgency:
    code: str
    name: str


class NationalAxis(Protocol):
    def send(self, package: bytes, receivers: Sequence[str] | None = None) -> list[str]:
        """Hand the package to the axis for ``receivers`` (default: every ``To`` of it)."""
        ...

    def list_received(self, agency_code: str) -> list[AxisDocument]: ...

    def list_sent(self, agency_code: str) -> list[AxisDocument]:
        """What ``agency_code`` sent through the axis, with its receivers' statuses."""
        ...

    def get(self, document_id: str) -> AxisDocument: ...

    def update_status(self, status_package: bytes) -> None: ...

    def agencies(self) -> list[AxisAgency]: ...


@dataclass
class LocalAxisSimulator:
    """An axis in memory: what one sends, the addressed agencies can list, get and answer."""

    known_agencies: dict[str, str] = field(default_factory=dict)
    require_signed: bool = False  # refuse status packages without a valid XML-DSig
    refuse_notices: dict[str, str] = field(default_factory=dict)  # receiver → reason for 16
    # Agencies served by a hub that answers for itself (update_status); the simulator plays
    # the software of every other agency and answers recalls/updates for it.
    hub_agencies: set[str] = field(default_factory=set)
    _documents: dict[str, AxisDocument] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, package: bytes, receivers: Sequence[str] | None = None) -> list[str]:
        try:
            parsed = parse(package).package
        except EdxmlError as error:
            raise AxisError(f"package: {error}") from error
        if not isinstance(parsed, DocumentPackage):
            raise AxisError("package: a status goes through update_status")
        sender = parsed.header.from_.organ_id or ""
        addressed = [t.organ_id for t in parsed.header.to if t.organ_id]
        if receivers is None:
            receivers = addressed
        elif not set(receivers) <= set(addressed):
            stray = sorted(set(receivers) - set(addressed))
            raise AxisError(f"receivers: not addressed in package.To: {', '.join(stray)}")
        if not receivers:
            raise AxisError("package.To: no receiver")
        unknown = [code for code in receivers if code not in self.known_agencies]
        if unknown:
            raise AxisError(f"package.To: not on the axis: {', '.join(unknown)}")
        ids = []
        digest = hashlib.sha256(package).hexdigest()
        kind = _kind_of(parsed)
        with self._lock:
            for code in receivers:
                # The axis is idempotent per (package, receiver), like the hub itself.
                doc_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{digest}/{code}"))
                notice = kind is not BussinessDocType.NEW and doc_id not in self._documents
                if notice and code not in self.hub_agencies:
                    self._answer_notice(parsed, sender, code, kind)
                self._documents.setdefault(doc_id, AxisDocument(doc_id, sender, code, package))
                ids.append(doc_id)
        return ids

    def _answer_notice(
        self, notice: DocumentPackage, sender: str, receiver: str, kind: BussinessDocType
    ) -> None:
        """The outside receiver's answer to a recall/update/replace: 13, then 15 or 16."""
        trace = notice.trace_header_list
        bussiness = trace.bussiness if trace else None
        earlier_ids = {
            info.document_id
            for info in (bussiness.replacement_info_list if bussiness else ())
            if info.document_id
        }
        if kind is BussinessDocType.RECALL or not earlier_ids:
            earlier_ids = {notice.header.document_id}
        answer = StatusCode.RECALL_REFUSED if receiver in self.refuse_notices else None
        for doc_id, doc in list(self._documents.items()):
            if doc.from_code != sender or doc.to_code != receiver:
                continue
            held = parse(doc.package).package
            if not isinstance(held, DocumentPackage) or _kind_of(held) is not BussinessDocType.NEW:
                continue
            if held.header.document_id not in earlier_ids:
                continue
            codes = (StatusCode.RECALLED.value, (answer or StatusCode.RECALL_AGREED).value)
            reason = self.refuse_notices.get(receiver, "")
            self._documents[doc_id] = dataclasses.replace(
                doc,
                status_code=codes[-1],
                statuses=(*doc.statuses, *codes),
                notes=(*doc.notes, StatusCode.RECALLED.vietnamese, reason),
            )

    def list_received(self, agency_code: str) -> list[AxisDocument]:
        with self._lock:
            return [d for d in self._documents.values() if d.to_code == agency_code]

    def list_sent(self, agency_code: str) -> list[AxisDocument]:
        with self._lock:
            return [d for d in self._documents.values() if d.from_code == agency_code]

    def get(self, document_id: str) -> AxisDocument:
        with self._lock:
            found = self._documents.get(document_id)
        if found is None:
            raise AxisError(f"document_id: {document_id} is not on the axis")
        return found

    def update_status(self, status_package: bytes) -> None:
        try:
            parsed = parse(status_package).package
        except EdxmlError as error:
            raise AxisError(f"status_package: {error}") from error
        if not isinstance(parsed, StatusPackage) or parsed.status_code is None:
            raise AxisError("status_package: not a status package with a StatusCode")
        if self.require_signed:
            try:
                checked = dsig.verify(status_package)
            except EdxmlError as error:
                raise AxisError(f"status_package.Signature: {error}") from error
            if not checked.valid:
                raise AxisError(f"status_package.Signature: {'; '.join(checked.problems)}")
        reporter = parsed.from_.organ_id
        wanted = parsed.response_for.document_id if parsed.response_for else None
        with self._lock:
            for doc_id, doc in self._documents.items():
                header = parse(doc.package).package.header  # type: ignore[union-attr]
                if doc.to_code == reporter and header.document_id == wanted:
                    code = StatusCode(parsed.status_code).value
                    self._documents[doc_id] = dataclasses.replace(
                        doc,
                        status_code=code,
                        statuses=(*doc.statuses, code),
                        last_status_package=status_package,
                        notes=(*doc.notes, parsed.description or ""),
                    )
                    return
        raise AxisError(f"status_package.ResponseFor: no document {wanted} for {reporter}")

    def notice_reason(self, receiver: str) -> str:
        """Why ``receiver`` refuses recalls and updates (16), "" when it agrees (15)."""
        return self.refuse_notices.get(receiver, "")

    def agencies(self) -> list[AxisAgency]:
        return [AxisAgency(code, name) for code, name in sorted(self.known_agencies.items())]


def _kind_of(package: DocumentPackage) -> BussinessDocType:
    trace = package.trace_header_list
    kind = trace.bussiness.bussiness_doc_type if trace and trace.bussiness else None
    return kind if kind is not None else BussinessDocType.NEW
