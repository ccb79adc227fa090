"""Integration tests of a running profile (default `test`; set LT_INFRA_TEST_PROFILE to change).

They need `infra/local/up.sh test` to have run and FAIL (never skip) otherwise. The profile's
settings are read from env.sh, so the tests check exactly what callers are told to use.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

INFRA_DIR = Path(__file__).resolve().parents[3] / "infra" / "local"
PROFILE = os.environ.get("LT_INFRA_TEST_PROFILE", "test")


@pytest.fixture(scope="module")
def profile_env() -> dict[str, str]:
    # Port overrides exported for this same profile (a side-by-side run) are kept; anything
    # else of LT_* could be another profile's, or a value a service test set for itself.
    same_profile = os.environ.get("LT_PROFILE") == PROFILE
    port_overrides = ("LT_PG_PORT", "LT_KAFKA_PORT", "LT_KAFKA_CONTROLLER_PORT")
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LT_", "SOFTHSM2_CONF")) or (same_profile and k in port_overrides)
    }
    result = subprocess.run(
        [str(INFRA_DIR / "env.sh"), PROFILE],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stdout.splitlines():
        name, _, quoted = line.removeprefix("export ").partition("=")
        environment[name] = shlex.split(quoted)[0] if quoted else ""
    return environment


def psycopg_url(profile_env: dict[str, str]) -> str:
    return profile_env["LT_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)


def test_up_again_only_rechecks_what_is_running(profile_env: dict[str, str]) -> None:
    # Never start anything from a test: both servers must already accept connections.
    for port_name in ("LT_PG_PORT", "LT_KAFKA_PORT"):
        try:
            socket.create_connection(("127.0.0.1", int(profile_env[port_name])), 2).close()
        except OSError as error:
            pytest.fail(
                f"nothing on {port_name}={profile_env[port_name]} ({error}); "
                f"run infra/local/up.sh {PROFILE} first",
                pytrace=False,
            )
    result = subprocess.run(
        [str(INFRA_DIR / "up.sh"), PROFILE],
        env=profile_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"run infra/local/up.sh {PROFILE} first:\n{result.stderr}"
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["postgres", "kafka", "hsm"]
    assert "already running" in lines[0] and "already running" in lines[1]
    assert "already initialised" in lines[2]


def test_postgres_database_is_utf8_local_only_and_lets_services_create_schemas(
    profile_env: dict[str, str],
) -> None:
    import psycopg

    schema = f"infra_selftest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(psycopg_url(profile_env), connect_timeout=5) as connection:
        settings = dict(
            connection.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('server_encoding', 'listen_addresses', 'max_connections', 'port')"
            ).fetchall()
        )
        assert settings["server_encoding"] == "UTF8"
        assert settings["listen_addresses"] == "127.0.0.1"
        assert int(settings["max_connections"]) >= 200
        assert settings["port"] == profile_env["LT_PG_PORT"]
        # Services own their schemas: the lienthong role must be able to create one.
        connection.execute(f"CREATE SCHEMA {schema}")
        connection.execute(f"CREATE TABLE {schema}.t (name text)")
        connection.execute(f"INSERT INTO {schema}.t VALUES ('Sở Tài chính')")
        (stored,) = connection.execute(f"SELECT name FROM {schema}.t").fetchone()
        assert stored == "Sở Tài chính"
        connection.rollback()


def test_kafka_has_the_listed_topics_and_round_trips_a_record(
    profile_env: dict[str, str],
) -> None:
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.admin import KafkaAdminClient

    bootstrap = profile_env["LT_KAFKA_BOOTSTRAP"]
    listed = {}
    for line in (INFRA_DIR / "topics.txt").read_text("utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            listed[fields[0]] = int(fields[1])

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    scratch_topic = f"lienthong.infra-selftest.{uuid.uuid4().hex[:8]}"
    try:
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
        for name, partitions in listed.items():
            assert described.get(name) == partitions, f"{name}: {described.get(name)}"

        admin.create_topics(
            {scratch_topic: {"num_partitions": 1, "replication_factor": 1}}, wait_for_metadata=True
        )
        payload = "Công văn số 12/UBND-VP".encode()
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        producer.send(scratch_topic, payload).get(timeout=30)
        producer.close()
        consumer = KafkaConsumer(
            scratch_topic,
            bootstrap_servers=bootstrap,
            group_id=f"selftest-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            consumer_timeout_ms=30000,
        )
        received = next(iter(consumer)).value
        consumer.close()
        assert received == payload
    finally:
        if scratch_topic in admin.list_topics():
            admin.delete_topics([scratch_topic])
        admin.close()


def test_wait_ready_creates_missing_topics_once_with_their_partitions(
    profile_env: dict[str, str], tmp_path: Path
) -> None:
    from kafka.admin import KafkaAdminClient

    topic = f"lienthong.infra-selftest.{uuid.uuid4().hex[:8]}"
    topics_file = tmp_path / "topics.txt"
    topics_file.write_text(f"# scratch\n{topic} 3\n", "utf-8")
    command = [
        str(INFRA_DIR.parents[1] / ".venv" / "bin" / "python"),
        str(INFRA_DIR / "wait_ready.py"),
        "kafka",
        "--bootstrap",
        profile_env["LT_KAFKA_BOOTSTRAP"],
        "--topics-file",
        str(topics_file),
        "--timeout",
        "30",
    ]
    admin = KafkaAdminClient(bootstrap_servers=profile_env["LT_KAFKA_BOOTSTRAP"])
    try:
        first = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
        second = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
        (described,) = admin.describe_topics([topic])
        assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
        assert first.stdout.strip() == "topics=1 created=1"
        assert second.stdout.strip() == "topics=1 created=0"
        assert len(described["partitions"]) == 3
        assert {len(p["replica_nodes"]) for p in described["partitions"]} == {1}
    finally:
        if topic in admin.list_topics():
            admin.delete_topics([topic])
        admin.close()


def test_kafka_does_not_create_topics_on_first_use(profile_env: dict[str, str]) -> None:
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaTimeoutError

    bootstrap = profile_env["LT_KAFKA_BOOTSTRAP"]
    unknown_topic = f"lienthong.infra-selftest.typo.{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_block_ms=2000)
    try:
        with pytest.raises(KafkaTimeoutError):
            producer.send(unknown_topic, b"x").get(timeout=5)
    finally:
        producer.close()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        assert unknown_topic not in admin.list_topics()
    finally:
        admin.close()


def test_hsm_token_is_reached_through_p11_kit_proxy_from_many_threads(
    profile_env: dict[str, str],
) -> None:
    """The proxy loads SoftHSM with OS locking, so concurrent sessions must simply work."""
    # PKCS#11 login state is per application: log in once, then let threads open their own
    # sessions and use the token concurrently (session-only AES keys, nothing is stored).
    script = r"""
