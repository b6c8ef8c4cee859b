"""One custody rulebook (issue 10): every custody rule, its source, and how it is judged.

:mod:`kt1.services.rules.catalogue` holds the rules as data: the number (docs/domain.md §3
rules "1".."15", §4 time limits "T1", docs/access.md rules "A1"..., recording safeguards
"R1"...), the legal source, the write path's refusal slugs and the verifier's finding
codes. ``docs/rules.md`` is generated from it (``kt1 rules explain --markdown``).
"""

from kt1.services.rules.catalogue import (
    RULES,
    Rule,
    rule,
    rule_for_code,
    rule_for_refusal,
)

__all__ = ["RULES", "Rule", "rule", "rule_for_code", "rule_for_refusal"]
