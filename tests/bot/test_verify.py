"""The verification pass and the calibrated abstention: ``ChatModel.choose`` on the real GGUF and
against a real loopback server speaking the OpenAI logprobs format, the logistic fit and its
threshold, the Verify/DeclineUnsure steps in the answer path, near misses on the sample knowledge
base, and ``firstline router abstention`` from samples and from a ledger with feedback."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web
from recording_cloud import Behaviour, FakeOpenAI
from unit_parts import ANSWER, VPN_HIT, WIFI_HIT, ask, make_core, settings_for

from bot.answering.grounding import grounded_answer
from bot.answering.record import AnswerRecord
from bot.answering.verify import Verify
from bot.app.cli import main
from bot.errors import UserFacingError
from bot.language import detect_language
from bot.ledger.store import Ledger
from bot.models.base import Message
from bot.models.choice import from_logprobs, option_of
from bot.models.cloud import CloudChatModel
from bot.models.fake import FakeChatModel
from bot.models.remote import RemoteSLM
from bot.routing import logistic
from bot.routing.abstention import (
    DEFAULT_FEATURES,
    FEATURES,
    SHIPPED,
    Abstention,
    Row,
    abstention_from_setting,
    choose_threshold,
    effect,
    fit_abstention,
)
from bot.types import Question, Route

QUESTION = [Message("user", "Does passage [1] answer the question? Answer yes or no.")]


# -- reading a choice from log-probabilities --------------------------------------------------
def test_spellings_count_for_their_option_and_are_normalised() -> None:
    assert option_of(" Yes", ("yes", "no")) == "yes"
    assert option_of("はい", ("yes", "no")) == "yes"
    assert option_of("いいえ", ("yes", "no")) == "no"
    assert option_of("The", ("yes", "no")) is None
    chosen = from_logprobs([(" Yes", -0.2), ("yes", -2.0), ("No", -1.5), ("The", -4.0)],
                           ("yes", "no"))
    yes = math.exp(-0.2) + math.exp(-2.0)
    assert chosen["yes"] == pytest.approx(yes / (yes + math.exp(-1.5)))
    assert sum(chosen.values()) == pytest.approx(1.0)


def test_an_option_not_listed_gets_at_most_the_smallest_listed_probability() -> None:
    chosen = from_logprobs([("Yes", -0.1), ("The", -5.0)], ("yes", "no"))
    assert chosen["no"] == pytest.approx(math.exp(-5.0) / (math.exp(-0.1) + math.exp(-5.0)))
    assert from_logprobs([("The", -0.1)], ("yes", "no")) == {}


async def test_the_fake_answers_from_its_verdicts() -> None:
    fake = FakeChatModel(verdicts=[0.8, {"yes": 1.0, "no": 3.0}, None])
    assert (await fake.choose(QUESTION))["yes"] == pytest.approx(0.8)
    assert (await fake.choose(QUESTION))["no"] == pytest.approx(0.75)
    assert await fake.choose(QUESTION) == {}
    assert len(fake.choose_requests) == 3 and not fake.requests


# -- the cloud and remote models against a real loopback server -------------------------------
def top_logprobs(first: str, alternatives: list[tuple[str, float]]) -> Behaviour:
    async def answer(request: web.Request) -> web.StreamResponse:
        top = [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in alternatives]
        content = [{"token": first, "logprob": alternatives[0][1], "top_logprobs": top}]
        return web.json_response({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-fake",
            "choices": [{"index": 0, "finish_reason": "length", "logprobs": {"content": content},
                         "message": {"role": "assistant", "content": first}}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 1, "total_tokens": 41}})
    return answer


async def test_cloud_choose_asks_for_one_token_with_top_logprobs() -> None:
    behaviour = top_logprobs("Yes", [("Yes", -0.3), (" yes", -2.2), ("No", -1.6), ("I", -3.0)])
    async with FakeOpenAI(behaviour) as fake, \
            CloudChatModel(fake.url, "sk-test", "gpt-test", timeout=5.0) as model:
        chosen = await model.choose(QUESTION, ("yes", "no"))
    body = fake.requests[0].body
    assert (body["max_tokens"], body["logprobs"], body["top_logprobs"]) == (1, True, 20)
    assert body["messages"] == [{"role": "user", "content": QUESTION[0].content}]
    yes = math.exp(-0.3) + math.exp(-2.2)
    assert chosen["yes"] == pytest.approx(yes / (yes + math.exp(-1.6)))


async def test_remote_slm_choose_reads_japanese_options_and_skips_a_server_without_logprobs(
) -> None:
    behaviour = top_logprobs("いいえ", [("いいえ", -0.2), ("はい", -1.9)])
    async with FakeOpenAI(behaviour) as fake:
        model = RemoteSLM(fake.url, "qwen", timeout=5.0)
        try:
            chosen = await model.choose(QUESTION)
            assert chosen["no"] == pytest.approx(1 / (1 + math.exp(-1.7)))
            model.want_logprobs = False  # as after a server refused them
            assert await model.choose(QUESTION) == {}
            assert len(fake.requests) == 1
        finally:
            await model.aclose()


# -- the real GGUF ------------------------------------------------------------------------------
PAIRS = [
    ("How do I reset my VPN password?", "it/vpn-password-reset.md",
     "Which Wi-Fi network should guests use?", "it/wifi-networks.txt"),
    pytest.param(
        "経費精算の締め切りはいつですか?", "expenses/expense-deadline-ja.md",
        "育児休業はいつまで取れますか?", "hr/childcare-leave-ja.md",
        marks=pytest.mark.xfail(strict=True, reason=(
            "measured: the 0.5B default gives P(yes) 0.34 vs 0.35 (deadline vs childcare "
            "passage); the pass does not separate Japanese pairs (verify_yes AUC 0.35 on fold 1 "
            "of the Japanese hard sets)"))),
]


@pytest.mark.slm
@pytest.mark.parametrize(("question", "good", "other", "bad"), PAIRS)
async def test_the_gguf_says_yes_more_for_a_passage_that_answers(
        sample_core: Any, question: str, good: str, other: str, bad: str) -> None:
    language = detect_language(question)
    hits = {}
    for label, query, path in (("good", question, good), ("bad", other, bad)):
        found = sample_core.searcher.search(query, 30, language)
        hits[label] = next(h for h in found.hits if h.path == path)
    verify = Verify(sample_core.local, None, top_k=1, passage_units=350)
    record = AnswerRecord.start(Question(question, user="t"))
    p_yes = {}
    for label, hit in hits.items():
        draft = await grounded_answer(sample_core.local, question, [hit], language,
                                      passage_units=350)
        p_yes[label] = (await sample_core.local.choose(verify.messages(record, draft, [hit])))[
            "yes"]
        cost = sample_core.local.last_choice
        # the answer's prompt and (nearly all of) its answer were in the KV cache already
        assert cost.prompt_tokens - cost.reused_tokens <= draft.completion.completion_tokens + 40
    assert p_yes["good"] > p_yes["bad"], p_yes


NEAR_MISSES = [  # in-domain, and no page of the sample KB answers them (knowledge/samples/_build)
    "How long does it take for stock options to vest?",  # the 401(k) match "vests immediately"
    "How much is the employee referral bonus?",
    "健康診断はいつ受けられますか?",
    "社用車を予約するにはどうすればいいですか?",  # seat and room booking are in the KB
]


@pytest.mark.slm
@pytest.mark.parametrize("question", NEAR_MISSES)
async def test_near_misses_are_declined_on_the_sample_kb(sample_core: Any, question: str) -> None:
    reply = await ask(sample_core, question)
    shown = {k: reply.signals.get(k) for k in ("p_right", "p_right_threshold", "verify_yes",
                                                "multilingual_gap", "term_coverage", "fused_gap")}
    assert reply.route is Route.DECLINED and not reply.covered, (reply.text, reply.reason, shown)


# -- the steps, with fast parts -------------------------------------------------------------
def model_file(tmp_path: Path, threshold: float = 0.5) -> Path:
    """An abstention model that trusts only the verification pass (p_right = verify_yes)."""
    names = tuple(FEATURES)
    weights = tuple(1.0 if n == "verify_logit" else 0.0 for n in names)
    path = tmp_path / "abstention.json"
    Abstention(names, weights, 0.0, threshold).save(path)
    return path


async def test_a_verified_draft_below_the_threshold_is_declined_without_a_cloud(
        tmp_path: Path) -> None:
    local = FakeChatModel(ANSWER, name="local-slm", verdicts=[0.9, 0.2])
    core = make_core(tmp_path, local=local, abstention_config=str(model_file(tmp_path)))
    sure = await ask(core, "How do I reset my VPN password?")
    assert (sure.route, sure.reason, sure.covered) == (Route.LOCAL, "confident", True)
    assert sure.signals["verify_yes"] == pytest.approx(0.9)
    assert sure.signals["p_right"] == pytest.approx(0.9)
    unsure = await ask(core, "How do I reset my VPN password?")
    assert (unsure.route, unsure.reason, unsure.covered) == (Route.DECLINED, "not-confident",
                                                             False)
    assert "knowledge base doesn't cover" in unsure.text
    sent = local.choose_requests[0]
    assert [m.role for m in sent[-2:]] == ["assistant", "user"]
    assert sent[-2].content == ANSWER and "passage [1]" in sent[-1].content
    assert sent[:-2] == local.requests[0]  # the answer's own prompt first: its KV cache is reused


async def test_below_the_threshold_the_cloud_answers_with_reason_not_confident(
        tmp_path: Path) -> None:
    cloud = FakeChatModel("Open the VPN portal [1].", name="cloud-model")
    core = make_core(tmp_path, local=FakeChatModel(ANSWER, verdicts=0.1), cloud=cloud,
                     abstention_config=str(model_file(tmp_path)))
    reply = await ask(core, "How do I reset my VPN password?")
    assert (reply.route, reply.reason) == (Route.CLOUD, "not-confident")
    assert reply.signals["escalation_wanted"] == "not-confident"


async def test_off_disables_the_judgement_but_the_pass_still_runs(tmp_path: Path) -> None:
    core = make_core(tmp_path, local=FakeChatModel(ANSWER, verdicts=0.01),
                     abstention_config="off")
    reply = await ask(core, "How do I reset my VPN password?")
    assert (reply.route, reply.reason) == (Route.LOCAL, "confident")
    assert reply.signals["verify_yes"] == pytest.approx(0.01) and "p_right" not in reply.signals
    assert abstention_from_setting("off") is None and abstention_from_setting(" OFF ") is None


async def test_a_model_without_logprobs_is_left_to_the_rules(tmp_path: Path) -> None:
    core = make_core(tmp_path, local=FakeChatModel(ANSWER), abstention_config=str(
        model_file(tmp_path, threshold=0.99)))
    reply = await ask(core, "How do I reset my VPN password?")
    assert (reply.route, reply.reason) == (Route.LOCAL, "confident")
    assert "verify_yes" not in reply.signals and "verify_ms" in reply.signals


def model_without_pass(tmp_path: Path, bias: float) -> Path:
    """An abstention model that ignores the verification pass: p_right = sigmoid(bias)."""
    path = tmp_path / "no-verify.json"
    Abstention(("term_coverage", "answer_support"), (0.0, 0.0), bias, 0.5).save(path)
    return path


@pytest.mark.parametrize(("bias", "route", "reason"), [(2.0, Route.LOCAL, "confident"),
                                                      (-2.0, Route.DECLINED, "not-confident")])
async def test_a_model_that_ignores_the_pass_skips_it_and_still_judges(
        tmp_path: Path, bias: float, route: Route, reason: str) -> None:
    local = FakeChatModel(ANSWER, name="local-slm", verdicts=0.99)
    core = make_core(tmp_path, local=local,
                     abstention_config=str(model_without_pass(tmp_path, bias)))
    reply = await ask(core, "How do I reset my VPN password?")
    assert (reply.route, reply.reason) == (route, reason)
    assert local.choose_requests == [] and reply.signals["verify_skipped"] is True
    assert "verify_yes" not in reply.signals and "verify_ms" not in reply.signals
    assert reply.signals["p_right"] == pytest.approx(1 / (1 + math.exp(-bias)), abs=1e-4)
    assert "dense_gap" in reply.signals  # the margins are still recorded for a refit


def test_a_fit_that_reads_the_pass_leaves_out_answers_whose_pass_was_skipped() -> None:
    rows, _ = rows_with([0.9, 0.8, 0.7] * 10, [0.1, 0.3] * 10)
    skipped = [Row(f"s{i}", "en", {"verify_skipped": True}, True, True, True, True)
               for i in range(7)]
    assert all(r.scored for r in skipped)
    model = fit_abstention(rows + skipped, names=("verify_logit", "answer_support"))
    assert model.fitted["rows"] == 50 and model.fitted["left_out_unverified"] == 7
    without = fit_abstention(rows + skipped, names=("answer_support", "term_coverage"))
    assert without.fitted["rows"] == 57 and "left_out_unverified" not in without.fitted
    with pytest.raises(UserFacingError, match="7 more whose verification pass was skipped"):
        fit_abstention(skipped, names=("verify_logit",))


@pytest.mark.parametrize("text", ["{not json", '{"features": ["verify_logit"]}',
                                  '{"features": ["nope"], "weights": [1], "bias": 0, '
                                  '"threshold": 0.5}'])
def test_a_corrupt_config_is_one_line_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(UserFacingError) as caught:
        abstention_from_setting(str(path))
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    with pytest.raises(UserFacingError, match="cannot read"):
        abstention_from_setting(str(tmp_path / "absent.json"))


def test_the_shipped_model_loads_and_skips_the_pass() -> None:
    model = Abstention.load(SHIPPED)
    assert set(model.features) <= set(FEATURES) and 0.0 < model.threshold < 1.0
    assert model.fitted["rows"] >= 90
    assert model.features == DEFAULT_FEATURES and not model.uses_verification


# -- fitting --------------------------------------------------------------------------------
def test_logistic_fit_recovers_the_direction_and_out_of_fold_is_worse_than_in_sample() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 2 * x[:, 1] + rng.normal(scale=0.5, size=400) > 0).astype(float)
    model = logistic.fit(x, y)
    assert model.weights[0] > 0 > model.weights[1] and abs(model.weights[2]) < 0.3
    accuracy = float(np.mean((model.probability(x) > 0.5) == y))
    oof = logistic.out_of_fold(x, y)
    assert accuracy > 0.85
    assert float(np.mean((oof > 0.5) == y)) <= accuracy + 1e-9
    with pytest.raises(ValueError):
        logistic.fit(x, y[:10])


def rows_with(p_keep: list[float], p_drop: list[float], declined_keep: int = 0) -> tuple[
        list[Row], list[float]]:
    rows, p = [], []
    for i, v in enumerate(p_keep):
        rows.append(Row(f"k{i}", "en", {"verify_yes": v}, True, True, True, True))
        p.append(v)
    for i in range(declined_keep):
        rows.append(Row(f"d{i}", "en", {}, False, True, False))
        p.append(1.0)
    for i, v in enumerate(p_drop):
        rows.append(Row(f"u{i}", "en", {"verify_yes": v}, True, False, False, True))
        p.append(v)
    return rows, p


def test_threshold_declines_the_most_unanswerable_within_the_wrongly_declined_limit() -> None:
    rng = random.Random(5)
    keep = [rng.uniform(0.3, 1.0) for _ in range(50)]
    drop = [rng.uniform(0.0, 0.6) for _ in range(30)]
    rows, p = rows_with(keep, drop, declined_keep=2)
    before = effect(rows, p, 0.0).wrongly_declined
    assert before == pytest.approx(2 / 52)  # declined by the earlier steps
    best = choose_threshold(rows, p, 0.10)
    assert best.wrongly_declined - before <= 0.10 and best.handled > 0.5
    for t in sorted(set(p)) + [0.0, 1.1]:  # no threshold does better within the limit
        e = effect(rows, p, t)
        assert e.wrongly_declined - before > 0.10 or e.handled <= best.handled
    loose = choose_threshold(rows, p, 0.5)
    assert loose.handled >= best.handled and loose.wrongly_declined - before <= 0.5


def test_fit_needs_right_and_wrong_answers() -> None:
    rows, _ = rows_with([0.9] * 30, [])
    with pytest.raises(UserFacingError, match="both right and wrong"):
        fit_abstention(rows)


# -- the command ------------------------------------------------------------------------------
def write_samples(path: Path, n: int = 120, seed: int = 11) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            answerable = i % 3 != 0
            covered = rng.random() > 0.04
            right = answerable and covered and rng.random() < 0.8
            yes = rng.uniform(0.5, 1.0) if right else rng.uniform(0.0, 0.7)
            signals = {"verify_yes": yes, "answer_support": 0.5, "dense_top": 0.5}
            fh.write(json.dumps({"id": f"q{i}", "set": "s", "language": "en",
                                 "answerable": answerable, "covered": covered,
                                 "confident": covered, "right": right,
                                 "signals": signals if covered else {}}) + "\n")


def test_router_abstention_fits_from_samples(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    samples, out = tmp_path / "samples.jsonl", tmp_path / "fitted.json"
    write_samples(samples)
    code = main(["router", "abstention", "--samples", str(samples), "--out", str(out),
                 "--data-dir", str(tmp_path), "--max-wrongly-declined", "0.10",
                 "--features", "verify_logit,answer_support,dense_top"])
    printed = capsys.readouterr().out
    assert code == 0 and f"FIRSTLINE_ABSTENTION_CONFIG={out}" in printed
    model = Abstention.load(out)
    assert model.fitted["rows"] == 120
    assert model.weights[model.features.index("verify_logit")] > 0
    oof = model.fitted["out_of_fold"]
    assert oof["after"]["wrongly_declined"] - oof["before"]["wrongly_declined"] <= 0.10
    assert oof["after"]["handled"] > oof["before"]["handled"]


def test_router_abstention_fits_the_features_asked_for(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    samples, out = tmp_path / "samples.jsonl", tmp_path / "fitted.json"
    write_samples(samples)
    assert main(["router", "abstention", "--samples", str(samples), "--out", str(out),
                 "--data-dir", str(tmp_path), "--drop", "verify_logit"]) == 0
    dropped = Abstention.load(out)
    assert dropped.features == tuple(n for n in DEFAULT_FEATURES if n != "verify_logit")
    assert main(["router", "abstention", "--samples", str(samples), "--out", str(out),
                 "--data-dir", str(tmp_path), "--features", "verify_logit, answer_support"]) == 0
    assert Abstention.load(out).features == ("verify_logit", "answer_support")
    capsys.readouterr()
    assert main(["router", "abstention", "--samples", str(samples), "--data-dir",
                 str(tmp_path), "--drop", "verify_yes"]) == 2
    error = capsys.readouterr().err
    assert "unknown abstention feature(s) verify_yes" in error and "verify_logit" in error


def test_router_abstention_reports_a_bad_samples_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"id": "1"}\n')
    assert main(["router", "abstention", "--samples", str(samples),
                 "--data-dir", str(tmp_path)]) == 2
    assert "line 1 is not a sample" in capsys.readouterr().err


async def test_router_abstention_refits_from_the_ledgers_rated_local_answers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = settings_for(tmp_path)
    rng = random.Random(2)
    truth = [rng.random() < 0.6 for _ in range(40)]
    verdicts = [rng.uniform(0.55, 1.0) if t else rng.uniform(0.0, 0.6) for t in truth]
    with Ledger.from_settings(settings) as ledger:
        core = make_core(tmp_path, local=FakeChatModel(ANSWER, verdicts=verdicts),
                         hits=[VPN_HIT, WIFI_HIT], ledger=ledger, abstention_config="off")
        for i, right in enumerate(truth):
            reply = await ask(core, f"How do I reset my VPN password? ({i})")
            if i < 32:  # the last eight are never rated: they do not count
                await core.feedback(reply.answer_id, "u1", "up" if right else "down")
    out = tmp_path / "refit.json"
    assert main(["router", "abstention", "--ledger", "--data-dir", str(tmp_path),
                 "--out", str(out), "--features", "verify_logit,term_coverage"]) == 0
    assert "the ledger's rated local answers" in capsys.readouterr().out
    model = Abstention.load(out)
    assert model.fitted["rows"] == 32
    assert model.fitted["right"] == sum(truth[:32])
    assert model.weights[model.features.index("verify_logit")] > 0


async def test_a_ledger_of_skipped_passes_refits_without_the_pass_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = settings_for(tmp_path)
    with Ledger.from_settings(settings) as ledger:
        core = make_core(tmp_path, local=FakeChatModel(ANSWER, verdicts=0.9), ledger=ledger,
                         hits=[VPN_HIT, WIFI_HIT],
                         abstention_config=str(model_without_pass(tmp_path, 2.0)))
        for i in range(24):
            reply = await ask(core, f"How do I reset my VPN password? ({i})")
            await core.feedback(reply.answer_id, "u1", "up" if i % 3 else "down")
    out = tmp_path / "refit.json"
    assert main(["router", "abstention", "--ledger", "--data-dir", str(tmp_path), "--out",
                 str(out), "--features", "term_coverage,answer_support"]) == 0
    assert Abstention.load(out).fitted["rows"] == 24
    assert main(["router", "abstention", "--ledger", "--data-dir", str(tmp_path),
                 "--features", "verify_logit,term_coverage"]) == 2
    assert "24 more whose verification pass was skipped" in capsys.readouterr().err
