"""Faithful answer text (bot.answering.faithful, grounding.faithful), on the fake model: the lead
over the cited passage's own lines, and the drafts that must not be shown as confident — an echo
of the question, a worked example leaking from the prompt, a lead the passage does not back."""

from __future__ import annotations

from pathlib import Path

import pytest
from unit_parts import ask, make_core

from bot.answering.faithful import excerpt_lines, judge, lead_sentence, quoted
from bot.answering.grounding import grounded_answer
from bot.answering.prompt import EXAMPLE_TERMS, EXAMPLES, split_pieces
from bot.models.fake import FakeChatModel
from bot.types import Route
from knowledge import SAMPLES
from knowledge.lexical import content_terms
from knowledge.retrieval import Hit

STEPS = ("1. Open the self-service portal at **https://id.northwind.example/reset**.\n"
         "2. Enter your username and click **Next**.\n"
         "3. Wait up to **15 minutes** for the new password to reach the VPN gateway.")
VPN = Hit("c1", "it/vpn-password-reset.md", "How to reset your VPN password",
          "Reset your password", STEPS.splitlines()[2], 1.0, passage=STEPS)
PRINTERS = Hit("c2", "it/printer-setup-ja.txt", "プリンターの設定", "印刷",
               "カラープリンターは各階のコピー室にあります。", 0.5)
QUESTION = "How long until my new VPN password works?"
HELPDESK = "Please contact the IT/HR helpdesk for this one."


async def drafted(answer: str, question: str = QUESTION, hits: tuple[Hit, ...] = (VPN, PRINTERS),
                  language: str = "en"):  # type: ignore[no-untyped-def]
    return await grounded_answer(FakeChatModel(answer), question, list(hits), language,  # type: ignore[arg-type]
                                 helpdesk=HELPDESK, quote=True)


def quote_of(text: str) -> list[str]:
    return [line[2:] for line in text.splitlines() if line.startswith("> ")]


async def test_the_answer_is_the_lead_then_the_cited_lines_verbatim_and_the_title() -> None:
    draft = await drafted("About 15 minutes after the reset [1].")
    assert draft.covered and draft.cited_paths == (VPN.path,)
    lead, *rest = draft.text.splitlines()
    assert lead == "About 15 minutes after the reset [1]."
    *lines, title = quote_of(draft.text)
    assert title == f"— {VPN.title}"
    assert lines and all(line in split_pieces(VPN.passage) for line in lines)
    assert lines[0].startswith("3. Wait up to **15 minutes**")  # the figure, as written
    assert draft.grounding["supported"] >= 2 and draft.grounding["supported_share"] == 1.0
    assert draft.grounding["slm_echo"] == draft.grounding["unsupported"] == 0.0


async def test_an_answer_that_only_echoes_the_question_is_not_covered() -> None:
    draft = await drafted("Your new VPN password works [1].")
    assert not draft.covered and draft.cited_paths == ()
    assert draft.grounding["slm_echo"] == 1.0
    assert draft.text.startswith("I don't know: our knowledge base doesn't cover that.")
    assert "The closest passage I found:" in draft.text
    assert quote_of(draft.text)[-1] == f"— {VPN.title}"


async def test_a_made_up_figure_is_unsupported() -> None:
    draft = await drafted("It takes about 45 minutes [1].")
    assert not draft.covered and draft.grounding["unsupported"] == 1.0


@pytest.mark.parametrize("example", range(len(EXAMPLES)))
async def test_a_worked_example_coming_back_is_caught_as_a_leak(example: int) -> None:
    question, answer = EXAMPLES[example]
    draft = await drafted(answer, "育児休業は何週間前までに申し出ますか?", language="ja")
    assert not draft.covered and draft.grounding["example_leak"] == 1.0, draft.text
    assert "最も近い資料の箇所:" in draft.text


async def test_a_declined_draft_gives_the_reason_and_the_closest_passage(tmp_path: Path) -> None:
    echo = FakeChatModel("Open the VPN portal [1].", name="local-slm")
    core = make_core(tmp_path, local=echo)
    reply = await ask(core, "How do I open the VPN portal?")
    assert (reply.route, reply.reason, reply.covered) == (Route.DECLINED, "slm-echo", False)
    assert "The closest passage I found:" in reply.text and reply.cited == ()
    leak = make_core(tmp_path / "b", local=FakeChatModel(EXAMPLES[0][1], name="local-slm"))
    assert (await ask(leak, "How do I reset my VPN password?")).reason == "example-leak"


