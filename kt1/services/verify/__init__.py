"""Verify every envelope's chain of custody (docs/rules.md): ``kt1 verify``.

For each envelope, :func:`verify` yields an :class:`EnvelopeReport`: a status and a list of
findings, each with a stable ``code`` (catalogue: :data:`FINDINGS`), the handoff ``seq`` it
concerns (None for the envelope as a whole) and a message in Vietnamese and English.

The verifier replays each stored chain through the same rule functions the write path
judges a new handoff with (:mod:`kt1.services.rules`). The package, by concern:

- :mod:`.wire`: reading rows (COPY on PostgreSQL, a cursor on SQLite), columns derived from
  :data:`kt1.services.chain.HANDOFF_FIELDS`;
- :mod:`.hashing`: each link's canonical bytes from its wire row (rule 15);
- :mod:`.world`: what the rules look up, loaded once per run;
- :mod:`.replay`: one envelope through the rulebook;
- :mod:`.run`: snapshots, streams and worker processes;
- :mod:`.findings`: the findings catalogue and the report on one envelope;
- :mod:`.output`: summary and CSV.

Deadlines, working days and rule sets are in :mod:`kt1.services.deadlines`; the log-wide
Merkle checkpoints that catch a cut-off or rewritten log are in
:mod:`kt1.services.checkpoints`.
"""

from kt1.services.verify.findings import (
    BROKEN,
    COMPLETE,
    FINDINGS,
    IN_TRANSIT,
    NOTICE,
    OVERDUE,
    SEVERITY_RANK,
    STATUSES,
    EnvelopeReport,
    Finding,
    FindingSpec,
    NothingToVerifyError,
    make_finding,
)
from kt1.services.verify.output import CSV_HEADER, Summary, count_envelopes, csv_rows, findings_csv
from kt1.services.verify.run import BLOCK, PARALLEL_MIN, since_moment, verify

__all__ = [
    "BLOCK", "BROKEN", "COMPLETE", "CSV_HEADER", "FINDINGS", "IN_TRANSIT", "NOTICE", "OVERDUE",
    "PARALLEL_MIN", "SEVERITY_RANK", "STATUSES", "EnvelopeReport", "Finding", "FindingSpec",
    "NothingToVerifyError", "Summary", "count_envelopes", "csv_rows", "findings_csv",
    "make_finding", "since_moment", "verify",
]
