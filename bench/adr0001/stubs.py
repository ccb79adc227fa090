"""Generate the echo protobuf/gRPC stubs into a directory with ``grpcio-tools``.

The stubs are generated at run time into a temporary directory (never committed) so the
benchmark always uses the protoc that matches the installed grpcio/protobuf runtime.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROTO_PATH = Path(__file__).resolve().parent / "echo.proto"


class StubGenerationError(RuntimeError):
    """grpc_tools.protoc did not produce echo_pb2.py / echo_pb2_grpc.py."""


def generate_stubs(output_dir: Path, python: str = sys.executable) -> Path:
    """Run ``python -m grpc_tools.protoc`` on echo.proto and return ``output_dir``.

    ``python`` is the interpreter whose grpcio-tools is used; the other benchmark processes
    only add ``output_dir`` to ``sys.path``.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    command = [
        python,
        "-m",
        "grpc_tools.protoc",
        f"--proto_path={PROTO_PATH.parent}",
        f"--python_out={output_dir}",
        f"--grpc_python_out={output_dir}",
        str(PROTO_PATH),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    expected = [output_dir / "echo_pb2.py", output_dir / "echo_pb2_grpc.py"]
    if completed.returncode != 0 or not all(path.exists() for path in expected):
        raise StubGenerationError(
            f"grpc_tools.protoc failed for {PROTO_PATH} (exit {completed.returncode}): "
            f"{completed.stderr.strip()}"
        )
    return output_dir


def add_stubs_to_path(stubs_dir: str) -> None:
    """Make ``import echo_pb2`` work in a benchmark process started with ``--stubs``."""
    if stubs_dir not in sys.path:
        sys.path.insert(0, stubs_dir)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/adr0001-stubs")
    print(generate_stubs(target))
