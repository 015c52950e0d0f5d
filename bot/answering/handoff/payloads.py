"""The webhook's JSON bodies, one per ``FIRSTLINE_HANDOFF_WEBHOOK_FORMAT`` (README "Hand-off to
people" documents each field), and the reference read back from the receiver's answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.answering.handoff.texts import WITHHELD
from bot.types import HandoffRequest

SUMMARY_CHARS = 160  # ServiceNow's short_description holds 160; Jira's summary 255


@dataclass(frozen=True)
class Shape:
    """The per-format settings: ServiceNow's assignment group, Jira's project and issue type."""

    format: str = "generic"
    assignment_group: str = ""
    project: str = "HELP"
    issue_type: str = "Task"


def body(request: HandoffRequest, shape: Shape) -> dict[str, Any]:
    """The JSON to POST for ``request`` in ``shape.format``."""
    if shape.format == "servicenow":
        return servicenow(request, shape.assignment_group)
    if shape.format == "jira":
        return jira(request, shape.project, shape.issue_type)
    return generic(request)


def generic(request: HandoffRequest) -> dict[str, Any]:
    return {
        "type": "firstline.handoff", "version": 1,
        "answer_id": request.answer_id, "created_at": request.created_at,
        "question": request.question, "answer": request.answer,
        "answer_withheld": request.answer_withheld, "language": request.language,
        "asker": {"id": request.asker, "name": request.asker_name,
                  "channel": request.channel},
        "thread_link": request.thread_link, "route": request.route, "reason": request.reason,
        "sources": [{"title": s.title, "path": s.path} for s in request.sources],
        "sources_withheld": request.withheld, "redacted": request.redacted,
    }


def servicenow(request: HandoffRequest, assignment_group: str = "") -> dict[str, Any]:
    """A Table API ``incident`` record (``POST /api/now/table/incident``)."""
    record = {
        "short_description": summary(request), "description": describe(request),
        "caller_id": request.asker_name or request.asker, "contact_type": "chat",
        "correlation_id": request.answer_id, "correlation_display": "firstline",
    }
    if assignment_group:
        record["assignment_group"] = assignment_group
    return record


def jira(request: HandoffRequest, project: str, issue_type: str) -> dict[str, Any]:
    """A REST API v2 issue (``POST /rest/api/2/issue``)."""
    return {"fields": {
        "project": {"key": project}, "summary": summary(request),
        "description": describe(request), "issuetype": {"name": issue_type},
        "labels": ["firstline", f"firstline-{request.answer_id}"]}}


def summary(request: HandoffRequest) -> str:
    line = " ".join(request.question.split())
    text = f"[firstline] {line}"
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"


def describe(request: HandoffRequest) -> str:
    """The hand-off as plain text (ticket descriptions)."""
    asker = f"{request.asker_name} ({request.asker})" if request.asker_name else request.asker
    answer = WITHHELD["en"] if request.answer_withheld else request.answer or "-"
    lines = [f"Question:\n{request.question}", f"Bot's answer ({request.route}):\n{answer}",
             f"Asker: {asker} on {request.channel}"]
    if request.thread_link:
        lines.append(f"Thread: {request.thread_link}")
    if request.sources:
        lines.append("Sources: " + "; ".join(f"{s.title} ({s.path})" for s in request.sources))
    if request.withheld:
        lines.append(f"Restricted sources not named: {request.withheld}")
    lines.append(f"firstline answer id: {request.answer_id}")
    return "\n\n".join(lines)


def reference_of(format: str, answer: Any) -> str:
    """The ticket the receiver made: ServiceNow's ``result.number``, Jira's ``key``, or a
    generic receiver's ``reference`` / ``id``; "" when it says none."""
    if not isinstance(answer, dict):
        return ""
    if format == "servicenow":
        result = answer.get("result")
        return str(result.get("number") or "") if isinstance(result, dict) else ""
    if format == "jira":
        return str(answer.get("key") or "")
    return str(answer.get("reference") or answer.get("id") or "")
