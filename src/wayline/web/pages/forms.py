"""Between HTML forms and answers: read a posted step into typed answers, and turn answers
back into what the form's inputs show. How a form carries each type of answer is its
registry entry's `form` (`journeys/field_types.py`): one input; yes/no radios; checkboxes;
a date as three inputs (day, month, year); files as the ids already uploaded plus any files
sent with the form.

Whatever a form holds (any text, any length, in any field), reading it either gives answers
for the engine to check or raises TamperedForm (a 400): never another exception. Digits are
read as ASCII digits only ("²".isdigit() is true, but int("²") fails)."""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData, UploadFile

from wayline.journeys.field_types import FormInput, field_type
from wayline.journeys.schema import FieldSpec, StepSpec

CONTROL_KEYS = {"csrf_token", "revision", "action", "change", "remove"}
DATE_PARTS = ("day", "month", "year")
DAY_OR_MONTH = re.compile(r"[0-9]{1,2}")
YEAR = re.compile(r"[0-9]{4}")
# A revision is a count of saves: nine digits are more than any journey reaches, and keep it
# well inside the database's INTEGER.
REVISION = re.compile(r"[0-9]{1,9}")


class TamperedForm(ValueError):
    """A form with fields its page never had."""


def input_names(spec: FieldSpec) -> list[str]:
    """The names of the inputs that carry a field's answer, the first input first."""
    if field_type(spec).form == FormInput.DATE_PARTS:
        return [f"{spec.name}-{part}" for part in DATE_PARTS]
    return [spec.name]


def first_input_id(spec: FieldSpec) -> str:
    """The id of a field's first input (each input's id is its name): where an error
    summary's link for the field goes."""
    return input_names(spec)[0]


def allowed_keys(step: StepSpec) -> set[str]:
    keys = set(CONTROL_KEYS)
    for spec in step.fields:
        keys.update(input_names(spec))
    return keys


def check_keys(step: StepSpec, form: FormData) -> None:
    unknown = set(form.keys()) - allowed_keys(step)
    if unknown:
        raise TamperedForm(
            "The form has fields this page does not have: " + ", ".join(sorted(unknown))
        )


def revision(form: FormData) -> int:
    """The revision the page was rendered at. Every page form carries it, so a form without
    one that reads as a number was not made by our page: TamperedForm."""
    value = form.get("revision")
    if not isinstance(value, str) or not REVISION.fullmatch(value.strip()):
        raise TamperedForm("The form's revision is missing or is not a number")
    return int(value.strip())


def answers_from_form(step: StepSpec, form: FormData) -> dict[str, Any]:
    """Typed answers for the fields the form carried (files: the ids it listed)."""
    answers: dict[str, Any] = {}
    for spec in step.fields:
        carried = field_type(spec).form
        if carried == FormInput.DATE_PARTS:
            parts = [str(form.get(f"{spec.name}-{part}", "")).strip() for part in DATE_PARTS]
            if any(f"{spec.name}-{part}" in form for part in DATE_PARTS):
                answers[spec.name] = _date(*parts)
        elif carried in (FormInput.CHOICES, FormInput.FILES):
            # No box ticked sends nothing, and means none; a form without a file field's
            # name did not show its list, and changes nothing.
            if spec.name in form or carried == FormInput.CHOICES:
                answers[spec.name] = [
                    v for v in form.getlist(spec.name) if isinstance(v, str) and v
                ]
        elif spec.name in form:
            value = form.get(spec.name)
            if isinstance(value, UploadFile):
                raise TamperedForm(f"'{spec.name}' does not take a file")
            answers[spec.name] = _yes_no(value) if carried == FormInput.YES_NO else value
    return answers


def uploads_from_form(step: StepSpec, form: FormData) -> dict[str, list[UploadFile]]:
    """Files sent with the form itself (the no-JavaScript way), by file field."""
    found: dict[str, list[UploadFile]] = {}
    for spec in step.fields:
        if field_type(spec).form != FormInput.FILES:
            continue
        files = [v for v in form.getlist(spec.name) if isinstance(v, UploadFile) and v.filename]
        if files:
            found[spec.name] = files
    return found


def _date(day: str, month: str, year: str) -> str | None:
    if not (day or month or year):
        return None
    if DAY_OR_MONTH.fullmatch(day) and DAY_OR_MONTH.fullmatch(month) and YEAR.fullmatch(year):
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return f"{year}-{month}-{day}"  # kept as typed; the engine explains what is wrong


def _yes_no(value: Any) -> Any:
    return {"yes": True, "no": False}.get(value, value) if value != "" else None


def form_values(step: StepSpec, values: dict[str, Any]) -> dict[str, Any]:
    """What each input shows for the step's values (answers, drafts or prefills)."""
    shown: dict[str, Any] = {}
    for spec in step.fields:
        value = values.get(spec.name)
        carried = field_type(spec).form
        if carried == FormInput.DATE_PARTS:
            year, month, day = (str(value).split("-", 2) + ["", ""])[:3] if value else ("", "", "")
            shown[spec.name] = {
                "day": day.lstrip("0") if DAY_OR_MONTH.fullmatch(day) else day,
                "month": month.lstrip("0") if DAY_OR_MONTH.fullmatch(month) else month,
                "year": year,
            }
        elif carried == FormInput.YES_NO:
            shown[spec.name] = _radio_checked(value)
        elif carried in (FormInput.CHOICES, FormInput.FILES):
            shown[spec.name] = list(value) if isinstance(value, list) else []
        else:
            shown[spec.name] = "" if value is None else str(value)
    return shown


def _radio_checked(value: Any) -> Any:
    """The yes/no radio an answer checks: "yes" or "no" for true or false; a draft that is
    neither (as typed, kept for the engine to explain) as it is, checking none."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value or ""


def form_from_raw(step: StepSpec, raw: FormData) -> dict[str, Any]:
    """Redisplay exactly what was typed after an error (dates by part, unparsed)."""
    shown = form_values(step, answers_from_form(step, raw))
    for spec in step.fields:
        carried = field_type(spec).form
        if carried == FormInput.DATE_PARTS:
            shown[spec.name] = {
                part: str(raw.get(f"{spec.name}-{part}", "")) for part in DATE_PARTS
            }
        elif carried == FormInput.YES_NO and spec.name in raw:
            shown[spec.name] = str(raw.get(spec.name))
    return shown
