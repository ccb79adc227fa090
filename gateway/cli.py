"""``lienthong gateway …``: serve the HTTP API, migrate its schema, seed and add users.

Wired into the ``lienthong`` command through :func:`register`; ``python -m gateway`` serves.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from importlib import resources

from gateway import config as gateway_config

PROVINCE_CODE = "000.00.00.H56"

# Demo accounts: the province's People's Committee (UBND tỉnh), its office, the Department of
# Finance and one ward — enough for the scenario (issue, sign, number, send, receive).
DEMO_AGENCIES: list[tuple[str, str]] = [
    ("000.00.00.H56", "ubnd"),
    ("000.00.01.H56", "vp"),
    ("000.00.03.H56", "stc"),
    ("000.01.31.H56", "pvl"),
]
DEMO_ROLES: list[tuple[str, str, list[str]]] = [
    ("vanthu", "Văn thư", ["clerk"]),
    ("lanhdao", "Lãnh đạo", ["signer"]),
    ("chuyenvien", "Chuyên viên", ["officer"]),
    ("quantri", "Quản trị", ["agency_admin"]),
]


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    agency_code: str
    roles: list[str]
    created: bool


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from services.chassis import config, logs

    logs.configure("gateway")
    settings = gateway_config.GatewaySettings.from_env()
    if settings.auth_mode == "local" and not args.no_migrate:
        from gateway.migrate import upgrade

        upgrade()
    host = args.host or config.get(gateway_config.HOST)
    port = args.port or config.get_int(gateway_config.PORT)
    workers = args.workers or config.get_int(gateway_config.WORKERS)
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # the root JSON handler of logs.configure formats uvicorn's lines too
        access_log=False,  # CorrelationMiddleware logs each request once, with its id
        proxy_headers=True,
        timeout_graceful_shutdown=int(config.get_float(config.SHUTDOWN_GRACE_S)),
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from gateway.migrate import upgrade

    upgrade()
    print("gateway: schema at head")
    return 0


# The demo's signer (lãnh đạo of UBND tỉnh) signs with the chairman's key of the dev PKI
# (services/certificates/devpki.py: DEMO_CHAIRMAN, CKA_ID lt-dev-demo-chairman).
DEMO_SIGNER_USERNAME = "lanhdao.ubnd"


class SigningKeyBindingFailed(Exception):
    """The demo signer's account could not be bound to the chairman's HSM key."""


def _account_service():  # type: ignore[no-untyped-def]
    from gateway.accounts.service import AccountService
    from gateway.accounts.store import AccountStore
    from gateway.clients import ServiceClients
    from gateway.migrate import upgrade
    from services.chassis.db import make_engine

    upgrade()
    settings = gateway_config.GatewaySettings.from_env()
    clients = ServiceClients(settings.rpc_timeout_s)
    return AccountService(
        AccountStore(make_engine(pool_size=2)),
        settings,
        clients.agency_is_registered,
        signing_keys=clients.signing_keys,
    )


def bind_demo_signing_key(accounts) -> tuple[str, bool]:  # type: ignore[no-untyped-def]
    """Bind ``lanhdao.ubnd`` to the chairman's dev PKI key (idempotent).

    Returns the key id (hex) and whether it was changed now. The account service checks the
    key against the signing service's ``ListKeys`` (a person's certificate of the user's
    agency), so the signing service must be running and ``lienthong devpki ensure`` done.
    """
    from gateway.accounts.domain import AccountError
    from gateway.accounts.service import UserNotFound
    from gateway.problems import Problem
    from services.certificates.devpki import DEMO_CHAIRMAN_ROLE, key_id_of

    wanted = key_id_of(DEMO_CHAIRMAN_ROLE).hex()
    user = accounts.store.user_by_name(DEMO_SIGNER_USERNAME)
    if user is not None and user.signing_key_id == wanted:
        return wanted, False
    try:
        accounts.bind_signing_key(None, DEMO_SIGNER_USERNAME, wanted)
    except (AccountError, UserNotFound, Problem) as exc:  # Problem: the signing service's
        field = getattr(exc, "field", None)
        reason = getattr(exc, "reason", None) or getattr(exc, "detail", None) or str(exc)
        hint = (
            " (is the signing service running, and lienthong devpki ensure done?)"
            if field in (None, "signing_key_id")
            else ""
        )
        raise SigningKeyBindingFailed(f"{field + ': ' if field else ''}{reason}{hint}") from exc
    return wanted, True


def seed_demo_users(accounts, password: str) -> list[DemoLogin]:  # type: ignore[no-untyped-def]
    """Create the demo accounts that do not exist yet (idempotent)."""
    from gateway.accounts.domain import Role
    from gateway.accounts.service import UsernameTaken

    directory = json.loads(
        resources.files("services.identifiers")
        .joinpath("data/demo_province.json")
        .read_text(encoding="utf-8")
    )
    names = {a["code"]: a["name"] for a in directory}
    plan = [("quantri.tinh", "Quản trị tỉnh", PROVINCE_CODE, ["province_admin"])]
    for code, short in DEMO_AGENCIES:
        for prefix, label, roles in DEMO_ROLES:
            plan.append((f"{prefix}.{short}", f"{label} {names.get(code, code)}", code, roles))
    logins = []
    for username, full_name, code, roles in plan:
        try:
            accounts.create_user(
                None,
                username=username,
                password=password,
                full_name=full_name,
                agency_code=code,
                roles=frozenset(Role(r) for r in roles),
            )
            created = True
        except UsernameTaken:
            created = False
        logins.append(DemoLogin(username, code, roles, created))
    return logins


def _seed_users(args: argparse.Namespace) -> int:
    from services.chassis import config

    password = args.password or config.get(gateway_config.DEMO_PASSWORD)
    accounts = _account_service()
    logins = seed_demo_users(accounts, password)
    print(f"Demo logins (password: {password}):")
    for login in logins:
        mark = "new" if login.created else "   "
        print(f"  {mark} {login.username:<20} {login.agency_code}  {','.join(login.roles)}")
    if args.no_signing_key:
        return 0
    try:
        key_hex, changed = bind_demo_signing_key(accounts)
    except SigningKeyBindingFailed as exc:
        print(
            f"lienthong: {DEMO_SIGNER_USERNAME} signing_key_id: not bound: {exc}", file=sys.stderr
        )
        return 1
    state = "bound now" if changed else "already bound"
    print(f"  {DEMO_SIGNER_USERNAME} signs with the chairman's HSM key {key_hex} ({state})")
    return 0


def _add_user(args: argparse.Namespace) -> int:
    import getpass

    from gateway.accounts.domain import AccountError, parse_roles
    from gateway.accounts.service import UsernameTaken

    password = None if args.no_password else (args.password or getpass.getpass("Password: "))
    try:
        user = _account_service().create_user(
            None,
            username=args.username,
            password=password,
            full_name=args.full_name,
            agency_code=args.agency,
            roles=parse_roles(args.roles.split(",")),
        )
    except AccountError as exc:
        print(f"lienthong: {exc.field}: {exc.reason}", file=sys.stderr)
        return 2
    except UsernameTaken as exc:
        print(f"lienthong: {exc}", file=sys.stderr)
        return 1
    print(f"{user.username} ({user.id}) in {user.agency_code}: {','.join(sorted(user.roles))}")
    return 0


def _show_config(args: argparse.Namespace) -> int:
    for name, shown, help_text in gateway_config.describe():
        print(f"{name:<34} {shown:<28} {help_text}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    group = subparsers.add_parser("gateway", help="the HTTP API: serve, users, schema")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    serve = actions.add_parser("serve", help="serve the HTTP API (migrates its schema first)")
    serve.add_argument("--host", help="default $LT_GATEWAY_HOST")
    serve.add_argument("--port", type=int, help="default $LT_GATEWAY_PORT")
    serve.add_argument("--workers", type=int, help="default $LT_GATEWAY_WORKERS")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations")
    serve.set_defaults(handler=_serve)

    migrate = actions.add_parser("migrate", help="apply the gateway's migrations")
    migrate.set_defaults(handler=_migrate)

    seed = actions.add_parser("seed-users", help="create the demo province's demo accounts")
    seed.add_argument("--password", help="default $LT_GATEWAY_DEMO_PASSWORD")
    seed.add_argument(
        "--no-signing-key",
        action="store_true",
        help=f"do not bind {DEMO_SIGNER_USERNAME} to the chairman's HSM key (no signing service)",
    )
    seed.set_defaults(handler=_seed_users)

    add = actions.add_parser("add-user", help="create an account")
    add.add_argument("username")
    add.add_argument("--agency", required=True, help="agency code NNN.NN.NN.XNN")
    add.add_argument("--roles", required=True, help="comma-separated: clerk,signer,officer,…")
    add.add_argument("--full-name", default="")
    add.add_argument("--password", help="prompted when not given")
    add.add_argument("--no-password", action="store_true", help="OIDC-only account")
    add.set_defaults(handler=_add_user)

    show = actions.add_parser("config", help="the LT_GATEWAY_* settings")
    show.set_defaults(handler=_show_config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway")
    register(parser.add_subparsers(dest="group", metavar="COMMAND", required=True))
    args = parser.parse_args(argv if argv is not None else ["gateway", "serve"])
    return int(args.handler(args))
