"""Unit tests of infra/local's shell entry points and wait_ready.py: no servers are started.

The scripts are run for real as subprocesses; whatever would touch PostgreSQL, Kafka or SoftHSM
is pointed at temporary directories or stopped by the guard under test before it gets there.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

INFRA_DIR = Path(__file__).resolve().parents[3] / "infra" / "local"
REPO_DIR = INFRA_DIR.parents[1]
INHERITED = ("LT_", "SOFTHSM2_CONF")


def clean_environment(**overrides: str) -> dict[str, str]:
    """The caller's environment without any LT_*/SOFTHSM2_CONF it may carry, plus overrides."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED)}
    environment.update(overrides)
    return environment


def run_script(*argv: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INFRA_DIR / argv[0]), *argv[1:]],
        env=clean_environment(**overrides),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def parse_exports(stdout: str) -> dict[str, str]:
    """Evaluates env.sh's output the way a shell would (values may be %q-quoted)."""
    values: dict[str, str] = {}
    for line in stdout.splitlines():
        assert line.startswith("export "), f"env.sh printed a non-export line: {line!r}"
        name, _, quoted = line.removeprefix("export ").partition("=")
        (value,) = shlex.split(quoted) or [""]
        values[name] = value
    return values


def profile_file_values(profile: str) -> dict[str, str]:
    values = {}
    for line in (INFRA_DIR / "profiles" / f"{profile}.env").read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def env_of(profile: str, **overrides: str) -> dict[str, str]:
    result = run_script("env.sh", profile, **overrides)
    assert result.returncode == 0, result.stderr
    return parse_exports(result.stdout)


