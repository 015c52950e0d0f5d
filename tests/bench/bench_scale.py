"""Scale: a knowledge base of 10k, 100k or 300k chunks on a Chroma server, and a bot replica
(the default retrieval: all-MiniLM + use-v3 + BM25) asking it questions.

    python tests/bench/bench_scale.py --sizes 10000,100000 [--sample 512] [--work DIR]

The documents are real: Debian's python3.11-doc reStructuredText sources
(``apt-get install python3.11-doc``) and the sample knowledge base, copied as often as the size
needs, each copy with its paragraphs rotated so that every copy chunks into different text.

The vectors are NOT all real: encoding 300k chunks with both encoders would take hours on the
bench machine. Both real encoders embed ``--sample`` real chunks (their throughput is printed);
the store is then filled with vectors derived from those real embeddings (a real vector picked
by a hash of the chunk's text, plus a little noise). Queries are encoded by the real models, and
the store, search, memory, lexical and reindex figures are real; the reindex of one changed file
embeds it with the real encoders.

Printed per size, each beside its baseline from the same run: the lexical index rebuilt from
every chunk vs loaded from its saved copy; query p50 through the old path (a copy of the file
records per call, Chroma filtering the paths with a `where` filter) vs the new one (one shared
view per revision, paths filtered after an unfiltered Chroma query), and the record part alone;
a replica's resident memory with the encoders only, then with the
lexical index built or loaded; reindexing with one file changed vs nothing changed.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from _common import SAMPLES, load_average

from knowledge.chunking import chunk_document
from knowledge.embeddings import Embedder, LocalEmbeddings, MultilingualUSE
from knowledge.indexer import Indexer, discover
from knowledge.loaders import load_document
from knowledge.store import KnowledgeStore, open_client

PYDOC = Path("/usr/share/doc/python3.11/html/_sources")
PYTHON_QUESTIONS = [
    "How do I read a file line by line?", "How do I sort a list of dictionaries by a key?",
    "What does the with statement do?", "How do I start a subprocess and read its output?",
    "How do I parse command line arguments?", "What is a generator expression?",
    "How do I format a date as a string?", "How do I make an HTTP request?",
    "How do I create a virtual environment?", "What is the global interpreter lock?",
    "How do I write a unit test?", "How do I log messages to a file?",
    "How do I read a CSV file?", "What are keyword-only arguments?",
    "How do I run code concurrently with asyncio?", "How do I copy a directory tree?",
]


def real_files() -> list[tuple[Path, str]]:
    """(path, relative name) of every real document: the Python docs and the samples."""
    if not PYDOC.is_dir():
        sys.exit(f"{PYDOC} is missing: apt-get install python3.11-doc")
    found = [(s.path, f"pydoc/{s.relative}") for s in discover([PYDOC])]
    return found + [(s.path, f"samples/{s.relative}") for s in discover([SAMPLES])]


def chunk_counts(files: list[tuple[Path, str]]) -> list[int]:
    return [len(chunk_document(load_document(path, name))) for path, name in files]


def rotated(text: str, by: int) -> str:
    """The text with its paragraphs rotated (front matter stays first)."""
    if by == 0 or text.startswith("---"):
        return text
    parts = text.split("\n\n")
    by %= max(len(parts), 1)
    return "\n\n".join(parts[by:] + parts[:by])


def build_corpus(root: Path, files: list[tuple[Path, str]], counts: list[int], size: int) -> int:
    """Copies of the real files under ``root`` until about ``size`` chunks; the chunk count."""
    total, copy = 0, 0
    while total < size:
        for (path, name), count in zip(files, counts, strict=True):
            if total >= size:
                break
            target = root / f"copy{copy:03d}" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(rotated(path.read_text(errors="replace"), copy))
            total += count
        copy += 1
    return total


class DerivedEmbedder(Embedder):
    """Vectors derived from a real encoder's embeddings of a sample: the real vector a hash of
    the text picks, plus noise, unit length. Named as the real model, so the store and the
    retriever take its vectors as that model's (that is the point: a bench-only stand-in)."""

    def __init__(self, name: str, sample: np.ndarray, noise: float = 0.05) -> None:
        self.name, self.sample, self.noise = name, sample, noise

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.sample.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = zlib.crc32(text.encode())
            jitter = np.random.default_rng(seed).normal(0, self.noise, self.sample.shape[1])
            vector = self.sample[seed % len(self.sample)] + jitter
            out[row] = vector / np.linalg.norm(vector)
        return out


