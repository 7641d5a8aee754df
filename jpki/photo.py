"""The card-surface face photo for display: JPEG 2000 (JP2) off the card to PNG, which
every browser shows. Pillow (with its bundled OpenJPEG) is imported only when a photo is
converted, so nothing else pays for loading it."""

from __future__ import annotations

import io

from jpki.errors import CardDataError

JP2_SIGNATURE = bytes.fromhex("0000000c6a5020200d0a870a")
MAX_PHOTO_PIXELS = 1024 * 1024  # card photos are a few hundred pixels a side


def decode_photo(jp2: bytes) -> tuple[int, int, str, bytes]:
    """(width, height, Pillow mode, PNG bytes) of a JP2 photo. CardDataError when it is
    not a JP2 container, is implausibly large, or does not decode."""
    if not jp2.startswith(JP2_SIGNATURE):
        raise CardDataError("the photo is not JPEG 2000 in a JP2 container")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(jp2), formats=["JPEG2000"]) as image:
            width, height = image.size
            if width * height > MAX_PHOTO_PIXELS:
                raise CardDataError(f"the photo is {width}x{height}: too large for a card")
            image.load()
            mode = image.mode
            out = io.BytesIO()
            image.save(out, "PNG")
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise CardDataError(f"the photo does not decode: {type(exc).__name__}") from None
    return width, height, mode, out.getvalue()


def photo_png(jp2: bytes) -> bytes:
    """The photo as PNG."""
    return decode_photo(jp2)[3]
