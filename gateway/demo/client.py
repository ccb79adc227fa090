"""The demo's HTTP side: one logged-in session per demo user against the gateway (httpx).

Nothing here talks to a service directly: every action of the scenario is an HTTP request a
frontend or an agency's e-office system could send. A refused request becomes
:class:`RequestRefused` carrying the RFC 9457 problem's ``detail`` and ``field``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


class GatewayUnreachable(Exception):
    """The gateway did not answer at all (not started, wrong URL)."""


class RequestRefused(Exception):
    """The gateway answered a request with an error status."""

    def __init__(self, method: str, path: str, status: int, detail: str, field: str | None):
        where = f" (field {field})" if field else ""
        super().__init__(f"{method} {path} → HTTP {status}: {detail}{where}")
        self.status = status
        self.detail = detail
        self.field = field


def _problem(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase, None
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("title") or str(body)
        return str(detail), body.get("field")
    return str(body)[:300], None


@dataclass
class Session:
    """A demo user logged in to the gateway; logs in again when the access token expired."""

    http: httpx.Client
    username: str
    password: str
    token: str = ""
    profile: dict[str, Any] = field(default_factory=dict)

    def login(self) -> None:
        path = "/v1/auth/login"
        try:
            response = self.http.post(
                path, json={"username": self.username, "password": self.password}
            )
        except httpx.TransportError as exc:
            raise GatewayUnreachable(f"{self.http.base_url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            detail, field_name = _problem(response)
            raise RequestRefused(
                "POST", f"{path} as {self.username}", response.status_code, detail, field_name
            )
        self.token = response.json()["access_token"]

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send as this user; an error status raises :class:`RequestRefused`."""
        if not self.token:
            self.login()
        response = self._send(method, path, **kwargs)
        if response.status_code == 401:  # the 5-minute access token ran out: log in again
            self.login()
            response = self._send(method, path, **kwargs)
        if response.status_code >= 400:
            detail, field_name = _problem(response)
            raise RequestRefused(
                method, f"{path} as {self.username}", response.status_code, detail, field_name
            )
        return response

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self.token}"}
        try:
            return self.http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise GatewayUnreachable(
                f"{method} {path}: {self.http.base_url} did not answer ({type(exc).__name__})"
            ) from exc

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()


class Gateway:
    """Sessions by user name over one HTTP connection pool."""

    def __init__(self, base_url: str, password: str, timeout_s: float = 60.0) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self.password = password
        self._sessions: dict[str, Session] = {}

    def as_user(self, username: str, password: str | None = None) -> Session:
        session = self._sessions.get(username)
        if session is None:
            session = Session(self.http, username, password or self.password)
            self._sessions[username] = session
        return session

    def healthy(self) -> bool:
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def close(self) -> None:
        self.http.close()
