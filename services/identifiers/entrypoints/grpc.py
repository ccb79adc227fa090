"""The identifiers service: agency directory and identifier rules over gRPC.

This is the exemplar the other services copy: a plain class, dependencies declared (not
constructed), one method per RPC, each a thin adapter from protobuf to a use case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import ClassVar

import grpc
from lienthong.identifiers.v1 import identifiers_pb2 as pb

from services.chassis.db import Database, UnitOfWork
from services.chassis.entrypoints import Grpc, event_handler
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.events import Event
from services.identifiers.adapters import orm
from services.identifiers.adapters.cache import Cache, TtlCache
from services.identifiers.adapters.repository import AgencyRepository
from services.identifiers.domain.codes import (
    AgencyCode,
    CodeError,
    DocumentId,
    DossierCode,
    InvalidAgencyCode,
)
from services.identifiers.service_layer import directory_format, use_cases
from services.identifiers.service_layer.messages import agency_from_pb, agency_to_pb

rpc = Grpc.implementing(pb, "Identifiers")
MAX_PAGE = 500


def _doc_id_pb(doc: DocumentId) -> pb.DocumentId:
    return pb.DocumentId(
        organ_id=str(doc.organ_id),
        promulgation_date=doc.promulgation_date.isoformat(),
        number=doc.number,
        notation=doc.notation,
        text=str(doc),
    )


def _dossier_pb(code: DossierCode) -> pb.DossierCode:
    return pb.DossierCode(
        organ_id=str(code.organ_id), year=code.year, notation=code.notation, text=str(code)
    )


def _iso_date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument(f"{text!r} must be a date yyyy-MM-dd", field=field) from exc


def _code(text: str, field: str) -> str:
    try:
        return str(AgencyCode.parse(text, field))
    except InvalidAgencyCode as exc:
        raise InvalidArgument(exc.reason, field=field) from exc


class IdentifiersService:
    name = "identifiers"
    # Injected as a factory of units of work: ``with self.uow() as uow: ...``.
    uow: Callable[[], UnitOfWork] = Database(schema=orm.SCHEMA, metadata=orm.metadata)  # type: ignore[assignment]
    # Pure-domain errors that are plain ValueErrors: their status on the wire.
    cache: TtlCache[pb.Agency] = Cache(ttl=60.0)  # type: ignore[assignment]
    error_statuses: ClassVar[dict[type[Exception], str]] = {CodeError: "INVALID_ARGUMENT"}

    # -- directory -------------------------------------------------------------------------
    @rpc
    def GetAgency(self, request: pb.GetAgencyRequest, context: grpc.ServicerContext) -> pb.Agency:
        cached = self.cache.get(request.code)
        if cached is not None:
            return cached
        code = _code(request.code, "code")
        with self.uow() as uow:
            found = AgencyRepository(uow.session).get_with_time(code)
        if found is None:
            raise NotFound(f"{code} is not in the directory", field="code")
        message = agency_to_pb(*found)
        self.cache.put(code, message)
        return message

    @event_handler(use_cases.AGENCY_TOPIC, broadcast=True)
    def on_agency_changed(self, event: Event, uow: UnitOfWork | None) -> None:
        """Another replica (or this one) changed an agency: forget what this process cached."""
        self.cache.invalidate(event.subject)

    @rpc
    def SearchAgencies(
        self, request: pb.SearchAgenciesRequest, context: grpc.ServicerContext
    ) -> pb.AgencyPage:
        size = request.page_size or 50
        if not 1 <= size <= MAX_PAGE:
            raise InvalidArgument(f"must be 1..{MAX_PAGE}", field="page_size")
        after = _code(request.page_token, "page_token") if request.page_token else ""
        with self.uow() as uow:
            found = AgencyRepository(uow.session).search(
                request.query,
                kinds=list(request.kinds),
                include_inactive=request.include_inactive,
                after_code=after,
                limit=size + 1,
            )
        page = pb.AgencyPage(agencies=[agency_to_pb(a) for a in found[:size]])
        if len(found) > size:
            page.next_page_token = found[size - 1].code
        return page

    @rpc
    def ListChildren(
        self, request: pb.ListChildrenRequest, context: grpc.ServicerContext
    ) -> pb.AgencyList:
        code = _code(request.code, "code")
        with self.uow() as uow:
            repo = AgencyRepository(uow.session)
            if repo.get(code) is None:
                raise NotFound(f"{code} is not in the directory", field="code")
            children = repo.children(code, include_inactive=request.include_inactive)
        return pb.AgencyList(agencies=[agency_to_pb(a) for a in children])

    @rpc
    def ResolveGroup(
        self, request: pb.ResolveGroupRequest, context: grpc.ServicerContext
    ) -> pb.AgencyList:
        root = _code(request.root_code, "root_code")
        kinds = set(request.kinds)
        with self.uow() as uow:
            repo = AgencyRepository(uow.session)
            if repo.get(root) is None:
                raise NotFound(f"{root} is not in the directory", field="root_code")
            members = repo.descendants(root) if request.recursive else repo.children(root)
        selected = [
            a
            for a in members
            if a.is_active
            and (not kinds or a.kind in kinds)
            and (a.exchanges_electronically or not request.only_electronic)
        ]
        return pb.AgencyList(agencies=[agency_to_pb(a) for a in selected])

    @rpc
    def UpsertAgency(
        self, request: pb.UpsertAgencyRequest, context: grpc.ServicerContext
    ) -> pb.UpsertAgencyResponse:
        candidate = agency_from_pb(request.agency)
        with self.uow() as uow:
            saved = use_cases.save_agency(uow, candidate, expected_version=request.expected_version)
            uow.commit()
        return pb.UpsertAgencyResponse(
            agency=agency_to_pb(saved.agency), created=saved.created, changed=saved.changed
        )

    @rpc
    def MergeAgency(
        self, request: pb.MergeAgencyRequest, context: grpc.ServicerContext
    ) -> pb.Agency:
        code = _code(request.code, "code")
        into = _code(request.into_code, "into_code")
        effective = _iso_date(request.effective_from, "effective_from")
        with self.uow() as uow:
            merged = use_cases.merge_agency(uow, code, into, effective)
            uow.commit()
        self.cache.invalidate(code)
        return agency_to_pb(merged)

    @rpc
    def ImportAgencies(
        self, request: pb.ImportAgenciesRequest, context: grpc.ServicerContext
    ) -> pb.ImportAgenciesResponse:
        if request.format == pb.DIRECTORY_FORMAT_JSON:
            agencies = directory_format.parse_json(request.content)
        elif request.format == pb.DIRECTORY_FORMAT_CSV:
            agencies = directory_format.parse_csv(request.content)
        else:
            raise InvalidArgument("must be JSON or CSV", field="format")
        with self.uow() as uow:
            result = use_cases.import_agencies(uow, agencies)
            uow.commit()
        self.cache.invalidate(*(a.code for a in agencies))
        return pb.ImportAgenciesResponse(
            created=result.created, updated=result.updated, unchanged=result.unchanged
        )

    @rpc
    def ExportAgencies(
        self, request: pb.ExportAgenciesRequest, context: grpc.ServicerContext
    ) -> pb.ExportAgenciesResponse:
        with self.uow() as uow:
            agencies = AgencyRepository(uow.session).all()
        if request.format == pb.DIRECTORY_FORMAT_CSV:
            return pb.ExportAgenciesResponse(content=directory_format.to_csv(agencies))
        if request.format == pb.DIRECTORY_FORMAT_JSON:
            return pb.ExportAgenciesResponse(content=directory_format.to_json(agencies))
        raise InvalidArgument("must be JSON or CSV", field="format")

    # -- identifier rules (pure) -------------------------------------------------------------
    @rpc
    def ValidateAgencyCode(
        self, request: pb.ValidateAgencyCodeRequest, context: grpc.ServicerContext
    ) -> pb.ValidateAgencyCodeResponse:
        try:
            code = AgencyCode.parse(request.code)
        except InvalidAgencyCode as exc:
            return pb.ValidateAgencyCodeResponse(valid=False, reason=exc.reason)
        with self.uow() as uow:
            registered = AgencyRepository(uow.session).get(str(code)) is not None
        return pb.ValidateAgencyCodeResponse(valid=True, level=code.level, registered=registered)

    @rpc
    def BuildDocumentId(
        self, request: pb.BuildDocumentIdRequest, context: grpc.ServicerContext
    ) -> pb.DocumentId:
        promulgated = _iso_date(request.promulgation_date, "promulgation_date")
        if request.number < 1:
            raise InvalidArgument("document numbers start at 1", field="number")
        return _doc_id_pb(
            DocumentId.build(request.organ_id, promulgated, request.number, request.notation)
        )

    @rpc
    def ParseDocumentId(
        self, request: pb.ParseDocumentIdRequest, context: grpc.ServicerContext
    ) -> pb.DocumentId:
        return _doc_id_pb(DocumentId.parse(request.text, "text"))

    @rpc
    def BuildDossierCode(
        self, request: pb.BuildDossierCodeRequest, context: grpc.ServicerContext
    ) -> pb.DossierCode:
        return _dossier_pb(DossierCode.build(request.organ_id, request.year, request.notation))

    @rpc
    def ParseDossierCode(
        self, request: pb.ParseDossierCodeRequest, context: grpc.ServicerContext
    ) -> pb.DossierCode:
        return _dossier_pb(DossierCode.parse(request.text, "text"))
