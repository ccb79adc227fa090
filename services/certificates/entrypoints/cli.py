"""``lienthong devpki ensure|show``: the development PKI (never production trust).

``ensure`` creates or loads ``$LT_VAR_DIR/devpki`` with the signer keys in the HSM (idempotent,
safe to run at every ``make run``); ``show`` lists what it holds.
"""

from __future__ import annotations

import argparse
import sys


def _ensure(args: argparse.Namespace) -> int:
    from services.certificates.devpki import DevPkiError, ensure_dev_pki
    from services.signing.adapters.hsm import HsmError, process_hsm

    try:
        pki = ensure_dev_pki(process_hsm())
    except (HsmError, DevPkiError, OSError) as exc:
        print(f"lienthong: {exc}", file=sys.stderr)
        return 1
    print(f"dev PKI ready in {pki.directory} ({len(pki.signers)} signers) — không dùng thật")
    return 0


def _show(args: argparse.Namespace) -> int:
    from services.certificates.devpki import DevPkiError, ensure_dev_pki
    from services.signing.adapters.hsm import HsmError, process_hsm

    try:
        pki = ensure_dev_pki(process_hsm())
    except (HsmError, DevPkiError, OSError) as exc:
        print(f"lienthong: {exc}", file=sys.stderr)
        return 1
    for role, signer in pki.signers.items():
        certificate = signer.certificate
        print(
            f"{role:<20} {signer.key_id.decode():<28} "
            f"{certificate.not_valid_after_utc.date()}  {certificate.subject.rfc4514_string()}"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``devpki`` command group to the ``lienthong`` parser."""
    devpki = subparsers.add_parser("devpki", help="development PKI (tests, make run; not real)")
    actions = devpki.add_subparsers(dest="devpki_command", required=True, metavar="ACTION")
    actions.add_parser("ensure", help="create or load the dev PKI").set_defaults(handler=_ensure)
    actions.add_parser("show", help="list the dev PKI's signers").set_defaults(handler=_show)
