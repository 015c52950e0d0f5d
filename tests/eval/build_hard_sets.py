"""Build the hard development sets of issue 11 from the allowed sources only.

    python tests/eval/build_hard_sets.py OUT_DIR [--shared ../shared/eval]
        [--docs /usr/share/doc/python3.11/html/_sources] [--sets NAME ...]

Sources: ``--shared`` (python-faq, jsquad), the sample knowledge base ``knowledge/samples`` with
``_build/questions.jsonl``, ``tests/eval/unanswerable-{en,ja}.jsonl``, the hand-authored
``tests/eval/helpdesk-questions.jsonl`` (+ ``helpdesk-alternates.json``),
``tests/eval/pyfaq-followups.jsonl`` and ``tests/eval/pyfaq-covered.txt``, and the Python
documentation sources of Debian's ``python3.11-doc`` (``--docs``). Nothing else is read.

Each set goes to ``OUT_DIR/<set>/`` as ``corpus/`` (real files), ``questions.jsonl`` and
``SET.md``. The output is deterministic: the same inputs give byte-identical files.

Question fields: ``id, question, answerable, gold, answers, language, kind, fold`` and, where they
apply, ``history`` (two-turn follow-ups) and ``removed_gold`` (questions whose gold document was
taken out of the corpus). ``fold`` is 0 (fit) or 1 (report), from a stable hash of the gold
document (the removed document for removed questions, the id for out-of-domain questions), so a
document's questions never straddle the folds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import shutil
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.language import detect_language

log = logging.getLogger("build_hard_sets")

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "knowledge" / "samples"
EVAL = REPO / "tests" / "eval"
DEFAULT_SHARED = REPO.parent / "shared" / "eval"
DEFAULT_DOCS = Path("/usr/share/doc/python3.11/html/_sources")

REMOVE_SHARE = 0.2
JSQUAD_CAP = 8
DOC_PARTS = ("tutorial", "library", "howto")

Question = dict[str, Any]


class InputMissingError(Exception):
    """An input file or folder the builder needs is not there."""


@dataclass
class HardSet:
    """One set being assembled: corpus files (relative path -> source file) and questions."""

    name: str
    description: str
    files: dict[str, Path] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# small helpers


def require(path: Path, what: str) -> Path:
    """Return ``path`` or raise a one-line error naming the missing input."""
    if not path.exists():
        raise InputMissingError(f"missing input: {what} ({path})")
    return path


def read_jsonl(path: Path) -> list[Question]:
    """The JSON objects of a JSON Lines file, in order."""
    with require(path, path.name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def stable_fold(key: str) -> int:
    """0 or 1 from a hash of ``key`` that does not change between runs or machines."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % 2


def choose_removed(
    candidates: Iterable[str], seed: str, keep: frozenset[str] = frozenset()
) -> list[str]:
    """A seeded, stable 20% of ``candidates``, drawn within each fold, never one in ``keep``.

    Drawing per fold keeps removed questions in both the fit and the report fold. The share
    is of all candidates; the draw is among those not in ``keep``.
    """
    by_fold: dict[int, list[str]] = defaultdict(list)
    for path in sorted(set(candidates)):
        by_fold[stable_fold(path)].append(path)
    removed: list[str] = []
    for fold in sorted(by_fold):
        pool = [path for path in by_fold[fold] if path not in keep]
        count = round(len(by_fold[fold]) * REMOVE_SHARE)
        removed += random.Random(f"{seed}/{fold}").sample(pool, count)
    return sorted(removed)


def read_path_list(path: Path) -> frozenset[str]:
    """The first word of each non-comment line of a hand-kept list of corpus paths."""
    lines = require(path, path.name).read_text(encoding="utf-8").splitlines()
    return frozenset(line.split()[0] for line in lines if line.strip() and line[0] != "#")


