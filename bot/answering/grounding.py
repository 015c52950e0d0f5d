"""Answering from passages with a chat model: prompt, call, then citations and coverage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.answering.faithful import (
    declined_text,
    excerpt_lines,
    judge,
    lead_sentence,
    quoted,
)
from bot.answering.prompt import (
    PromptParts,
    build_messages,
    cited_numbers,
    not_covered_text,
    says_not_covered,
    strip_citations,
    strip_invalid_citations,
)
from bot.models.base import ChatModel, Completion, Draft, TextSink
from bot.types import Language, Turn
from knowledge.lexical import content_terms, tokenize
from knowledge.retrieval import Hit


async def grounded_answer(
    model: ChatModel,
    question: str,
    hits: Sequence[Hit],
    language: Language,
    *,
    history: Sequence[Turn] = (),
    helpdesk: str = "",
    max_tokens: int = 200,
    passage_units: int = 300,
    quote: bool = False,
    on_text: TextSink | None = None,
) -> Draft:
    """The model's answer from ``hits``; with ``quote``, its text is the model's lead sentence
    and the cited passage's supporting lines quoted verbatim (:func:`faithful`). With
    ``on_text``, the model's raw text is sent there as it is generated."""
    parts = build_messages(question, hits, language, history, passage_units)
    if on_text is None:
        completion = await model.complete(parts.messages, max_tokens=max_tokens)
    else:
        completion = await model.complete_streaming(parts.messages, on_text,
                                                    max_tokens=max_tokens)
    # the prompt goes with the draft: the verification pass extends it, reusing the KV cache
    draft = replace(interpret(completion, hits, language, helpdesk),
                    prompt=tuple(parts.messages))
    if quote and hits:
        return faithful(draft, question, hits, parts, language, helpdesk)
    if not draft.covered:
        return draft
    return replace(draft, grounding=grounding(draft.raw, question, parts.shown))


def faithful(draft: Draft, question: str, hits: Sequence[Hit], parts: PromptParts,
             language: Language, helpdesk: str) -> Draft:
    """``draft`` as a lead sentence and the cited passage's supporting lines quoted verbatim;
    not covered (reason in ``grounding``: ``slm_echo``, ``example_leak``, ``unsupported``), with
    the closest passage quoted, when the lead echoes the question, leaks a worked example or
    says what the cited passage does not."""
    if not draft.covered:
        return draft
    at = cited_hit(draft.raw, hits)
    hit, shown = hits[at], parts.shown
    lead = lead_sentence(draft.text, draft.completion.finish_reason == "length")
    cited = f"{hit.title}\n{hit.heading}\n{hit.passage}"
    verdict = judge(lead, question, cited, shown)
    figures = {**grounding(draft.raw, question, shown), **verdict.figures()}
    lines = excerpt_lines(parts.verbatim[at], lead, question, hit.text)
    if verdict.reason is not None:
        declined = declined_text(not_covered_text(language, helpdesk), language, lines, hit.title)
        return Draft(declined, False, (), draft.completion, draft.raw, grounding=figures)
    body = f"{lead}\n{quoted(lines, hit.title)}" if lines else lead
    return replace(draft, text=body, grounding=figures)


def cited_hit(answer: str, hits: Sequence[Hit]) -> int:
    """The index of the passage the answer rests on: its first citation, else the passage it
    reuses most, else the top one."""
    numbers = cited_numbers(answer, len(hits)) or attribute(answer, hits)
    return numbers[0] - 1 if numbers else 0


def interpret(
    completion: Completion, hits: Sequence[Hit], language: Language, helpdesk: str
) -> Draft:
    raw = completion.text
    if says_not_covered(raw) or not hits:
        return Draft(not_covered_text(language, helpdesk), False, (), completion, raw)
    numbers = cited_numbers(raw, len(hits))
    attributed = not numbers
    if attributed:  # small models often forget the [n]: attribute by what the answer reuses
        numbers = attribute(raw, hits)
    paths: list[str] = []
    for n in numbers:
        if hits[n - 1].path not in paths:
            paths.append(hits[n - 1].path)
    text = strip_invalid_citations(raw, len(hits))
    if language == "en":  # the Japanese worked example sometimes leaks its full stop
        text = text.replace("。", ".")
    return Draft(text, True, tuple(paths), completion, raw, attributed and bool(numbers))


def attribute(answer: str, hits: Sequence[Hit], min_overlap: float = 0.5) -> list[int]:
    """Passage numbers whose terms cover at least ``min_overlap`` of the answer's terms
    (and nearly as much as the best passage), best first."""
    terms = set(tokenize(answer))
    if not terms:
        return []
    shares = [len(terms & set(tokenize(f"{h.heading} {h.text}"))) / len(terms) for h in hits]
    best = max(shares, default=0.0)
    if best < min_overlap:
        return []
    order = sorted(range(len(hits)), key=lambda i: -shares[i])
    return [i + 1 for i in order if shares[i] >= max(min_overlap, 0.8 * best)]


def grounding(answer: str, question: str, passages: Sequence[str]) -> dict[str, float]:
    """How much the answer adds to the question, and whether the passages back what it adds.

    ``answer_new_terms``: content terms of the answer that are not in the question (0: the
    answer only echoes the question, a typical small-model failure on "what is X called?");
    ``answer_echo``: the share of the answer's terms taken from the question;
    ``answer_support``: the share of the new terms found in the passages (low: the model made
    something up, e.g. a year or a name that no passage has). Cheap, language-aware (CJK bigrams),
    and signals of the needs-cloud score (:data:`bot.routing.router.SCORE_FEATURES`).
    """
    said = content_terms(strip_citations(answer))
    new = said - content_terms(question)
    support = set().union(*(content_terms(p) for p in passages)) if passages else set()
    return {
        "answer_new_terms": float(len(new)),
        "answer_echo": round(1 - len(new) / len(said), 4) if said else 1.0,
        "answer_support": round(len(new & support) / len(new), 4) if new else 0.0,
    }
