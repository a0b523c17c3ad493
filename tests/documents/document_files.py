"""Real files for the upload tests, made here: photos with Pillow (EXIF written by piexif,
XMP by hand), PDFs with pypdf (and by hand where pypdf will not write what an attacker would),
a decompression bomb, an executable."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import piexif
from PIL import Image, ImageDraw, ImageStat
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)

RED = (220, 20, 20)
BLUE = (20, 20, 220)


def photo(
    size: tuple[int, int] = (640, 480),
    fmt: str = "JPEG",
    exif: dict[str, Any] | None = None,
    seed: int = 0,
    **save: Any,
) -> bytes:
    """A photo-like picture: a gradient with shapes (so perceptual hashes mean something)."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 8):
        draw.rectangle([x, 0, x + 8, height], fill=((x * 255 // width + seed * 40) % 256, 90, 140))
    draw.ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4], fill=(240, 200, 40))
    draw.rectangle([seed * 10 % width, 0, seed * 10 % width + 20, height // 3], fill=(10, 10, 10))
    out = io.BytesIO()
    if exif is not None:
        save["exif"] = piexif.dump(exif)
    image.save(out, fmt, **save)
    return out.getvalue()


def plain(
    colour: tuple[int, int, int], size: tuple[int, int] = (640, 480), fmt: str = "JPEG"
) -> bytes:
    """One colour all over: no detail at all."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def gradient(
    low: int,
    high: int,
    size: tuple[int, int] = (800, 600),
    across: bool = True,
    fmt: str = "JPEG",
) -> bytes:
    """A smooth grey gradient from `low` to `high`, left to right (or top to bottom)."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    steps = width if across else height
    for i in range(steps):
        level = low + (high - low) * i // max(1, steps - 1)
        box = [i, 0, i, height] if across else [0, i, width, i]
        draw.rectangle(box, fill=(level, level, level))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def dimmed(content: bytes, contrast: float, level: int = 20) -> bytes:
    """The photo with its contrast cut to `contrast` around a grey `level` (a night shot, or
    with a high level an over-exposed one), as a JPEG."""
    image = Image.open(io.BytesIO(content)).convert("L")
    mean = ImageStat.Stat(image).mean[0]
    faint = image.point(lambda v: max(0, min(255, round(level + (v - mean) * contrast))))
    out = io.BytesIO()
    faint.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def camera_exif(
    taken: str = "2024:03:01 10:20:30",
    offset: str | None = "+01:00",
    make: str = "Canon",
    model: str = "Canon EOS 5D Mark IV",
    software: str | None = "Adobe Photoshop 25.0 (Windows)",
    lat: tuple[str, tuple] | None = ("N", ((51, 1), (30, 1), (2664, 100))),
    lon: tuple[str, tuple] | None = ("W", ((0, 1), (7, 1), (3960, 100))),
    orientation: int | None = None,
) -> dict[str, Any]:
    zeroth: dict[int, Any] = {piexif.ImageIFD.Make: make, piexif.ImageIFD.Model: model}
    if software:
        zeroth[piexif.ImageIFD.Software] = software
    if orientation:
        zeroth[piexif.ImageIFD.Orientation] = orientation
    details: dict[int, Any] = {piexif.ExifIFD.DateTimeOriginal: taken}
    if offset:
        details[piexif.ExifIFD.OffsetTimeOriginal] = offset
    gps: dict[int, Any] = {}
    if lat:
        gps[piexif.GPSIFD.GPSLatitudeRef], gps[piexif.GPSIFD.GPSLatitude] = lat
    if lon:
        gps[piexif.GPSIFD.GPSLongitudeRef], gps[piexif.GPSIFD.GPSLongitude] = lon
    return {"0th": zeroth, "Exif": details, "GPS": gps}


def two_halves(size: tuple[int, int] = (64, 32), orientation: int = 6) -> bytes:
    """Red on the left, blue on the right, with an EXIF orientation to apply."""
    width, height = size
    image = Image.new("RGB", size, BLUE)
    ImageDraw.Draw(image).rectangle([0, 0, width // 2 - 1, height - 1], fill=RED)
    out = io.BytesIO()
    exif = {"0th": {piexif.ImageIFD.Orientation: orientation}}
    image.save(out, "JPEG", quality=95, exif=piexif.dump(exif))
    return out.getvalue()


def with_xmp(jpeg: bytes, creator: str, agents: list[str]) -> bytes:
    """The JPEG with an XMP packet (APP1) naming the software that made and edited it."""
    history = "".join(
        f'<rdf:li stEvt:action="saved" stEvt:softwareAgent="{agent}"/>' for agent in agents
    )
    packet = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" '
        'xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" '
        f'xmp:CreatorTool="{creator}"><xmpMM:History><rdf:Seq>{history}</rdf:Seq>'
        "</xmpMM:History></rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()
    body = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    segment = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return jpeg[:2] + segment + jpeg[2:]  # right after the start-of-image marker


def transparent_png(size: tuple[int, int] = (40, 30)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse([5, 5, 30, 25], fill=(0, 128, 0, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return struct.pack(">I", len(data)) + kind + data + crc


def decompression_bomb_png(width: int, height: int) -> bytes:
    """A valid RGB PNG of black pixels, compressed as it is written (never held decoded)."""
    compressor = zlib.compressobj(6)
    rows = (b"\x00" + b"\x00" * (width * 3)) * 100
    parts = [compressor.compress(rows) for _ in range(height // 100)]
    parts.append(compressor.compress((b"\x00" + b"\x00" * (width * 3)) * (height % 100)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def windows_executable() -> bytes:
    """The start of a Windows program (MZ header, PE signature)."""
    header = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 56)
    header[60:64] = struct.pack("<I", 64)
    return bytes(header) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 400


# --- PDFs ------------------------------------------------------------------------------------


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def plain_pdf(pages: int = 1, **info: str) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if info:
        writer.add_metadata(info)
    return _written(writer)


def _javascript(code: str = "app.alert('hello');") -> DictionaryObject:
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Action"),
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject(code),
        }
    )


def pdf_with_open_action_script() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(_javascript())
    return _written(writer)


def pdf_with_document_script() -> bytes:
    """A script in the document's JavaScript name tree (what Acrobat runs on opening)."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    action = writer._add_object(_javascript())
    tree = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("hello"), action])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(tree)}
    )
    return _written(writer)


def pdf_with_page_action() -> bytes:
    """Additional actions (/AA) on a page: run when the page opens."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): _javascript()})
    return _written(writer)


def pdf_with_disguised_script() -> bytes:
    """A script whose names are written with #-escapes (/J#53 is /JS, /JavaScr#69pt is
    /JavaScript) and compressed in an object stream, so no plain name is in the bytes."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Type /Action /S /JavaScr#69pt /J#53 (app.alert\\(1\\)) >>",
    ]
    # Objects 1-4 in one object stream (object 5), found through a cross-reference stream.
    offsets, body = [], b""
    for index, obj in enumerate(objects, start=1):
        offsets.append(f"{index} {len(body)}".encode())
        body += obj + b"\n"
    header = b" ".join(offsets) + b"\n"
    stream = zlib.compress(header + body)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    stream_at = len(out)
    out += (
        b"5 0 obj\n<< /Type /ObjStm /N 4 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(header), len(stream))
    )
    out += stream + b"\nendstream\nendobj\n"
    xref_at = len(out)
    rows = [b"\x00" + struct.pack(">I", 0) + b"\xff"]  # object 0: free
    rows += [b"\x02" + struct.pack(">I", 5) + bytes([i]) for i in range(4)]  # in the stream
    rows += [b"\x01" + struct.pack(">I", at) + b"\x00" for at in (stream_at, xref_at)]
    xref = b"".join(rows)
    out += b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 1] /Root 1 0 R /Length %d >>\nstream\n" % len(
        xref
    )
    out += xref + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def pdf_with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("invoice.exe", b"MZ\x90\x00 not really a program")
    return _written(writer)


def pdf_with_many_pages(pages: int) -> bytes:
    return plain_pdf(pages)
