"""The end user's identity passed from the gateway to the services (services.chassis.caller)."""

from __future__ import annotations

import grpc
import pytest

from services.chassis import caller as callers
from services.chassis.errors import NotFound, PermissionDenied

KEY = b"k" * 40
CLERK = callers.Caller("vp.vanthu", "000.00.01.H56", frozenset({"clerk"}))


def test_token_round_trips_and_names_what_is_wrong() -> None:
    token = callers.encode_caller(CLERK, KEY, now=1000)
    assert callers.decode_caller(token, KEY, now=1000) == CLERK
    with pytest.raises(callers.CallerError, match="does not verify"):
        callers.decode_caller(token, b"x" * 40, now=1000)
    version, _payload, mac = token.split(".")
    forged = callers.encode_caller(
        callers.Caller("x", "000.00.03.H56", frozenset({"province_admin"})), b"y" * 40, now=1000
    ).split(".")[1]
    with pytest.raises(callers.CallerError, match="does not verify"):
        callers.decode_caller(f"{version}.{forged}.{mac}", KEY, now=1000)
    with pytest.raises(callers.CallerError, match="expired"):
        callers.decode_caller(token, KEY, now=1000 + callers.TOKEN_TTL_S + 1)
    with pytest.raises(callers.CallerError, match="not a v1"):
        callers.decode_caller("garbage", KEY)
    assert callers.CallerError("x").status == "UNAUTHENTICATED"


def test_scope_checks_follow_the_current_caller() -> None:
    callers.require_agency("000.00.03.H56")  # no caller: the platform itself
    handle = callers.enter(CLERK, "token")
    try:
        callers.require_agency("000.00.01.H56")
        with pytest.raises(PermissionDenied, match=r"may not act for agency 000\.00\.03\.H56"):
            callers.require_agency("000.00.03.H56")
        with pytest.raises(NotFound):
            callers.require_agency("000.00.03.H56", hide=True)
        callers.require_role("clerk", "signer")
        with pytest.raises(PermissionDenied, match="signer"):
            callers.require_role("signer")
    finally:
        callers.leave(handle)
    admin = callers.Caller("tinh.admin", "000.00.00.H56", frozenset({"province_admin"}))
    handle = callers.enter(admin, "token")
    try:
        callers.require_agency("000.00.03.H56")
        callers.require_role("signer")
    finally:
        callers.leave(handle)


def test_key_file_is_created_once_and_shared(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("LT_CALLER_KEY", raising=False)
    callers.reset_key_cache()
    try:
        first = callers.caller_key()
        callers.reset_key_cache()
        assert callers.caller_key() == first and len(first) >= 32
        assert (tmp_path / "secrets" / "caller.key").stat().st_mode & 0o777 == 0o600
        monkeypatch.setenv("LT_CALLER_KEY", "short")
        callers.reset_key_cache()
        with pytest.raises(Exception, match="at least 32"):
            callers.caller_key()
    finally:
        callers.reset_key_cache()


def test_served_call_sees_the_caller_and_forwards_it(tmp_path, monkeypatch) -> None:
    """Over real gRPC: the interceptor verifies lt-caller; a forged one is UNAUTHENTICATED."""
    from concurrent import futures

    from services.chassis.clients import _CorrelationForwarder
    from services.chassis.grpc_server import ServiceInterceptor

    monkeypatch.setenv("LT_CALLER_KEY", KEY.decode())
    callers.reset_key_cache()
    seen: list[object] = []

    def behaviour(request: bytes, context: grpc.ServicerContext) -> bytes:
        seen.append((callers.current_caller(), callers.current_token()))
        return request

    handler = grpc.method_handlers_generic_handler(
        "t.T", {"Echo": grpc.unary_unary_rpc_method_handler(behaviour)}
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(2), interceptors=[ServiceInterceptor()], handlers=[handler]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        channel = grpc.intercept_channel(
            grpc.insecure_channel(f"127.0.0.1:{port}"), _CorrelationForwarder()
        )
        echo = channel.unary_unary("/t.T/Echo")
        token = callers.encode_caller(CLERK)
        assert echo(b"a", metadata=[(callers.CALLER_HEADER, token)]) == b"a"
        assert seen[-1] == (CLERK, token)
        assert echo(b"b") == b"b" and seen[-1] == (None, None)
        # Inside a served call the forwarder passes the same token on to the next service.
        handle = callers.enter(CLERK, token)
        try:
            echo(b"c")
        finally:
            callers.leave(handle)
        assert seen[-1] == (CLERK, token)
        with pytest.raises(grpc.RpcError) as refused:
            echo(b"d", metadata=[(callers.CALLER_HEADER, token[:-4] + "AAAA")])
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        assert "does not verify" in refused.value.details()
    finally:
        server.stop(None)
        callers.reset_key_cache()
