"""The store's codec (store/codec.py) with envelope encryption by classification.

What is sealed, and how:
- a single value (an answer's row, a case note, an effect's params, a document's evidence, a
  visitor's email) is sealed whole when its classification is personal, sensitive or
  financial, as `{"$sealed": "wl1:…"}` in a JSON column (no answer is an object with that
  name) or as the bare `wl1:…` text in a text column;
- a journey's state keeps its frame in clear (ids, status, steps done, times, reference,
  outcome) and the internal and public answers, drafts and prefilled values; everything
  classified (by the journey definition's fields), every computed value, and the partner
  data, checks, payments and call results it holds are sealed together as one envelope under
  `"sealed"`: one encryption per write, whatever the number of fields.

A value's data subject is the journey's owner when it is sealed; the envelope names them, so it
opens wherever it is found without a lookup. The place (journey and field) is bound too: a
sealed value copied to another row or field does not open.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wayline import strict_json
from wayline.journeys.loader import SENSITIVITY
from wayline.protection import envelope
from wayline.protection.keys import DataKeys
from wayline.store import Connection, journeys

SEALED = "$sealed"
PLAIN_CLASSES = frozenset({"public", "internal"})
# From least to most sensitive, as the definitions rank them (the envelope's codes are another
# order, fixed on disk).
ORDER = tuple(classification.value for classification in SENSITIVITY)
STATE_FIELD = "journeys.state"
# Sections of the state keyed by field name, where the definition's classification decides.
BY_FIELD = ("answers", "prefill")
# Sections sealed whole when not empty: what partners said (names, accounts), what their
# calls answered (`effects`: a payment's reference, an order's address, a new account's
# number), what was paid and to where, computed values (no classification of their own:
# derived from answers), and the segments the customer was found in (derived from governed
# data that may be sensitive, such as a support need), and model scores with the features
# they were computed from.
WHOLE = (
    "computed", "data", "checks", "payments", "recorded", "effects", "personalisation", "scores",
)  # fmt: skip

# (connection, journey name, version) → the classification of each of its field names; raises
# KeyError for a name the definition does not classify.
Classifier = Callable[[Connection, str, str], Callable[[str], str]]


class FieldCodec:
    def __init__(self, keys: DataKeys, classifier: Classifier):
        self.keys = keys
        self.classifier = classifier
        self._sealed_here = _SealedHere()

    # --- single values -----------------------------------------------------------------

    def seal_value(
        self,
        connection: Connection,
        subject: str,
        journey: str,
        field: str,
        classification: str,
        value: Any,
    ) -> Any:
        if classification in PLAIN_CLASSES or value is None:
            return value
        text = envelope.to_text(
            self._seal(connection, subject, journey, field, classification, value)
        )
        return {SEALED: text}

    def open_value(self, connection: Connection, journey: str, field: str, stored: Any) -> Any:
        if not (isinstance(stored, dict) and isinstance(stored.get(SEALED), str)):
            return stored  # plain: internal, public, or written before protection
        return self._open(connection, journey, field, envelope.from_text(stored[SEALED]))

    def subject_of(self, connection: Connection, journey: str) -> str | None:
        return journeys.owner_of(connection, journey)

    # --- the journey's state -----------------------------------------------------------

    def seal_state(self, connection: Connection, state: dict[str, Any]) -> dict[str, Any]:
        classify = self._classifier(connection, state)
        stored = dict(state)
        hidden: dict[str, Any] = {}
        level = "personal"
        for section in BY_FIELD:
            plain, secret = _split(state.get(section) or {}, classify)
            stored[section] = plain
            if secret:
                hidden[section] = secret
                level = _highest(level, secret, classify)
        drafts_plain: dict[str, Any] = {}
        drafts_secret: dict[str, Any] = {}
        for step, draft in (state.get("drafts") or {}).items():
            drafts_plain[step], secret = _split(draft, classify)
            if secret:
                drafts_secret[step] = secret
                level = _highest(level, secret, classify)
        stored["drafts"] = drafts_plain
        if drafts_secret:
            hidden["drafts"] = drafts_secret
        for section in WHOLE:
            if state.get(section):
                hidden[section] = state[section]
                stored[section] = {}
        if hidden:
            stored["sealed"] = self._state_envelope(connection, state, level, hidden)
        return stored

    def open_state(self, connection: Connection, stored: dict[str, Any]) -> dict[str, Any]:
        sealed = stored.get("sealed")
        if not isinstance(sealed, str):
            return stored
        hidden = self._open_state_envelope(connection, stored["id"], sealed)
        state = {name: value for name, value in stored.items() if name != "sealed"}
        for section in BY_FIELD:
            if section in hidden:
                state[section] = {**(state.get(section) or {}), **hidden[section]}
        if "drafts" in hidden:
            drafts = dict(state.get("drafts") or {})
            for step, secret in hidden["drafts"].items():
                drafts[step] = {**drafts.get(step, {}), **secret}
            state["drafts"] = drafts
        for section in WHOLE:
            if section in hidden:
                state[section] = hidden[section]
        return state

    def _state_envelope(
        self, connection: Connection, state: dict[str, Any], level: str, hidden: dict[str, Any]
    ) -> str:
        """The envelope text of a state's sealed part: the one this process sealed last for
        the journey when the part, its level and the subject's key are unchanged (a step that
        changed only answers in clear), a new one otherwise."""
        plaintext = _plaintext(hidden)
        subject, journey = state["customer_id"], state["id"]
        version, key = self.keys.for_sealing(connection, subject)
        header = envelope.Header(subject, version, level)
        last = self._sealed_here.last(journey)
        if (
            last is not None
            and last.header == header
            and last.plaintext == plaintext
            and hmac.compare_digest(last.key, key)
        ):
            return last.text
        text = envelope.to_text(envelope.seal(key, header, journey, STATE_FIELD, plaintext))
        self._sealed_here.put(journey, _Sealed(text, header, plaintext, key))
        return text

    def _open_state_envelope(self, connection: Connection, journey: str, text: str) -> Any:
        last = self._sealed_here.last(journey)
        if last is None or last.text != text:
            return self._open(connection, journey, STATE_FIELD, envelope.from_text(text))
        # The key is still asked for, and must be the one it was sealed with: an erased
        # subject has no key (this fails as the decryption would), or a new one under the same
        # version, which never opened this envelope (it is opened for real, and refused).
        key = self.keys.for_opening(connection, last.header.subject, last.header.key_version)
        if not hmac.compare_digest(key, last.key):
            return self._open(connection, journey, STATE_FIELD, envelope.from_text(text))
        return json.loads(last.plaintext)

    def _classifier(self, connection: Connection, state: dict[str, Any]) -> Callable[[str], str]:
        try:
            return self.classifier(connection, state["journey"], state["version"])
        except LookupError:
            return _unknown  # a definition we cannot read: seal everything

    # --- envelopes ---------------------------------------------------------------------

    def _seal(
        self,
        connection: Connection,
        subject: str,
        journey: str,
        field: str,
        classification: str,
        value: Any,
    ) -> bytes:
        version, key = self.keys.for_sealing(connection, subject)
        header = envelope.Header(subject, version, classification)
        return envelope.seal(key, header, journey, field, _plaintext(value))

    def _open(self, connection: Connection, journey: str, field: str, blob: bytes) -> Any:
        header = envelope.header_of(blob)
        key = self.keys.for_opening(connection, header.subject, header.key_version)
        return json.loads(envelope.open_sealed(key, blob, journey, field))


@dataclass(frozen=True)
class _Sealed:
    text: str
    header: envelope.Header
    plaintext: bytes
    key: bytes  # the data key it was sealed with (already held in memory by the key cache)
    at: float = field(default_factory=time.monotonic)


class _SealedHere:
    """The state envelope this process sealed last for each journey, with its plaintext: a step
    opens what the previous step of the same journey sealed, and finding it here spares the
    decoding and the decryption; a step that changes nothing sealed writes the same envelope
    again. Only the exact text, in the same journey's row, is taken from here (an envelope
    copied to another row is opened, and refused, as any other). The plaintext stays in this
    process's memory, where it already was, for at most SECONDS (as long as an unwrapped key
    is cached). Bounded: the journeys used longest ago go first."""

    SIZE = 256
    SECONDS = 300.0

    def __init__(self) -> None:
        self._items: OrderedDict[str, _Sealed] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, journey: str, sealed: _Sealed) -> None:
        with self._lock:
            self._items[journey] = sealed
            self._items.move_to_end(journey)
            while len(self._items) > self.SIZE:
                self._items.popitem(last=False)

    def last(self, journey: str) -> _Sealed | None:
        with self._lock:
            found = self._items.get(journey)
            if found is not None and time.monotonic() - found.at > self.SECONDS:
                del self._items[journey]
                return None
            return found


def _plaintext(value: Any) -> bytes:
    # strict_json: a value JSON cannot carry is refused here, as the column would refuse it in
    # clear, rather than hidden in the ciphertext and failing every later read.
    return strict_json.dumps(value).encode()


def _unknown(name: str) -> str:
    raise KeyError(name)


def _class_of(classify: Callable[[str], str], name: str) -> str:
    try:
        return classify(name)
    except KeyError:
        return "personal"  # not classified by the definition: sealed, to be safe


def _split(
    values: dict[str, Any], classify: Callable[[str], str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    plain: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for name, value in values.items():
        if _class_of(classify, name) in PLAIN_CLASSES:
            plain[name] = value
        else:
            secret[name] = value
    return plain, secret


def _highest(level: str, secret: dict[str, Any], classify: Callable[[str], str]) -> str:
    return max([level, *(_class_of(classify, name) for name in secret)], key=ORDER.index)
