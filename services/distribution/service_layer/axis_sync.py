"""One round of synchronisation with the national axis, as the scheduled worker runs it.

The same use cases as the ``SyncNationalAxis`` / ``SyncAxisAgencies`` RPCs
(:func:`use_cases.import_from_axis`, :func:`use_cases.apply_axis_statuses`,
:func:`use_cases.sync_axis_agencies`), but for every agency of the hub at once and failure
tolerant: an agency whose import fails is logged and counted, the others go on, and the next
round tries it again (QĐ 28/2018 Điều 9: what the axis holds for an agency must reach it).

"The hub's agencies" are the agencies on the axis's list that the identifiers directory knows
as ours (in the province, exchanging electronically, not of kind ``national_axis``); the answer
per code is cached until the next agency-list sync, so a round costs the directory nothing once
warm. A code the directory does not know is not ours (the agency-list sync adds it as an
outside agency).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.distribution.service_layer import use_cases
from services.distribution.service_layer.ports import Directory

log = logging.getLogger(__name__)


@dataclass
class AxisSyncReport:
    """What one round did; ``failures`` names each step that failed (it is retried next round)."""

    agencies_listed: int = 0
    agencies_added: int = 0
    hub_agencies: int = 0
    imported: int = 0
    statuses_applied: int = 0
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures


class AxisSynchronizer:
    """Pulls what the axis holds for the hub's agencies, and the outside receivers' statuses."""

    def __init__(
        self, unit_of_work: Callable[[], UnitOfWork], directory: Directory, axis: Any
    ) -> None:
        self.unit_of_work = unit_of_work
        self.directory = directory
        self.axis = axis
        self._ours: dict[str, bool] = {}  # agency code → one of the hub's agencies

    def sync_agencies(self, report: AxisSyncReport) -> None:
        """The axis's agency list into the directory; forgets which codes are ours."""
        try:
            report.agencies_listed, report.agencies_added = use_cases.sync_axis_agencies(
                self.directory, self.axis
            )
        except Exception as error:  # the axis or the directory away: next round
            log.warning("axis agency-list sync failed", exc_info=True)
            report.failures = (*report.failures, f"agencies: {error}")
        self._ours.clear()

    def hub_agency_codes(self) -> list[str]:
        """Codes on the axis's list that are agencies of this hub (directory-checked, cached)."""
        codes = []
        for agency in self.axis.agencies():
            if agency.code not in self._ours:
                try:
                    info = self.directory.receiver(agency.code)
                except NotFound:
                    self._ours[agency.code] = False
                    continue
                self._ours[agency.code] = info.exchanges_electronically and not info.via_axis
            if self._ours[agency.code]:
                codes.append(agency.code)
        return codes

    def sync_documents(self, report: AxisSyncReport) -> None:
        """Import every hub agency's received documents, then apply outbound statuses."""
        try:
            codes = self.hub_agency_codes()
        except Exception as error:
            log.warning("axis sync: the hub's agencies could not be listed", exc_info=True)
            report.failures = (*report.failures, f"hub agencies: {error}")
            codes = []
        report.hub_agencies = len(codes)
        for code in codes:
            try:
                with self.unit_of_work() as uow:
                    report.imported += use_cases.import_from_axis(
                        uow, self.directory, self.axis, code
                    )
                    uow.commit()
            except Exception as error:  # one agency's failure must not starve the others
                log.warning("axis import failed", extra={"agency": code}, exc_info=True)
                report.failures = (*report.failures, f"import {code}: {error}")
        try:
            with self.unit_of_work() as uow:
                report.statuses_applied += use_cases.apply_axis_statuses(uow, self.axis)
                uow.commit()
        except Exception as error:
            log.warning("axis status sync failed", exc_info=True)
            report.failures = (*report.failures, f"statuses: {error}")

    def run(self, *, agencies: bool) -> AxisSyncReport:
        """One round: the agency list first when ``agencies`` (so new codes are known), then
        documents and statuses. Never raises: failures are in the report and the log."""
        report = AxisSyncReport()
        if agencies:
            self.sync_agencies(report)
        self.sync_documents(report)
        return report
