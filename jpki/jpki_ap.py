"""Session with the JPKI applet (公的個人認証 AP): certificates, PINs, signatures."""

from __future__ import annotations

from card.apdu import CommandApdu
from card.errors import MalformedResponseError, SecurityStatusNotSatisfiedError
from card.protocol import CardChannel
from jpki.applet import AppletSession
from jpki.constants import TOKEN_INFO_LENGTH, Aid, CertKind, JpkiFile, KeyKind, PinKind
from jpki.digestinfo import digest_info
from jpki.pin import PinStatus

MAX_CERTIFICATE_SIZE = 8192  # JPKI certificates are ~1.5-2 KiB; anything larger is hostile
RSA2048_SIGNATURE_SIZE = 256


class JpkiSession(AppletSession):
    """The JPKI applet. Creating the session selects the applet (and so logs out)."""

    aid = Aid.JPKI

    def __init__(self, channel: CardChannel) -> None:
        super().__init__(channel)

    def token_info(self) -> str:
        """The token label, `JPKIAPICCTOKEN2` on an Individual Number Card."""
        self.select_file(JpkiFile.TOKEN_INFO)
        data = self.read_binary(0, TOKEN_INFO_LENGTH)
        try:
            return data.decode("ascii").rstrip(" \x00")
        except UnicodeDecodeError as exc:
            raise MalformedResponseError("token info is not ASCII") from exc

    def read_certificate(self, kind: CertKind) -> bytes:
        """The DER certificate. The signature certificate requires the sign PIN
        (SecurityStatusNotSatisfiedError otherwise)."""
        certificate = self.read_object(kind.file, max_size=MAX_CERTIFICATE_SIZE)
        if certificate[0] != 0x30:
            raise MalformedResponseError(
                f"{kind.value} certificate EF does not start with a DER SEQUENCE"
            )
        return certificate

    def pin_status(self, kind: PinKind) -> PinStatus:
        """Remaining tries, spending none."""
        self._require_jpki_pin(kind)
        return self._pin_status(kind)

    def verify_pin(self, kind: PinKind, pin: str, *, check_status_first: bool = True) -> None:
        """VERIFY once. The format is checked before any APDU; by default the status is
        read first so that a blocked PIN is reported without sending it.
        Raises PinFormatError, InvalidPinError(remaining), PinBlockedError."""
        self._require_jpki_pin(kind)
        self._verify_pin(kind, pin, check_status_first=check_status_first)

    def change_pin(self, kind: PinKind, current: str, new: str) -> None:
        """Verify `current`, then CHANGE REFERENCE DATA to `new` (both format-checked
        before anything is sent)."""
        self._require_jpki_pin(kind)
        self._change_pin(kind, current, new)

    def sign(
        self, key: KeyKind, digest: bytes, hash_name: str = "sha256", *, allow_sha1: bool = False
    ) -> bytes:
        """RSA PKCS#1 v1.5 signature of a precomputed digest. Requires the key's PIN
        verified in this session."""
        return self.sign_digest_info(key, digest_info(digest, hash_name, allow_sha1=allow_sha1))

    def sign_digest_info(self, key: KeyKind, info: bytes) -> bytes:
        """The card pads `info` (PKCS#1 v1.5 type 1) exactly as given and signs it."""
        self.select_file(key.file)
        command = CommandApdu(0x80, 0x2A, 0x00, 0x80, info, 256)
        response = self.channel.transmit(command)
        if response.sw == 0x6982:
            raise SecurityStatusNotSatisfiedError(
                response.data, response.sw, f"signing requires the {key.pin.value} PIN"
            )
        self._check(response, f"COMPUTE DIGITAL SIGNATURE with the {key.value} key")
        if len(response.data) != RSA2048_SIGNATURE_SIZE:
            raise MalformedResponseError(
                f"signature of {len(response.data)} bytes, expected {RSA2048_SIGNATURE_SIZE}"
            )
        return response.data

    @staticmethod
    def _require_jpki_pin(kind: PinKind) -> None:
        if kind is PinKind.CARD_INFO:
            raise ValueError("the card-info PIN belongs to CardInfoSession")
