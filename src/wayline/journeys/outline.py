"""A journey's steps in plain text, as a customer would meet them: titles, hints, the blocks of
words, and each question with its hint and options in the order shown. What `wayline journeys
show NAME --segment S` prints, so that a variant can be read before it goes live."""

from __future__ import annotations

import textwrap

from wayline.journeys.loader import Journey
from wayline.journeys.schema import Content, FieldSpec, StepSpec

WIDTH = 96


def outline(journey: Journey) -> str:
    lines = [f"{journey.title} ({journey.name} {journey.version})"]
    lines.append(f"Untouched journeys are abandoned after {journey.definition.abandon_after}.")
    for number, step in enumerate(journey.steps, start=1):
        lines.append("")
        lines.extend(_step(number, step))
    return "\n".join(lines) + "\n"


def _step(number: int, step: StepSpec) -> list[str]:
    head = f"{number}. {step.title}  [{step.name}]"
    if step.when:
        head += f"  (when {step.when})"
    lines = [head]
    if step.hint:
        lines.extend(_wrapped(step.hint, "   hint: "))
    for block in step.content:
        lines.extend(_block(block))
    for spec in step.fields:
        lines.extend(_field(spec))
    return lines


def _block(block: Content) -> list[str]:
    label = block.type + (" (regulated)" if block.regulated else "")
    lines = [f"   [{label}] {block.title}" if block.title else f"   [{label}]"]
    if block.when:
        lines[0] += f"  (when {block.when})"
    return lines + _wrapped(block.text, "     ")


def _field(spec: FieldSpec) -> list[str]:
    lines = [f"   - {spec.label}  [{spec.name}, {spec.type.value}]"]
    if spec.hint:
        lines.extend(_wrapped(spec.hint, "     hint: "))
    for option in spec.options:
        lines.append(f"     ( ) {option.label}")
        if option.hint:
            lines.extend(_wrapped(option.hint, "         "))
    return lines


def _wrapped(text: str, prefix: str) -> list[str]:
    return textwrap.wrap(
        " ".join(text.split()),
        WIDTH,
        initial_indent=prefix,
        subsequent_indent=" " * len(prefix),
    )
