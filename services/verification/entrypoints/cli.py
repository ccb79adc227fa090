"""``lienthong verify FILE [--trust DIR] [--json] [--sender CODE]``: offline verification.

Same engine as the gRPC service. FILE is a signed PDF or an edXML package (sniffed from the
content). Without ``--trust`` the platform's configured trust store is used (``$LT_TRUST_DIR``,
in development the dev PKI's root under ``$LT_VAR_DIR/devpki``).

Exit codes: 0 TOTAL-PASSED, 1 TOTAL-FAILED, 3 INDETERMINATE, 2 the command could not run
(unreadable file, no trust store, bad argument). Only 0 means "accept the document".
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from services.chassis.errors import ServiceError
from services.verification.domain.model import CheckStatus, DocumentReport, Indication

EXIT_CODES = {Indication.TOTAL_PASSED: 0, Indication.TOTAL_FAILED: 1, Indication.INDETERMINATE: 3}
EXIT_USAGE = 2


class _TimedOut(BaseException):
    """BaseException: the engine turns any Exception from a parser into a verdict."""


def _on_alarm(_signum: int, _frame: Any) -> None:
    raise _TimedOut


def _fail(message: str) -> int:
    print(f"lienthong verify: {message}", file=sys.stderr)
    return EXIT_USAGE


def render_text(report: DocumentReport) -> str:
    """The human-readable report: verdict, the vi/en summary, signatures and their problems."""
    lines = [
        f"{report.indication}"
        + (f" / {report.sub_indication}" if report.sub_indication else "")
        + f"  ({report.kind}, {report.size} bytes, sha256 {report.sha256[:16]}…)",
        report.summary_vi,
        report.summary_en,
    ]
    for signature in report.signatures:
        time = signature.signing_time.isoformat() if signature.signing_time else "-"
        lines.append(
            f"- {signature.field_name}: {signature.role} {signature.signer!r}, "
            f"{signature.level or '-'}, time {time} ({signature.time_source}) → "
            f"{signature.verdict.indication}"
            + (f"/{signature.verdict.sub_indication}" if signature.verdict.sub_indication else "")
        )
        for check in signature.checks:
            if check.status is not CheckStatus.PASS:
                lines.append(f"    {check.status.upper()} {check.name}: {check.detail}")
    for check in report.checks:
        if check.status is not CheckStatus.PASS:
            lines.append(f"  {check.status.upper()} {check.name}: {check.detail}")
    for attachment in report.attachments:
        lines.append(f"attachment {attachment.name}:")
        lines.extend("    " + line for line in render_text(attachment.report).splitlines())
    return "\n".join(lines)


def _verify(args: argparse.Namespace) -> int:
    from services.verification.adapters.pdf import VerificationPolicy
    from services.verification.adapters.truststore import TrustStore
    from services.verification.service_layer.verifier import Verifier

    # pyHanko logs every failed validation with a traceback; the report says it better.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _fail(f"{path}: {exc.strerror or exc}")
    try:
        trust = (
            TrustStore.from_directory(Path(args.trust)) if args.trust else (TrustStore.configured())
        )
        policy = VerificationPolicy(
            revocation_mode=args.revocation,
            allow_fetching=args.allow_fetching,
            require_person=not args.organisation_only,
        )
        # A hostile file must not hang the command: SIGALRM interrupts even a busy parser.
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
        try:
            report = Verifier(trust, policy).verify(data, sender=args.sender)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    except ServiceError as exc:
        return _fail(str(exc))
    except _TimedOut:
        return _fail(f"{path}: verification did not finish within {args.timeout:g} s")
    print(report.to_json() if args.json else render_text(report))
    return EXIT_CODES[report.indication]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "verify",
        help="verify a signed PDF or edXML package (exit 0 only for TOTAL-PASSED)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", help="a signed PDF or an edXML package")
    parser.add_argument("--trust", metavar="DIR", help="directory of trusted root certificates")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--sender", metavar="CODE", help="the sending agency's code, e.g. 000.00.12.H23"
    )
    parser.add_argument(
        "--revocation",
        choices=("hard-fail", "soft-fail", "require"),
        default="hard-fail",
        help="what missing revocation data means (default hard-fail)",
    )
    parser.add_argument(
        "--allow-fetching",
        action="store_true",
        help="fetch CRLs/OCSP named in certificates when the document carries none",
    )
    parser.add_argument(
        "--organisation-only",
        action="store_true",
        help="accept a document signed by the organisation alone (digitised copy, attachment)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="give up on a document after this long (default 120)",
    )
    parser.set_defaults(handler=_verify)
