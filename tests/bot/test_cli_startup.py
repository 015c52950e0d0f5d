"""The `firstline` command as an operator meets it, run as a real process: a misconfiguration is
one line naming its source and an exit code that is not 0 (a traceback only with --verbose), and
the terminal stays quiet — no progress bars or DEBUG lines when the output is not a terminal, no
log lines inside `chat`, Markdown rendered there.

Each process starts with the firstline/vendor environment cleared and this worktree first on the
path, in a temporary working directory.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
from dataclasses import fields
from pathlib import Path

import pytest
from loopback import free_port, start

from bot.app.cli import SETTINGS_CLASSES
from bot.app.startup import NO_CHANNEL

ROOT = Path(__file__).resolve().parents[2]
ENV_NAMES = {f.metadata["env"] for cls in SETTINGS_CLASSES for f in fields(cls)} | {
    "FIRSTLINE_CONFIG", "HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY", "TQDM_DISABLE"}
# "2026-12-04 20:15:04,123 INFO bot.answering.responder: ..." (the plain log format)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (\w+) ([\w.]+): ", re.M)
OWN = {"bot", "knowledge", "adapters", "firstline"}
DOCS = {
    "it/vpn-password-reset.md": (
        "# How to reset your VPN password\n\nYour VPN password is your Northwind account "
        "password.\n\n## Reset it yourself\n\nOpen the self-service portal at "
        "https://id.northwind.example/reset, approve the MFA push and choose a new password of "
        "at least 14 characters.\n"),
    "hr/paid-time-off.md": "# Paid time off\n\nUS employees get 15 days of paid time off.\n",
}


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env.update(extra)
    return env


def firstline(cwd: Path, *argv: str, stdin: str | None = None,
              **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot.app.cli ARGV`` with stdout and stderr on pipes (not a terminal)."""
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *argv], cwd=cwd,
                          env=environment(**env), input=stdin, capture_output=True, text=True,
                          timeout=600)


def assert_one_line(done: subprocess.CompletedProcess[str], expected: str, code: int = 2) -> None:
    assert (done.returncode, done.stdout) == (code, ""), done.stderr
    assert done.stderr.splitlines() == [f"firstline: {expected}"], done.stderr


def noise(text: str) -> list[str]:
    """Progress bars and other libraries' log lines below WARNING in ``text``."""
    found = [line for line in text.splitlines()
             if "Loading weights" in line or "%|" in line or "\r" in line]
    for level, name in LOG_LINE.findall(text):
        if name.split(".")[0] not in OWN and level in ("DEBUG", "INFO"):
            found.append(f"{level} {name}")
    return found


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    for relative, text in DOCS.items():
        (tmp_path / "docs" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "docs" / relative).write_text(text, encoding="utf-8")
    return tmp_path / "docs"


# -- settings ------------------------------------------------------------------------------------
def test_every_settings_problem_is_one_line_and_all_come_together(tmp_path: Path) -> None:
    (tmp_path / "firstline.toml").write_text(
        'top_k = "four"\ntopk = 3\nport = 3978.5\ncloud_url = "api.example.com/v1"\n'
        '[slak]\nbot_token = "x"\n[slack]\nbot_tokn = "xoxb-1"\n')
    done = firstline(tmp_path, "ask", "hello", CHROMA_URL="localhost:8000",
                     FIRSTLINE_LOG_LEVEL="LOUD")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        "firstline: firstline.toml:[slak]: unknown table (did you mean [slack]?); expected "
        "[firstline], [slack], [teams] or [[access]]",
        "firstline: firstline.toml:topk: unknown setting (did you mean top_k?)",
        "firstline: firstline.toml:top_k: expected a whole number, got 'four'",
        "firstline: firstline.toml:port: expected a whole number, got 3978.5",
        "firstline: firstline.toml:cloud_url: expected an http(s) URL with a host such as "
        "http://localhost:8000, got 'api.example.com/v1'",
        "firstline: CHROMA_URL: expected an http(s) URL with a host such as "
        "http://localhost:8000, got 'localhost:8000'",
        "firstline: FIRSTLINE_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, "
        "CRITICAL, got 'LOUD'",
        "firstline: firstline.toml:slack.bot_tokn: unknown setting (did you mean bot_token?)",
    ]


def test_a_missing_settings_file_is_an_error(tmp_path: Path) -> None:
    assert_one_line(firstline(tmp_path, "config", "--config", "site.toml"),
                    "--config: no such settings file: site.toml")
    assert_one_line(firstline(tmp_path, "config", FIRSTLINE_CONFIG="/etc/nowhere.toml"),
                    "FIRSTLINE_CONFIG: no such settings file: /etc/nowhere.toml")


