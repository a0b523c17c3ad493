"""The pipeline's parts on their own, without a database: the intake that stops reading at the
limit, the metadata readers, the PDF inspector and the display copy."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import document_files as files
import pytest
from PIL import Image, ImageCms

from wayline.documents import images, metadata, pdfs
from wayline.documents.intake import Rejected, take
from wayline.documents.pipeline import DocumentPipeline, Limits, download_name
from wayline.documents.storage import LocalStorage
from wayline.journeys.schema import FieldSpec


class Endless(io.RawIOBase):
    """A stream that never ends, counting what is read from it."""

    def __init__(self) -> None:
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        buffer[:] = b"\xff" * len(buffer)
        self.read_so_far += len(buffer)
        return len(buffer)


def test_intake_stops_reading_at_the_limit() -> None:
    stream = Endless()
    with pytest.raises(Rejected) as refused:
        take(stream, 100_000)
    assert refused.value.code == "too_large"
    assert str(refused.value) == "The selected file must be smaller than 97 KB"
    assert stream.read_so_far == 100_001


def test_intake_counts_and_hashes_what_it_keeps() -> None:
    content = files.photo()
    with take(io.BytesIO(content), len(content)) as spool:  # exactly the limit is fine
        assert spool.size == len(content)
        assert spool.open().read() == content
        assert spool.sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    ("value", "offset", "expected"),
    [
        ("2024:03:01 10:20:30", "+01:00", "2024-03-01T10:20:30+01:00"),
        ("2024:03:01 10:20:30", None, "2024-03-01T10:20:30"),
        (b"2024:03:01 10:20:30\x00", "-05:30", "2024-03-01T10:20:30-05:30"),
        ("2024:03:01 10:20:30", "junk", "2024-03-01T10:20:30"),
        ("0000:00:00 00:00:00", None, None),
        ("2024:02:30 10:20:30", None, None),
        ("    :  :     :  :  ", None, None),
        (None, None, None),
        (42, None, None),
    ],
)
def test_exif_times(value, offset, expected) -> None:
    assert metadata.exif_time(value, offset) == expected


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({1: "N", 2: (51.0, 30.0, 26.64), 3: "W", 4: (0.0, 7.0, 39.6)}, (51.5074, -0.127667)),
        ({1: "S", 2: (33.0, 52.0, 12.0), 3: "E", 4: (151.0, 12.0, 36.0)}, (-33.87, 151.21)),
        ({1: b"N", 2: (10.5,), 3: b"E", 4: (20.25, 0.0)}, (10.5, 20.25)),
        ({2: (51.0, 30.0, 0.0), 4: (0.0, 7.0, 0.0)}, None),  # no N/S, E/W: not guessed
        ({1: "N", 2: (91.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}, None),
        ({1: "N", 2: (float("nan"), 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)}, None),
        ({1: "N", 2: "fifty", 3: "E", 4: (0.0, 0.0, 0.0)}, None),
        ({}, None),
    ],
)
def test_gps_in_decimal_degrees(info, expected) -> None:
    found = metadata.gps(info)
    if expected is None:
        assert found is None
    else:
        assert found == {"lat": pytest.approx(expected[0]), "lon": pytest.approx(expected[1])}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("D:20240301102030+01'00'", "2024-03-01T10:20:30+01:00"),
        ("D:20240301102030-05'30", "2024-03-01T10:20:30-05:30"),
        ("D:20240301102030Z", "2024-03-01T10:20:30+00:00"),
        ("D:20240301", "2024-03-01T00:00:00"),
        ("20240301102030", "2024-03-01T10:20:30"),
        ("D:20241301", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_pdf_dates(value, expected) -> None:
    assert pdfs.pdf_date(value) == expected


def test_xmp_is_read_without_an_xml_parser() -> None:
    packet = (
        b"<x:xmpmeta><rdf:Description xmp:CreatorTool='Canon EOS R5 Firmware 1.8'>"
        b"<stEvt:softwareAgent>Adobe Photoshop 25.0 &amp; more</stEvt:softwareAgent>"
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><rdf:li stEvt:softwareAgent="GIMP 2.10"/>'
        b'<rdf:li stEvt:softwareAgent="GIMP 2.10"/></rdf:Description></x:xmpmeta>'
    )
    assert metadata.xmp_software(packet) == [
        "Canon EOS R5 Firmware 1.8",
        "Adobe Photoshop 25.0 & more",
        "GIMP 2.10",
    ]
    assert metadata.xmp_software(b"") == []


def test_pdf_limits_and_refusals() -> None:
    limits = pdfs.PdfLimits(max_pages=5, max_objects=100)
    facts = pdfs.inspect(io.BytesIO(files.plain_pdf(2, **{"/Producer": "x"})), limits)
    assert facts.pages == 2 and facts.info["producer"] == "x"
    refusals = {
        files.plain_pdf(6): "pdf_too_many_pages",
        files.pdf_with_disguised_script(): "pdf_javascript",
        files.pdf_with_attachment(): "pdf_embedded_file",
        b"%PDF-1.4\n%%EOF\n": "unreadable",
    }
    for content, code in refusals.items():
        with pytest.raises(Rejected) as refused:
            pdfs.inspect(io.BytesIO(content), limits)
        assert refused.value.code == code


def test_a_plain_pdf_mentioning_javascript_in_its_text_stream_is_refused_to_be_safe() -> None:
    # The raw search cannot tell a name from the same letters in uncompressed text: refusing
    # is the safe side (the customer is told to print the PDF again, which compresses).
    content = files.plain_pdf(1).replace(b"%%EOF", b"% /JavaScript\n%%EOF")
    with pytest.raises(Rejected):
        pdfs.inspect(io.BytesIO(content), pdfs.PdfLimits())


def test_the_display_copy_is_converted_to_srgb_and_keeps_no_profile() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(out, "JPEG", icc_profile=srgb)
    with images.opened(io.BytesIO(out.getvalue()), "image/jpeg", 10_000) as decoded:
        assert decoded.image.info.get("icc_profile")
        display = images.display_copy(decoded.image, images.upright(decoded.image))
    result = Image.open(io.BytesIO(display.content))
    assert "icc_profile" not in result.info


def test_large_photos_are_shown_at_most_4096_pixels_wide(tmp_path: Path) -> None:
    content = files.photo((5000, 1000))
    spec = FieldSpec(
        name="p", type="file", label="P", classification="personal", accept=["image/jpeg"]
    )
    pipeline = DocumentPipeline(LocalStorage(tmp_path), None)
    checked = pipeline.check(spec, io.BytesIO(content))
    try:
        assert (checked.evidence["width"], checked.evidence["height"]) == (5000, 1000)
        assert checked.display is not None
        assert (checked.display.width, checked.display.height) == (4096, 819)
    finally:
        checked.close()


def test_limits_come_from_settings() -> None:
    from wayline.config import Settings

    settings = Settings(max_image_pixels=123, max_pdf_pages=4, max_pdf_objects=56)
    limits = Limits.from_settings(settings)
    assert (limits.max_image_pixels, limits.pdf.max_pages, limits.pdf.max_objects) == (123, 4, 56)


def test_download_names() -> None:
    assert download_name("IMG_0001.HEIC", "image/jpeg") == "IMG_0001.jpg"
    assert download_name("scan.png", "image/png") == "scan.png"
    assert download_name("", "application/pdf") == "document.pdf"
