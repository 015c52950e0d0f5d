"""Step: the router's first decision, from the question and the evidence alone.

Weak evidence is declined here with a pointer to the helpdesk (no model runs); a long-form or
multi-part request is marked for the cloud (:mod:`bot.answering.escalation`); anything else goes
on to the local model.
"""

from __future__ import annotations

from bot.answering.prompt import Helpdesk, not_covered_text
from bot.answering.record import AnswerRecord, Outcome
from bot.routing.router import Router
from bot.types import Route


class Decide:
    def __init__(self, router: Router, helpdesk: Helpdesk) -> None:
        self.router = router
        self.helpdesk = helpdesk

    async def __call__(self, answer: AnswerRecord) -> None:
        if answer.evidence is None:
            raise RuntimeError("Decide runs after Retrieve")
        decision = self.router.before(answer.question, answer.evidence)
        answer.decision, answer.reason = decision, decision.reason
        answer.signals.update(decision.signals)
        answer.signals["retrieval_ms"] = round(answer.evidence.seconds * 1000, 2)
        if decision.route is Route.DECLINED:
            text = not_covered_text(answer.language, self.helpdesk(answer.language))
            answer.finish(Outcome(text, Route.DECLINED, decision.reason, covered=False))
        elif decision.route is Route.CLOUD:
            answer.cloud_wanted = decision.reason
