"""The photo reuse index on SQLite and PostgreSQL: every stored hash within distance 8 of a query
is found (checked against brute force), nothing further away is, and the query reads the chunk
indexes, not the whole table. Real photos made here with Pillow: resized, recompressed and
lightly cropped copies of a stored photo are found by their pHash."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import Connection, Engine, bindparam, text

from wayline.documents import similarity
from wayline.store import photo_index
from wayline.store.photo_index import Match, add, near


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        yield connection


def flip(value: int, bits: int, rnd: random.Random) -> int:
    """`value` with `bits` distinct random bits flipped: exactly that far away."""
    for bit in rnd.sample(range(64), bits):
        value ^= 1 << bit
    return value


def test_exact_match(connection: Connection) -> None:
    add(connection, "doc-1", "journey-1", "alex", "d1c4a3b2f0e19587")
    assert near(connection, "d1c4a3b2f0e19587") == [Match("doc-1", "journey-1", "alex", 0)]
    assert near(connection, 0xD1C4A3B2F0E19587) == [Match("doc-1", "journey-1", "alex", 0)]


def test_the_same_document_can_be_left_out(connection: Connection) -> None:
    add(connection, "doc-1", "journey-1", "alex", 12345)
    add(connection, "doc-2", "journey-2", "sam", 12345)
    assert [m.document_id for m in near(connection, 12345, exclude_document_id="doc-1")] == [
        "doc-2"
    ]


def test_adding_a_document_twice_keeps_one_entry(connection: Connection) -> None:
    add(connection, "doc-1", "journey-1", "alex", 99)
    add(connection, "doc-1", "journey-1", "alex", 99)
    assert len(near(connection, 99)) == 1


@pytest.mark.parametrize("seed", range(5))
def test_distance_8_is_found_and_9_is_not(connection: Connection, seed: int) -> None:
    rnd = random.Random(seed)
    query = rnd.getrandbits(64)
    # Spread the flipped bits evenly (two per chunk: the pigeonhole's worst case) and unevenly.
    even = query
    for chunk in range(4):
        for bit in rnd.sample(range(16), 2):
            even ^= 1 << (16 * chunk + bit)
    add(connection, "at-8-even", "j1", "alex", even)
    add(connection, "at-8", "j2", "sam", flip(query, 8, rnd))
    add(connection, "at-9", "j3", "jordan", flip(query, 9, rnd))
    add(connection, "at-7", "j4", "jordan", flip(query, 7, rnd))
    found = near(connection, query)
    assert [(m.document_id, m.distance) for m in found] == [
        ("at-7", 7),
        ("at-8", 8),
        ("at-8-even", 8),
    ]
    assert [m.document_id for m in near(connection, query, max_distance=9)][-1] == "at-9"
    assert [m.document_id for m in near(connection, query, max_distance=7)] == ["at-7"]


def test_values_at_the_ends_of_the_64_bits(connection: Connection) -> None:
    add(connection, "all-ones", "j1", "alex", "ffffffffffffffff")
    add(connection, "top-bit", "j2", "alex", 1 << 63)
    add(connection, "zero", "j3", "alex", 0)
    assert [m.document_id for m in near(connection, (1 << 64) - 1)] == ["all-ones"]
    assert [(m.document_id, m.distance) for m in near(connection, 0)] == [
        ("zero", 0),
        ("top-bit", 1),
    ]


def test_recall_against_brute_force_on_thousands_of_hashes(connection: Connection) -> None:
    rnd = random.Random(20261129)
    stored: dict[str, int] = {}
    rows = []
    for i in range(3000):
        stored[f"r{i}"] = rnd.getrandbits(64)
    queries = [rnd.getrandbits(64) for _ in range(60)]
    # Neighbours planted at every distance from 0 to 12 around each query, so that the
    # boundary is crossed on both sides, in chunks of every shape.
    for q, query in enumerate(queries):
        for k in range(10):
            stored[f"p{q}-{k}"] = flip(query, rnd.randint(0, 12), rnd)
    for document_id, value in stored.items():
        rows.append(photo_index.row(document_id, f"j-{document_id}", "cust", value))
    photo_index.add_many(connection, rows)

    ids = list(stored)
    values = np.array([stored[d] for d in ids], dtype=np.uint64)
    planted_found = 0
    for query in queries + [rnd.getrandbits(64) for _ in range(20)]:
        distances = np.bitwise_count(values ^ np.uint64(query))
        truth = {ids[i]: int(distances[i]) for i in np.flatnonzero(distances <= 8)}
        found = {m.document_id: m.distance for m in near(connection, query)}
        assert found == truth  # recall 100%, and nothing further than 8
        planted_found += len(truth)
    assert planted_found > 200  # the planted neighbours were there to be found


def test_a_query_reads_the_chunk_indexes_not_the_table(engine: Engine) -> None:
    rnd = random.Random(7)
    with engine.begin() as connection:
        photo_index.add_many(
            connection,
            (photo_index.row(f"d{i}", "j", "c", rnd.getrandbits(64)) for i in range(20000)),
        )
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE photo_hashes"))
        plan = _plan(connection, rnd.getrandbits(64))
    for chunk in ("c0", "c1", "c2", "c3"):
        assert f"ix_photo_hashes_{chunk}" in plan
    if engine.dialect.name == "postgresql":
        assert "Seq Scan" not in plan
    else:  # SQLite: no SCAN of the table, only of the few matches (m)
        assert [line for line in plan.splitlines() if line.startswith("SCAN")] == ["SCAN m"]


def _plan(connection: Connection, query: int) -> str:
    params = photo_index.query_parameters(query, 8, None, connection.dialect.name)
    if connection.dialect.name == "postgresql":
        explain = text("EXPLAIN " + photo_index._POSTGRES_NEAR.text)
        return "\n".join(connection.execute(explain, params).scalars())
    photo_index._register_sqlite_functions(connection)
    explain = text("EXPLAIN QUERY PLAN " + photo_index._SQLITE_NEAR.text).bindparams(
        *(bindparam(f"v{i}", expanding=True) for i in range(4))
    )
    return "\n".join(str(row[-1]) for row in connection.execute(explain, params))


def test_hash_helpers() -> None:
    assert similarity.neighbours(0, 2).__len__() == 137
    assert len(set(similarity.neighbours(0xBEEF, 2))) == 137
    assert similarity.chunks(0x0123456789ABCDEF) == (0x0123, 0x4567, 0x89AB, 0xCDEF)
    assert similarity.as_hex(255) == "00000000000000ff"
    assert similarity.distance("ff", 0) == 8
    for wrong in ("", "xyz", "1" * 17, -1, 1 << 64):
        with pytest.raises((ValueError, TypeError)):
            similarity.as_int(wrong)  # type: ignore[arg-type]


# --- real photos ------------------------------------------------------------------------------


def scene(seed: int, width: int = 1200, height: int = 900) -> Image.Image:
    """A made-up photo: a graded sky, shapes, a little blur and sensor-like noise."""
    rnd = random.Random(seed)
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    top = [rnd.randrange(256) for _ in range(3)]
    bottom = [rnd.randrange(256) for _ in range(3)]
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(a * (1 - t) + b * t) for a, b in zip(top, bottom, strict=True)),
        )
    for _ in range(25):
        x, y = rnd.randrange(width), rnd.randrange(height)
        box = [x, y, x + rnd.randrange(50, 500), y + rnd.randrange(50, 400)]
        colour = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)(box, fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(2))
    noise = np.random.default_rng(seed).normal(0, 12, (height, width, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer)


def cropped(image: Image.Image, percent: float, *, centred: bool = True) -> Image.Image:
    """`percent` of the width and of the height cut off: evenly from both edges, or from the
    top left corner."""
    width, height = image.size
    dx, dy = round(width * percent / 100), round(height * percent / 100)
    if centred:
        return image.crop((dx // 2, dy // 2, width - (dx - dx // 2), height - (dy - dy // 2)))
    return image.crop((dx, dy, width, height))


def phash(image: Image.Image) -> str:
    return str(imagehash.phash(image))


COPIES = {
    "resized to half": lambda p: p.resize((600, 450), Image.Resampling.LANCZOS),
    "resized to a thumbnail": lambda p: p.resize((320, 240), Image.Resampling.BILINEAR),
    "resized up": lambda p: p.resize((1600, 1200), Image.Resampling.BICUBIC),
    "recompressed at quality 60": lambda p: jpeg(p, 60),
    "cropped 2%": lambda p: cropped(p, 2),
    "cropped 3.5%": lambda p: cropped(p, 3.5),
    "cropped 5%": lambda p: cropped(p, 5),
    "cropped 2% from a corner": lambda p: cropped(p, 2, centred=False),
    "cropped 4%, resized and recompressed": lambda p: jpeg(
        cropped(p, 4).resize((800, 600), Image.Resampling.LANCZOS), 60
    ),
}


@pytest.fixture(scope="module")
def photos() -> dict[str, Image.Image]:
    """The originals, as a camera would hand them over (JPEG, quality 92)."""
    return {f"photo-{seed}": jpeg(scene(seed), 92) for seed in range(6)}


def test_copies_of_a_stored_photo_are_found(
    connection: Connection, photos: dict[str, Image.Image]
) -> None:
    rnd = random.Random(3)
    photo_index.add_many(  # other customers' photos: hashes anywhere
        connection,
        (photo_index.row(f"other-{i}", "j", "c", rnd.getrandbits(64)) for i in range(2000)),
    )
    for name, photo in photos.items():
        add(connection, name, f"journey-{name}", "alex", phash(photo))
    missed = []
    for name, photo in photos.items():
        for how, copy in COPIES.items():
            found = near(connection, phash(copy(photo)), exclude_document_id=f"copy-of-{name}")
            if [m.document_id for m in found] != [name]:
                missed.append((name, how, [(m.document_id, m.distance) for m in found]))
    assert missed == []


def test_different_photos_are_not_taken_for_copies(photos: dict[str, Image.Image]) -> None:
    hashes = [phash(p) for p in photos.values()] + [phash(jpeg(scene(s), 92)) for s in (50, 51)]
    closest = min(similarity.distance(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :])
    assert closest > 8


def test_the_migration_makes_the_table_the_code_describes(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from wayline.store import tables

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), tables.metadata)
    assert [d for d in differences if "photo_hashes" in repr(d)] == []
