"""Signing throughput: raw PKCS#11, a naive pyHanko baseline, and this service's workflow.

Run with the token settings exported (``make bench`` does it; by hand ``. infra/local/env.sh``):

    .venv/bin/python bench/bench_signing.py [--docs N] [--seconds S]

Measured, in one run, on the same machine:

* raw PKCS#11 RSA-2048 signatures/s (SoftHSM through p11-kit-proxy), 1 and 2 processes;
* the naive pyHanko baseline: the same person → number → organisation workflow with pyHanko
  defaults — a fresh ``PKCS11Signer`` and stamp per document (certificates pulled from the
  token, PNG decoded and encoded per stamp), a dry-run signature to size ``/Contents``, the
  2048-upem font as shipped, the TSA key looked up for every timestamp;
* this service's workflow (``PadesEngine``), 1 and 2 worker processes.

Goal (issue #4): service ≥ 4× the naive baseline; 2 processes ≥ 1.7× one. Numbers are noisy
when other work shares the cores; the table prints what was measured, nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.form_tools import populate_static_text_field
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.stamp import StaticStampStyle

from services.certificates.devpki import DEV_AGENCY, DEV_PERSON, ensure_dev_pki
from services.signing.adapters import pdf_speedups
from services.signing.adapters.fonts import LIBERATION_SERIF
from services.signing.adapters.hsm import process_hsm
from services.signing.adapters.images import handwritten_signature_png, round_seal_png
from services.signing.adapters.sample_document import default_content, generate_sample
from services.signing.adapters.tsa import HsmTimestampAuthority
from services.signing.service_layer.workflow import DevSigning, dev_signing

NUMBER = "123/STTTT-CNTT"
PLACE_AND_DATE = "Hà Giang, ngày 22 tháng 11 năm 2026"


class NaiveTimestampAuthority(HsmTimestampAuthority):
    """The same TSA the way pyHanko's reference one works: asn1crypto builds the whole token,
    and the key is found on the token for every timestamp."""

    def request_tsa_response(self, req):  # type: ignore[no-untyped-def]
        return DummyTimeStamper.request_tsa_response(self, req)

    def _sign_tst_info(self, tst_info_data, md_algorithm, dt_value):  # type: ignore[no-untyped-def]
        attributes = self._signed_attributes(tst_info_data, md_algorithm, dt_value)
        session = self.hsm.session()
        key = self.hsm.private_key(self.key_id, session)  # explicit session: no handle cache
        from pkcs11 import Mechanism

        return key.sign(attributes.dump(), mechanism=Mechanism.SHA256_RSA_PKCS), attributes


def _naive_workflow(setup: dict) -> Callable[[], bytes]:
    signing: DevSigning = setup["signing"]
    hsm = signing.engine.hsm
    pki = setup["pki"]
    tsa_signer = pki.signer("tsa")
    naive_tsa = NaiveTimestampAuthority(
        hsm,
        tsa_signer.key_id,
        signing.engine.timestamper.tsa_cert,
        signing.engine.timestamper.certs_to_embed,
    )
    signature_png, seal_png = setup["signature_png"], setup["seal_png"]
    pdf = setup["pdf"]

    def sign(data: bytes, key_id: bytes, field: str, png: bytes, **meta_options) -> bytes:
        signer = PKCS11Signer(hsm.session(), key_id=key_id)  # defaults: certs from the token
        meta = signers.PdfSignatureMetadata(
            field_name=field,
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=True,
            validation_context=signing.trust.validation_context(),
            **meta_options,
        )
        style = StaticStampStyle(
            background=PdfImage(Image.open(io.BytesIO(png))),
            border_width=0,
            background_opacity=1.0,
        )
        pdf_signer = signers.PdfSigner(meta, signer, timestamper=naive_tsa, stamp_style=style)
        return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data))).getvalue()

    def run() -> bytes:
        person = sign(
            pdf,
            signing.person.key_id,
            "chu_ky_nguoi_co_tham_quyen",
            signature_png,
            certify=True,
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(person))
        style = TextBoxStyle(font=GlyphAccumulatorFactory(str(LIBERATION_SERIF), font_size=13))
        populate_static_text_field(writer, "so_ky_hieu", style, NUMBER)
        populate_static_text_field(writer, "ngay_ban_hanh", style, PLACE_AND_DATE)
        numbered = io.BytesIO()
        writer.write(numbered)
        return sign(
            numbered.getvalue(),
            signing.organisation.key_id,
            "chu_ky_co_quan",
            seal_png,
            use_pades_lta=True,
        )

    return run


def _service_workflow(setup: dict) -> Callable[[], bytes]:
    engine = setup["signing"].engine
    signing: DevSigning = setup["signing"]
    pdf = setup["pdf"]

    def run() -> bytes:
        person = engine.sign_person(pdf, signing.person)
        numbered = engine.fill_number_and_date(person, number=NUMBER, place_and_date=PLACE_AND_DATE)
        return engine.sign_organisation(numbered, signing.organisation)

    return run


def _raw_pkcs11(setup: dict) -> Callable[[], bytes]:
    hsm = setup["signing"].engine.hsm
    key_id = setup["signing"].person.key_id
    digest_input = os.urandom(32)
    return lambda: hsm.sign(key_id, digest_input)


WORKLOADS = {"raw": _raw_pkcs11, "naive": _naive_workflow, "service": _service_workflow}


def _setup() -> dict:
    logging.disable(logging.WARNING)
    hsm = process_hsm()
    pki = ensure_dev_pki(hsm)
    pdf, _ = generate_sample(default_content(DEV_PERSON))
    return {
        "pki": pki,
        "signing": dev_signing(hsm, pki),
        "pdf": pdf,
        "signature_png": handwritten_signature_png(DEV_PERSON.full_name),
        "seal_png": round_seal_png(DEV_AGENCY.name, DEV_AGENCY.code),
    }


def _measure(workload: str, count: int, min_seconds: float) -> tuple[int, float, float]:
    """Run ``workload`` ≥ ``count`` times and ≥ ``min_seconds``: (ops, wall s, CPU s)."""
    run = WORKLOADS[workload](_setup())
    run()  # warm-up: first signature loads handles, fonts, images
    done, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while done < count or time.perf_counter() - start < min_seconds:
        run()
        done += 1
    return done, time.perf_counter() - start, time.process_time() - cpu_start


def _worker(workload: str, count: int, min_seconds: float, barrier, results) -> None:
    run = WORKLOADS[workload](_setup())
    run()
    barrier.wait()
    done, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while done < count or time.perf_counter() - start < min_seconds:
        run()
        done += 1
    results.put((done, time.perf_counter() - start, time.process_time() - cpu_start))


def _measure_processes(
    workload: str, processes: int, count: int, min_seconds: float
) -> tuple[float, float]:
    """(ops/s over wall time, ops per CPU-second) of ``processes`` forked workers."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_worker, args=(workload, count, min_seconds, barrier, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=900) for _ in workers]
    for worker in workers:
        worker.join()
    wall_rate = sum(done / wall for done, wall, _ in outcomes)
    per_core = sum(done for done, _, _ in outcomes) / sum(cpu for _, _, cpu in outcomes)
    return wall_rate, per_core


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=8, help="documents per measurement, min")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per measurement, min")
    args = parser.parse_args(argv)
    missing = [
        n
        for n in ("LT_PKCS11_MODULE", "LT_HSM_TOKEN_LABEL", "LT_HSM_USER_PIN", "LT_VAR_DIR")
        if not os.environ.get(n)
    ]
    if missing:
        print(f"bench_signing: set {', '.join(missing)} (. infra/local/env.sh)", file=sys.stderr)
        return 2
    _setup()  # create the dev PKI once, before any fork
    print(
        f"cores: {os.cpu_count()} (shared); each figure ≥ {args.docs} ops and ≥ {args.seconds}s;"
        f" {_load()}"
    )
    raw_ops, raw_wall, raw_cpu = _measure("raw", 2000, args.seconds / 2)
    raw_1, raw_1_core = raw_ops / raw_wall, raw_ops / raw_cpu
    raw_2, raw_2_core = _measure_processes("raw", 2, 2000, args.seconds / 2)
    pdf_speedups.uninstall()  # the baseline runs pyHanko exactly as shipped
    naive_docs, naive_wall, naive_cpu = _measure("naive", args.docs, args.seconds)
    pdf_speedups.install()
    naive_1, naive_core = naive_docs / naive_wall, naive_docs / naive_cpu
    service_1, service_core = _measure_processes("service", 1, args.docs, args.seconds)
    service_2, service_2_core = _measure_processes("service", 2, args.docs, args.seconds)
    rows = [
        ("raw PKCS#11 RSA-2048 sign, 1 process", raw_1, raw_1_core, "signs/s", ""),
        (
            "raw PKCS#11 RSA-2048 sign, 2 processes",
            raw_2,
            raw_2_core,
            "signs/s",
            f"{raw_2 / raw_1:.2f}× 1 proc",
        ),
        (
            "naive pyHanko person+number+org, 1 process",
            naive_1,
            naive_core,
            "docs/s",
            "1.00× naive",
        ),
        (
            "service person+number+org, 1 process",
            service_1,
            service_core,
            "docs/s",
            f"{service_1 / naive_1:.2f}× naive wall, {service_core / naive_core:.2f}× per core"
            " (goal ≥ 4)",
        ),
        (
            "service person+number+org, 2 processes",
            service_2,
            service_2_core,
            "docs/s",
            f"{service_2 / service_1:.2f}× 1 proc (goal ≥ 1.7)",
        ),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"{'measure':<{width}}  {'wall rate':>9}  {'per core':>9}  unit     ratio")
    for name, rate, per_core, unit, ratio in rows:
        print(f"{name:<{width}}  {rate:>9.2f}  {per_core:>9.2f}  {unit:<7}  {ratio}")
    print(
        "wall rate: operations per elapsed second; per core: operations per CPU-second of the"
        f" measured processes (robust to other load). End: {_load()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