async def test_a_declined_draft_goes_to_the_cloud_when_there_is_one(tmp_path: Path) -> None:
    cloud = FakeChatModel("Open the VPN portal and choose Reset password [1].", name="cloud")
    core = make_core(tmp_path, local=FakeChatModel(EXAMPLES[1][1], name="local-slm"),
                     cloud=cloud)
    reply = await ask(core, "How do I reset my VPN password?")
    assert (reply.route, reply.reason) == (Route.CLOUD, "example-leak")
    assert len(cloud.requests) == 1


def test_a_japanese_lead_over_an_english_passage_is_checked_on_its_figures() -> None:
    cited = f"{VPN.title}\n{VPN.heading}\n{VPN.passage}"
    right = judge("リセット後、最大 15 分で反映されます [1]。", "新しいパスワードはいつ使える?",
                  cited, [VPN.passage])
    wrong = judge("リセット後、最大 45 分で反映されます [1]。", "新しいパスワードはいつ使える?",
                  cited, [VPN.passage])
    assert right.reason is None and right.supported == ("15",)
    assert wrong.reason == "unsupported"
    ja = "申請はポータルで行い、5営業日以内に承認されます。"
    english = judge("Apply in the portal; approval takes 5 business days [1].",
                    "How long does approval take?", ja, [ja])
    assert english.reason is None and english.checked == 1  # only the figure can be matched


def test_a_yes_or_no_answer_is_not_an_echo() -> None:
    cited = "Childcare leave\nChildcare leave is unpaid by the company."
    assert judge("Yes [1].", "Is childcare leave unpaid?", cited, [cited]).reason is None
    assert judge("Yes, you're paid nothing by the company [1].",
                 "Am I paid nothing by the company?", cited, [cited]).reason is None  # no claim
    assert judge("Childcare leave [1].", "Is childcare leave unpaid?", cited,
                 [cited]).reason == "slm-echo"


def test_a_modal_or_a_negation_is_no_claim_the_passage_must_back() -> None:
    cited = "Alcohol\nAlcohol is never reimbursed, not even at client dinners."
    verdict = judge("No, you cannot expense alcohol [1].", "Can I expense alcohol?", cited,
                    [cited])
    assert verdict.reason is None and "cannot" not in verdict.new
    made_up = judge("No, you cannot expense alcohol over 50 euros [1].",
                    "Can I expense alcohol?", cited, [cited])
    assert made_up.reason == "unsupported"  # the figure is still checked


def test_the_excerpt_falls_back_to_the_matching_chunk_across_languages() -> None:
    lines = excerpt_lines(STEPS, "手順に従ってください。", "どうすればいい?", VPN.text)
    assert lines == [STEPS.splitlines()[2]]


def test_a_lead_cut_by_the_token_cap_ends_at_its_last_full_sentence() -> None:
    assert lead_sentence("Wait 15 minutes [1]. Then open Northwind", True) == (
        "Wait 15 minutes [1].")
    assert lead_sentence("Wait for the", True) == "Wait for the…"
    assert lead_sentence("Wait for the", False) == "Wait for the"
    assert lead_sentence("1. Open it.\n2. Click Next. 3.", False) == "1. Open it. 2. Click Next."
    assert lead_sentence("1. Open the portal [1].\n2. Click Reset password.\n3.", True) == (
        "1. Open the portal [1]. 2. Click Reset password.")


def test_links_in_a_declined_quote_are_not_clickable() -> None:
    text = quoted(["Go to https://evil.example/reset now."], "Urgent", plain_links=True)
    assert text == "> Go to `https://evil.example/reset` now.\n> — Urgent"


def test_the_worked_examples_are_fiction_no_sample_document_contains() -> None:
    example_text = "\n".join(f"{q}\n{a}" for q, a in EXAMPLES)
    assert content_terms(example_text) >= EXAMPLE_TERMS
    for path in SAMPLES.rglob("*"):
        if path.is_file() and path.suffix in {".md", ".txt", ".rst", ".html"}:
            found = EXAMPLE_TERMS & content_terms(path.read_text(encoding="utf-8"))
            assert not found, (path, found)
