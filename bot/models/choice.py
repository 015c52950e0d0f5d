"""Reading a one-word choice ("yes" / "no") from a model's next-token distribution.

A model says "yes" in many spellings — ``yes``, ``Yes``, `` Yes`` (a leading space is its own
token in most vocabularies), ``YES`` and, asked in Japanese, ``はい`` — so each option is matched by
all of its :func:`variants`, and the probabilities of an option's variants are added up before
the options are normalised to sum to one (:func:`normalise`). Used by every
:meth:`bot.models.base.ChatModel.choose`.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

# Other words for an option, in the languages firstline answers in.
ALIASES: dict[str, tuple[str, ...]] = {
    "yes": ("はい", "ええ", "yeah"),
    "no": ("いいえ",),
}


def variants(option: str) -> tuple[str, ...]:
    """The spellings of ``option`` a tokenizer may emit as the first token, most likely first."""
    words = (option, *ALIASES.get(option.lower(), ()))
    out: list[str] = []
    for word in words:
        for form in (word, word.lower(), word.capitalize(), word.upper()):
            for spaced in (form, f" {form}"):
                if spaced not in out:
                    out.append(spaced)
    return tuple(out)


def key(token: str) -> str:
    """A token's text as compared with the options: NFKC, no spaces or punctuation, lower case."""
    text = unicodedata.normalize("NFKC", token).strip().lower()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "Z")))


def option_of(token: str, options: Sequence[str]) -> str | None:
    """The option whose spellings include ``token`` (None: none, or more than one)."""
    found = {o for o in options if key(token) and key(token) in {key(v) for v in variants(o)}}
    return found.pop() if len(found) == 1 else None


def from_logprobs(pairs: Iterable[tuple[str, float]], options: Sequence[str]) -> dict[str, float]:
    """Option probabilities from (token text, log-probability) pairs, e.g. an API's
    ``top_logprobs``. An option none of whose spellings is listed gets the smallest listed
    probability (its real one is at most that). Empty when no option is listed at all."""
    pairs = list(pairs)
    mass = dict.fromkeys(options, 0.0)
    seen = False
    for token, logprob in pairs:
        option = option_of(token, options)
        if option is not None:
            mass[option] += math.exp(logprob)
            seen = True
    if not seen:
        return {}
    floor = math.exp(min(lp for _, lp in pairs))
    return normalise({o: p if p > 0 else floor for o, p in mass.items()})


def normalise(mass: Mapping[str, float]) -> dict[str, float]:
    """``mass`` scaled to sum to one (uniform when it is all zero)."""
    total = sum(mass.values())
    if total <= 0:
        return {o: 1.0 / len(mass) for o in mass} if mass else {}
    return {o: p / total for o, p in mass.items()}
