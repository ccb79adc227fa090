"""``lienthong keys ...`` and ``lienthong sign ...`` command groups.

* ``keys generate|csr|import-cert|list`` provision a signer on the token (CKA_ID given as
  ``--id`` text, e.g. ``nguyen-van-an-2026``, or ``--id-hex``).
* ``sign sample --out DIR`` writes, with the development PKI, a one-page Vietnamese letter
  signed by the person, numbered, sealed by the organisation, plus one separately signed
  attachment, the dev root and CRLs to check them with any validator, and the audit log.
* ``sign tsa-serve`` runs the platform's RFC 3161 timestamp endpoint over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from services.signing.adapters.hsm import HsmError, KeyAlgorithm


def _key_id(args: argparse.Namespace) -> bytes:
    if args.id_hex:
        return bytes.fromhex(args.id_hex)
    return args.id.encode("utf-8")


def _add_key_id(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--id", help="CKA_ID as UTF-8 text")
    group.add_argument("--id-hex", help="CKA_ID in hexadecimal")


def _hsm():
    from services.signing.adapters.hsm import process_hsm

    return process_hsm()


def _fail(message: str) -> int:
    print(f"lienthong: {message}", file=sys.stderr)
    return 1


def _keys_generate(args: argparse.Namespace) -> int:
    try:
        info = _hsm().generate_key(_key_id(args), args.label, KeyAlgorithm(args.algorithm))
    except (HsmError, ValueError) as exc:
        return _fail(str(exc))
    print(f"generated {info.algorithm} key id={info.key_id_hex} label={info.label!r}")
    return 0


def _keys_csr(args: argparse.Namespace) -> int:
    from asn1crypto import pem

    from services.certificates.identity import InvalidAgencyCode, check_agency_code
    from services.signing.adapters.csr import build_subject, certificate_request

    try:
        if args.agency_code:
            check_agency_code(args.agency_code)
        subject = build_subject(
            common_name=args.common_name,
            organisation=args.organisation,
            agency_code=args.agency_code,
            title=args.title,
            locality=args.locality,
        )
        der = certificate_request(_hsm(), _key_id(args), subject)
    except (HsmError, InvalidAgencyCode) as exc:
        return _fail(str(exc))
    Path(args.out).write_bytes(pem.armor("CERTIFICATE REQUEST", der))
    print(f"wrote {args.out}")
    return 0


def _keys_import_cert(args: argparse.Namespace) -> int:
    from services.signing.adapters.trust import pem_to_der

    try:
        der = pem_to_der(Path(args.cert).read_bytes())
        _hsm().import_certificate(_key_id(args), der, args.label or args.id or args.id_hex)
    except (HsmError, ValueError, OSError) as exc:
        return _fail(str(exc))
    print("certificate imported")
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    try:
        keys = _hsm().list_keys(args.prefix.encode("utf-8"))
    except HsmError as exc:
        return _fail(str(exc))
    for info in keys:
        text_id = info.key_id.decode("utf-8", errors="replace")
        certificate = "cert" if info.has_certificate else "no-cert"
        print(
            f"{info.key_id_hex:<40} {text_id:<28} {info.algorithm:<8} {certificate:<8} {info.label}"
        )
    return 0


def _sign_sample(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.serialization import Encoding

    from services.certificates.devpki import DEV_PERSON, ensure_dev_pki
    from services.signing.adapters.pades import vietnam_now
    from services.signing.adapters.sample_document import (
        default_content,
        generate_attachment,
        generate_sample,
    )
    from services.signing.adapters.validation import validate_with_pyhanko
    from services.signing.domain.audit import InMemoryAuditLog, verify_chain
    from services.signing.domain.errors import SigningRefused
    from services.signing.service_layer.workflow import SigningService, dev_signing

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        hsm = _hsm()
        pki = ensure_dev_pki(hsm)
        signing = dev_signing(hsm, pki)
    except (HsmError, OSError) as exc:
        return _fail(str(exc))
    audit = InMemoryAuditLog()
    service = SigningService(signing.engine, audit)
    today = vietnam_now()
    number = args.number
    place_and_date = (
        f"{DEV_PERSON.agency.province}, ngày {today.day:02d} tháng {today.month:02d} "
        f"năm {today.year}"
    )
    letter, _ = generate_sample(default_content(DEV_PERSON))
    attachment = generate_attachment(
        "Phụ lục",
        [
            f"(Kèm theo Công văn số {number})",
            "Danh sách cơ quan triển khai:",
            "1. Sở Tài chính",
            "2. Sở Nội vụ",
            "3. Ủy ban nhân dân thành phố Hà Giang",
        ],
    )

    async def run() -> tuple[bytes, bytes]:
        issued = await service.issue(
            letter, signing.person, signing.organisation, number, place_and_date, "cli:sign-sample"
        )
        annex = await service.sign_attachment(
            attachment, signing.organisation, number, "cli:sign-sample"
        )
        return issued.document, annex.document

    try:
        document, annex = asyncio.run(run())
    except (SigningRefused, HsmError) as exc:
        return _fail(f"{type(exc).__name__}: {exc}")
    files = {
        "van-ban-mau-da-ky.pdf": document,
        "phu-luc-da-ky.pdf": annex,
        "dev-root-ca.pem": pki.root.public_bytes(Encoding.PEM),
        "dev-intermediate-ca.pem": pki.intermediate.public_bytes(Encoding.PEM),
        "dev-root.crl": pki.crls_der[0],
        "dev-intermediate.crl": pki.crls_der[1],
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
    verify_chain(audit.records())
    with open(out / "audit.jsonl", "w", encoding="utf-8") as handle:
        for record in audit.records():
            handle.write(record.canonical_body().decode() + "\n")
    failures = 0
    for name in ("van-ban-mau-da-ky.pdf", "phu-luc-da-ky.pdf"):
        for report in validate_with_pyhanko(files[name], signing.trust):
            verdict = "OK" if report.ok else "FAIL"
            failures += not report.ok
            level = report.modification_level.name if report.modification_level else "-"
            print(
                f"{name}: {report.field_name} [{report.signer}] {verdict} "
                f"intact={report.intact} valid={report.valid} trusted={report.trusted} "
                f"modifications={level}"
            )
    print(f"wrote {', '.join(files)} and audit.jsonl to {out}")
    print("DEV PKI — không dùng thật: trust dev-root-ca.pem only for testing.")
    return 1 if failures else 0


def _tsa_serve(args: argparse.Namespace) -> int:
    from services.certificates.devpki import TSA_ROLE, ensure_dev_pki
    from services.signing.adapters.tsa import serve_http
    from services.signing.service_layer.workflow import dev_signing

    hsm = _hsm()
    pki = ensure_dev_pki(hsm)
    authority = dev_signing(hsm, pki).engine.timestamper
    server = serve_http(authority, args.host, args.port)  # type: ignore[arg-type]
    print(f"RFC 3161 TSA ({TSA_ROLE}, dev PKI) on http://{args.host}:{server.server_port}/")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``keys`` and ``sign`` command groups to the ``lienthong`` parser."""
    keys = subparsers.add_parser("keys", help="signer keys in the HSM (PKCS#11)")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    generate = keys_sub.add_parser("generate", help="generate a non-extractable key pair")
    _add_key_id(generate)
    generate.add_argument("--label", required=True, help="human-readable CKA_LABEL")
    generate.add_argument(
        "--algorithm", choices=[a.value for a in KeyAlgorithm], default=KeyAlgorithm.RSA_2048.value
    )
    generate.set_defaults(handler=_keys_generate)

    request = keys_sub.add_parser("csr", help="write a PKCS#10 request signed by the token")
    _add_key_id(request)
    request.add_argument("--common-name", required=True, help="CN: person's or agency's name")
    request.add_argument("--organisation", help="O: agency name")
    request.add_argument("--agency-code", help="agency code, e.g. 000.00.01.H56")
    request.add_argument("--title", help="title (chức vụ) of a person")
    request.add_argument("--locality", help="L: province")
    request.add_argument("--out", required=True, help="output file (PEM)")
    request.set_defaults(handler=_keys_csr)

    import_cert = keys_sub.add_parser("import-cert", help="store the issued certificate")
    _add_key_id(import_cert)
    import_cert.add_argument("--cert", required=True, help="certificate file (PEM or DER)")
    import_cert.add_argument("--label", help="CKA_LABEL of the certificate object")
    import_cert.set_defaults(handler=_keys_import_cert)

    listing = keys_sub.add_parser("list", help="list private keys on the token")
    listing.add_argument("--prefix", default="", help="only CKA_IDs starting with this text")
    listing.set_defaults(handler=_keys_list)

    sign = subparsers.add_parser("sign", help="PAdES signing (development PKI tools)")
    sign_sub = sign.add_subparsers(dest="sign_command", required=True, metavar="ACTION")
    sample = sign_sub.add_parser(
        "sample", help="write a complete signed sample (person, number, seal, attachment)"
    )
    sample.add_argument("--out", required=True, help="output directory")
    sample.add_argument("--number", default="123/STTTT-CNTT", help="số, ký hiệu to fill in")
    sample.set_defaults(handler=_sign_sample)

    tsa = sign_sub.add_parser("tsa-serve", help="serve the RFC 3161 timestamp endpoint (HTTP)")
    tsa.add_argument("--host", default="127.0.0.1")
    tsa.add_argument("--port", type=int, default=3161)
    tsa.set_defaults(handler=_tsa_serve)


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (``python -m services.signing.entrypoints.cli``)."""
    parser = argparse.ArgumentParser(prog="lienthong")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
