"""The brand theme: colours are checked for WCAG contrast before the app starts."""

import pytest

from wayline.config import Settings
from wayline.web.theme import Theme, ThemeError, contrast


def test_contrast_of_black_on_white_is_21():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)


def test_contrast_is_symmetric_and_one_for_equal_colours():
    assert contrast("#1d70b8", "#ffffff") == pytest.approx(contrast("#ffffff", "#1d70b8"))
    assert contrast("#777777", "#777777") == pytest.approx(1.0)


def test_the_default_theme_is_readable():
    theme = Theme.from_settings(Settings())
    assert "--brand: #1d70b8;" in theme.css()


def test_an_unreadable_brand_colour_is_refused_with_the_ratio():
    with pytest.raises(ThemeError, match=r"brand .*#ffdd00.* 1\.\d\d:1; it needs at least 4\.5:1"):
        Theme.from_settings(Settings(colour_brand="#ffdd00"))


def test_a_colour_that_is_not_a_colour_is_refused():
    with pytest.raises(ThemeError, match="not a colour"):
        Theme.from_settings(Settings(colour_text="black"))
