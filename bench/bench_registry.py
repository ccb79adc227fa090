"""Registry numbering throughput and search latency, each next to a baseline of the same run.

1. Number allocations per second with 8 concurrent clients (8 processes, each a replica running
   the real use case — register + number + events in one transaction — on its own connection),
   next to the same 8 clients running a plain ``SELECT … FOR UPDATE`` / ``UPDATE`` counter loop
   on a one-row table: the floor that any gap-free allocation on PostgreSQL pays.
2. Search latency p50/p99 over 1,000,000 seeded documents, with the service's own query
   (repository ``search``: agency filter, diacritic-insensitive words via the trigram index,
   keyset pagination), next to OFFSET pagination of the same query at the same depth.

The documents are seeded once, server-side (``INSERT … SELECT generate_series``), under the
clearly-marked bench agency ``999.99.99.B99`` in the registry schema (they share its indexes, so
the numbers are the service's); re-runs reuse them. Run with the infrastructure up: ``make bench``
or ``eval "$(infra/local/env.sh test)"; python bench/bench_registry.py [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from services.chassis.text import fold

BENCH_AGENCY = "999.99.99.B99"
SEED_ROWS = 1_000_000
CLIENTS = 8
# Vocabulary of subjects (trích yếu) for the seeded rows.
TOPICS = [
    "đầu tư xây dựng trường học", "phê duyệt kế hoạch chuyển đổi số", "giao chỉ tiêu biên chế",
    "quyết toán ngân sách địa phương", "phòng chống thiên tai và tìm kiếm cứu nạn",
    "cấp giấy chứng nhận quyền sử dụng đất", "tổ chức kỳ thi tốt nghiệp trung học phổ thông",
    "kiện toàn Ban chỉ đạo phát triển du lịch", "bảo vệ môi trường lưu vực sông Hồng",
    "hỗ trợ hộ nghèo đón Tết Nguyên đán", "tiêm chủng mở rộng cho trẻ em",
    "thu hồi đất thực hiện dự án giao thông", "khen thưởng tập thể có thành tích xuất sắc",
    "cải cách thủ tục hành chính", "quản lý chợ đầu mối nông sản", "phòng cháy chữa cháy rừng",
]  # fmt: skip
PLACES = [
    "xã Tân Phú", "phường Hòa Bình", "xã Đồng Tâm", "thị trấn Lạc Sơn", "xã Hưng Đạo",
    "phường Quang Trung", "xã Yên Thế", "xã Mường Khương", "phường Hồng Hà", "xã Ea Kar",
    "xã Krông Nô", "phường Đống Đa", "xã Thạch Thất",
]  # fmt: skip


def _engine() -> sa.Engine:
    from services.chassis.db import make_engine

    return make_engine(pool_size=2)


# -- seeding -----------------------------------------------------------------------------------


def seed(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        present = conn.execute(
            sa.text("SELECT count(*) FROM registry.documents WHERE agency_code = :a"),
            {"a": BENCH_AGENCY},
        ).scalar_one()
    if present >= SEED_ROWS:
        return present
    print(f"seeding {SEED_ROWS - present:,} bench documents under {BENCH_AGENCY} …", flush=True)
    started = time.perf_counter()
    topics_folded = [fold(t) for t in TOPICS]
    places_folded = [fold(p) for p in PLACES]
    with engine.begin() as conn:
        # 50,000 numbers per year over 20 years: a plausible provincial committee's archive.
        conn.execute(
            sa.text(
                """
                INSERT INTO registry.documents (
                    id, direction, agency_code, book, year, number, number_and_symbol,
                    document_date, document_type, subject, subject_folded, status, urgency,
                    receivers, language, registered_at, updated_at, version)
                SELECT gen_random_uuid(), 'outgoing', :agency, 'outgoing', y, n,
                       CASE WHEN n < 10 THEN '0' ELSE '' END || n || '/QĐ-UBND',
                       make_date(y, 1 + (n % 12), 1 + (n % 28)), 'quyet_dinh',
                       'Về việc ' || (CAST(:topics AS text[]))[1 + i % :nt] || ' tại '
                           || (CAST(:places AS text[]))[1 + (i / 7) % :np] || ' năm ' || y,
                       've viec ' || (CAST(:topics_f AS text[]))[1 + i % :nt] || ' tai '
                           || (CAST(:places_f AS text[]))[1 + (i / 7) % :np] || ' nam ' || y,
                       'issued', (i % 5)::smallint, '[]'::jsonb, 'Tiếng Việt',
                       now(), now(), 1
                FROM generate_series(:first, :last) AS i,
                     LATERAL (SELECT 2006 + i / 50000 AS y, i % 50000 + 1 AS n) AS parts
                """
            ),
            {
                "agency": BENCH_AGENCY,
                "topics": TOPICS,
                "topics_f": topics_folded,
                "places": PLACES,
                "places_f": places_folded,
                "nt": len(TOPICS),
                "np": len(PLACES),
                "first": present,
                "last": SEED_ROWS - 1,
            },
        )
        conn.execute(sa.text("ANALYZE registry.documents"))
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return SEED_ROWS


# -- allocations -------------------------------------------------------------------------------


def _allocation_client(args: tuple[str, float, str]) -> int:
    mode, seconds, agency = args
    from datetime import date

    from lienthong.registry.v1 import registry_pb2 as pb

    from services.chassis.db import Database
    from services.chassis.timeutil import now
    from services.registry.adapters import orm
    from services.registry.service_layer import use_cases
    from services.registry.service_layer.directory import AgencyInfo, StaticAgencyDirectory

    database = Database(schema=orm.SCHEMA, metadata=orm.metadata)
    database.setup("registry")
    assert database.engine is not None
    count = 0
    deadline = time.monotonic() + seconds
    if mode == "baseline":
        lock = sa.text("SELECT last_number FROM registry_bench.counter WHERE id = 1 FOR UPDATE")
        bump = sa.text("UPDATE registry_bench.counter SET last_number = :n WHERE id = 1")
        with database.engine.connect() as conn:
            while time.monotonic() < deadline:
                last = conn.execute(lock).scalar_one()
                conn.execute(bump, {"n": last + 1})
                conn.commit()
                count += 1
    else:
        directory = StaticAgencyDirectory({agency: AgencyInfo(agency, "Bench", "UBND")})
        document = pb.Document(
            agency_code=agency, document_type="quyet_dinh", subject="Quyết định đo tốc độ cấp số",
            signer=pb.Signer(title="CHỦ TỊCH", full_name="Trần Văn Bình"),
            receivers=[pb.Party(name="Sở Nội vụ")],
        )  # fmt: skip
        while time.monotonic() < deadline:
            with database.unit_of_work() as uow:
                use_cases.register_outgoing(
                    uow, directory, document, (), actor="bench", now=now(),
                    issue_date=date(2026, 11, 20),
                )  # fmt: skip
                uow.commit()
            count += 1
    database.stop()
    return count


def allocations_per_second(mode: str, seconds: float, agency: str) -> float:
    context = multiprocessing.get_context("spawn")
    with context.Pool(CLIENTS) as pool:
        # Each client runs for ``seconds`` from the end of its own start-up, so the clients'
        # windows overlap but for the import-time jitter.
        counts = pool.map(_allocation_client, [(mode, seconds, agency)] * CLIENTS)
    return sum(counts) / seconds


def bench_allocations(engine: sa.Engine, seconds: float) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS registry_bench"))
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS registry_bench.counter "
                "(id int PRIMARY KEY, last_number int NOT NULL)"
            )
        )
        conn.execute(
            sa.text("INSERT INTO registry_bench.counter VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
        )
    # A fresh bench book per run: "999.NN.NN.BNN" codes are reserved for benchmarks.
    rng = random.SystemRandom()
    agency = f"999.{rng.randint(10, 98):02d}.{rng.randint(10, 99):02d}.B{rng.randint(10, 98):02d}"
    baseline = allocations_per_second("baseline", seconds, agency)
    service = allocations_per_second("service", seconds, agency)
    with engine.connect() as conn:
        numbers = conn.execute(
            sa.text(
                "SELECT count(*), min(number), max(number) FROM registry.documents "
                "WHERE agency_code = :a"
            ),
            {"a": agency},
        ).one()
    print(f"\nnumber allocations, {CLIENTS} concurrent clients, {seconds:.0f} s each")
    print(f"  baseline SELECT … FOR UPDATE counter loop : {baseline:8.0f} /s")
    print(f"  registry register+number+events (1 tx)     : {service:8.0f} /s"
          f"   ({service / baseline:.0%} of baseline)")  # fmt: skip
    gapless = numbers[0] == numbers[2] and numbers[1] == 1
    print(f"  book {agency}: {numbers[0]} numbers, 1..{numbers[2]}, gap-free: {gapless}")


# -- search ------------------------------------------------------------------------------------


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50 * 1e3, p99 * 1e3


def bench_search(engine: sa.Engine, repeats: int) -> None:
    from sqlalchemy.orm import Session

    from services.registry.adapters.orm import documents
    from services.registry.adapters.repository import DocumentFilter, DocumentRepository

    rng = random.Random(7)
    queries = {
        "newest page, no filter": lambda: DocumentFilter(BENCH_AGENCY),
        "words (diacritic-insensitive)": lambda: DocumentFilter(
            BENCH_AGENCY,
            query=rng.choice(
                ["dau tu xay dung", "thu tuc hanh chinh", "phong chay", "ho ngheo tet"]
            ),
        ),
        "words + place + year": lambda: DocumentFilter(
            BENCH_AGENCY,
            query=f"{rng.choice(['chuyen doi so', 'bien che'])} "
            f"{rng.choice(['tan phu', 'hoa binh', 'dong tam'])}",
            year=rng.randint(2006, 2025),
        ),
        "number range in one book-year": lambda: DocumentFilter(
            BENCH_AGENCY,
            book="outgoing",
            year=rng.randint(2006, 2025),
            number_from=(start := rng.randint(1, 49000)),
            number_to=start + 200,
        ),
    }
    print(f"\nsearch over {SEED_ROWS:,} documents, page of 50, {repeats} queries each (ms)")
    print(f"  {'query':<34} {'p50':>8} {'p99':>8}")
    with Session(engine) as session:
        repo = DocumentRepository(session)
        for name, make in queries.items():
            samples = []
            for _ in range(repeats):
                spec = make()
                started = time.perf_counter()
                repo.search(spec, before_seq=None, limit=51)
                samples.append(time.perf_counter() - started)
            p50, p99 = _percentiles(samples)
            print(f"  {name:<34} {p50:8.2f} {p99:8.2f}")
        # Deep pages: keyset (the service) next to OFFSET (the baseline) at the same depth.
        top = session.execute(
            sa.select(sa.func.max(documents.c.seq)).where(documents.c.agency_code == BENCH_AGENCY)
        ).scalar_one()
        keyset, offset = [], []
        for _ in range(max(repeats // 4, 10)):
            depth = rng.randint(100_000, 900_000)
            started = time.perf_counter()
            repo.search(DocumentFilter(BENCH_AGENCY), before_seq=top - depth, limit=51)
            keyset.append(time.perf_counter() - started)
            started = time.perf_counter()
            session.execute(
                sa.select(documents)
                .where(documents.c.agency_code == BENCH_AGENCY)
                .order_by(documents.c.seq.desc())
                .offset(depth)
                .limit(51)
            ).all()
            offset.append(time.perf_counter() - started)
        for name, samples in (("deep page, keyset (service)", keyset),
                              ("deep page, OFFSET (baseline)", offset)):  # fmt: skip
            p50, p99 = _percentiles(samples)
            print(f"  {name:<34} {p50:8.2f} {p99:8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--skip-allocations", action="store_true")
    args = parser.parse_args()
    from services.chassis.migrations import upgrade

    upgrade("registry")
    engine = _engine()
    try:
        if not args.skip_allocations:
            bench_allocations(engine, args.seconds)
        if not args.skip_search:
            seed(engine)
            bench_search(engine, args.repeats)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
