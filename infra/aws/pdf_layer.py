"""The board-pack layer: reportlab and an arm64 Pillow for the PDF renderer (`FunctionSpec.renders_pdf`).

Pillow is compiled, so the synth machine's own install (x86_64, CPython 3.11) cannot be copied into a layer
as the deps layer is. At synth, pip fetches the wheels pinned (with hashes) in
`board_pack_requirements.txt` for the Lambda's platform — `--platform manylinux_2_34_aarch64 ...
--platform manylinux2014_aarch64 --python-version 3.14 --implementation cp --only-binary=:all:
--no-deps`: wheels only, no build, no Docker — and unpacks them into `<cache>/<key>/python`. The key
hashes the pins, the platforms, the Python version and `RECIPE`, so later synths (and the infra tests)
reuse the folder and a version bump fetches anew. The platforms are every manylinux tag the runtime's
glibc accepts: the Python 3.14 runtime runs on Amazon Linux 2023 (glibc 2.34), and Pillow 13 publishes
no manylinux2014 aarch64 wheel, only manylinux_2_27/2_28 (pip does not widen `--platform
manylinux_2_28_*` to older tags by itself, so they are listed).

A fetch that fails (no registry) fails synth with `LayerFetchError`, unless the synth says to skip
(`COMPANYOS_SKIP_BOARD_PACK_LAYER=1` or `-c skipBoardPackLayer=true`, for offline dev): then the caller
synthesizes without the layer and says that the board pack will not import in AWS.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).with_name("board_pack_requirements.txt")
# Git-ignored; kept across synths (`make synth` removes cdk.out, not this).
CACHE = ROOT / ".cache" / "layers"
SKIP_ENV = "COMPANYOS_SKIP_BOARD_PACK_LAYER"
SKIP_CONTEXT = "skipBoardPackLayer"
# Bumped when the way the folder is built changes, so that old caches are not reused.
RECIPE = 1
FETCH_TIMEOUT_S = 600
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


# Amazon Linux 2023, the OS of the python3.12+ Lambda runtimes, ships glibc 2.34.
LAMBDA_GLIBC_MINOR = 34


@dataclass(frozen=True)
class Target:
    """Where the layer runs: a machine (`aarch64`), its glibc (2.<glibc_minor>) and a CPython (`3.14`)."""

    machine: str
    python_version: str
    glibc_minor: int = LAMBDA_GLIBC_MINOR
    implementation: str = "cp"

    @classmethod
    def for_lambda(cls, runtime_name: str, architecture_name: str) -> Target:
        """`python3.14` + `arm64` -> aarch64 / CPython 3.14 / glibc 2.34."""
        machine = {"arm64": "aarch64", "x86_64": "x86_64"}[architecture_name]
        return cls(machine=machine, python_version=runtime_name.removeprefix("python"))

    @property
    def platforms(self) -> tuple[str, ...]:
        """The manylinux tags a pip on that machine would accept, newest first (PEP 600 + manylinux2014)."""
        perennial = tuple(f"manylinux_2_{m}_{self.machine}" for m in range(self.glibc_minor, 16, -1))
        return (*perennial, f"manylinux2014_{self.machine}")


class LayerFetchError(RuntimeError):
    pass


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """The pinned distributions, normalized name -> version."""
    found = {}
    for line in requirements.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            found[normalize(match.group(1))] = match.group(2)
    return found


def cache_key(requirements: Path, target: Target) -> str:
    digest = hashlib.sha256()
    for part in (str(RECIPE), *target.platforms, target.python_version, target.implementation):
        digest.update(part.encode() + b"\0")
    digest.update(requirements.read_bytes())
    return digest.hexdigest()[:20]


def cached(requirements: Path, target: Target, cache: Path = CACHE) -> Path | None:
    """The layer folder (holding `python/`) if a previous fetch completed, else None."""
    folder = cache / cache_key(requirements, target)
    return folder if (folder / "python").is_dir() else None


def fetch(
    requirements: Path,
    target: Target,
    cache: Path = CACHE,
    *,
    env: Mapping[str, str] | None = None,
) -> Path:
    """The layer folder for `target`, fetched once into `cache`.

    Built in a private temporary folder and renamed into place, so a concurrent synth (pytest-xdist
    workers) never sees a half-filled folder; the loser of the rename drops its copy."""
    done = cached(requirements, target, cache)
    if done:
        return done
    folder = cache / cache_key(requirements, target)
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=cache))
    try:
        _pip_install(requirements, target, work / "python", env)
        shutil.rmtree(work / "python" / "bin", ignore_errors=True)  # console scripts: no use in a layer
        try:
            work.rename(folder)
        except OSError:
            if not cached(requirements, target, cache):
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def _pip_install(requirements: Path, target: Target, into: Path, env: Mapping[str, str] | None) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",  # .pyc of the synth's Python would be the wrong version
        "--no-deps",  # every dependency is pinned in the file (a test checks the closure)
        "--only-binary=:all:",
        *(arg for platform in target.platforms for arg in ("--platform", platform)),
        "--python-version",
        target.python_version,
        "--implementation",
        target.implementation,
        "--target",
        str(into),
        "--requirement",
        str(requirements),
    ]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=FETCH_TIMEOUT_S,
            env=dict(os.environ if env is None else env),
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise LayerFetchError(_explain(f"pip timed out after {FETCH_TIMEOUT_S} s")) from e
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-8:])
        raise LayerFetchError(_explain(f"pip exited {result.returncode}:\n{tail}"))


def _explain(cause: str) -> str:
    return (
        f"The board-pack layer (reportlab + arm64 Pillow, pinned in {REQUIREMENTS.name}) could not be "
        f"fetched from the package registry: {cause}\n"
        f"Synth needs the registry once; the wheels are then cached under {CACHE}. To synthesize offline "
        f"without the layer, set {SKIP_ENV}=1 (or -c {SKIP_CONTEXT}=true): the board_pack function will "
        "then fail at import in AWS."
    )


def layer_folder(
    target: Target,
    *,
    skip: bool,
    requirements: Path = REQUIREMENTS,
    cache: Path = CACHE,
    env: Mapping[str, str] | None = None,
) -> Path | None:
    """The cached layer folder, else fetched now; with `skip` (offline) nothing is fetched, and without a
    cache it is None and the synth output says plainly that the board pack will not import in AWS."""
    folder = cached(requirements, target, cache)
    if folder is not None:
        return folder
    if skip:
        print(f"WARNING: {SKIPPED_WARNING}", file=sys.stderr)
        return None
    return fetch(requirements, target, cache, env=env)


SKIPPED_WARNING = (
    f"board-pack layer skipped ({SKIP_ENV} / {SKIP_CONTEXT}): the board_pack function has no reportlab "
    "or Pillow and WILL NOT IMPORT IN AWS. Do not deploy this synth; synthesize once with the package "
    "registry reachable to cache the layer."
)
