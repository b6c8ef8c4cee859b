"""The custody rulebook (issue 10): the catalogue is complete, and docs/rules.md is its output.

Regenerate the document with ``kt1 rules explain --markdown > docs/rules.md`` (or
``python -m kt1.cli.rulebook > docs/rules.md``) when a rule, a finding or a refusal changes.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner

from kt1 import create_app, errors
from kt1.cli import rulebook
from kt1.services.rules import RULES, rule, rule_for_code, rule_for_refusal
from kt1.services.rules.catalogue import GROUPS, JUDGED_BY, VERIFY_ONLY, WRITE_ONLY
from kt1.services.verify import FINDINGS
from tests.conftest import base_config

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "rules.md"

#: The modules of the write path whose refusals the catalogue places.
WRITE_PATH = ("custody", "judging", "bagging", "handover", "arrivals", "registration",
              "identifiers", "access", "incidents", "leaving", "holdings", "sheets", "paper",
              "provenance", "copies")
#: Slugs the write path raises that are no custody rule's: input checks and plain lookups.
NO_RULE = {"invalid_field", "unknown_unit", "unknown_user", "unknown_incident",
           "unknown_handover_record", "unit_inactive"}


def all_error_slugs() -> set[str]:
    """The slug of every KT1Error subclass the application defines."""
    for name in ("badges", "checkpoints", "deadlines", "printing", "verify"):
        importlib.import_module(f"kt1.services.{name}")

    def walk(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    return {cls.slug for cls in walk(errors.KT1Error)}


def raised_slugs(module_name: str) -> set[str]:
    """The slugs of the kt1.errors classes a write-path module raises by name."""
    module = importlib.import_module(f"kt1.services.{module_name}")
    tree = ast.parse(inspect.getsource(module))
    slugs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            cls = getattr(errors, func.id, None) if isinstance(func, ast.Name) else None
            if isinstance(cls, type) and issubclass(cls, errors.KT1Error):
                slugs.add(cls.slug)
        elif module_name == "judging" and isinstance(node, ast.Name):
            # judging.refusal maps each finding to the error the write path raises
            cls = getattr(errors, node.id, None)
            if isinstance(cls, type) and issubclass(cls, errors.KT1Error) and (
                    cls is not errors.KT1Error):
                slugs.add(cls.slug)
    return slugs


def test_docs_rules_md_is_the_generators_output() -> None:
    assert DOC.read_text(encoding="utf-8") == rulebook.as_markdown(), (
        "docs/rules.md is out of date: run `kt1 rules explain --markdown > docs/rules.md`")


def test_every_finding_code_belongs_to_exactly_one_rule() -> None:
    counts = Counter(code for r in RULES for code in r.codes)
    assert set(counts) == set(FINDINGS), (set(FINDINGS) ^ set(counts))
    assert [code for code, n in counts.items() if n > 1] == []
    for r in RULES:
        for code in r.codes:
            assert rule_for_code(code) is r
    assert rule_for_code("no_such_code") is None


def test_every_refusal_is_a_real_error_slug_and_belongs_to_one_rule() -> None:
    slugs = all_error_slugs()
    counts = Counter(slug for r in RULES for slug in r.refusals)
    assert set(counts) <= slugs, set(counts) - slugs
    assert [slug for slug, n in counts.items() if n > 1] == []
    for r in RULES:
        for slug in r.refusals:
            assert rule_for_refusal(slug) is r
    assert rule_for_refusal("database_unavailable") is None


def test_every_custody_refusal_of_the_write_path_is_placed() -> None:
    raised = set().union(*(raised_slugs(name) for name in WRITE_PATH))
    assert {"not_current_holder", "seal_mismatch", "unit_not_served"} <= raised  # it reads
    unplaced = raised - NO_RULE - {s for r in RULES for s in r.refusals}
    assert unplaced == set(), "give these refusals a rule in kt1/services/rules/catalogue.py"
    assert all_error_slugs() >= NO_RULE


def test_the_catalogue_has_every_rule_of_the_domain_and_consistent_judges() -> None:
    numbers = [r.number for r in RULES]
    assert len(numbers) == len(set(numbers))
    assert [n for n in numbers if n.isdigit()] == [str(i) for i in range(1, 16)]
    assert {r.group for r in RULES} == {prefix for prefix, _, _ in GROUPS}
    assert rule("7").title_en == "Seal anomalies become incidents"
    for r in RULES:
        assert r.judged_by in JUDGED_BY
        assert r.title_vi and r.title_en and r.source
        if r.judged_by == VERIFY_ONLY:
            assert not r.refusals, r.number
        if r.judged_by == WRITE_ONLY:
            assert not r.codes, r.number


def test_json_lists_every_rule_with_its_codes_severity_and_messages() -> None:
    result = CliRunner().invoke(rulebook.explain_command, ["--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [item["number"] for item in data] == [r.number for r in RULES]
    for item in data:
        assert {"number", "title", "title_vi", "source", "refusals", "codes",
                "judged_by"} <= set(item)
        assert all(isinstance(slug, str) for slug in item["refusals"])
        for code in item["codes"]:
            spec = FINDINGS[code["code"]]
            assert (code["severity"], code["message_vi"], code["message_en"]) == (
                spec.severity, spec.vi, spec.en)
    seven = next(item for item in data if item["number"] == "7")
    assert seven["refusals"] == ["report_required"]


def test_kt1_rules_explain_is_a_command_of_the_app(tmp_path: Path) -> None:
    app = create_app({**base_config(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"})
    runner = app.test_cli_runner()
    plain = runner.invoke(args=["rules", "explain"], catch_exceptions=False)
    assert plain.exit_code == 0, plain.output
    assert "Seal anomalies become incidents" in plain.output
    assert "seal_anomaly_unreported (broken)" in plain.output
    markdown = runner.invoke(args=["rules", "explain", "--markdown"], catch_exceptions=False)
    assert markdown.exit_code == 0
    assert markdown.output == DOC.read_text(encoding="utf-8")


def test_every_link_rule_belongs_to_a_rule_of_the_catalogue() -> None:
    """The functions the write path and the verifier judge with are the catalogue's rules."""
    from kt1.services.rules import LINK_RULES

    numbers = {r.number for r in RULES}
    assert LINK_RULES
    for fn in LINK_RULES:
        assert fn.rule_number in numbers, fn.__name__


def test_every_finding_a_write_path_rule_can_make_has_its_refusal() -> None:
    """A rule the write path judges refuses with an error of its own (or records a fact):
    never a finding without an answer for the user."""
    from kt1.services import judging
    from kt1.services.rules import LINK_RULES
    from kt1.services.rules.book import VERIFY_ONLY

    for fn in LINK_RULES:
        if fn.judged_by == VERIFY_ONLY:
            continue
        tree = ast.parse(inspect.getsource(fn))
        codes = {node.args[0].value for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                 and node.func.id == "hit" and node.args
                 and isinstance(node.args[0], ast.Constant)}
        assert codes, fn.__name__
        unanswered = codes - judging.REFUSED - judging.FACTS
        assert not unanswered, f"{fn.__name__}: no refusal for {sorted(unanswered)}"
