"""The platform reads definitions; it never knows a journey's fields. For every field of every
journey in journeys/, no module of src/wayline (the sandbox's simulators aside: they play the
partners) names it as a string literal or reads it as answers.NAME, answers["NAME"] or
answers.get("NAME"); and no page template names a journey (its pages read the journey's
`words:` and `confirmation:` instead)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from wayline.journeys.loader import Journey, load_directory

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "src" / "wayline"

# Words that are a shipped journey's field name and also the platform's own vocabulary. Each is
# allowed only as that vocabulary, never to read answers (the reads are still looked for).
VOCABULARY = {
    # The field types `sort_code` and `account_number` (journeys/field_types.py), and the
    # payment provider's confirmation-of-payee request, whose properties are named so.
    "sort_code",
    "account_number",
    # A journey type's description (the catalogue, the API's list), and OpenAPI's and the
    # health report's `description` keys.
    "description",
}


@cache
def shipped() -> dict[str, Journey]:
    journeys = load_directory(ROOT / "journeys")
    assert journeys, "no journeys loaded"
    return journeys


def field_names() -> frozenset[str]:
    return frozenset(name for journey in shipped().values() for name in journey.fields)


def templates() -> list[Path]:
    return sorted((PLATFORM / "web" / "templates").rglob("*.html"))


def platform_sources() -> list[Path]:
    return [path for path in sorted(PLATFORM.rglob("*.py")) if "sandbox" not in path.parts]


def uses(text: str, name: str, *, literal: bool) -> list[str]:
    reads = [
        rf"answers\s*\.\s*{name}\b",
        rf"""answers\s*\[\s*["']{name}["']\s*\]""",
        rf"""answers\s*\.\s*get\(\s*["']{name}["']""",
    ]
    patterns = [*reads, rf"""["']{name}["']"""] if literal else reads
    return [match.group(0) for pattern in patterns for match in re.finditer(pattern, text)]


def test_no_journey_field_name_appears_in_platform_code():
    found = []
    for path in platform_sources():
        text = path.read_text(encoding="utf-8")
        for name in sorted(field_names()):
            for use in uses(text, name, literal=name not in VOCABULARY):
                found.append(f"{path.relative_to(ROOT)}: {use}")
    assert found == [], "journey field names in platform code:\n" + "\n".join(found)


def test_the_vocabulary_allowed_is_only_words_some_journey_uses_as_a_field():
    # An entry no journey uses any more is dead weight: the list says why each word is there.
    assert field_names() >= VOCABULARY


def test_the_search_finds_each_form_of_reading_an_answer():
    text = 'answers.policy_number; answers["policy_number"]; answers.get("policy_number")'
    assert len(uses(text, "policy_number", literal=False)) == 3
    assert uses('x = "policy_number"', "policy_number", literal=True) == ['"policy_number"']
    assert uses('x = "policy_numbers"', "policy_number", literal=True) == []


def test_no_template_names_a_journey_or_reads_its_fields():
    assert templates(), "no templates found"
    found = []
    for path in templates():
        text = path.read_text(encoding="utf-8")
        # A journey's name as a word of its own inside the template's code ({{ }}, {% %}) or
        # quoted: `payment` names the payment journey; the platform's `view.payments` and
        # the English word in "Median time to payment" do not.
        code = " ".join(re.findall(r"\{\{.*?\}\}|\{%.*?%\}|\"[^\"]*\"|'[^']*'", text, re.S))
        found += [
            f"{path.relative_to(ROOT)}: {name}"
            for name in shipped()
            if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", code)
        ]
        for name in sorted(field_names()):
            for use in uses(text, name, literal=False):
                found.append(f"{path.relative_to(ROOT)}: {use}")
    assert found == [], "journey names or field reads in templates:\n" + "\n".join(found)