def test_an_unreachable_chroma_server_is_named(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = firstline(tmp_path, "ask", "hello", CHROMA_URL=url)
    assert_one_line(done, f"CHROMA_URL: no Chroma server answers at {url} "
                          "([Errno 111] Connection refused)")
    verbose = firstline(tmp_path, "ask", "hello", "--verbose", CHROMA_URL=url)
    assert verbose.returncode == 2 and "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.splitlines()[-1] == done.stderr.strip()


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    done = firstline(tmp_path, "ask", "How do I reset my VPN password?",
                     FIRSTLINE_SLM_MODEL=str(tmp_path / "models/qwen.gguf"))
    assert_one_line(done, f"FIRSTLINE_SLM_MODEL: no GGUF file at {tmp_path}/models/qwen.gguf")


def test_index_does_not_need_the_model(tmp_path: Path, docs: Path) -> None:
    """Indexing never asks the SLM: neither a missing file nor a server that is down stops it."""
    for setting in ({"FIRSTLINE_SLM_MODEL": str(tmp_path / "models/qwen.gguf")},
                    {"FIRSTLINE_SLM_URL": f"http://127.0.0.1:{free_port()}/v1"}):
        done = firstline(tmp_path, "index", str(docs), **setting)
        assert done.returncode == 0, done.stderr
        assert "SLM" not in done.stderr


def test_an_unexpected_failure_is_one_line_and_verbose_shows_its_traceback(
        tmp_path: Path, slm_path: Path) -> None:
    ledger = f"postgresql+psycopg://bot@127.0.0.1:{free_port()}/firstline"
    done = firstline(tmp_path, "status", FIRSTLINE_LEDGER_URL=ledger,
                     FIRSTLINE_SLM_MODEL=str(slm_path))
    assert (done.returncode, done.stdout) == (1, "")
    [line] = done.stderr.splitlines()
    assert line.startswith("firstline: unexpected error: OperationalError: ")
    assert line.endswith(" (--verbose shows the traceback)") and "127.0.0.1" in line
    verbose = firstline(tmp_path, "status", "-v", FIRSTLINE_LEDGER_URL=ledger,
                        FIRSTLINE_SLM_MODEL=str(slm_path))
    assert verbose.returncode == 1 and "Traceback (most recent call last)" in verbose.stderr


# -- serve ---------------------------------------------------------------------------------------
def test_serve_refuses_to_start_without_a_channel(tmp_path: Path, slm_path: Path) -> None:
    done = firstline(tmp_path, "serve", FIRSTLINE_SLM_MODEL=str(slm_path),
                     FIRSTLINE_HOST="0.0.0.0", FIRSTLINE_PORT=str(free_port()))
    assert_one_line(done, NO_CHANNEL)


def test_serve_refuses_half_a_teams_credential(tmp_path: Path, slm_path: Path) -> None:
    done = firstline(tmp_path, "serve", "--no-channels", FIRSTLINE_SLM_MODEL=str(slm_path),
                     MicrosoftAppId="00000000-0000-0000-0000-000000000001")
    assert_one_line(done, "MicrosoftAppId ([teams] app_id) is set but MicrosoftAppPassword "
                          "([teams] app_password) is not: set the bot's client secret")


def test_serve_lists_its_channel_and_server_problems_together(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = firstline(tmp_path, "serve", CHROMA_URL=url, FIRSTLINE_SLM_MODEL="missing.gguf",
                     SLACK_SIGNING_SECRET="s")
    assert (done.returncode, done.stdout) == (2, "")
    assert [line.split(": ")[1] for line in done.stderr.splitlines()] == [
        "CHROMA_URL", "FIRSTLINE_SLM_MODEL",
        "SLACK_SIGNING_SECRET set but SLACK_BOT_TOKEN ([slack] bot_token) is not"]


def test_serve_reads_the_slack_table(tmp_path: Path, slm_path: Path) -> None:
    (tmp_path / "firstline.toml").write_text('[slack]\nbot_token = "xoxb-1"\n')
    done = firstline(tmp_path, "serve", FIRSTLINE_SLM_MODEL=str(slm_path))
    assert_one_line(done, "SLACK_BOT_TOKEN ([slack] bot_token) is set but neither "
                          "SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (Events API) "
                          "is: set one of them")


def test_serve_names_an_unreachable_slack(tmp_path: Path, slm_path: Path) -> None:
    api = f"http://127.0.0.1:{free_port()}/api/"
    done = firstline(tmp_path, "serve", FIRSTLINE_SLM_MODEL=str(slm_path),
                     SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1", SLACK_API_URL=api)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"firstline: SLACK_API_URL: Slack's Web API does not answer at {api} "
                           "(Cannot connect to host 127.0.0.1:")


@pytest.mark.slm
def test_serve_with_no_channels_starts_when_asked_to(tmp_path: Path, slm_path: Path) -> None:
    port = free_port()
    env = environment(FIRSTLINE_SLM_MODEL=str(slm_path), FIRSTLINE_HOST="0.0.0.0",
                      FIRSTLINE_PORT=str(port))
    process = start([sys.executable, "-m", "bot.app.cli", "serve", "--no-channels"],
                    tmp_path / "serve.log", f"http://127.0.0.1:{port}/healthz", env=env,
                    cwd=tmp_path)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0


# -- a quiet terminal ----------------------------------------------------------------------------
def test_index_and_ask_into_pipes_show_no_bars_or_debug_lines(tmp_path: Path, docs: Path,
                                                              slm_path: Path) -> None:
    done = firstline(tmp_path, "index", str(docs), FIRSTLINE_SLM_MODEL=str(slm_path),
                     FIRSTLINE_LOG_LEVEL="DEBUG")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 added, 0 updated, 0 removed")
    assert noise(done.stderr) == [] and "DEBUG bot." in done.stderr  # our DEBUG was asked for
    done = firstline(tmp_path, "ask", "What is on the cafeteria menu on Friday?",
                     FIRSTLINE_SLM_MODEL=str(slm_path))
    assert done.returncode == 0, done.stderr
    assert "helpdesk" in done.stdout.splitlines()[0]
    assert noise(done.stderr) == [] and noise(done.stdout) == []
    assert " DEBUG " not in done.stderr  # the default level is INFO


def test_verbose_shows_the_libraries_log_lines(tmp_path: Path, docs: Path,
                                               slm_path: Path) -> None:
    done = firstline(tmp_path, "index", str(docs), "--verbose",
                     FIRSTLINE_SLM_MODEL=str(slm_path))
    assert done.returncode == 0, done.stderr
    assert any(name.split(".")[0] not in OWN for _, name in LOG_LINE.findall(done.stderr))


def test_index_on_a_terminal_says_it_loads_the_models_then_shows_its_bar(
        tmp_path: Path, docs: Path, slm_path: Path) -> None:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))  # 120 columns
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "index", str(docs)], cwd=tmp_path,
        env=environment(FIRSTLINE_SLM_MODEL=str(slm_path)), stdout=subprocess.PIPE,
        stderr=follower)
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    assert process.wait(timeout=600) == 0
    text = screen.decode(errors="replace")
    assert text.index("loading the embedding models…") < text.index("indexing:")
    assert "2/2" in text and "Loading weights" not in text and " DEBUG " not in text
    assert process.stdout is not None and process.stdout.read().startswith(b"2 added")


