"""How many files may be stored for one file field of one journey.

A file field's answer names at most its `max_items` files (the smallest such rule that applies
now). Storage holds more than the answer names: a file taken out of the answer stays stored
until the journey is sent (the customer may put it back, and an upload is evidence), and a
file the scanner could not look at is held. So the files stored for a field, accepted or held,
named by the answer or not, are capped too: at the answer's maximum plus an allowance for
replacing files (WAYLINE_FILE_REPLACEMENTS), or DEFAULT_MAX_FILES plus the allowance for a
field that declares no maximum. Without this cap, taking files out of the answer would let one
customer store files without end. Files no answer names are removed when the journey is sent
(runtime/superseded.py).
"""

from __future__ import annotations

from wayline.documents.intake import Rejected
from wayline.journeys.schema import FieldSpec

# The pages take at most this many files in one post; a field without max_items gets as many.
DEFAULT_MAX_FILES = 10
TOO_MANY_STORED = "too_many_stored_files"


def stored_limit(answer_max: int | None, replacements: int) -> int:
    """The most files the field may have stored: its answer's maximum plus replacements."""
    return (DEFAULT_MAX_FILES if answer_max is None else answer_max) + replacements


def too_many_stored(spec: FieldSpec, limit: int) -> Rejected:
    """The refusal, in words a customer can act on."""
    return Rejected(
        f"{spec.label}: you have uploaded {limit} files for this question, counting files "
        "you took out or replaced, which is as many as we can keep. Use the files you have "
        "uploaded, or contact us to send more.",
        TOO_MANY_STORED,
    )
