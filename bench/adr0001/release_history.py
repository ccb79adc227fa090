"""Release history of nameko, nameko-grpc, nameko-kafka and eventlet from PyPI, via pip only.

For each package: every published version (``pip index versions --pre``), the upload date
bracket of the newest version (``pip index versions --uploaded-prior-to``, which reads the
index's upload-time metadata), and the newest release's own METADATA (``pip download
--no-deps``): Requires-Python, Requires-Dist and the Python classifiers it declares, plus the
newest file timestamp inside the archive (its build time).

Run with any interpreter whose pip is >= 25.1 (``--uploaded-prior-to``), e.g. the nameko venv.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.parser
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGES = ["nameko", "nameko-grpc", "nameko-kafka", "eventlet"]
METADATA_FIELDS = ("Version", "Requires-Python", "Requires-Dist", "Classifier")


class PipQueryError(RuntimeError):
    """pip could not answer a query about a package; the message holds pip's stderr."""


def pip(*args: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise PipQueryError(f"pip {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout


def published_versions(package: str, uploaded_before: str | None = None) -> list[str]:
    """Versions on the index, newest first, optionally only those uploaded before a date."""
    extra = ["--uploaded-prior-to", uploaded_before] if uploaded_before else []
    try:
        output = pip("index", "versions", "--pre", package, *extra)
    except PipQueryError:
        return []  # nothing uploaded before that date
    match = re.search(r"Available versions: (.*)", output)
    return match.group(1).split(", ") if match else []


def upload_month(package: str, version: str) -> str:
    """First month-end before which ``version`` was already uploaded (binary search by month)."""
    months = [
        dt.date(year, month, 1)
        for year in range(2015, dt.date.today().year + 1)
        for month in range(1, 13)
    ]
    low, high = 0, len(months) - 1
    while low < high:
        middle = (low + high) // 2
        cutoff = months[middle + 1] if middle + 1 < len(months) else months[middle]
        if version in published_versions(package, f"{cutoff.isoformat()}T00:00:00Z"):
            high = middle
        else:
            low = middle + 1
    return months[low].strftime("%Y-%m")


def sdist_install_requires(archive: Path) -> list[str]:
    """``install_requires`` of an sdist's setup.py: old sdists' PKG-INFO has no Requires-Dist."""
    with tarfile.open(archive) as sdist:
        member = next(
            (
                m
                for m in sdist.getmembers()
                if m.name.count("/") == 1 and m.name.endswith("/setup.py")
            ),
            None,
        )
        if member is None:
            return []
        source = sdist.extractfile(member).read().decode("utf-8")
    block = re.search(r"install_requires=\[(.*?)\]", source, re.DOTALL)
    return re.findall(r"['\"]([^'\"]+)['\"]", block.group(1)) if block else []


def archive_metadata(archive: Path) -> tuple[str, dt.datetime]:
    """METADATA/PKG-INFO text and the newest member timestamp of a wheel or sdist."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
            newest = max(dt.datetime(*info.date_time) for info in wheel.infolist())
            return wheel.read(name).decode("utf-8"), newest
    with tarfile.open(archive) as sdist:
        member = next(
            m for m in sdist.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
        )
        newest = max(dt.datetime.fromtimestamp(m.mtime, dt.UTC) for m in sdist.getmembers())
        return sdist.extractfile(member).read().decode("utf-8"), newest.replace(tzinfo=None)


def report(package: str, download_dir: Path) -> None:
    versions = published_versions(package)
    newest = versions[0]
    print(f"## {package}\nall versions ({len(versions)}): {', '.join(versions)}")
    stable = [v for v in versions if not re.search(r"(a|b|rc)\d+$", v)]
    for version in dict.fromkeys([newest, stable[0] if stable else newest]):
        print(
            f"{version}: uploaded in {upload_month(package, version)} "
            "(pip index versions --uploaded-prior-to)"
        )
    pip("download", "--no-deps", "--pre", "--dest", str(download_dir), f"{package}=={newest}")
    archive = next(
        p
        for p in download_dir.iterdir()
        if p.name.lower().replace("_", "-").startswith(f"{package}-{newest}")
    )
    metadata, built = archive_metadata(archive)
    print(
        f"{archive.name}: newest file inside dated {built:%Y-%m-%d %H:%M} (build time; "
        "a reproducible build may stamp a fixed date instead)"
    )
    parsed = email.parser.Parser().parsestr(metadata)
    for field in METADATA_FIELDS:
        for value in parsed.get_all(field) or []:
            if field == "Requires-Dist" and "extra ==" in value:
                continue
            if field == "Classifier" and "Programming Language :: Python ::" not in value:
                continue
            print(f"  {field}: {value}")
    if archive.name.endswith(".tar.gz"):
        for requirement in sdist_install_requires(archive):
            print(f"  setup.py install_requires: {requirement}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("packages", nargs="*", default=PACKAGES)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="adr0001-pypi-") as tmp:
        for package in args.packages:
            report(package, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
