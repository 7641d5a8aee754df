"""Synthetic card-face images for the card-surface applet (real-card-notes.md §3):

- the face photo: greyscale JPEG 2000 in a JP2 container (DF27), a drawn face (ellipses
  and arcs, varied per persona) — never a real photograph;
- the name and address as 1-bit PNG renders (DF25, DF26);
- the security code as a 24x12 PNG (DF2A) and the My Number as a 72x12 PNG (EF 0005).

Pillow draws and encodes (its wheels carry OpenJPEG: see docs/decisions.md, issue 11).
Everything is deterministic per persona (same bytes for the same persona and fonts) and
cached in the process, so making many cards stays fast. Pillow is imported here only:
simulators that never build a card-surface applet never load it."""

from __future__ import annotations

import functools
import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageFont

PHOTO_SIZE = (180, 232)  # width x height; about the card's 3:4-ish photo box
PHOTO_RATE = 12  # JPEG 2000 compression ratio: ~3.5 KB for the photo
SECURITY_CODE_SIZE = (24, 12)
MY_NUMBER_IMAGE_SIZE = (72, 12)
TEXT_HEIGHT = 28
NAME_WIDTH = 360
ADDRESS_WIDTH = 720

# Fonts with Japanese glyphs, first found wins (Debian's fonts-noto-cjk is in setup.sh).
FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)

# A 3x5 digit font of our own for the tiny code images (6 px per digit with spacing).
_DIGITS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
}


