"""Decoding photos safely, and the copy shown to people.

- Only allow-listed formats are decoded, each by its own decoder (the type sniffed from the
  content picks it; Pillow never guesses): JPEG, PNG and WebP, and HEIC when the pillow-heif
  plugin is installed.
- The size in the header is checked against a pixel cap BEFORE any pixel is decoded, and
  Pillow's DecompressionBombWarning is an error in this process: a small file that would
  decode to gigabytes is refused without the memory ever being taken.
- Only the first frame of an animated image is decoded; at most a few images decode at once.
- The display copy is re-encoded from the pixels alone (JPEG, or PNG when the image has
  transparency), after the EXIF orientation is applied, with no metadata at all: no EXIF, no
  GPS, no XMP, no ICC profile (colours are converted to sRGB first), no comments, and nothing
  that was appended after the image data.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageCms, ImageOps

from wayline.documents.intake import Rejected

try:  # HEIC only with the plugin
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC = True
except ImportError:  # pragma: no cover - depends on what is installed
    HEIC = False

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
if HEIC:  # pragma: no cover
    FORMATS["image/heic"] = "HEIF"
DISPLAY_MAX_EDGE = 4096  # the display copy's longest side, in pixels
JPEG_QUALITY = 85
DECODING_AT_ONCE = threading.BoundedSemaphore(2)  # bounds the memory decoding can take

UNREADABLE = (
    "The selected file could not be opened as a photo. It may be damaged: save it again as a "
    "JPEG and try again"
)


@dataclass(frozen=True)
class Decoded:
    image: Image.Image  # decoded (a large JPEG at a reduced scale), orientation not applied
    width: int  # as stored in the file
    height: int
    format: str


@dataclass(frozen=True)
class Display:
    content: bytes
    content_type: str
    width: int
    height: int


def _bombs_are_errors() -> None:
    # Idempotent: the filter moves to the front of the list (where a test runner may have
    # reset the list since).
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


_bombs_are_errors()


@contextmanager
def opened(stream: IO[bytes], mime: str, max_pixels: int) -> Iterator[Decoded]:
    """The image, its header read and checked, then its pixels decoded (first frame only)."""
    fmt = FORMATS.get(mime)
    if fmt is None:
        if mime == "image/heic":
            raise Rejected(
                "We cannot open HEIC photos yet. Send the photo as a JPEG (on an iPhone: "
                "Settings, Camera, Formats, Most Compatible)",
                "unsupported_format",
            )
        raise Rejected(UNREADABLE, "unreadable")
    _bombs_are_errors()
    try:
        image = Image.open(stream, formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except Exception:  # any decoder failure on untrusted bytes is the file's fault
        raise Rejected(UNREADABLE, "unreadable") from None
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise Rejected(UNREADABLE, "unreadable")
        if width * height > max_pixels:
            raise _too_many_pixels(max_pixels)
        with DECODING_AT_ONCE:
            try:
                image.seek(0)
                if fmt == "JPEG":
                    # DCT scaling: decode a large JPEG at no more than the size shown.
                    image.draft(image.mode, _fit(image.size, DISPLAY_MAX_EDGE))
                image.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise _too_many_pixels(max_pixels) from None
            except Exception:
                raise Rejected(UNREADABLE, "unreadable") from None
            yield Decoded(image, width, height, fmt)


def _too_many_pixels(max_pixels: int) -> Rejected:
    return Rejected(
        f"The photo has too many pixels: it must be at most {max_pixels / 1e6:g} megapixels. "
        "Send a smaller copy",
        "too_many_pixels",
    )


def _fit(size: tuple[int, int], edge: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def upright(image: Image.Image) -> Image.Image:
    """The image as it is meant to be seen: EXIF orientation applied, no larger than shown."""
    try:
        turned = ImageOps.exif_transpose(image)  # a copy, turned or not
    except Exception:  # a broken orientation tag: show the pixels as stored
        turned = image
    if max(turned.size) > DISPLAY_MAX_EDGE:
        turned = turned.copy() if turned is image else turned
        turned.thumbnail((DISPLAY_MAX_EDGE, DISPLAY_MAX_EDGE), Image.Resampling.LANCZOS)
    return turned


def display_copy(image: Image.Image, shown: Image.Image) -> Display:
    """`shown` (from upright) re-encoded with no metadata; `image` is the decoded original,
    for its colour profile."""
    has_alpha = shown.mode in ("RGBA", "LA", "PA") or (
        shown.mode == "P" and "transparency" in shown.info
    )
    pixels = shown.convert("RGBA" if has_alpha else "RGB")
    pixels = _srgb(pixels, image.info.get("icc_profile"))
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)  # a new image: nothing of the original's info comes along
    clean.info = {}
    out = io.BytesIO()
    if has_alpha:
        clean.save(out, "PNG", optimize=False)
        content_type = "image/png"
    else:
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, exif=b"")
        content_type = "image/jpeg"
    return Display(out.getvalue(), content_type, clean.width, clean.height)


def _srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if not icc:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(image, source, target, outputMode=image.mode)
    except Exception:  # a broken or unusual profile: keep the pixels as they are
        return image
    return converted or image
