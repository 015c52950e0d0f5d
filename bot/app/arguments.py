"""The ``firstline`` command line: one small function per subcommand's arguments."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

Subcommands = Any  # argparse's _SubParsersAction, which it keeps private


def parser() -> argparse.ArgumentParser:
    # SUPPRESS: the options may stand before or after the subcommand without the subcommand's
    # parser resetting a value given before it.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--data-dir", help="data folder (env FIRSTLINE_DATA_DIR, default ./data)")
    common.add_argument("--config", help="settings file (env FIRSTLINE_CONFIG, default "
                        "./firstline.toml); a file named here must exist")
    common.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, other libraries' log lines below WARNING, and "
                        "the traceback of an error")
    top = argparse.ArgumentParser(
        prog="firstline", parents=[common], description="On-prem first-line helpdesk bot.")
    sub = top.add_subparsers(dest="command", required=True)
    for add in (_index, _ask, _chat, _status, _eval, _costs, _router, _serve, _config, _gaps,
                _approved):
        add(sub, common)
    return top


def _identity(p: argparse.ArgumentParser) -> None:
    """Who is asking, to try document audiences from the command line."""
    p.add_argument("--user", default="cli", help="the asker's user id (default cli)")
    p.add_argument("--groups", default="", help="the asker's groups, comma-separated")
    p.add_argument("--where", choices=["dm", "channel"], default="dm",
                   help="a direct message (default) or a shared channel, where only documents "
                   "without an audience are used")


def _index(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("index", parents=[common], help="index documents (incremental)")
    p.add_argument("paths", nargs="*", help="files/folders (default: FIRSTLINE_KNOWLEDGE_PATHS, "
                   "else the folders already indexed, else the sample knowledge base)")
    p.add_argument("--full", action="store_true", help="re-embed everything")
    p.add_argument("--replace", action="store_true",
                   help="drop every indexed document not under PATHS (e.g. the samples)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def _ask(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ask", parents=[common], help="answer one question or a batch file")
    p.add_argument("question", nargs="?", help="the question")
    p.add_argument("--batch", metavar="FILE.jsonl",
                   help='one {"id","question"} per line (also "user", "groups", "where")')
    p.add_argument("--json", action="store_true", help="print JSON")
    _identity(p)


def _chat(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    _identity(sub.add_parser("chat", parents=[common], help="interactive chat in the terminal"))


def _status(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    sub.add_parser("status", parents=[common],
                   help="documents, chunks, flagged documents, models")


def _eval(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("eval", parents=[common],
                       help="evaluate on a set (corpus/ + questions.jsonl)")
    p.add_argument("set_dir", type=Path)
    p.add_argument("--limit", type=int, default=0, help="only the first N questions")
    p.add_argument("--retrieval-only", action="store_true", help="skip answering")
    p.add_argument("--fold", type=int, choices=(0, 1),
                   help="only this fold's questions (1: those a calibration was not fitted on)")
    p.add_argument("--corpus", type=Path, help="documents folder (default SET_DIR/corpus)")
    p.add_argument("--out", type=Path, help="write per-question results as JSONL")
    p.add_argument("--json", action="store_true")


def _costs(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("costs", parents=[common], help="cost ledger report")
    p.add_argument("--since", help="ISO date/time or 7d, 24h, today")
    p.add_argument("--until")
    p.add_argument("--by", choices=["day", "route", "channel", "model"])
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")


def _router(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("router", parents=[common], help="router tools")
    rsub = p.add_subparsers(dest="router_command", required=True)
    c = rsub.add_parser("calibrate", parents=[common], help="fit thresholds for a cloud share")
    c.add_argument("set_dirs", type=Path, nargs="+")
    c.add_argument("--target", type=float, default=0.15, help="cloud share, e.g. 0.15")
    c.add_argument("--limit", type=int, default=0)
    c.add_argument("--unanswerable", type=Path, action="append",
                   help="JSONL of unanswerable questions, asked against the sets of their "
                   "language (repeatable)")
    c.add_argument("--cloud-results", type=Path,
                   help="JSONL of {id, right} from a cloud run: the score learns where "
                   "the cloud helps, and the real-cloud curve is shown")
    c.add_argument("--out", type=Path, help="thresholds JSON (default DATA_DIR/router.json)")
    a = rsub.add_parser("abstention", parents=[common],
                        help="fit the calibrated abstention model (p_right and its threshold)")
    source = a.add_mutually_exclusive_group(required=True)
    source.add_argument("--samples", type=Path,
                        help="JSONL of answers with signals and labels "
                        "(tests/bench/collect_abstention.py)")
    source.add_argument("--ledger", action="store_true",
                        help="refit from the ledger: local answers rated 👍 (right) or 👎 (wrong)")
    a.add_argument("--max-wrongly-declined", type=float, default=0.10,
                   help="largest share of answerable (👍) answers the abstention may decline "
                   "beyond those the earlier steps decline")
    a.add_argument("--features",
                   help="comma-separated features to fit on (default: the shipped set; "
                   "names in bot/routing/abstention.py FEATURES)")
    a.add_argument("--drop", default="",
                   help="comma-separated features to leave out, e.g. verify_logit")
    a.add_argument("--out", type=Path,
                   help="abstention JSON (default DATA_DIR/abstention.json)")


def _serve(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="run the Slack/Teams service")
    p.add_argument("--no-channels", action="store_true",
                   help="start even with no Slack or Teams credentials (only /healthz, "
                   "/readyz and /metrics)")


def _config(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("config", parents=[common], help="show settings")
    p.add_argument("--markdown", action="store_true", help="print the reference table")


def _gaps(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("gaps", parents=[common],
                       help="knowledge gaps: unanswered questions grouped by similarity")
    p.add_argument("--since", default="7d", help="the period: 7d (default), 24h, 30d …")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")


def _approved(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("approved", parents=[common], help="approved answers: add, list, withdraw")
    asub = p.add_subparsers(dest="approved_command", required=True)
    a = asub.add_parser("add", parents=[common], help="approve an answer for a question")
    a.add_argument("--question", required=True)
    a.add_argument("--answer", required=True, help="the answer text (or @FILE to read it)")
    a.add_argument("--language", choices=["en", "ja"], required=True)
    a.add_argument("--owner", required=True, help="who vouches for it")
    a.add_argument("--review-on", help="review date, YYYY-MM-DD")
    a.add_argument("--cite", action="append", default=[],
                   help="an indexed document it rests on (repeatable)")
    a.add_argument("--audience", default="",
                   help="groups that may see it when it cites nothing (comma-separated; "
                   "default everyone)")
    lst = asub.add_parser("list", parents=[common], help="list approved answers")
    lst.add_argument("--all", action="store_true", help="withdrawn ones too")
    lst.add_argument("--json", action="store_true")
    w = asub.add_parser("withdraw", parents=[common], help="withdraw an approved answer")
    w.add_argument("id")
    w.add_argument("--why", default="withdrawn by an admin")