def _seed(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # No timestamps or text chunks: the bytes depend on the pixels only.
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@functools.lru_cache(maxsize=64)
def face_photo_jp2(seed_text: str) -> bytes:
    """A drawn greyscale face, JPEG 2000 in a JP2 container. `seed_text` (the persona
    id) picks face shape, hair, eyes and shading, so personas look different."""
    from PIL import Image, ImageDraw, ImageFilter

    seed = _seed("face", seed_text)
    width, height = PHOTO_SIZE
    image = Image.new("L", PHOTO_SIZE, 200 + seed[0] % 40)  # plain light background
    draw = ImageDraw.Draw(image)
    cx = width // 2
    face_w = 44 + seed[1] % 14
    face_h = 58 + seed[2] % 12
    cy = 100 + seed[3] % 8
    skin = 150 + seed[4] % 50
    hair = 20 + seed[5] % 60
    # shoulders and neck
    draw.ellipse((cx - 88, cy + face_h + 10, cx + 88, height + 80), fill=70 + seed[6] % 50)
    draw.rectangle((cx - 16, cy + face_h - 14, cx + 16, cy + face_h + 24), fill=skin - 12)
    # hair behind, face, hair on top
    draw.ellipse((cx - face_w - 8, cy - face_h - 12, cx + face_w + 8, cy + face_h // 2), fill=hair)
    draw.ellipse((cx - face_w, cy - face_h, cx + face_w, cy + face_h), fill=skin)
    fringe = seed[7] % 3
    if fringe == 0:
        draw.chord((cx - face_w, cy - face_h - 6, cx + face_w, cy - 6), 180, 360, fill=hair)
    elif fringe == 1:
        draw.pieslice((cx - face_w - 4, cy - face_h - 8, cx + face_w, cy), 190, 350, fill=hair)
    # ears
    for side in (-1, 1):
        ex = cx + side * face_w
        draw.ellipse((ex - 7, cy - 8, ex + 7, cy + 16), fill=skin - 10)
    # eyes, brows, nose, mouth
    eye_dx = 16 + seed[8] % 6
    eye_y = cy - 6 + seed[9] % 6
    for side in (-1, 1):
        ex = cx + side * eye_dx
        draw.ellipse((ex - 7, eye_y - 4, ex + 7, eye_y + 4), fill=235)
        draw.ellipse((ex - 3, eye_y - 3, ex + 3, eye_y + 3), fill=25)
        draw.line((ex - 9, eye_y - 11, ex + 8, eye_y - 12 + side), fill=hair, width=3)
    draw.line((cx, eye_y + 4, cx - 4, eye_y + 22), fill=skin - 40, width=2)
    draw.line((cx - 4, eye_y + 22, cx + 3, eye_y + 23), fill=skin - 40, width=2)
    mouth_w = 10 + seed[10] % 8
    mouth_y = cy + face_h // 2 + 4
    draw.arc((cx - mouth_w, mouth_y - 8, cx + mouth_w, mouth_y + 6), 20, 160, fill=90, width=3)
    if seed[11] % 4 == 0:  # glasses on some personas
        for side in (-1, 1):
            ex = cx + side * eye_dx
            draw.ellipse((ex - 11, eye_y - 9, ex + 11, eye_y + 9), outline=30, width=2)
        draw.line((cx - eye_dx + 11, eye_y, cx + eye_dx - 11, eye_y), fill=30, width=2)
    image = image.filter(ImageFilter.GaussianBlur(0.8))  # soften like a printed photo
    buffer = io.BytesIO()
    image.save(
        buffer,
        "JPEG2000",
        irreversible=True,
        quality_mode="rates",
        quality_layers=[PHOTO_RATE],
        no_jp2=False,  # a JP2 container, as on real cards, not a bare codestream
    )
    return buffer.getvalue()


@functools.lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    for candidate in FONT_CANDIDATES:
        if candidate.exists():
            return ImageFont.truetype(str(candidate), size)
    # Without a Japanese font the glyphs come out as boxes: still a valid render.
    return ImageFont.load_default(size)


def _text_png(text: str, width: int) -> bytes:
    """`text` rendered black on white, 1-bit, wrapped onto as many lines as needed."""
    from PIL import Image, ImageDraw

    font = _font(TEXT_HEIGHT - 6)
    lines: list[str] = []
    current = ""
    for char in text:
        if font.getlength(current + char) > width - 8 and current:
            lines.append(current)
            current = char
        else:
            current += char
    lines.append(current)
    image = Image.new("1", (width, TEXT_HEIGHT * len(lines)), 1)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((4, row * TEXT_HEIGHT + 2), line, fill=0, font=font)
    return _png(image)


@functools.lru_cache(maxsize=64)
def name_png(name: str) -> bytes:
    return _text_png(name, NAME_WIDTH)


@functools.lru_cache(maxsize=64)
def address_png(address: str) -> bytes:
    return _text_png(address, ADDRESS_WIDTH)


def _digits_png(digits: str, size: tuple[int, int]) -> bytes:
    """Digits in the 3x5 font, scaled x1 horizontally and x2 vertically, 1-bit."""
    from PIL import Image

    image = Image.new("1", size, 1)
    pixels = image.load()
    assert pixels is not None
    for index, digit in enumerate(digits):
        glyph = _DIGITS[digit]
        left = index * 6 + 1
        for row, bits in enumerate(glyph):
            for column, bit in enumerate(bits):
                if bit == "1":
                    for dy in (0, 1):
                        x, y = left + column, 1 + row * 2 + dy
                        if x < size[0] and y < size[1]:
                            pixels[x, y] = 0
    return _png(image)


@functools.lru_cache(maxsize=64)
def security_code_png(code: str) -> bytes:
    """The 4-digit security code as a 24x12 PNG (DF2A)."""
    if len(code) != 4 or not code.isdigit():
        raise ValueError("a security code is 4 digits")
    return _digits_png(code, SECURITY_CODE_SIZE)


@functools.lru_cache(maxsize=64)
def my_number_png(digits: str) -> bytes:
    """The 12-digit My Number as a 72x12 PNG (EF 0005 DF41)."""
    if len(digits) != 12 or not digits.isdigit():
        raise ValueError("a My Number is 12 digits")
    return _digits_png(digits, MY_NUMBER_IMAGE_SIZE)
