"""The custody rulebook (docs/rules.md): every custody rule as a pure function over plain
values, judged by the write path before a handoff is written and by the verifier when it
replays a stored chain; and the rules as data for people.

- :mod:`.catalogue`: every rule as data — its number (docs/domain.md §3 rules "1".."15",
  §4 time limits "T1", docs/access.md rules "A1"…, recording safeguards "R1"…), legal
  source, the write path's refusal slugs and the verifier's finding codes. ``docs/rules.md``
  is generated from it (``kt1 rules explain --markdown``).
- :mod:`.facts`: the values rules see (a handoff as a :data:`~.facts.Link`, the envelope,
  the chain's state before the event, what the rules look up in the :class:`~.facts.World`).
- :mod:`.book`: registering link rules and :func:`judge` (every rule one event breaks).
- :mod:`.custody`, :mod:`.bags`, :mod:`.paper`, :mod:`.seals`, :mod:`.internal`: the link
  rules, in judging order, and :func:`advance` (the chain's state after an event).
- :mod:`.envelope`, :mod:`.deadlines`, :mod:`.tamper`, :mod:`.incidents`: rules on the
  registered envelope, on time limits, on tamper evidence and on incidents acknowledged in
  time, judged by the verifier only; :mod:`.copies`: rules P1 to P3 on a copy's approval,
  number and original (refused first by kt1/services/copies.py).
"""

from kt1.services.rules import bags, custody, internal, paper, seals  # noqa: F401  (registers, in order)
from kt1.services.rules.book import LINK_RULES, judge
from kt1.services.rules.catalogue import (
    RULES,
    Rule,
    rule,
    rule_for_code,
    rule_for_refusal,
)
from kt1.services.rules.custody import advance
from kt1.services.rules.facts import ChainState, Hit, World

__all__ = ["LINK_RULES", "RULES", "ChainState", "Hit", "Rule", "World", "advance", "judge",
           "rule", "rule_for_code", "rule_for_refusal"]
