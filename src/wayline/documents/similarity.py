"""Perceptual-hash maths for the photo reuse index: 64-bit pHashes as integers, their four
16-bit chunks, Hamming distances, and the chunk values a query looks up.

Multi-index hashing (Norouzi, Punjani and Fleet, 2012): the hash is cut into four 16-bit
chunks, each in its own indexed column. Two hashes within distance d differ in at most d bits
across the four chunks, so (pigeonhole) at least one chunk differs in at most ⌊d/4⌋ bits — for
d = 8, at most 2. A query therefore looks up, in each chunk's index, the 1 + 16 + 120 = 137
values within distance 2 of its own chunk, and keeps the candidates whose whole hash is within
d. Nothing within d is missed, and nothing further away is returned.

Pure: the index itself (its table and the query) is in store/photo_index.py.
"""

from __future__ import annotations

from functools import cache
from itertools import combinations

BITS = 64
CHUNKS = 4
CHUNK_BITS = BITS // CHUNKS
CHUNK_MASK = (1 << CHUNK_BITS) - 1
MASK = (1 << BITS) - 1
DEFAULT_DISTANCE = 8
MAX_DISTANCE = 15  # ⌊15/4⌋ = 3: 697 values per chunk; beyond, a hash says little anyway


def as_int(phash: str | int) -> int:
    """A 64-bit hash as an unsigned integer, from an int or hex digits (imagehash's str())."""
    if isinstance(phash, bool):
        raise TypeError("a perceptual hash is an int or a hex string")
    if isinstance(phash, int):
        value = phash
    elif isinstance(phash, str):
        digits = phash.strip().lower().removeprefix("0x")
        if not 0 < len(digits) <= 16 or any(c not in "0123456789abcdef" for c in digits):
            raise ValueError(f"not a 64-bit hash in hex: {phash[:40]!r}")
        value = int(digits, 16)
    else:
        raise TypeError("a perceptual hash is an int or a hex string")
    if not 0 <= value <= MASK:
        raise ValueError("a perceptual hash has 64 bits")
    return value


def as_hex(phash: str | int) -> str:
    return format(as_int(phash), "016x")


def signed(value: int) -> int:
    """The unsigned 64-bit hash as the signed BIGINT the column holds (same bits)."""
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


def chunks(value: int) -> tuple[int, int, int, int]:
    """The four 16-bit chunks, most significant first (columns c0 … c3)."""
    c0, c1, c2, c3 = ((value >> (CHUNK_BITS * (CHUNKS - 1 - i))) & CHUNK_MASK for i in range(4))
    return c0, c1, c2, c3


def distance(a: str | int, b: str | int) -> int:
    return (as_int(a) ^ as_int(b)).bit_count()


def hamming(a: int | None, b: int | None) -> int | None:
    """The distance between two stored (signed) hashes; None when either is missing."""
    if a is None or b is None:
        return None
    return ((a ^ b) & MASK).bit_count()


@cache
def _flip_masks(radius: int) -> tuple[int, ...]:
    """Every 16-bit mask with at most `radius` bits set (radius 2: 1 + 16 + 120 = 137)."""
    masks = [0]
    for bits in range(1, radius + 1):
        for chosen in combinations(range(CHUNK_BITS), bits):
            masks.append(sum(1 << b for b in chosen))
    return tuple(masks)


def neighbours(chunk: int, radius: int) -> list[int]:
    """The chunk values within `radius` bits of `chunk`, itself included."""
    return [chunk ^ mask for mask in _flip_masks(radius)]


# --- whether a photo's hash can identify it --------------------------------------------------
#
# pHash (imagehash) compares the 64 lowest-frequency DCT coefficients of the 32×32 grey image
# with their median, so a photo with any structure has exactly 32 bits set (half the
# coefficients lie above the median). Fewer set bits mean ties at the median: coefficients
# equal to it, which happens when the image has (next to) nothing at those frequencies. With
# fewer than 16 set, at least 16 of the 64 are tied. A plain colour hashes to
# 8000000000000000 (1 bit: only the average is above the median); a smooth gradient, however
# steep, to 1-4 bits (8000000000000000, 9000000000000000, c900000000000000, ...), the same for
# every plain colour or gradient in the same direction. Such hashes say "featureless", not
# "this photo", so they are never put in the reuse index or looked up.
MIN_PHASH_BITS = 16


def structured(phash: str | int) -> bool:
    """Whether a pHash comes from an image with structure (at least 16 of its bits set)."""
    return as_int(phash).bit_count() >= MIN_PHASH_BITS


def comparable(evidence: dict[str, object]) -> bool:
    """Whether a photo can be compared with others for reuse: False when its evidence says it
    is not distinctive (documents/metadata.py decides, from the image, when it is read), or,
    for evidence kept before that was recorded, when its pHash is featureless."""
    if evidence.get("distinctive") is False:
        return False
    phash = evidence.get("phash")
    if isinstance(phash, str | int) and not isinstance(phash, bool):
        try:
            return structured(phash)
        except ValueError:
            return False
    return True  # no hash at all: there is nothing to compare (and no match is found)
