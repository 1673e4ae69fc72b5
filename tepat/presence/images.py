"""Re-encoding uploaded photos so nothing but pixels survives: no EXIF or GPS tags, no
appended payload (a PHP or HTML file glued after the image data), no polyglot."""

import io

from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = frozenset({"JPEG", "PNG"})
# Decompression bombs: a tiny file that expands to gigabytes of pixels.
Image.MAX_IMAGE_PIXELS = 40_000_000


class NotAnImage(ValueError):
    """The bytes are not a JPEG or PNG image Pillow can decode completely."""


def image_format(raw: bytes) -> str | None:
    """ "JPEG" or "PNG" when the content (not the name) is one of those, else None."""
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            return probe.format if probe.format in ALLOWED_FORMATS else None
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        return None


def image_reencode(raw: bytes, *, max_side: int, quality: int = 80) -> bytes:
    """A fresh JPEG of the image's pixels, at most `max_side` on its longer side."""
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise NotAnImage(probe.format or "unknown")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            pixels = image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise NotAnImage("undecodable") from None
    pixels.thumbnail((max_side, max_side))
    out = io.BytesIO()
    pixels.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()