def corpus_files(root: Path, skip_dirs: tuple[str, ...] = ()) -> dict[str, Path]:
    """Every file under ``root`` by its POSIX path relative to ``root``."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] not in skip_dirs:
            files[relative.as_posix()] = path
    return files


def make_question(
    qid: str, text: str, gold: str | None, language: str, kind: str, **extra: Any
) -> Question:
    """A question line with every field in a fixed order."""
    question: Question = {
        "id": qid,
        "question": text,
        "answerable": gold is not None,
        "gold": gold,
        "answers": list(extra.pop("answers", None) or []),
        "language": language,
        "kind": kind,
    }
    question.update(extra)
    return question


def apply_removal(hard: HardSet, removed: list[str]) -> None:
    """Drop ``removed`` from the corpus; their questions become unanswerable ``removed`` ones."""
    gone = set(removed)
    hard.removed = sorted(gone)
    for path in gone:
        del hard.files[path]
    for question in hard.questions:
        if question["gold"] in gone:
            question.update(
                answerable=False, kind="removed", removed_gold=question["gold"], gold=None
            )


def assign_folds(hard: HardSet) -> None:
    """Fold by gold document, removed document or (out-of-domain) id."""
    for question in hard.questions:
        key = question["gold"] or question.get("removed_gold") or question["id"]
        question["fold"] = stable_fold(key)


# ---------------------------------------------------------------------------------------------
# pyfaq-ref


def python_doc_files(docs: Path, skip_howto: set[str]) -> dict[str, Path]:
    """Tutorial, library and HOWTO sources as ``<part>/<name>.rst`` (minus duplicate HOWTOs)."""
    files = {}
    for part in DOC_PARTS:
        root = require(docs / part, f"python3.11-doc sources '{part}'")
        for path in sorted(root.rglob("*.rst.txt")):
            relative = path.relative_to(docs).as_posix()[: -len(".txt")]
            if part == "howto" and Path(relative).name in skip_howto:
                continue
            files[relative] = path
    return files


def build_pyfaq(shared: Path, docs: Path) -> HardSet:
    """python-faq with the tutorial, library reference and HOWTOs competing; 20% FAQ removed."""
    root = require(shared / "python-faq", "python-faq set")
    hard = HardSet("pyfaq-ref", "English technical FAQ with the Python reference manuals beside it")
    hard.files = corpus_files(require(root / "corpus", "python-faq corpus"))
    own_howto = {Path(p).name for p in hard.files if p.startswith("howto/")}
    hard.files.update(python_doc_files(docs, own_howto))
    for line in read_jsonl(root / "questions.jsonl"):
        hard.questions.append(
            make_question(line["id"], line["question"], line["gold"], "en", "answerable")
        )
    hard.questions.extend(follow_ups(read_jsonl(EVAL / "pyfaq-followups.jsonl"), hard.files))
    golds = {q["gold"] for q in hard.questions if q["kind"] == "answerable"}
    covered = read_path_list(EVAL / "pyfaq-covered.txt")
    apply_removal(hard, choose_removed(golds, hard.name, keep=covered))
    added = Counter(path.split("/")[0] for path in hard.files if not path.startswith("faq/"))
    hard.notes.append(
        "Corpus by folder (after removal): "
        + ", ".join(f"{part} {count}" for part, count in sorted(added.items()))
        + f", faq {sum(p.startswith('faq/') for p in hard.files)}. The tutorial, library and"
        " HOWTO sources come from python3.11-doc; `_sources/faq` is left out (it would duplicate"
        " the gold pages) and HOWTOs already in python-faq's corpus are not added twice. FAQ pages"
        " that the reference manuals answer directly (`tests/eval/pyfaq-covered.txt`) are never"
        " removed, so a removed question stays unanswerable."
    )
    return hard


def follow_ups(lines: list[Question], files: dict[str, Path]) -> list[Question]:
    """Hand-authored two-turn questions; the gold must be a corpus file."""
    questions = []
    for line in lines:
        if line["gold"] not in files:
            raise InputMissingError(f"follow-up {line['id']}: gold {line['gold']} not in corpus")
        questions.append(
            make_question(
                line["id"],
                line["question"],
                line["gold"],
                line["language"],
                "follow-up",
                answers=line.get("answers"),
                history=line["history"],
            )
        )
    return questions


# ---------------------------------------------------------------------------------------------
# jsquad-ref


def spread(items: list[Question], cap: int) -> list[Question]:
    """At most ``cap`` items, evenly spread over the list (all of them when it is short)."""
    if len(items) <= cap:
        return items
    return [items[(index * len(items)) // cap] for index in range(cap)]


def build_jsquad(shared: Path) -> HardSet:
    """jsquad with 20% of the articles removed and at most 8 questions per article."""
    root = require(shared / "jsquad", "jsquad set")
    hard = HardSet("jsquad-ref", "Japanese Wikipedia articles (JSQuAD), some articles removed")
    hard.files = corpus_files(require(root / "corpus", "jsquad corpus"))
    by_article: dict[str, list[Question]] = defaultdict(list)
    for line in read_jsonl(root / "questions.jsonl"):
        by_article[line["gold"]].append(line)
    for article in sorted(by_article):
        for line in spread(by_article[article], JSQUAD_CAP):
            hard.questions.append(
                make_question(
                    line["id"],
                    line["question"],
                    article,
                    "ja",
                    "answerable",
                    answers=line.get("answers"),
                )
            )
    apply_removal(hard, choose_removed(by_article, hard.name))
    hard.notes.append(f"At most {JSQUAD_CAP} questions per article, evenly spread.")
    return hard


# ---------------------------------------------------------------------------------------------
# helpdesk-en / helpdesk-ja


def document_language(path: str) -> str:
    """The sample knowledge base names its Japanese documents ``*-ja.<ext>``."""
    return "ja" if Path(path).stem.endswith("-ja") else "en"


def helpdesk_kind(gold: str | None, language: str, history: object) -> str:
    """The kind of a helpdesk question whose gold document is in the corpus."""
    if gold is None:
        return "out-of-domain"
    if history:
        return "follow-up"
    return "cross-language" if document_language(gold) != language else "answerable"


def helpdesk_lines(language: str) -> list[Question]:
    """Sample, hand-authored and out-of-domain questions of ``language``, with alternates.

    ``also`` lists other documents that answer the question too (from the authored file, or
    ``helpdesk-alternates.json`` for the sample questions).
    """
    samples = read_jsonl(SAMPLES / "_build" / "questions.jsonl")
    with require(EVAL / "helpdesk-alternates.json", "helpdesk-alternates.json").open() as handle:
        alternates = json.load(handle)
    for line in samples:
        line.setdefault("also", alternates.get(line["id"], []))
    authored = read_jsonl(EVAL / "helpdesk-questions.jsonl")
    outside = read_jsonl(EVAL / f"unanswerable-{language}.jsonl")
    lines = [line for line in samples + authored if detect_language(line["question"]) == language]
    return lines + outside


def helpdesk_question(line: Question, language: str, gone: set[str]) -> Question:
    """One helpdesk question; its gold falls back to an alternate when the gold was removed."""
    golds = [g for g in [line.get("gold"), *line.get("also", [])] if g is not None]
    present = [g for g in golds if g not in gone]
    gold = present[0] if present else None
    # answers are quoted from the first gold: dropped when an alternate stands in for it
    answers = line.get("answers") if gold == line.get("gold") else []
    extra: dict[str, Any] = {"answers": answers}
    if line.get("history"):
        extra["history"] = line["history"]
    if len(present) > 1:
        extra["also"] = present[1:]
    if golds and not present:
        extra["removed_gold"] = golds[0]
        return make_question(line["id"], line["question"], None, language, "removed", **extra)
    kind = helpdesk_kind(gold, language, line.get("history"))
    return make_question(line["id"], line["question"], gold, language, kind, **extra)


def build_helpdesk(language: str) -> HardSet:
    """The sample knowledge base with questions in ``language``; 20% of documents removed.

    The removed documents are drawn (seeded) among the gold documents of the set's questions.
    A question is "removed" only when its gold and every alternate are gone.
    """
    hard = HardSet(
        f"helpdesk-{language}",
        f"Sample helpdesk knowledge base (20 English and 17 Japanese documents), questions in"
        f" {'English' if language == 'en' else 'Japanese'}",
    )
    hard.files = corpus_files(require(SAMPLES, "sample knowledge base"), skip_dirs=("_build",))
    lines = helpdesk_lines(language)
    for line in lines:
        for gold in [line.get("gold"), *line.get("also", [])]:
            if gold is not None and gold not in hard.files:
                raise InputMissingError(f"question {line['id']}: {gold} not in the sample KB")
    hard.removed = choose_removed((ln["gold"] for ln in lines if ln.get("gold")), hard.name)
    for path in hard.removed:
        del hard.files[path]
    hard.questions = [helpdesk_question(line, language, set(hard.removed)) for line in lines]
    hard.notes.append(
        "Questions: the sample questions of this language (`knowledge/samples/_build`), the"
        " hand-authored `tests/eval/helpdesk-questions.jsonl` and the out-of-domain"
        f" `tests/eval/unanswerable-{language}.jsonl`. cross-language = the gold document is in"
        " the other language (Japanese documents are named `*-ja.*`). A question whose gold"
        " was removed but another document (`also`) answers it stays answerable with that one."
    )
    return hard


# ---------------------------------------------------------------------------------------------
# writing


def counts_table(questions: list[Question]) -> list[str]:
    """Markdown rows of question counts by kind and fold."""
    counts = Counter((q["kind"], q["fold"]) for q in questions)
    kinds = sorted({kind for kind, _ in counts})
    rows = ["| kind | fold 0 | fold 1 | total |", "| --- | --- | --- | --- |"]
    for kind in kinds + ["all"]:
        zero = sum(n for (k, f), n in counts.items() if f == 0 and kind in (k, "all"))
        one = sum(n for (k, f), n in counts.items() if f == 1 and kind in (k, "all"))
        rows.append(f"| {kind} | {zero} | {one} | {zero + one} |")
    return rows


def set_markdown(hard: HardSet) -> str:
    """SET.md: what the set is, what was removed and the counts."""
    lines = [f"# {hard.name}", "", hard.description + ".", ""]
    lines += [f"Corpus: {len(hard.files)} files. Built by `tests/eval/build_hard_sets.py`.", ""]
    lines += hard.notes + [""] if hard.notes else []
    lines += [f"Removed from the corpus ({len(hard.removed)} documents, seeded 20%):", ""]
    lines += [f"- `{path}`" for path in hard.removed] + [""]
    lines += ["Questions by kind and fold (fold 0 = fit, fold 1 = report):", ""]
    lines += counts_table(hard.questions) + [""]
    return "\n".join(lines)


def write_set(hard: HardSet, out_dir: Path) -> None:
    """Replace ``out_dir/<name>`` with the set's corpus, questions.jsonl and SET.md."""
    target = out_dir / hard.name
    if target.exists():
        shutil.rmtree(target)
    for relative, source in sorted(hard.files.items()):
        destination = target / "corpus" / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    with (target / "questions.jsonl").open("w", encoding="utf-8") as handle:
        for question in hard.questions:
            handle.write(json.dumps(question, ensure_ascii=False) + "\n")
    (target / "SET.md").write_text(set_markdown(hard), encoding="utf-8")
    log.info("wrote %s: %d files, %d questions", target, len(hard.files), len(hard.questions))


SET_NAMES = ("pyfaq-ref", "jsquad-ref", "helpdesk-en", "helpdesk-ja")


def build_set(name: str, shared: Path, docs: Path) -> HardSet:
    """Build one set by name (in memory)."""
    if name == "pyfaq-ref":
        return build_pyfaq(shared, docs)
    if name == "jsquad-ref":
        return build_jsquad(shared)
    return build_helpdesk(name.removeprefix("helpdesk-"))


def build_all(
    out_dir: Path, shared: Path, docs: Path, names: Iterable[str] = SET_NAMES
) -> list[HardSet]:
    """Build and write the named sets (all by default); returns them for reporting."""
    sets = [build_set(name, shared, docs) for name in names]
    out_dir.mkdir(parents=True, exist_ok=True)
    for hard in sets:
        assign_folds(hard)
        write_set(hard, out_dir)
    return sets


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: build the sets and print their counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--sets", nargs="+", choices=SET_NAMES, default=list(SET_NAMES))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        sets = build_all(args.out_dir, args.shared, args.docs, args.sets)
    except InputMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for hard in sets:
        print(f"{hard.name}: {len(hard.files)} corpus files, {len(hard.removed)} removed")
        print("\n".join(counts_table(hard.questions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
