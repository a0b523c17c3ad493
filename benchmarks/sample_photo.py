"""A phone-like photo for the upload benchmarks: made here, so no image is committed.

A 12-megapixel (4000 × 3000) JPEG of about 4 MB, with the EXIF a phone writes (make, model,
orientation, capture time, GPS), and content that compresses like a photo (gradients, grain,
shapes), not like a flat colour: the decoder, the hashes and the display copy do the work a
real photo makes them do.
"""

from __future__ import annotations

import io
import math

from PIL import ExifTags, Image, ImageDraw


def phone_photo(megapixels: float = 12.0, quality: int = 88) -> bytes:
    """JPEG bytes of a 4:3 photo of about `megapixels` million pixels, with phone EXIF."""
    width = max(8, round(math.sqrt(megapixels * 1_000_000 * 4 / 3)))
    height = max(6, round(width * 3 / 4))
    gradient = Image.linear_gradient("L").resize((width, height))
    grain = Image.effect_noise((width, height), 40)
    channels = [
        Image.blend(gradient, grain, 0.35),
        Image.blend(
            gradient.transpose(Image.Transpose.ROTATE_180),
            grain.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            0.35,
        ),
        Image.blend(
            gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
            grain.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
            0.35,
        ),
    ]
    image = Image.merge("RGB", channels)
    _draw_shapes(image)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=_phone_exif().tobytes())
    return out.getvalue()


def _draw_shapes(image: Image.Image) -> None:
    """Edges for the perceptual hashes and the JPEG encoder to work on."""
    draw = ImageDraw.Draw(image)
    width, height = image.size
    size = max(2, width // 10)
    for i in range(40):
        x, y = (i * 97 * width // 4000) % width, (i * 53 * height // 3000) % height
        colour = (i * 6 % 255, 80, 200)
        draw.ellipse((x, y, x + size, y + size * 3 // 4), outline=colour, width=max(1, size // 33))


def _phone_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 13"
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.Base.Software] = "17.1"
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = "2026:11:28 08:15:00"
    details[ExifTags.Base.OffsetTimeOriginal] = "+00:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 6.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 39.0)
    return exif