import os, threading, pkcs11
from pkcs11 import KeyType
library = pkcs11.lib(os.environ["LT_PKCS11_MODULE"])
token = library.get_token(token_label=os.environ["LT_HSM_TOKEN_LABEL"])
errors, round_trips = [], []
def work():
    try:
        for _ in range(5):
            with token.open() as session:
                key = session.generate_key(KeyType.AES, 256, store=False)
                iv = session.generate_random(128)
                plain = "Quyết định".encode() * 4
                if key.decrypt(key.encrypt(plain, mechanism_param=iv), mechanism_param=iv) == plain:
                    round_trips.append(1)
    except Exception as error:
        errors.append(repr(error))
with token.open(user_pin=os.environ["LT_HSM_USER_PIN"]):
    threads = [threading.Thread(target=work) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
print(token.serial.decode(), len(round_trips), errors)
"""
    result = subprocess.run(
        [str(INFRA_DIR.parents[1] / ".venv" / "bin" / "python"), "-c", script],
        env=profile_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    serial, round_trips, errors = result.stdout.split(" ", 2)
    assert (round_trips, errors.strip()) == ("40", "[]")

    # SOFTHSM2_CONF from the environment is what the proxy honoured: softhsm2-util, reading
    # the same variable, lists the same token serial in this profile's token directory.
    slots = subprocess.run(
        ["softhsm2-util", "--show-slots"],
        env=profile_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"Serial number:    {serial}" in slots
    assert Path(profile_env["SOFTHSM2_CONF"]).read_text().count(profile_env["LT_VAR_DIR"]) == 1