def real_sample(files: list[tuple[Path, str]], n: int) -> list[str]:
    """``n`` real chunks' texts, from files spread over the whole set."""
    return [c.embed_text for path, name in files[:: max(1, len(files) // 60)]
            for c in chunk_document(load_document(path, name))][:n]


def encode_sample(texts: list[str]) -> dict[str, tuple[Embedder, np.ndarray, float]]:
    """Each real encoder's embeddings of ``texts`` and its throughput (chunks/s)."""
    out = {}
    for encoder in (LocalEmbeddings(), MultilingualUSE()):
        encoder.encode(texts[:8])
        started = time.perf_counter()
        vectors = encoder.encode(texts)
        out[encoder.name] = (encoder, vectors, len(texts) / (time.perf_counter() - started))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_chroma(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    process = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    sys.exit("the Chroma server did not start")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def replica(url: str, lexical_dir: Path, queries: Path) -> dict[str, Any]:
    """One bot replica in its own process (see bench_scale_replica.py): its figures."""
    command = [sys.executable, str(Path(__file__).with_name("bench_scale_replica.py")),
               url, str(lexical_dir), str(queries)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"replica failed:\n{done.stderr[-3000:]}")
    line = done.stdout.strip().splitlines()[-1]
    with (lexical_dir.parent / "replicas.jsonl").open("a") as fh:  # every figure, kept
        fh.write(line + "\n")
    return dict(json.loads(line))


def bench_size(size: int, work: Path, files: list[tuple[Path, str]], counts: list[int],
               encoders: dict[str, tuple[Embedder, np.ndarray, float]], queries: Path,
               reuse: bool) -> None:
    here = work / f"size-{size}"
    reusing = reuse and (here / "chroma").is_dir()
    if not reusing:
        shutil.rmtree(here, ignore_errors=True)
        build_corpus(here / "docs", files, counts, size)
    shutil.rmtree(here / "lexical", ignore_errors=True)
    server, url = start_chroma(here / "chroma")
    try:
        store = KnowledgeStore(open_client(here, url), "scale")
        (main, main_vectors, _), (multi, multi_vectors, _) = encoders.values()
        if reusing:
            print(f"\n== {size:,} chunks wanted: {len(store.live_ids()):,} chunks in "
                  f"{len(store.files()):,} files, the store a previous run filled ({here})")
        else:
            fill(store, here / "docs", DerivedEmbedder(main.name, main_vectors),
                 DerivedEmbedder(multi.name, multi_vectors), size)
        lexical_dir = here / "lexical"
        first = replica(url, lexical_dir, queries)
        second = replica(url, lexical_dir, queries)
        report_replicas(first, second, rss_mb(server.pid))
        reindex(store, here / "docs", main, multi)
        third = replica(url, lexical_dir, queries)
        print(f"  after the change: lexical index {third['lexical_source']} in "
              f"{third['lexical_s']:.2f}s (unchanged store: loaded in {second['lexical_s']:.2f}s)")
    finally:
        server.terminate()
        server.wait(timeout=60)


def fill(store: KnowledgeStore, docs: Path, main: Embedder, multi: Embedder, size: int) -> None:
    """Index ``docs`` through the real indexer, with the derived vectors."""
    started = time.perf_counter()
    summary = Indexer(store, main, multilingual=multi).index([docs])
    seconds = time.perf_counter() - started
    print(f"\n== {size:,} chunks wanted: {summary.chunks_total:,} chunks in "
          f"{len(summary.added):,} files; filled with derived vectors in {seconds:.0f}s "
          f"({summary.chunks_total / seconds:.0f} chunks/s, both sides)")


def report_replicas(first: dict[str, Any], second: dict[str, Any], chroma_mb: float) -> None:
    print(f"  lexical index: {first['lexical_source']} from every chunk in "
          f"{first['lexical_s']:.2f}s  vs  {second['lexical_source']} from the saved copy in "
          f"{second['lexical_s']:.2f}s ({first['lexical_s'] / second['lexical_s']:.0f}x); "
          f"saved copy {first['saved_mb']:.0f} MB")
    for name, run in (("built", first), ("loaded", second)):
        print(f"  query p50/p95 ({run['queries']} questions, lexical {name}): new path "
              f"{run['p50_ms']:.0f}/{run['p95_ms']:.0f} ms  vs  old path (record copies, "
              f"Chroma where filter) {run['old_p50_ms']:.0f}/{run['old_p95_ms']:.0f} ms")
    print(f"  file records per query (p50): shared view {first['records_new_ms']:.2f} ms  vs  "
          f"old copies {first['records_old_ms']:.2f} ms; reading them once per revision: "
          f"{first['records_s']:.2f}s")
    print(f"  replica RSS: encoders only {first['rss_models_mb']:.0f} MB; with the lexical "
          f"index built {first['rss_lexical_mb']:.0f} MB, after the queries "
          f"{first['rss_end_mb']:.0f} MB  vs  loaded (memory-mapped) "
          f"{second['rss_lexical_mb']:.0f} MB, after the queries {second['rss_end_mb']:.0f} MB; "
          f"Chroma server {chroma_mb:.0f} MB")


def reindex(store: KnowledgeStore, docs: Path, main: Embedder, multi: Embedder) -> None:
    """Reindex with nothing changed, then with one file changed (embedded by the real
    encoders)."""
    indexer = Indexer(store, main, multilingual=multi)
    started = time.perf_counter()
    nothing = indexer.index([docs])
    unchanged = time.perf_counter() - started
    changed_file = next(p for p in sorted(docs.rglob("*.txt")) if p.stat().st_size > 20_000)
    with changed_file.open("a") as fh:
        fh.write("\n\nA new closing paragraph about file descriptors and the scale bench.\n")
    started = time.perf_counter()
    one = indexer.index([docs])
    print(f"  reindex, one file changed: {time.perf_counter() - started:.1f}s "
          f"({len(one.updated)} updated, {one.chunks_embedded} chunks embedded, "
          f"{one.chunks_reused} reused)  vs  nothing changed: {unchanged:.1f}s "
          f"({len(nothing.skipped):,} unchanged)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000",
                        help="chunk counts, comma-separated (e.g. 10000,100000,300000)")
    parser.add_argument("--sample", type=int, default=512,
                        help="real chunks embedded by the real encoders")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the stores a previous run filled in --work again")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the copies' "flagged" warnings are expected
    work = args.work or Path(tempfile.mkdtemp(prefix="fl-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    files = real_files()
    counts = chunk_counts(files)
    print(f"real documents: {len(files)} files, {sum(counts):,} chunks; load {load_average()}")
    sample = real_sample(files, args.sample)
    encoders = encode_sample(sample)
    for name, (_, _, rate) in encoders.items():
        print(f"real encoder {name}: {rate:.0f} chunks/s on {len(sample)} real chunks "
              f"(the rest of the store holds vectors derived from these)")
    queries = work / "queries.json"
    queries.write_text(json.dumps(question_set()))
    for size in (int(s) for s in args.sizes.split(",")):
        bench_size(size, work, files, counts, encoders, queries, args.reuse)
    print(f"\nload {load_average()}; working folder {work}")


def question_set() -> list[list[str]]:
    """(question, language): the Python questions, and the samples' answerable ones."""
    rows = [json.loads(line) for line in
            (SAMPLES / "_build" / "questions.jsonl").read_text().splitlines() if line.strip()]
    asked = [[r["question"], "ja" if r["id"].startswith("ja") else "en"]
             for r in rows if r.get("answerable")]
    return [[q, "en"] for q in PYTHON_QUESTIONS] + asked[::3]


if __name__ == "__main__":
    main()
