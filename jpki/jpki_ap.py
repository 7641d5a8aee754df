"""Session with the JPKI applet (公的個人認証 AP): certificates, PINs, signatures."""

from __future__ import annotations

from enum import IntEnum

from card.apdu import CommandApdu
from card.errors import MalformedResponseError, SecurityStatusNotSatisfiedError
from card.protocol import CardChannel
from jpki.applet import AppletSession
from jpki.constants import (
    SHORT_ID_FLAG,
    TOKEN_INFO_LENGTH,
    TOKEN_LABEL_LENGTH,
    Aid,
    CertKind,
    JpkiFile,
    KeyKind,
    PinKind,
)
from jpki.digestinfo import digest_info
from jpki.pin import PinStatus
from jpki.token_info import CertificateAvailability, TokenInfo

MAX_CERTIFICATE_SIZE = 8192  # JPKI certificates are ~1.5-2 KiB; anything larger is hostile
RSA2048_SIGNATURE_SIZE = 256
SHA256_SIZE = 32


class SignatureScheme(IntEnum):
    """P1 of COMPUTE DIGITAL SIGNATURE (80 2A), as measured on real cards: three
    paddings, each with the host or the card computing SHA-256."""

    PKCS1_AS_SENT = 0x00  # PKCS#1 v1.5 over the data as sent: send a DigestInfo
    PKCS1_SHA256_BARE = 0x01  # card hashes, signs the bare 32-byte hash (no DigestInfo)
    PKCS1_PREHASHED = 0x02  # send a SHA-256 hash; card wraps it in a DigestInfo
    PKCS1_SHA256 = 0x03  # card hashes and wraps: sha256WithRSAEncryption of the data
    PSS_PREHASHED = 0x04  # RSASSA-PSS over a SHA-256 hash you send; random salt
    PSS_SHA256 = 0x05  # card hashes, then RSASSA-PSS

    @property
    def input_sizes(self) -> tuple[int, int]:
        """Smallest and largest input the card takes for this scheme."""
        if self in (SignatureScheme.PKCS1_PREHASHED, SignatureScheme.PSS_PREHASHED):
            return SHA256_SIZE, SHA256_SIZE
        if self is SignatureScheme.PKCS1_AS_SENT:
            return 1, RSA2048_SIGNATURE_SIZE - 11  # room for PKCS#1 v1.5 padding
        return 1, 255  # the card hashes one short APDU's data

    @property
    def hashes_on_card(self) -> bool:
        return self in (
            SignatureScheme.PKCS1_SHA256_BARE,
            SignatureScheme.PKCS1_SHA256,
            SignatureScheme.PSS_SHA256,
        )


class SigningInputError(ValueError):
    """The data does not fit the signature scheme (checked before anything is sent)."""


class JpkiSession(AppletSession):
    """The JPKI applet. Creating the session selects the applet; PINs verified in it
    before stay verified (as on real cards) until `logout`, another applet, or the card
    leaves the reader."""

    aid = Aid.JPKI

    def __init__(self, channel: CardChannel) -> None:
        super().__init__(channel)

    def token_info(self) -> str:
        """The token label, `JPKIAPICCTOKEN2` on an Individual Number Card (the first
        32 bytes of EF 0006; phones' tokens answer other labels)."""
        self.select_file(JpkiFile.TOKEN_INFO)
        data = self.read_binary(0, TOKEN_LABEL_LENGTH)
        try:
            return data.decode("ascii").rstrip(" \x00")
        except UnicodeDecodeError as exc:
            raise MalformedResponseError("token info is not ASCII") from exc

    def read_token_info(self) -> TokenInfo:
        """The whole of EF 0006, a 160-byte CK_TOKEN_INFO, parsed."""
        self.select_file(JpkiFile.TOKEN_INFO)
        return TokenInfo.parse(self.read_binary(0, TOKEN_INFO_LENGTH))

    def certificate_availability(self) -> CertificateAvailability:
        """EF 0008: which of the two certificates the card holds (free to read), so a
        caller can tell before asking for the sign password whether there is a sign
        certificate at all."""
        self.select_file(JpkiFile.CERT_AVAILABILITY)
        return CertificateAvailability.parse(self.read_binary(0, 256))

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
        """RSA PKCS#1 v1.5 signature of a precomputed digest (any hash the DigestInfo
        table knows). Requires the key's PIN verified on the card."""
        return self.sign_digest_info(key, digest_info(digest, hash_name, allow_sha1=allow_sha1))

    def sign_digest_info(self, key: KeyKind, info: bytes) -> bytes:
        """The card pads `info` (PKCS#1 v1.5 type 1) exactly as given and signs it."""
        return self.sign_with(key, SignatureScheme.PKCS1_AS_SENT, info)

    def sign_message(self, key: KeyKind, message: bytes, *, pss: bool = False) -> bytes:
        """The card hashes `message` (1-255 bytes) with SHA-256 and signs it:
        sha256WithRSAEncryption, or RSASSA-PSS with `pss`."""
        scheme = SignatureScheme.PSS_SHA256 if pss else SignatureScheme.PKCS1_SHA256
        return self.sign_with(key, scheme, message)

    def sign_sha256(self, key: KeyKind, digest: bytes, *, pss: bool = False) -> bytes:
        """Sign a SHA-256 digest you computed; the card builds the DigestInfo (or the
        PSS encoding, with `pss`)."""
        scheme = SignatureScheme.PSS_PREHASHED if pss else SignatureScheme.PKCS1_PREHASHED
        return self.sign_with(key, scheme, digest)

    def sign_with(
        self, key: KeyKind, scheme: SignatureScheme, data: bytes, *, select_key: bool = False
    ) -> bytes:
        """COMPUTE DIGITAL SIGNATURE with any scheme. The key is named in P2 by its
        short EF id (97 auth, 9A sign), so no SELECT is needed; `select_key` selects
        the key EF first and sends P2=80 instead (the same signature, one more APDU).
        The input size is checked before anything is sent (SigningInputError)."""
        low, high = scheme.input_sizes
        if not low <= len(data) <= high:
            raise SigningInputError(
                f"{scheme.name} takes {low}-{high} bytes of input, got {len(data)}"
            )
        if select_key:
            self.select_file(key.file)
            p2 = SHORT_ID_FLAG
        else:
            p2 = SHORT_ID_FLAG | key.file
        command = CommandApdu(0x80, 0x2A, int(scheme), p2, data, RSA2048_SIGNATURE_SIZE)
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
