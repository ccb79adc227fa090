"""``lienthong demo`` end to end: the issue #7 scenario over the real gateway's HTTP API.

identifiers, registry, signing, verification, distribution and the gateway run as separate
processes (``python -m services.chassis.cli serve <name>`` / ``gateway serve``) on free ports,
over the test profile's PostgreSQL, Kafka and SoftHSM token. The demo province is imported, the
dev PKI ensured (the chairman's and the issuer's keys in the HSM), the demo users seeded (the
signer bound to the chairman's key), then ``python -m gateway.demo`` runs as its own process —
twice, as ``make demo`` may on one stack — and its exit status and summary are checked.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.demo.summary import SUCCESS_LINE
from services.certificates.devpki import DevPki, ensure_dev_pki
from services.signing.adapters.hsm import process_hsm

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_PROVINCE = REPO_ROOT / "services" / "identifiers" / "data" / "demo_province.json"
GRPC_SERVICES = ("identifiers", "registry", "signing", "verification", "distribution")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """The service processes and the gateway, with the environment that points at them."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.gateway_url = ""

    def _spawn(self, name: str, arguments: list[str], extra: dict[str, str]) -> None:
        log = (self.log_dir / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", "services.chassis.cli", *arguments],
            env={**self.env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )

    def start_service(self, name: str, **extra: str) -> None:
        port = _free_port()
        self._spawn(name, ["serve", name], {f"LT_{name.upper()}_PORT": str(port), **extra})
        self.env[f"LT_{name.upper()}_ADDR"] = f"127.0.0.1:{port}"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        deadline = time.monotonic() + 90
        try:
            while time.monotonic() < deadline:
                self._alive(name)
                try:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=1
                    )
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    time.sleep(0.3)
        finally:
            channel.close()
        raise AssertionError(f"{name} never became SERVING; see {self.log_dir}/{name}.log")

    def start_gateway(self) -> None:
        port = _free_port()
        self._spawn("gateway", ["gateway", "serve", "--port", str(port)], {})
        self.gateway_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            self._alive("gateway")
            try:
                if httpx.get(f"{self.gateway_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"gateway never answered /healthz; see {self.log_dir}/gateway.log")

    def _alive(self, name: str) -> None:
        assert self.running[name].poll() is None, f"{name} exited; see {self.log_dir}/{name}.log"

    def cli(self, *arguments: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.chassis.cli", *arguments],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO_ROOT,
        )

    def stop_all(self) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.running.clear()


@pytest.fixture(scope="module")
def dev_pki(infra_env: dict[str, str]) -> DevPki:
    return ensure_dev_pki(process_hsm(), Path(infra_env["LT_VAR_DIR"]))


@pytest.fixture(scope="module")
def stack(
    infra_env: dict[str, str], dev_pki: DevPki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    # The profile's database, as the other end-to-end tests: the services' Kafka consumer
    # groups are fixed, so a service process of another session on this profile may handle
    # this stack's events — it must find the same records.
    from services.chassis.migrations import upgrade
    from services.distribution.adapters.topics import create_topics

    for service in GRPC_SERVICES:
        upgrade(service)
    create_topics()
    env = {
        **os.environ,
        "LT_OUTBOX_POLL_S": "0.2",
        # Every process verifies the gateway's lt-caller with the same key.
        "LT_CALLER_KEY": secrets.token_hex(32),
        "LT_GATEWAY_TOKEN_SECRET": secrets.token_hex(32),
        "LT_GATEWAY_LOGIN_MAX_FAILURES_PER_CLIENT": "100000",
        # The failure test logs in with a wrong password; never throttle the demo users.
        "LT_GATEWAY_LOGIN_MAX_FAILURES": "100000",
        "LT_LOG_LEVEL": "INFO",
    }
    stack = Stack(tmp_path_factory.mktemp("demo-e2e-logs"), env)
    own_var = {"LT_VAR_DIR": str(tmp_path_factory.mktemp("demo-e2e-var"))}
    try:
        stack.start_service("identifiers", **own_var)
        stack.start_service("registry", **own_var)
        # Signing and verification use the profile's dev PKI (keys in the token, its root as
        # the trust store), as `make run` does.
        stack.start_service("verification", LT_TRUST_DIR=str(dev_pki.directory))
        stack.start_service("signing")
        stack.start_service("distribution", LT_DISTRIBUTION_VERIFIER="grpc", **own_var)
        stack.start_gateway()
        _import_province(stack)
        seeded = stack.cli("gateway", "seed-users")
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        yield stack
    finally:
        stack.stop_all()


def _import_province(stack: Stack) -> None:
    """Import the demo province (idempotent). Done again before each run: another session
    starting on the test profile empties ``identifiers.agencies``."""
    imported = stack.cli("agencies", "import", str(DEMO_PROVINCE))
    assert imported.returncode == 0, imported.stdout + imported.stderr


def _run_demo(stack: Stack) -> subprocess.CompletedProcess[str]:
    _import_province(stack)
    return subprocess.run(
        [sys.executable, "-m", "gateway.demo", "--gateway", stack.gateway_url, "--timeout", "90"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )


def _check_summary(completed: subprocess.CompletedProcess[str], stack: Stack) -> None:
    summary = completed.stdout
    context = f"\n{summary}\n{completed.stderr[-3000:]}\nlogs: {stack.log_dir}"
    assert completed.returncode == 0, f"demo exit {completed.returncode}{context}"
    assert summary.rstrip().endswith(SUCCESS_LINE), context
    for letter in "abcdefgh":
        assert re.search(rf"^\s+\[{letter}\] ✔ ", summary, re.MULTILINE), f"step {letter}{context}"
    # The directive's table: one row per receiver (agency code first), 30 in all.
    tables = re.split(r"^(?=Văn bản \d — )", summary, flags=re.MULTILINE)
    directive = next(part for part in tables if part.startswith("Văn bản 1 — "))
    recalled = next(part for part in tables if part.startswith("Văn bản 2 — "))
    rows = re.findall(r"^\s{4}(\d{3}\.\d{2}\.\d{2}\.H56) ", directive, re.MULTILINE)
    assert len(rows) == 30 and len(set(rows)) == 30, context
    assert "Tổng hợp 30 cơ quan nhận" in directive, context
    assert len(re.findall(r" 06 Hoàn thành ", directive)) == 3, context
    assert re.search(r"000\.00\.02\.H56 .* 02 Từ chối", directive), context
    assert "TOTAL-FAILED" in directive, context
    # Every time shown is Vietnam time.
    times = re.findall(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)?", summary)
    assert times and set(times) == {"+07:00"}, context
    assert len(re.findall(r" 15 Đồng ý thu hồi ", recalled)) == 2, context
    assert len(re.findall(r" 16 Từ chối thu hồi ", recalled)) == 1, context


def test_demo_runs_the_whole_scenario_twice(stack: Stack) -> None:
    first = _run_demo(stack)
    _check_summary(first, stack)
    second = _run_demo(stack)
    _check_summary(second, stack)
    dispatches = [re.findall(r"Lượt gửi (\S+)", run.stdout) for run in (first, second)]
    assert len(set(dispatches[0] + dispatches[1])) == 4  # new documents each run


def test_demo_names_the_step_that_did_not_happen(stack: Stack) -> None:
    # A wrong password: the very first request of step a is refused (401), exit 1 names a.
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.demo",
            "--gateway",
            stack.gateway_url,
            "--password",
            "not-the-demo-password",
            "--quiet",
        ],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert completed.returncode == 1
    assert "KẾT QUẢ: THẤT BẠI ở bước a" in completed.stdout
    assert "401" in completed.stdout
