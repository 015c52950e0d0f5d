"""Pricing: cloud tokens at list prices, on-prem seconds at the VM's hourly rate."""

from __future__ import annotations

import pytest

from bot.ledger.pricing import Pricing
from bot.settings import Settings


def test_defaults_match_the_settings_defaults() -> None:
    assert Pricing.from_settings(Settings()) == Pricing()


def test_from_settings_takes_the_configured_prices() -> None:
    settings = Settings().replace(
        price_input_per_mtok=2.5, price_output_per_mtok=10.0, onprem_usd_per_second=0.0001)
    assert Pricing.from_settings(settings) == Pricing(2.5, 10.0, 0.0001)


def test_cloud_cost_is_per_million_tokens() -> None:
    pricing = Pricing(input_per_mtok=0.15, output_per_mtok=0.60)
    assert pricing.cloud_cost(1_000_000, 0) == pytest.approx(0.15)
    assert pricing.cloud_cost(0, 1_000_000) == pytest.approx(0.60)
    assert pricing.cloud_cost(1200, 300) == pytest.approx(0.00018 + 0.00018)
    assert pricing.cloud_cost(0, 0) == 0.0


def test_all_cloud_cost_prices_the_same_tokens_in_the_cloud() -> None:
    pricing = Pricing(input_per_mtok=3.0, output_per_mtok=15.0)
    assert pricing.all_cloud_cost(900, 80) == pricing.cloud_cost(900, 80)
    assert pricing.all_cloud_cost(900, 80) == pytest.approx(0.0027 + 0.0012)


def test_default_onprem_rate_is_a_small_vm_by_the_hour() -> None:
    hourly = Pricing().onprem_cost(3600)
    assert hourly == pytest.approx(0.072)
    assert hourly == pytest.approx(0.07, abs=0.005)
    assert Pricing().onprem_cost(2.5) == pytest.approx(0.00005)


def test_local_answers_are_far_cheaper_than_cloud_ones() -> None:
    pricing = Pricing()
    # a typical local answer: 900 prompt + 80 output tokens in ~3 s of SLM time
    assert pricing.onprem_cost(3.0) < pricing.all_cloud_cost(900, 80)


def test_negative_inputs_are_rejected() -> None:
    with pytest.raises(ValueError):
        Pricing(input_per_mtok=-1)
    with pytest.raises(ValueError):
        Pricing().cloud_cost(-1, 0)
    with pytest.raises(ValueError):
        Pricing().onprem_cost(-0.1)
