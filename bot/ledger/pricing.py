"""What an answer costs, in US dollars.

Cloud answers are priced per token at the provider's list prices. Local answers are priced by the
time the SLM spent on them: the default ``onprem_usd_per_second`` of 0.00002 assumes a 2-core VM
at about $0.07 an hour (0.07 / 3600 = 0.0000194 $/s, rounded), fully busy while it answers.
:meth:`Pricing.all_cloud_cost` is the counterfactual the savings report compares against: the same
token counts at cloud prices (the local tokenizer differs a little from the cloud one, so it is an
estimate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

_MTOK = 1_000_000


@dataclass(frozen=True)
class Pricing:
    """Cloud prices per million tokens and the on-prem price per second of SLM time."""

    input_per_mtok: float = 0.15
    output_per_mtok: float = 0.60
    onprem_usd_per_second: float = 0.00002

    def __post_init__(self) -> None:
        if min(self.input_per_mtok, self.output_per_mtok, self.onprem_usd_per_second) < 0:
            raise ValueError(f"prices cannot be negative: {self}")

    @classmethod
    def from_settings(cls, settings: Settings) -> Pricing:
        return cls(
            input_per_mtok=settings.price_input_per_mtok,
            output_per_mtok=settings.price_output_per_mtok,
            onprem_usd_per_second=settings.onprem_usd_per_second,
        )

    def cloud_cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for one cloud call with these token counts."""
        if prompt_tokens < 0 or completion_tokens < 0:
            raise ValueError("token counts cannot be negative")
        return (prompt_tokens * self.input_per_mtok
                + completion_tokens * self.output_per_mtok) / _MTOK

    def onprem_cost(self, slm_seconds: float) -> float:
        """USD for ``slm_seconds`` of local model time."""
        if slm_seconds < 0:
            raise ValueError("seconds cannot be negative")
        return slm_seconds * self.onprem_usd_per_second

    def all_cloud_cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """What the same answer would have cost in the cloud: same tokens, cloud prices."""
        return self.cloud_cost(prompt_tokens, completion_tokens)