@pytest.fixture(scope="module")
def wait_ready() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wait_ready", INFRA_DIR / "wait_ready.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["wait_ready"] = module  # dataclasses look the module up while decorating
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def occupied_port() -> Iterator[int]:
    """A port on 127.0.0.1 held by a listener that is not part of any profile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


# --- env.sh ---------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["dev", "test"])
def test_env_exports_the_documented_names_derived_from_the_profile_file(profile: str) -> None:
    exported = env_of(profile)
    from_file = profile_file_values(profile)
    var_dir = str(REPO_DIR / "var" / profile)

    assert exported["LT_PROFILE"] == profile
    assert exported["LT_VAR_DIR"] == var_dir
    assert exported["LT_LOG_DIR"] == f"{var_dir}/log"
    assert exported["LT_PG_PORT"] == from_file["LT_PG_PORT"]
    assert exported["LT_DATABASE_URL"] == (
        f"postgresql+psycopg://lienthong:lienthong@127.0.0.1:{from_file['LT_PG_PORT']}/lienthong"
    )
    assert exported["LT_KAFKA_BOOTSTRAP"] == f"127.0.0.1:{from_file['LT_KAFKA_PORT']}"
    assert exported["SOFTHSM2_CONF"] == f"{var_dir}/softhsm2.conf"
    assert exported["LT_HSM_TOKEN_LABEL"] == "lienthong"
    assert exported["LT_HSM_USER_PIN"] and exported["LT_HSM_SO_PIN"]
    assert exported["LT_PKCS11_MODULE"].endswith("p11-kit-proxy.so")


def test_profile_ports_are_the_agreed_ones_and_never_collide() -> None:
    dev, test = profile_file_values("dev"), profile_file_values("test")
    ports = ("LT_PG_PORT", "LT_KAFKA_PORT", "LT_KAFKA_CONTROLLER_PORT")
    assert [dev[name] for name in ports] == ["55432", "59092", "59093"]
    assert [test[name] for name in ports] == ["56432", "59192", "59193"]
    assert not {dev[name] for name in ports} & {test[name] for name in ports}


def test_env_preset_variable_overrides_profile_and_derived_values() -> None:
    exported = env_of("test", LT_PG_PORT="45678", LT_HSM_USER_PIN="9999")
    assert exported["LT_PG_PORT"] == "45678"
    assert exported["LT_HSM_USER_PIN"] == "9999"
    assert ":45678/lienthong" in exported["LT_DATABASE_URL"]


def test_env_ignores_values_inherited_from_another_profile() -> None:
    dev = env_of("dev")
    result = run_script("env.sh", "test", **dev)
    assert result.returncode == 0, result.stderr
    test = parse_exports(result.stdout)
    assert test["LT_PG_PORT"] == profile_file_values("test")["LT_PG_PORT"]
    assert test["LT_VAR_DIR"].endswith("/var/test")
    assert test["SOFTHSM2_CONF"].endswith("/var/test/softhsm2.conf")
    assert "inherited from profile 'dev'" in result.stderr


def test_env_makes_a_relative_var_dir_absolute(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(INFRA_DIR / "env.sh"), "test"],
        env=clean_environment(LT_VAR_DIR="state"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert parse_exports(result.stdout)["LT_VAR_DIR"] == str(tmp_path.resolve() / "state")


def test_env_output_survives_a_shell_eval_with_spaces(tmp_path: Path) -> None:
    spaced = tmp_path / "dir with spaces"
    script = f'eval "$({INFRA_DIR}/env.sh test)"; printf %s "$LT_LOG_DIR"'
    result = subprocess.run(
        ["bash", "-c", script],
        env=clean_environment(LT_VAR_DIR=str(spaced)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == f"{spaced}/log"


@pytest.mark.parametrize("profile", ["nope", "../test", ""])
def test_env_rejects_unknown_profiles(profile: str) -> None:
    result = run_script("env.sh", profile)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "profile" in result.stderr


# --- up.sh / down.sh guards -----------------------------------------------------------------


def test_up_rejects_an_unknown_component(tmp_path: Path) -> None:
    result = run_script("up.sh", "test", "redis", LT_VAR_DIR=str(tmp_path / "state"))
    assert result.returncode == 1
    assert "unknown component 'redis'" in result.stderr


def test_up_refuses_a_foreign_non_empty_state_dir(tmp_path: Path) -> None:
    (tmp_path / "someone-elses-file").write_text("keep me")
    result = run_script("up.sh", "test", "hsm", LT_VAR_DIR=str(tmp_path))
    assert result.returncode == 1
    assert "was not created by infra/local" in result.stderr
    assert (tmp_path / "someone-elses-file").exists()


def test_up_fails_fast_when_a_stranger_holds_the_kafka_port(
    tmp_path: Path, occupied_port: int
) -> None:
    fake_lib_dir = tmp_path / "kafka-lib"
    fake_lib_dir.mkdir()
    (fake_lib_dir / ".lienthong-complete").write_text("stamp")
    result = run_script(
        "up.sh",
        "test",
        "kafka",
        LT_VAR_DIR=str(tmp_path / "state"),
        LT_KAFKA_LIB_DIR=str(fake_lib_dir),
        LT_KAFKA_PORT=str(occupied_port),
    )
    assert result.returncode == 1
    assert f"127.0.0.1:{occupied_port} is already taken" in result.stderr
    assert not (tmp_path / "state" / "kafka" / "kafka.pid").exists()


def test_up_names_the_missing_kafka_jars(tmp_path: Path) -> None:
    result = run_script(
        "up.sh",
        "test",
        "kafka",
        LT_VAR_DIR=str(tmp_path / "state"),
        LT_KAFKA_LIB_DIR=str(tmp_path / "no-jars-here"),
    )
    assert result.returncode == 1
    assert "no-jars-here" in result.stderr and "install.sh" in result.stderr


def test_down_without_state_dir_is_a_no_op(tmp_path: Path) -> None:
    result = run_script("down.sh", "test", "--wipe", LT_VAR_DIR=str(tmp_path / "never-created"))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "never-created").exists()


def test_down_wipe_refuses_a_directory_without_the_marker(tmp_path: Path) -> None:
    (tmp_path / "precious").write_text("keep me")
    result = run_script("down.sh", "test", "--wipe", LT_VAR_DIR=str(tmp_path))
    assert result.returncode == 1
    assert "refusing to wipe" in result.stderr
    assert (tmp_path / "precious").read_text() == "keep me"


def test_down_wipe_deletes_a_state_dir_created_by_up(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # The layout up.sh leaves behind (marker + log dir), with nothing running in it.
    state.mkdir()
    (state / ".lienthong-profile").write_text("test\n")
    (state / "log").mkdir()
    result = run_script("down.sh", "test", "--wipe", LT_VAR_DIR=str(state))
    assert result.returncode == 0, result.stderr
    assert "kafka      not running" in result.stdout
    assert not state.exists()


# --- wait_ready.py --------------------------------------------------------------------------


def test_parse_topics_reads_names_partitions_and_skips_comments(wait_ready: ModuleType) -> None:
    text = "# header\n\nlienthong.a.v1 6   # trailing comment\n  lienthong.b-c_d.v2\t3\n"
    assert wait_ready.parse_topics(text) == [
        wait_ready.TopicSpec("lienthong.a.v1", 6),
        wait_ready.TopicSpec("lienthong.b-c_d.v2", 3),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("lienthong.a.v1", "expected '<topic> <partitions>'"),
        ("lienthong.a.v1 6 extra", "expected '<topic> <partitions>'"),
        ("lienthong.a.v1 0", "must be a positive integer"),
        ("lienthong.a.v1 six", "must be a positive integer"),
        ("lienthong/a 1", "characters Kafka forbids"),
        ("sở.tài.chính 1", "characters Kafka forbids"),
        (f"{'x' * 250} 1", "not a legal Kafka topic name"),
    ],
)
def test_parse_topics_names_line_and_reason(wait_ready: ModuleType, line: str, reason: str) -> None:
    with pytest.raises(wait_ready.TopicsFileError) as raised:
        wait_ready.parse_topics(f"# comment\n{line}\n", "topics.txt")
    assert "topics.txt line 2" in str(raised.value)
    assert reason in str(raised.value)


def test_parse_topics_rejects_duplicates(wait_ready: ModuleType) -> None:
    with pytest.raises(wait_ready.TopicsFileError, match="already listed on line 1"):
        wait_ready.parse_topics("a.v1 1\na.v1 2\n")


def test_repository_topics_file_is_valid_and_has_the_agency_topic(
    wait_ready: ModuleType,
) -> None:
    specs = wait_ready.parse_topics((INFRA_DIR / "topics.txt").read_text("utf-8"))
    assert wait_ready.TopicSpec("lienthong.identifiers.agency.v1", 6) in specs


def test_kafka_wait_gives_up_early_when_the_broker_process_died(wait_ready: ModuleType) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    dead = subprocess.Popen(["true"])
    dead.wait()
    # Nobody listens on the port; the dead pid must end the wait long before the timeout.
    with pytest.raises(wait_ready.NotReadyError, match=f"process {dead.pid} exited"):
        wait_ready.ensure_kafka(
            f"127.0.0.1:{closed_port}", [], timeout_s=300, pid=dead.pid, attempt_timeout_ms=300
        )


def test_kafka_wait_treats_an_unreaped_zombie_as_exited(wait_ready: ModuleType) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    zombie = subprocess.Popen(["true"])  # not waited for: stays a zombie after exiting
    try:
        wait_ready.poll_until("zombie", lambda: _assert_zombie(zombie.pid), timeout_s=30)
        with pytest.raises(wait_ready.NotReadyError, match=f"process {zombie.pid} exited"):
            wait_ready.ensure_kafka(
                f"127.0.0.1:{closed_port}",
                [],
                timeout_s=300,
                pid=zombie.pid,
                attempt_timeout_ms=300,
            )
    finally:
        zombie.wait()


def _assert_zombie(pid: int) -> None:
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    assert state == "Z", state


def test_poll_until_reports_the_last_error_after_the_deadline(wait_ready: ModuleType) -> None:
    attempts = []

    def always_refused() -> None:
        attempts.append(1)
        raise ConnectionRefusedError("nobody home")

    with pytest.raises(wait_ready.NotReadyError, match="nobody home"):
        wait_ready.poll_until("thing", always_refused, timeout_s=0.3)
    assert len(attempts) >= 2
