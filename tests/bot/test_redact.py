"""Personal data is masked before text goes to a cloud model; everything else stays as written."""

from __future__ import annotations

import pytest

from bot.models.redaction import company_patterns, luhn_ok, my_number_ok, redact


@pytest.mark.parametrize(("text", "expected", "kind"), [
    ("mail taro.yamada@example.co.jp please", "mail [EMAIL] please", "email"),
    ("メールはｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍまで", "メールは[EMAIL]まで", "email"),
    ("電話は03-1234-5678です", "電話は[PHONE]です", "phone"),
    ("携帯０９０－１２３４－５６７８へ", "携帯[PHONE]へ", "phone"),
    ("内線 03ー1234ー5678", "内線 [PHONE]", "phone"),
    ("(03)1234-5678 / 03(1234)5678", "[PHONE] / [PHONE]", "phone"),
    ("フリーダイヤル0120-123-456", "フリーダイヤル[PHONE]", "phone"),
    ("番号09012345678に", "番号[PHONE]に", "phone"),
    ("Tokyo office +81 3-1234-5678.", "Tokyo office [PHONE].", "phone"),
    ("＋８１ ９０ １２３４ ５６７８", "[PHONE]", "phone"),
    ("call (415) 555-2671 or 1-800-555-1234", "call [PHONE] or [PHONE]", "phone"),
    ("card 4111 1111 1111 1111 exp 12/29", "card [CARD] exp 12/29", "card"),
    ("カード４１１１－１１１１－１１１１－１１１１", "カード[CARD]", "card"),
    ("amex 378282246310005", "amex [CARD]", "card"),
    ("マイナンバーは1234 5678 9018です", "マイナンバーは[MY_NUMBER]です", "my_number"),
    ("個人番号：１２３４５６７８９０１８", "個人番号：[MY_NUMBER]", "my_number"),
    ("SSN 123-45-6789.", "SSN [SSN].", "ssn"),
    ("個人番号 1234-5678-9019", "個人番号 [NUMBER]", "number"),  # wrong check digit
    ("番号 123456789019 です", "番号 [NUMBER] です", "number"),
    ("代表 0312345678 まで", "代表 [PHONE] まで", "phone"),
    ("社員 EMP-004512 の件", "社員 [ID] の件", "company_id"),
    ("社員番号 204512 の件", "[ID] の件", "company_id"),
    ("サーバー１９２．１６８．０．１に接続", "サーバー[IP]に接続", "ip"),
    ("ping 10.0.0.254.", "ping [IP].", "ip"),
])
def test_masks_each_kind(text: str, expected: str, kind: str) -> None:
    masked, counts = redact(text)
    assert masked == expected
    assert set(counts) == {kind}


@pytest.mark.parametrize("text", [
    "card 4111 1111 1111 1112",  # fails Luhn
    "bad SSN 000-12-3456",
    "Released 2024-03-15 at 10:00, version 1.2.3.4.5",
    "〒100-0001 東京都千代田区",
    "order 12345678901, ticket #4821, ￥12,800",
    "Windows 10.0.19045 と Office 2021",
])
def test_leaves_lookalikes_alone(text: str) -> None:
    assert redact(text) == (text, {})


def test_counts_and_keeps_the_rest_of_the_text_exactly() -> None:
    text = ("ｶﾀｶﾅと全角ＡＢＣはそのまま。連絡先: a@b.io, c@d.jp, 03-1234-5678, "
            "PC 192.168.1.20")
    masked, counts = redact(text)
    assert masked == "ｶﾀｶﾅと全角ＡＢＣはそのまま。連絡先: [EMAIL], [EMAIL], [PHONE], PC [IP]"
    assert counts == {"email": 2, "phone": 1, "ip": 1}


def test_card_wins_over_the_my_number_inside_it() -> None:
    assert redact("4111 1111 1111 1111") == ("[CARD]", {"card": 1})


def test_checksums() -> None:
    assert luhn_ok("4111-1111-1111-1111") and not luhn_ok("4111-1111-1111-1112")
    assert my_number_ok("123456789018") and not my_number_ok("123456789019")
    assert not my_number_ok("12345678901")


def test_the_company_patterns_are_a_setting() -> None:
    own = company_patterns([r"NW\d{5}"])
    assert redact("badge NW12345, EMP-1", own) == ("badge [ID], EMP-1", {"company_id": 1})
