"""The brand theme from configuration, as CSS custom properties, with its contrast checked
against WCAG 2.2 AA when the app starts: a theme customers cannot read never ships."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wayline.config import Settings

HEX = re.compile(r"^#([0-9a-fA-F]{6})$")
WHITE = "#ffffff"


class ThemeError(ValueError):
    """A colour that is not a colour, or a pair of colours that cannot be read together."""


def luminance(colour: str) -> float:
    match = HEX.match(colour)
    if not match:
        raise ThemeError(f"'{colour}' is not a colour like #1d70b8")
    channels = [int(match.group(1)[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@dataclass(frozen=True)
class Theme:
    organisation: str
    brand: str
    text: str
    background: str
    focus: str
    error: str
    success: str
    has_logo: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> Theme:
        theme = cls(
            organisation=settings.organisation,
            brand=settings.colour_brand,
            text=settings.colour_text,
            background=settings.colour_background,
            focus=settings.colour_focus,
            error=settings.colour_error,
            success=settings.colour_success,
            has_logo=settings.logo is not None and settings.logo.is_file(),
        )
        theme.check()
        return theme

    def check(self) -> None:
        """Text 4.5:1 on its background (WCAG 1.4.3); focus and borders 3:1 (1.4.11)."""
        pairs = [
            ("text", self.text, "background", self.background, 4.5),
            ("brand (links and buttons)", self.brand, "background", self.background, 4.5),
            ("white button text", WHITE, "brand", self.brand, 4.5),
            ("text", self.text, "focus", self.focus, 4.5),
            ("error", self.error, "background", self.background, 4.5),
            ("white text", WHITE, "success", self.success, 4.5),
        ]
        problems = []
        for name, fore, ground_name, ground, needed in pairs:
            ratio = contrast(fore, ground)
            if ratio < needed:
                problems.append(
                    f"{name} {fore} on {ground_name} {ground} has contrast "
                    f"{ratio:.2f}:1; it needs at least {needed}:1"
                )
        if problems:
            raise ThemeError("The theme's colours are not readable: " + "; ".join(problems))

    def css(self) -> str:
        return (
            ":root {\n"
            f"  --brand: {self.brand};\n  --text: {self.text};\n"
            f"  --background: {self.background};\n  --focus: {self.focus};\n"
            f"  --error: {self.error};\n  --success: {self.success};\n"
            "}\n"
        )
