"""Start-up checks: every settings table read at once, then the servers and files the settings
name, each problem one line (``source: what is wrong``) before any model is loaded.

:func:`load_settings` reads the core's and both adapters' settings from the same environment and
file and reports all their problems together; :func:`preflight` checks that a Chroma or SLM
server answers and that the model files and folders exist; :func:`channel_problems` and
:func:`check_slack` are `firstline serve`'s: a channel with half its credentials, no channel at
all, or a Slack that cannot be reached.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from bot.errors import UserFacingError
from bot.settings import Settings, SettingsBase, SettingsError

REACH_SECONDS = 5.0


@dataclass(frozen=True)
class Loaded:
    """The core's settings and the adapters', from one environment and one file."""

    core: Settings
    slack: SlackSettings
    teams: TeamsSettings


def load_settings(overrides: dict[str, Any], config_file: str | None) -> Loaded:
    """All three settings objects; raises one :class:`SettingsError` listing every problem."""
    problems: list[str] = []
    loaded: list[SettingsBase] = []
    for cls, given in ((Settings, overrides), (SlackSettings, {}), (TeamsSettings, {})):
        try:
            loaded.append(cls.load(given, config_file=config_file, require_file=True))
        except SettingsError as exc:
            problems += exc.problems
    if problems:
        raise SettingsError(problems)
    core, slack, teams = loaded
    assert isinstance(core, Settings) and isinstance(slack, SlackSettings)
    assert isinstance(teams, TeamsSettings)
    return Loaded(core, slack, teams)


def preflight(settings: Settings, more: Sequence[str] = (), *, model: bool = True) -> None:
    """The servers the settings name answer, and the model files exist; ``more``: other
    problems to report with them (serve's channels); ``model`` False: a command that never
    asks the SLM (``index``, ``status``) does not need its server or file."""
    slm = (_slm(settings), *_model_files(settings)) if model else ()
    found = [p for p in (_chroma(settings), *slm, *_files(settings)) if p]
    if found or more:
        raise SettingsError([*found, *more])


def _chroma(settings: Settings) -> str | None:
    if not settings.chroma_url:
        return None
    url = settings.chroma_url.rstrip("/")
    return _unreachable("CHROMA_URL", "Chroma server", url, f"{url}/api/v2/heartbeat")


def _slm(settings: Settings) -> str | None:
    if not settings.slm_url:
        return None
    url = settings.slm_url.rstrip("/")
    return _unreachable("FIRSTLINE_SLM_URL", "SLM server", url, f"{url}/models")


def _unreachable(name: str, what: str, shown: str, probe: str) -> str | None:
    """None when anything answers HTTP at ``probe`` (an error status is an answer too)."""
    try:
        with urllib.request.urlopen(probe, timeout=REACH_SECONDS):
            return None
    except urllib.error.HTTPError:
        return None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{name}: no {what} answers at {shown} ({reason})"


def _model_files(settings: Settings) -> list[str | None]:
    return [_missing("FIRSTLINE_SLM_MODEL", "GGUF file", settings.slm_model,
                     file=True, unless=bool(settings.slm_url)) or _not_gguf(settings)]


def _files(settings: Settings) -> list[str | None]:
    multilingual = settings.multilingual_embeddings
    return [
        _missing("FIRSTLINE_EMBEDDING_MODEL", "sentence-transformers model folder",
                 settings.embedding_model),
        _missing("FIRSTLINE_MULTILINGUAL_EMBEDDINGS", "sentence-transformers model folder",
                 "" if multilingual == "use-v3" else multilingual),
        _missing("FIRSTLINE_ROUTER_CONFIG", "router thresholds file", settings.router_config,
                 file=True),
        _missing("FIRSTLINE_ABSTENTION_CONFIG", "abstention file",
                 "" if settings.abstention_config == "off" else settings.abstention_config,
                 file=True),
    ]


def _missing(name: str, what: str, value: str, *, file: bool = False,
             unless: bool = False) -> str | None:
    if not value or unless:
        return None
    path = Path(value).expanduser()
    if path.is_file() if file else path.is_dir():
        return None
    return f"{name}: no {what} at {path}"


def _not_gguf(settings: Settings) -> str | None:
    """A model file that is not a GGUF (by its magic bytes) fails here, not at the first
    question."""
    if not settings.slm_model or settings.slm_url:
        return None
    path = Path(settings.slm_model).expanduser()
    with path.open("rb") as fh:
        magic = fh.read(4)
    return None if magic == b"GGUF" else f"FIRSTLINE_SLM_MODEL: {path} is not a GGUF file"


# -- serve ------------------------------------------------------------------------------------
NO_CHANNEL = ("no chat channel is configured: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN or "
              "SLACK_SIGNING_SECRET (README: Slack), or MicrosoftAppId and MicrosoftAppPassword "
              "(README: Microsoft Teams); `firstline serve --no-channels` starts without one "
              "(only /healthz, /readyz and /metrics)")


def channel_problems(slack: SlackSettings, teams: TeamsSettings, *, teams_on: bool,
                     allow_none: bool = False) -> list[str]:
    """Half-given credentials, and no channel at all unless ``allow_none``. ``teams_on``:
    whether Teams would be served (with an app id, or anonymously on loopback for the Bot
    Framework Emulator: ``adapters.teams.auth.teams_configured``)."""
    problems = _slack_halves(slack) + _teams_halves(teams)
    if not problems and not allow_none and not (slack.bot_token or teams_on):
        problems.append(NO_CHANNEL)
    return problems


def handoff_problems(settings: Settings, slack: SlackSettings, teams: TeamsSettings, *,
                     teams_on: bool) -> list[str]:
    """The hand-off target chosen but not usable: its channel or URL missing, or its chat
    platform not served."""
    target = settings.handoff_target
    missing = {
        "webhook": (not settings.handoff_webhook_url, "FIRSTLINE_HANDOFF_WEBHOOK_URL"),
        "slack": (not (slack.bot_token and slack.handoff_channel),
                  "SLACK_BOT_TOKEN and FIRSTLINE_HANDOFF_SLACK_CHANNEL"),
        "teams": (not (teams_on and teams.handoff_conversation),
                  "Teams (MicrosoftAppId) and FIRSTLINE_HANDOFF_TEAMS_CONVERSATION"),
    }
    if target not in missing or not missing[target][0]:
        return []
    return [f"FIRSTLINE_HANDOFF_TARGET={target} needs {missing[target][1]}: set them, or "
            "choose another target (empty: no hand-off)"]


def _slack_halves(slack: SlackSettings) -> list[str]:
    if slack.bot_token and not (slack.app_token or slack.signing_secret):
        return ["SLACK_BOT_TOKEN ([slack] bot_token) is set but neither SLACK_APP_TOKEN (Socket "
                "Mode) nor SLACK_SIGNING_SECRET (Events API) is: set one of them"]
    given = [n for n, v in (("SLACK_APP_TOKEN", slack.app_token),
                            ("SLACK_SIGNING_SECRET", slack.signing_secret)) if v]
    if given and not slack.bot_token:
        return [f"{' and '.join(given)} set but SLACK_BOT_TOKEN ([slack] bot_token) is not: "
                "set it to the bot token (xoxb-...), or unset the others"]
    return []


def _teams_halves(teams: TeamsSettings) -> list[str]:
    msi = teams.app_type.lower() == "userassignedmsi"
    if teams.app_id and not teams.app_password and not msi:
        return ["MicrosoftAppId ([teams] app_id) is set but MicrosoftAppPassword "
                "([teams] app_password) is not: set the bot's client secret"]
    if teams.app_password and not teams.app_id:
        return ["MicrosoftAppPassword ([teams] app_password) is set but MicrosoftAppId "
                "([teams] app_id) is not: set the bot's app id"]
    problem = teams.tenant_problem()
    return [problem] if problem else []


async def check_slack(slack: SlackSettings) -> None:
    """Slack's Web API answers ``auth.test`` for the bot token (before the model loads)."""
    url = f"{slack.api_url.rstrip('/')}/auth.test"
    headers = {"Authorization": f"Bearer {slack.bot_token}"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REACH_SECONDS)) as s, \
                s.post(url, headers=headers) as response:
            answer = await response.json(content_type=None)
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise UserFacingError(f"SLACK_API_URL: Slack's Web API does not answer at "
                              f"{slack.api_url} ({exc or type(exc).__name__})") from exc
    if not isinstance(answer, dict) or not answer.get("ok"):
        error = answer.get("error") if isinstance(answer, dict) else answer
        raise UserFacingError(f"SLACK_BOT_TOKEN: Slack refused the bot token ({error})")