def test_chat_shows_no_log_lines_and_renders_markdown(tmp_path: Path, slm_path: Path) -> None:
    done = firstline(tmp_path, "chat", "--data-dir", "data", stdin="help\ncosts 7d\n",
                     FIRSTLINE_SLM_MODEL=str(slm_path))
    assert done.returncode == 0, done.stderr
    assert LOG_LINE.findall(done.stdout + done.stderr) == []
    assert done.stdout.splitlines()[0].endswith("Log: data/logs/chat.log")
    words = " ".join(done.stdout.split())  # the paragraph is wrapped at 80 columns in a pipe
    assert "Admin commands: reindex [--full], status," in words  # inline code, without ``
    assert "`" not in done.stdout  # neither inline code marks nor the costs table's fence
    assert re.search(r"^key +answers +cloud .* up +down$", done.stdout, re.M)  # not cut
    assert LOG_LINE.search((tmp_path / "data/logs/chat.log").read_text())


@pytest.mark.slm
def test_ask_prints_the_answer_and_its_sources(tmp_path: Path, docs: Path,
                                               slm_path: Path) -> None:
    assert firstline(tmp_path, "index", str(docs), FIRSTLINE_SLM_MODEL=str(slm_path)
                     ).returncode == 0
    done = firstline(tmp_path, "ask", "How do I reset my VPN password?",
                     FIRSTLINE_SLM_MODEL=str(slm_path))
    assert done.returncode == 0, done.stderr
    assert "  [it/vpn-password-reset.md] How to reset your VPN password" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("— on-prem, ")
    assert noise(done.stderr) == []
