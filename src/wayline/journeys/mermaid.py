"""A journey's steps and branches as a Mermaid flowchart, for reviews and docs."""

from __future__ import annotations

from wayline.journeys.loader import Journey


def _quote(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def flowchart(journey: Journey) -> str:
    lines = ["flowchart TD", f"    start([{_quote('Start: ' + journey.title)}])"]
    entries: list[str] = []
    for index, step in enumerate(journey.steps):
        node = f"s{index}"
        lines.append(f"    {node}[{_quote(step.name + ': ' + step.title)}]")
        if step.when:
            lines.append(f"    c{index}{{{_quote(step.when)}}}")
            lines.append(f"    c{index} -- yes --> {node}")
            entries.append(f"c{index}")
        else:
            entries.append(node)
    lines.append(f"    check[{_quote(journey.definition.check_answers_title)}]")
    lines.append(
        f"    declaration[{_quote('Declaration: ' + journey.definition.declaration.text)}]"
    )
    lines.append("    submitted([Submitted])")
    entries.append("check")
    lines.append(f"    start --> {entries[0]}")
    for index, step in enumerate(journey.steps):
        following = entries[index + 1]
        lines.append(f"    s{index} --> {following}")
        if step.when:
            lines.append(f"    c{index} -- no --> {following}")
    lines.append("    check --> declaration --> submitted")
    return "\n".join(lines) + "\n"
