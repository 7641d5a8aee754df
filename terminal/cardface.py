"""Reading the card face (券面事項確認 AP) for a person at the counter or the CLI: unlock
with the birth date or a 照合番号, read, check the signature, convert the photo to PNG.

Trust: the issuer keys that certify the card's CV certificates come from a directory of
`<7-digit key id>.pem` files (`trust_directory`). Without one the face is shown but
marked "not checked", never "valid"; a signature that does not verify is refused
(SignatureMismatchError)."""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from card.protocol import CardChannel
from jpki.cardinfo_ap import SEX_CODES
from jpki.cvc import TrustedCvKeys, load_trusted_cv_keys
from jpki.photo import decode_photo
from jpki.surface_ap import CardFace, SurfaceSession
from terminal.home import mynaterm_home

Credential = Literal["A", "B", "birth-date"]
TRUST_ENV = "MYNATERM_CARD_ISSUER_TRUST"


def trust_directory(explicit: Path | None = None) -> Path:
    """--trust DIR, else $MYNATERM_CARD_ISSUER_TRUST, else the test card issuer beside
    the default test PKI ($MYNATERM_HOME/pki/card-issuer/trust)."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(TRUST_ENV)
    if from_env:
        return Path(from_env)
    return mynaterm_home() / "pki" / "card-issuer" / "trust"


def trusted_keys(directory: Path | None) -> TrustedCvKeys:
    """The issuer keys in `directory` ({} when it does not exist)."""
    if directory is None or not directory.is_dir():
        return {}
    return load_trusted_cv_keys(directory)


@dataclass(frozen=True)
class SurfaceReading:
    """What the counter or the CLI shows: the printed facts, the images (PNG), and the
    signature verdict: "valid" (checked against a trusted issuer) or "not-checked"."""

    face: CardFace
    photo_png: bytes
    photo_size: tuple[int, int]
    verdict: Literal["valid", "not-checked"]
    issuer: str | None

    def __repr__(self) -> str:
        return f"SurfaceReading(verdict={self.verdict!r}, <personal data>)"

    def summary(self) -> dict[str, object]:
        face = self.face
        return {
            "birth_date": face.birth_date.isoformat(),
            "sex": face.sex,
            "sex_text": SEX_CODES.get(face.sex, "unknown"),
            "expiry": face.expiry.isoformat(),
            "signature": self.verdict,
            "issuer": self.issuer,
            "photo": {"width": self.photo_size[0], "height": self.photo_size[1]},
        }

    def images(self) -> dict[str, bytes]:
        """File name -> bytes, for --out and for the page."""
        return {
            "photo.png": self.photo_png,
            "photo.jp2": self.face.photo_jp2,
            "name.png": self.face.name_png,
            "address.png": self.face.address_png,
            "security-code.png": self.face.security_code_png,
        }

    def data_urls(self) -> dict[str, str]:
        def url(raw: bytes) -> str:
            return "data:image/png;base64," + base64.b64encode(raw).decode("ascii")

        return {
            "photo": url(self.photo_png),
            "name": url(self.face.name_png),
            "address": url(self.face.address_png),
        }


def unlock(session: SurfaceSession, credential: Credential, value: str | dt.date) -> None:
    """VERIFY once with the credential (format checked first, tries read first)."""
    if credential == "birth-date":
        session.verify_birth_date(value)
    else:
        if not isinstance(value, str):
            raise ValueError("a 照合番号 is digits, not a date")
        session.verify_code(credential, value)


def read_surface(
    channel: CardChannel, credential: Literal["A", "B"], code: str, trusted: TrustedCvKeys
) -> SurfaceReading:
    """Select the card-surface applet, unlock with 照合番号A or B, read the face, check
    its signature when issuer keys are held, convert the photo."""
    session = SurfaceSession(channel)
    unlock(session, credential, code)
    face = session.read_card_face()
    verdict: Literal["valid", "not-checked"] = "not-checked"
    issuer = None
    if trusted:
        issuer = session.verify_face(face, trusted).issuer
        verdict = "valid"
    width, height, _, png = decode_photo(face.photo_jp2)
    return SurfaceReading(face, png, (width, height), verdict, issuer)
