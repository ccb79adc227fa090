"""Signed webhooks for external e-office systems (HMAC-SHA256, retries with backoff).

The body is JSON; the header ``X-LienThong-Signature: t=<unix seconds>,v1=<hex>`` carries
HMAC-SHA256 over ``"<t>." + body`` with the receiver's secret, so the receiver can check both
origin and freshness (reject a ``t`` older than a few minutes: no replays).
``X-LienThong-Delivery`` is the delivery id: the same delivery may be posted more than once
(at-least-once) and the receiver keeps the first.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

SIGNATURE_HEADER = "X-LienThong-Signature"
DELIVERY_HEADER = "X-LienThong-Delivery"
DEFAULT_TOLERANCE_S = 300


class WebhookFailed(RuntimeError):
    """Every attempt failed; the message names the URL and the last reason."""


class BadSignature(ValueError):
    """A webhook signature that does not match, is malformed or too old."""


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def check_signature(
    secret: str,
    body: bytes,
    header: str,
    *,
    now: float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> None:
    """What a receiving system does; raises :class:`BadSignature` naming the reason."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        raise BadSignature(f"{SIGNATURE_HEADER}: malformed {header!r}") from None
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        raise BadSignature(f"{SIGNATURE_HEADER}: timestamp {timestamp} outside the window")
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise BadSignature(f"{SIGNATURE_HEADER}: does not match the body")


@dataclass(frozen=True, slots=True)
class WebhookSender:
    attempts: int = 4
    backoff_s: float = 0.5
    timeout_s: float = 10.0

    def post(self, url: str, secret: str, body: bytes, delivery_id: str) -> int:
        """POST with retries on network errors and 5xx/429; returns the final HTTP status.

        A 4xx other than 429 is the receiver refusing this body: not retried.
        """
        reason = ""
        for attempt in range(1, self.attempts + 1):
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                SIGNATURE_HEADER: signature(secret, body, int(time.time())),
                DELIVERY_HEADER: delivery_id,
            }
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return int(response.status)
            except urllib.error.HTTPError as error:
                if error.code < 500 and error.code != 429:
                    raise WebhookFailed(f"{url}: refused with HTTP {error.code}") from error
                reason = f"HTTP {error.code}"
            except (urllib.error.URLError, OSError) as error:
                reason = str(getattr(error, "reason", error))
            if attempt < self.attempts:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise WebhookFailed(f"{url}: {self.attempts} attempts failed, last: {reason}")
