"""Readiness checks for the local infrastructure started by ``infra/local/up.sh``.

Two sub-commands, each polling (never sleeping a fixed time) until its component answers a real
request or a deadline passes:

``kafka``
    Waits until the broker answers a metadata request (kafka-python ``KafkaAdminClient``), then
    creates the topics of ``infra/local/topics.txt`` that do not exist yet, with explicit
    partition counts and replication factor 1.
``hsm``
    Loads the PKCS#11 module given (p11-kit-proxy, which loads SoftHSM2 with OS locking), finds
    the token by label, opens a session, logs in with the user PIN and logs out. With
    ``--expect-serial`` it also proves that the proxy honoured ``SOFTHSM2_CONF``: the token it
    sees must be the one ``softhsm2-util`` created in this profile's token directory.

Exit status 0 = ready; 1 = not ready (the message names the component and the reason).
The script only needs the standard library plus kafka-python / python-pkcs11 for the
respective sub-command, both of which the project venv provides.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POLL_INTERVAL_S = 0.2


class NotReadyError(Exception):
    """A component did not become ready; the message says which one and why."""


class TopicsFileError(ValueError):
    """``topics.txt`` has a malformed line; the message names the file, line and reason."""


@dataclass(frozen=True)
class TopicSpec:
    """One line of ``topics.txt``: a topic and the partition count it is created with."""

    name: str
    partitions: int


# Kafka's own limits for topic names (kafka.common.internals.Topic).
_TOPIC_NAME_MAX_LENGTH = 249
_TOPIC_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def parse_topics(text: str, source: str = "topics.txt") -> list[TopicSpec]:
    """Parses ``topics.txt`` content: ``<topic> <partitions>`` per line, ``#`` comments.

    Raises TopicsFileError naming the line for a bad name, a bad partition count, a wrong
    number of fields or a topic listed twice.
    """
    specs: list[TopicSpec] = []
    seen: dict[str, int] = {}
    for line_no, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        where = f"{source} line {line_no}"
        if len(fields) != 2:
            raise TopicsFileError(
                f"{where}: expected '<topic> <partitions>', got {len(fields)} field(s): {line!r}"
            )
        name, partitions_text = fields
        if name in (".", "..") or len(name) > _TOPIC_NAME_MAX_LENGTH:
            raise TopicsFileError(f"{where}: topic name {name!r} is not a legal Kafka topic name")
        illegal = sorted(set(name) - _TOPIC_NAME_CHARS)
        if illegal:
            raise TopicsFileError(
                f"{where}: topic name {name!r} contains characters Kafka forbids: {illegal}"
            )
        if not partitions_text.isdigit() or int(partitions_text) < 1:
            raise TopicsFileError(
                f"{where}: partitions for {name!r} must be a positive integer, "
                f"got {partitions_text!r}"
            )
        if name in seen:
            raise TopicsFileError(f"{where}: topic {name!r} already listed on line {seen[name]}")
        seen[name] = line_no
        specs.append(TopicSpec(name=name, partitions=int(partitions_text)))
    return specs


def poll_until(
    what: str,
    attempt: Callable[[], Any],
    timeout_s: float,
    still_worth_waiting: Callable[[], str | None] = lambda: None,
) -> Any:
    """Calls ``attempt`` until it returns without raising, or ``timeout_s`` has elapsed.

    ``still_worth_waiting`` returns a reason to give up early (e.g. the process died) or None.
    """
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while True:
        try:
            return attempt()
        except Exception as error:
            last_error = error
        give_up_reason = still_worth_waiting()
        if give_up_reason is not None:
            raise NotReadyError(f"{what}: {give_up_reason} (last error: {last_error!r})")
        if time.monotonic() >= deadline:
            waited = f"after {timeout_s:.0f} s " if timeout_s > 0 else ""
            raise NotReadyError(f"{what}: failed {waited}with {last_error!r}")
        time.sleep(POLL_INTERVAL_S)


def _process_gone(pid: int | None) -> str | None:
    """Why waiting for ``pid`` is pointless (it exited, or is an unreaped zombie), or None."""
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return f"process {pid} exited"
    except OSError:
        return None
    # The state letter follows the parenthesised command name, which may contain spaces.
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return f"process {pid} exited"
    return None


def ensure_kafka(
    bootstrap: str,
    topics: list[TopicSpec],
    timeout_s: float,
    pid: int | None,
    attempt_timeout_ms: int = 3000,
) -> str:
    """Waits for the broker, creates missing topics; returns a one-line summary.

    Each connection attempt may take ``attempt_timeout_ms`` (kafka-python retries refused
    connections within it), so a dead ``pid`` is noticed within that time.
    """
    from kafka.admin import KafkaAdminClient

    # Refused connections while the JVM starts are expected; kafka-python would log each one.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)

    def connect() -> KafkaAdminClient:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="lienthong-infra-wait-ready",
            bootstrap_timeout_ms=attempt_timeout_ms,
            request_timeout_ms=10000,
        )
        try:
            cluster = admin.describe_cluster()
            if not cluster.get("brokers"):
                raise NotReadyError("metadata lists no brokers yet")
        except BaseException:
            admin.close()
            raise
        return admin

    admin = poll_until(
        f"kafka at {bootstrap}", connect, timeout_s, still_worth_waiting=lambda: _process_gone(pid)
    )
    try:
        existing = {
            topic["name"]: len(topic.get("partitions") or [])
            for topic in admin.describe_topics()
            if not topic.get("error_code")
        }
        missing = [spec for spec in topics if spec.name not in existing]
        # Left unchanged on purpose (see topics.txt), but shown in up.sh's summary line.
        mismatched = [
            f"{spec.name}(has {existing[spec.name]}, topics.txt {spec.partitions})"
            for spec in topics
            if spec.name in existing and existing[spec.name] != spec.partitions
        ]
        if missing:
            _create_topics(admin, missing)
    finally:
        admin.close()
    summary = f"topics={len(topics)} created={len(missing)}"
    if mismatched:
        summary += " partition-mismatch=" + ",".join(mismatched)
    return summary


def _create_topics(admin: Any, missing: list[TopicSpec]) -> None:
    from kafka.errors import for_code

    topic_already_exists = 36  # another up.sh created it between our describe and create
    result = admin.create_topics(
        {
            spec.name: {"num_partitions": spec.partitions, "replication_factor": 1}
            for spec in missing
        },
        timeout_ms=30000,
        raise_errors=False,
    )
    failures = [
        f"{topic['name']}: {for_code(topic['error_code']).__name__} "
        f"{topic.get('error_message') or ''}".strip()
        for topic in result["topics"]
        if topic["error_code"] not in (0, topic_already_exists)
    ]
    if failures:
        raise NotReadyError("kafka: cannot create topics: " + "; ".join(failures))
    admin.wait_for_topics([spec.name for spec in missing], timeout_ms=30000)


def ensure_hsm(
    module_path: str, label: str, user_pin: str, expect_serial: str | None, timeout_s: float
) -> str:
    """Logs in to the token through ``module_path``; returns a one-line summary."""
    import pkcs11

    if not Path(module_path).exists():
        raise NotReadyError(f"hsm: PKCS#11 module {module_path} does not exist")

    def login() -> str:
        library = pkcs11.lib(module_path)
        token = library.get_token(token_label=label)
        serial = token.serial.decode("ascii", "replace").strip()
        with token.open(user_pin=user_pin):
            pass  # leaving the block logs out and closes the session
        return serial

    serial = poll_until(f"hsm token {label!r} via {module_path}", login, timeout_s)
    if expect_serial is not None and serial != expect_serial:
        raise NotReadyError(
            f"hsm: token {label!r} seen through {module_path} has serial {serial}, but the token "
            f"initialised under SOFTHSM2_CONF={os.environ.get('SOFTHSM2_CONF')} has serial "
            f"{expect_serial}: the proxy did not honour SOFTHSM2_CONF"
        )
    return f"serial={serial}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    kafka_parser = commands.add_parser("kafka", help="wait for the broker, create topics")
    kafka_parser.add_argument("--bootstrap", required=True, help="host:port")
    kafka_parser.add_argument("--topics-file", type=Path, help="topics.txt to apply")
    kafka_parser.add_argument("--pid", type=int, help="broker pid: stop waiting if it exits")
    kafka_parser.add_argument("--timeout", type=float, default=90.0, help="seconds")

    hsm_parser = commands.add_parser("hsm", help="log in to the token through the module")
    hsm_parser.add_argument("--module", required=True, help="PKCS#11 module path")
    hsm_parser.add_argument("--label", required=True, help="token label")
    hsm_parser.add_argument(
        "--user-pin-env",
        default="LT_HSM_USER_PIN",
        help="environment variable holding the user PIN (kept off argv)",
    )
    hsm_parser.add_argument("--expect-serial", help="serial softhsm2-util reported")
    # SoftHSM is a library, not a server: nothing comes up later, so one attempt (timeout 0)
    # is the default and a wrong PIN or label fails at once.
    hsm_parser.add_argument("--timeout", type=float, default=0.0, help="seconds")

    args = parser.parse_args(argv)
    try:
        if args.command == "kafka":
            topics: list[TopicSpec] = []
            if args.topics_file is not None:
                topics = parse_topics(args.topics_file.read_text("utf-8"), str(args.topics_file))
            print(ensure_kafka(args.bootstrap, topics, args.timeout, args.pid))
        else:
            user_pin = os.environ.get(args.user_pin_env)
            if not user_pin:
                raise NotReadyError(f"hsm: environment variable {args.user_pin_env} is not set")
            print(ensure_hsm(args.module, args.label, user_pin, args.expect_serial, args.timeout))
    except (NotReadyError, TopicsFileError) as error:
        print(f"wait_ready: {error}", file=sys.stderr)
        return 1
    except ImportError as error:
        print(
            f"wait_ready: {sys.executable} cannot import {error.name!r}; create the project venv "
            f"(.venv with kafka-python and python-pkcs11) first",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
