"""One "replica" of the numbering test: THREADS threads register and number outgoing documents
in one book through the real use case until the book reaches TARGET.

Run as ``python allocator_worker.py AGENCY TARGET THREADS``; prints one line per allocation
batch so the parent can see progress. It is killed with SIGKILL by the test, mid-transaction.
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import date

from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.db import Database
from services.chassis.timeutil import now
from services.registry.adapters import orm
from services.registry.service_layer import use_cases
from services.registry.service_layer.directory import AgencyInfo, StaticAgencyDirectory

ISSUE_DATE = date(2026, 11, 20)


def main() -> int:
    sys.setswitchinterval(float(os.environ.get("SWI", "0.005")))
    agency, target, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    directory = StaticAgencyDirectory({agency: AgencyInfo(agency, "Ủy ban thử", "UBND")})
    database = Database(schema=orm.SCHEMA, metadata=orm.metadata)
    database.setup("registry")
    document = pb.Document(
        agency_code=agency,
        document_type="quyet_dinh",
        subject="Quyết định thử cấp số đồng thời",
        signer=pb.Signer(title="CHỦ TỊCH", full_name="Trần Văn Bình"),
        receivers=[pb.Party(name="Sở Nội vụ")],
    )
    done = threading.Event()

    def run() -> None:
        while not done.is_set():
            with database.unit_of_work() as uow:
                registered = use_cases.register_outgoing(
                    uow, directory, document, (), actor="worker", now=now(), issue_date=ISSUE_DATE
                )
                uow.commit()
            if registered.number is not None and registered.number >= target:
                done.set()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    print("started", flush=True)
    for worker in workers:
        worker.join()
    database.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
