"""The English catalog: it holds every string of the sources, each has an English
translation with the same placeholders, and the compiled .mo is the .po's."""

from __future__ import annotations

import re
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from kt1 import PROJECT_ROOT

CATALOG = PROJECT_ROOT / "kt1" / "translations" / "en" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "N_": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def key(msgid: Any) -> Any:
    return tuple(msgid) if isinstance(msgid, list | tuple) else msgid


def po() -> Any:
    with (CATALOG / "messages.po").open("rb") as f:
        return read_po(f)


def source_msgids() -> set[Any]:
    """What ``pybabel extract -F babel.cfg -k _l -k N_`` finds (see babel.cfg)."""
    found = set()
    for folder, method, pattern in (("kt1", "python", "**.py"),
                                    ("templates", "jinja2", "**.html")):
        for _file, _line, msgid, _comments, _context in extract_from_dir(
                str(PROJECT_ROOT / folder), [(pattern, method)], {}, keywords=KEYWORDS):
            found.add(key(msgid))
    return found


def test_every_string_of_the_sources_is_in_the_catalog() -> None:
    catalog = {key(m.id) for m in po() if m.id}
    missing = sorted(map(str, source_msgids() - catalog))
    assert not missing, ("re-extract and translate (see babel.cfg): " + "; ".join(missing))


def test_every_msgid_has_an_english_translation_with_the_same_placeholders() -> None:
    problems = []
    for m in po():
        if not m.id:
            continue
        if m.fuzzy:
            problems.append(f"fuzzy: {m.id}")
        ids = m.id if isinstance(m.id, list | tuple) else (m.id,)
        strings = m.string if isinstance(m.string, list | tuple) else (m.string,)
        if not all(strings):
            problems.append(f"untranslated: {m.id}")
            continue
        for msgid, text in zip(ids, strings, strict=False):
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text)):
                problems.append(f"placeholders differ: {msgid} -> {text}")
    assert not problems, "\n".join(problems)


def test_the_compiled_catalog_is_the_po_compiled() -> None:
    with (CATALOG / "messages.mo").open("rb") as f:
        compiled = {key(m.id): key(m.string) for m in read_mo(f) if m.id}
    source = {key(m.id): key(m.string) for m in po() if m.id and not m.fuzzy}
    assert compiled == source, "run: pybabel compile -d kt1/translations"


def test_the_pages_speak_english_when_asked(signed_in: Any) -> None:
    b = signed_in("bm_bnv")
    b.get("/officer/")
    b.post("/language", {"lang": "en", "next": "/officer/"})
    body = b.get("/officer/").get_data(as_text=True)
    assert 'lang="en"' in body and "Security overview" in body
    assert "No item concerns your unit yet." in body
    assert "Tổng quan bảo mật" not in body
