"""Who may read what, through the answer path: a restricted document never reaches an
outsider's prompt, sources, signals or cache hits; a member in a shared channel is told to ask in
a direct message; the ledger counts what was held back (no names); the CLI takes an identity.

Fakes (unit_parts) pin each rule down; the last tests run the real retriever on the sample
knowledge base, where hr/salary-bands.md is for [hr, department-heads, hiring-managers].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from unit_parts import SALARY, SALARY_HIT, VPN_HIT, ask, make_core

from bot.answering.identity import FileDirectory
from bot.app.cli import identity
from bot.errors import UserFacingError
from bot.ledger.memory import MemoryLedger
from bot.models.fake import FakeChatModel
from bot.settings import Settings
from bot.types import Route, Turn
from knowledge.access import Reader
from knowledge.fakes import StaticSearcher, hit

HR = frozenset({"hr"})
BAND = "What is the L4 Japan salary band?"
BAND_ANSWER = "The L4 Japan band is 13,200,000 yen [1]."


def restricted(tmp_path: Path, **kwargs: Any) -> Any:
    searcher = StaticSearcher([SALARY_HIT, VPN_HIT], audiences={SALARY: ("hr",)})
    return make_core(tmp_path, searcher=searcher, **kwargs)


async def test_an_outsider_never_gets_the_restricted_text(tmp_path: Path) -> None:
    local, ledger = FakeChatModel(BAND_ANSWER, name="slm"), MemoryLedger()
    core = restricted(tmp_path, local=local, ledger=ledger)
    reply = await ask(core, BAND, user="outsider")
    assert "13,200,000" not in local.last_prompt
    assert SALARY not in [s.path for s in reply.sources] and SALARY not in reply.cited
    assert reply.notice is None  # not a member: nothing said about the document
    [row] = ledger.rows()
    assert row.signals["held_back"] == 1 and SALARY not in str(row.sources)


async def test_a_member_in_a_channel_is_pointed_to_a_direct_message(tmp_path: Path) -> None:
    local = FakeChatModel(BAND_ANSWER, name="slm")
    core = restricted(tmp_path, local=local)
    reply = await ask(core, BAND, groups=HR, where="channel")
    assert "13,200,000" not in local.last_prompt and SALARY not in reply.cited
    assert reply.notice == "There is a HR-only document on this; ask me in a direct message."
    ja = await ask(core, "L4 の給与レンジは?", groups=HR, where="channel")
    assert ja.notice == "HR 向けの資料があります。ダイレクトメッセージでお尋ねください。"


async def test_a_member_in_a_direct_message_is_answered_from_it(tmp_path: Path) -> None:
    reply = await ask(restricted(tmp_path, local=FakeChatModel(BAND_ANSWER, name="slm")),
                      BAND, groups=HR, where="dm")
    assert reply.route is Route.LOCAL and reply.cited == (SALARY,) and reply.notice is None


async def test_the_cache_serves_nobody_outside_the_audience(tmp_path: Path) -> None:
    local = FakeChatModel(BAND_ANSWER, name="slm")
    core = restricted(tmp_path, local=local, cache_ttl_seconds=3600)
    member = await ask(core, BAND, user="m1", groups=HR)
    assert member.cited == (SALARY,) and len(core.cache) == 1
    outsider = await ask(core, BAND, user="o1")
    assert outsider.route is not Route.CACHE and "13,200,000" not in local.last_prompt
    # (the fake model's fixed text, citing the public passage, is itself cached for everyone)
    in_channel = await ask(core, BAND, user="m1", groups=HR, where="channel")
    assert in_channel.signals.get("cached_answer_id") != member.answer_id
    assert SALARY not in in_channel.cited


async def test_a_confidential_answer_is_not_reused_for_another_member(tmp_path: Path) -> None:
    core = restricted(tmp_path, local=FakeChatModel(BAND_ANSWER, name="slm"),
                      cache_ttl_seconds=3600)  # hr/salary-bands.md is confidential: true
    first = await ask(core, BAND, user="m1", groups=HR)
    assert (await ask(core, BAND, user="m1", groups=HR)).route is Route.CACHE
    other = await ask(core, BAND, user="m2", groups=HR)
    assert other.route is Route.LOCAL and other.answer_id != first.answer_id


def test_the_cli_identity_and_its_errors() -> None:
    assert identity("u7", "HR, managers", "channel") == {
        "user": "u7", "groups": frozenset({"hr", "managers"}), "where": "channel"}
    assert identity(None, ["hr"], "dm")["user"] == "cli"
    with pytest.raises(UserFacingError, match="dm or channel"):
        identity("u", "", "everywhere")


def test_access_rules_come_from_firstline_toml(tmp_path: Path) -> None:
    config = tmp_path / "firstline.toml"
    config.write_text('[[access]]\npaths = ["hr/salary-*", "hr/investigations/**"]\n'
                      'audience = ["hr"]\n\n[[access]]\npaths = ["legal/*"]\n'
                      'confidential = true\n', encoding="utf-8")
    settings = Settings.load(environ={}, config_file=config)
    assert settings.access[0] == {"paths": ["hr/salary-*", "hr/investigations/**"],
                                  "audience": ["hr"], "confidential": False}
    assert settings.access[1]["confidential"] is True
    config.write_text('[[access]]\naudience = ["hr"]\n', encoding="utf-8")
    with pytest.raises(UserFacingError, match="rule 1 needs paths"):
        Settings.load(environ={}, config_file=config)


def test_the_sample_salary_bands_are_for_hr_only(sample_core: Any) -> None:
    band = "What is the salary band for L4 in Japan?"
    outsider = sample_core.searcher.search(band, 5, "en", Reader())
    assert "hr/salary-bands.md" not in [h.path for h in outsider.hits]
    assert outsider.held_back
    member = sample_core.searcher.search(band, 5, "en", Reader(HR))
    assert member.hits[0].path == "hr/salary-bands.md"
    record = sample_core.store.files()["hr/investigation-procedure-ja.md"]
    assert record.audience == ("compliance-committee", "hr-investigations")


def test_a_directory_file_gives_groups_and_fails_closed(tmp_path: Path) -> None:
    now = [0.0]
    path = tmp_path / "directory.csv"
    path.write_text("user,email,groups\nU0HR,hana@example.co.jp,HR;managers\n", encoding="utf-8")
    directory = FileDirectory(path, check_seconds=10, clock=lambda: now[0])
    assert directory.groups("u0hr") == {"hr", "managers"}
    assert directory.groups("HANA@example.co.jp") == {"hr", "managers"}
    path.write_text('{"U0HR": ["payroll"]}', encoding="utf-8")
    path.rename(tmp_path / "directory.json")
    now[0] = 11
    assert directory.groups("U0HR") == frozenset()  # gone: public documents only
    json_directory = FileDirectory(tmp_path / "directory.json", check_seconds=0)
    assert json_directory.groups("U0HR") == {"payroll"}
    (tmp_path / "directory.json").write_text("{not json", encoding="utf-8")
    assert json_directory.groups("U0HR") == frozenset()  # malformed: nobody has groups


async def test_the_directory_lets_a_chat_user_read_their_documents(tmp_path: Path) -> None:
    directory = tmp_path / "directory.json"
    directory.write_text('{"U0HR": ["hr"]}', encoding="utf-8")
    core = restricted(tmp_path, local=FakeChatModel(BAND_ANSWER, name="slm"),
                      directory=str(directory))
    member = await ask(core, BAND, user="U0HR", channel="slack")
    outsider = await ask(core, BAND, user="U0OTHER", channel="slack")
    assert member.cited == (SALARY,) and SALARY not in outsider.cited


async def test_a_thread_that_used_a_private_document_keeps_its_history_from_the_cloud(
        tmp_path: Path) -> None:
    cloud = FakeChatModel("Here is the summary [1].", name="cloud")
    ledger = MemoryLedger()
    core = restricted(tmp_path, local=FakeChatModel(BAND_ANSWER, name="slm"), cloud=cloud,
                      ledger=ledger)
    first = await ask(core, BAND, user="m1", groups=HR, conversation="D1:1")
    assert first.cited == (SALARY,)
    history = (Turn("user", BAND), Turn("assistant", first.text))
    follow = await ask(core, "Write a summary of that for my manager", user="m1", groups=HR,
                       conversation="D1:1", history=history)
    assert follow.route is not Route.CLOUD  # the salary passage is confidential: on-prem
    public = await ask(core, "Write a step-by-step guide to resetting my VPN password",
                       user="m1", conversation="D1:1", history=history)
    assert public.route is Route.CLOUD and public.signals["history_withheld"] == "private-sources"
    assert "13,200,000" not in cloud.last_prompt
    other = await ask(core, "Write a step-by-step guide to resetting my VPN password",
                      user="m2", conversation="D2:1", history=(Turn("user", "hi"),))
    assert other.route is Route.CLOUD and "history_withheld" not in other.signals
    assert "hi" in cloud.last_prompt


def test_config_masks_credentials_inside_urls(tmp_path: Path) -> None:
    settings = Settings.load({"ledger_url": "postgresql+psycopg://bot:s3cret@db:5432/firstline",
                              "chroma_url": "https://reader:tok3n@chroma.internal:8000",
                              "cloud_url": "https://sk-abc@gateway.example/v1"},
                             environ={}, config_file=tmp_path / "none.toml")
    shown = str(settings.redacted())
    assert "s3cret" not in shown and "tok3n" not in shown and "sk-abc" not in shown
    assert settings.redacted()["ledger_url"] == "postgresql+psycopg://bot:***@db:5432/firstline"


async def test_decomposition_never_brings_a_restricted_passage_to_an_outsider(
        tmp_path: Path) -> None:
    first, second = "What is the L4 salary band?", "How do I reset my VPN password?"
    splitter = FakeChatModel(f"{first}\n{second}", name="slm")
    searcher = StaticSearcher([VPN_HIT], by_query={first: [SALARY_HIT, VPN_HIT],
                                                   second: [VPN_HIT]},
                              audiences={SALARY: ("hr",)})
    cloud = FakeChatModel("Both answered [1].", name="cloud")
    core = make_core(tmp_path, local=splitter, cloud=cloud, searcher=searcher)
    reply = await ask(core, f"{first} {second}", user="outsider")
    assert reply.route is Route.CLOUD and reply.signals["sub_queries"] == 2
    assert "13,200,000" not in cloud.last_prompt and SALARY not in reply.cited


async def test_a_restricted_document_never_goes_to_the_cloud_even_for_a_member(
        tmp_path: Path) -> None:
    cloud = FakeChatModel("Summary [1].", name="cloud")
    open_band = hit(SALARY, "L4 Japan: 13,200,000 yen.", confidential=False)  # hr, not secret
    searcher = StaticSearcher([open_band, VPN_HIT], audiences={SALARY: ("hr",)})
    core = make_core(tmp_path, local=FakeChatModel(BAND_ANSWER, name="slm"), cloud=cloud,
                     searcher=searcher)
    reply = await ask(core, "Write a summary of the salary bands", user="m1", groups=HR)
    assert cloud.requests == [] and reply.signals["cloud_skipped"] == "confidential"
