"""The software Individual Number Card: card OS + file system + security state behind
one `process(apdu) -> response` entry point, with power, reset and persistence."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from card.apdu import decode_command
from card.errors import MalformedApduError
from card.tlv import TlvError, encoded_size
from card.trace import ApduTracer
from jpki.constants import MYNUMBER_CARD_ATR, Aid, JpkiFile, KeyKind, PinKind
from simulators.card.card_os import CardOs
from simulators.card.contents import build_filesystem, card_identity
from simulators.card.errors import SW_INTERNAL, SW_WRONG_LENGTH
from simulators.card.filesystem import Applet, BinaryFile, CardKey, FileSystem, KeyName
from simulators.card.issuer import CardIssuerKeys, card_issuer_for
from simulators.card.mf_objects import mf_data_objects
from simulators.card.options import CardOptions
from simulators.card.security import KeyStore, PinRecord, SecurityState
from simulators.card.state import CardState, decode_state, encode_state, read_state, write_state
from simulators.card.transport import T0Framer, T1Framer
from simulators.issuing import CardIssuer
from simulators.personas import Persona, TestPins, get_persona

logger = logging.getLogger("simulators.card")
# Exchanges go through card.trace's redaction (PIN data, personal-data reads).
apdu_logger = logging.getLogger("simulators.card.apdu")

# A T=0-only ATR (T0=60: TB1, TC1 present, no TD1, so T=0 is implied; no TCK), used
# when the card runs in T=0 mode so that the ATR does not claim T=1.
T0_ATR = bytes.fromhex("3B6000FF")
# The PINs the holder chooses (and sets at the counter on a new card, issue 15).
HOLDER_PINS = (PinKind.AUTH, PinKind.SIGN, PinKind.CARD_INFO)
RSA_EXPONENT = 65537
RSA_BITS = 2048
LIGHT_SCRYPT_N = 2**10

_applet_keys_lock = threading.Lock()
_applet_keys: dict[str, dict[KeyName, rsa.RSAPrivateKey]] = {}


def applet_keys(persona_id: str) -> dict[KeyName, rsa.RSAPrivateKey]:
    """The 券面 and common applets' own keys for a persona's card. Generated once per
    persona per process and reused by later cards of that persona in the process: four
    RSA-2048 keys would otherwise triple the time to make a card. The JPKI keys, which
    certificates name, are always fresh."""
    with _applet_keys_lock:
        keys = _applet_keys.get(persona_id)
        if keys is None:
            keys = {kind: rsa.generate_private_key(RSA_EXPONENT, RSA_BITS) for kind in CardKey}
            _applet_keys[persona_id] = keys
        return dict(keys)


class SoftwareCard:
    """A faithful Individual Number Card at the APDU level.

    A new card is powered (as if sitting in a reader); `process` answers every byte
    string with a response of at least two bytes and never raises. See card_os for
    the status words of each command and transport for T=0 framing. Persistent state:
    `save`/`load` (the file holds private keys: see simulators.card.state)."""

    def __init__(self, state: CardState) -> None:
        self.persona_id = state.persona_id
        self._state = state
        self._os = CardOs(
            state.filesystem,
            state.security,
            options=state.options,
            mf_objects=state.mf_objects,
            atr=lambda: self.atr,
            issuer_key=state.issuer_key,
        )
        self._framer: T0Framer | T1Framer = T0Framer(self._os) if state.t0 else T1Framer(self._os)
        self._lock = threading.RLock()
        self._os.power_on()  # a new card sits powered in a reader
        self._powered = True
        self._tracer = ApduTracer(apdu_logger)

    def __repr__(self) -> str:
        return (
            f"SoftwareCard(persona_id={self.persona_id!r}, t0={self.t0}, powered={self._powered})"
        )

    # --- construction ---------------------------------------------------------------

    @classmethod
    def create(
        cls,
        persona: Persona,
        issuer: CardIssuer,
        pins: TestPins | None = None,
        *,
        reselect_clears_pins: bool | None = None,
        t0: bool = False,
        options: CardOptions | None = None,
        card_issuer: CardIssuerKeys | None = None,
        unset_pins: bool = False,
    ) -> SoftwareCard:
        """Personalise a new card: two fresh RSA-2048 JPKI keys certified by `issuer`,
        the applets' own keys, the 券面 records signed by the test card issuer
        (`card_issuer`, default: the one beside the issuer's PKI directory, see
        simulators.card.issuer), PINs from `pins` (default: the persona's test PINs or
        MYNATERM_*_PIN) and the persona's 照合番号 and birth-date keys. The common AP PIN
        is the auth PIN. `options` (default: real cards' behaviour) switch on behaviours
        other cards may show; `reselect_clears_pins` overrides that one switch.
        `unset_pins`: a card as it reaches the issuance counter, the holder's three PINs
        (auth, sign, card-info) not set yet (the holder sets them there through the
        issuer's commands, a model: simulators/card/admin.py; VERIFY answers 6A88 until
        then). Raises ValueError for a PIN of the wrong format or certificates that do
        not match the keys."""
        options = options or CardOptions()
        if reselect_clears_pins is not None:
            options = dataclasses.replace(options, reselect_clears_pins=reselect_clears_pins)
        pins = pins or persona.pins_from_env()
        card_issuer = card_issuer or card_issuer_for(issuer)
        pin_records = {
            PinKind.AUTH: PinRecord.create(PinKind.AUTH, pins.auth),
            PinKind.SIGN: PinRecord.create(PinKind.SIGN, pins.sign),
            PinKind.CARD_INFO: PinRecord.create(PinKind.CARD_INFO, pins.cardinfo),
            PinKind.COMMON: PinRecord.create(PinKind.COMMON, pins.auth),
        }
        if unset_pins:
            for kind in HOLDER_PINS:
                pin_records[kind] = PinRecord.unset(kind)
        # The 照合番号 and the birth date are printed on the card and held in its records
        # (the state file has them in clear anyway); only 照合番号B's security code is not.
        # A lighter scrypt suits them and keeps card creation fast.
        for kind, value in (
            (PinKind.CARD_INFO_CODE_A, persona.my_number.reveal()),
            (PinKind.CARD_INFO_CODE_B, persona.code_b),
            (PinKind.SURFACE_BIRTH_DATE, persona.era_birth_date),
            (PinKind.SURFACE_CODE_B, persona.code_b),
            (PinKind.SURFACE_CODE_A, persona.my_number.reveal()),
            # Blocked as issued: a random value nobody knows, and no tries.
            (PinKind.CARD_INFO_RESERVED, f"{secrets.randbelow(10_000):04d}"),
        ):
            pin_records[kind] = PinRecord.create(kind, value, scrypt_n=LIGHT_SCRYPT_N)
        keys: dict[KeyName, rsa.RSAPrivateKey] = {
            kind: rsa.generate_private_key(RSA_EXPONENT, RSA_BITS) for kind in KeyKind
        }
        keys.update(applet_keys(persona.id))
        certs = issuer.issue_card(
            persona, keys[KeyKind.AUTH].public_key(), keys[KeyKind.SIGN].public_key()
        )
        for key_kind, der in ((KeyKind.AUTH, certs.auth_cert), (KeyKind.SIGN, certs.sign_cert)):
            if der is None:  # no signature certificate (holder under 15)
                continue
            certified = x509.load_der_x509_certificate(der).public_key()
            if certified != keys[key_kind].public_key():
                raise ValueError(f"the issuer's {key_kind.value} certificate is not for this card")
        card_keys = {kind: keys[kind].public_key() for kind in CardKey}
        identity = card_identity(persona, dt.date.today())
        filesystem = build_filesystem(persona, certs, card_issuer, card_keys, identity)
        spki = card_issuer.text.signer_public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        state = CardState(
            persona_id=persona.id,
            filesystem=filesystem,
            security=SecurityState(pin_records, KeyStore(keys)),
            options=options,
            t0=t0,
            integrity_public_key=spki,
            mf_objects=mf_data_objects(identity, card_issuer.text.signer_public_key),
            issuer_key=certs.issuer_key,
        )
        logger.info("personalised a software card for persona %s", persona.id)
        return cls(state)

    @classmethod
    def from_persona_id(
        cls,
        persona_id: str,
        issuer: CardIssuer,
        pins: TestPins | None = None,
        *,
        reselect_clears_pins: bool | None = None,
        t0: bool = False,
        options: CardOptions | None = None,
        unset_pins: bool = False,
    ) -> SoftwareCard:
        """create() for the persona with this id in personas.toml."""
        return cls.create(
            get_persona(persona_id),
            issuer,
            pins,
            reselect_clears_pins=reselect_clears_pins,
            t0=t0,
            options=options,
            unset_pins=unset_pins,
        )

    # --- power ----------------------------------------------------------------------

    @property
    def t0(self) -> bool:
        return self._state.t0

    @property
    def reselect_clears_pins(self) -> bool:
        return self._state.options.reselect_clears_pins

    @property
    def options(self) -> CardOptions:
        return self._state.options

    @property
    def atr(self) -> bytes:
        return T0_ATR if self.t0 else MYNUMBER_CARD_ATR

    @property
    def powered(self) -> bool:
        return self._powered

    def power_on(self) -> bytes:
        """Cold reset: the MF current, no PIN verified. Returns the ATR."""
        with self._lock:
            self._powered = True
            self._os.power_on()
            self._framer.reset()
            return self.atr

    def power_off(self) -> None:
        """Unpower: the only thing that ends verified PINs besides selecting another
        applet [obs]."""
        with self._lock:
            self._powered = False
            self._os.power_on()
            self._framer.reset()

    def reset(self) -> bytes:
        """Warm reset (PC/SC SCARD_RESET_CARD): the MF current again, verified PINs
        kept as on the measured card, unless `options.warm_reset_clears_pins`. An
        unpowered card is powered up (cold). Returns the ATR."""
        with self._lock:
            if not self._powered:
                return self.power_on()
            self._os.warm_reset()
            self._framer.reset()
            return self.atr

    # --- commands -------------------------------------------------------------------

    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU: response data + SW1 SW2. Never raises: undecodable
        bytes -> 6700, an internal fault (or no power) -> 6F00."""
        with self._lock:
            try:
                response = self._process(bytes(apdu))
            except Exception as exc:  # the card must answer whatever happens inside
                # Only the type: an exception's text could carry card data.
                logger.error("software card internal error: %s", type(exc).__name__)
                response = SW_INTERNAL.to_bytes(2, "big")
            try:
                self._tracer.exchange(bytes(apdu), response[:-2], int.from_bytes(response[-2:]))
            except Exception:  # a broken log handler must not break the card
                logger.debug("APDU trace failed")
            return response

    def _process(self, apdu: bytes) -> bytes:
        if not self._powered:
            logger.warning("command sent to a software card that is not powered")
            return SW_INTERNAL.to_bytes(2, "big")
        try:
            command, extended = decode_command(apdu)
        except (MalformedApduError, ValueError):
            return SW_WRONG_LENGTH.to_bytes(2, "big")
        return self._framer.exchange(command, extended)

    # --- for tests and tools --------------------------------------------------------

    def pin_remaining(self, kind: PinKind) -> int:
        return self._state.security.pins[kind].tries_left

    def pin_is_set(self, kind: PinKind) -> bool:
        return self._state.security.pins[kind].is_set

    @property
    def has_issuer_key(self) -> bool:
        return self._state.issuer_key is not None

    def _certificate(self, fid: int) -> bytes:
        applet = self._state.filesystem.applet(Aid.JPKI.value)
        ef = applet.files.get(fid) if applet else None
        if not isinstance(ef, BinaryFile):
            raise LookupError(f"no certificate EF {fid:04X} on this card")
        try:
            size = encoded_size(ef.data[:8])
        except TlvError:
            size = None
        if size is None or size > len(ef.data):
            raise LookupError(f"EF {fid:04X} does not hold a DER object")
        return ef.data[:size]

    @property
    def auth_certificate(self) -> bytes:
        return self._certificate(JpkiFile.AUTH_CERT)

    @property
    def sign_certificate(self) -> bytes:
        return self._certificate(JpkiFile.SIGN_CERT)

    @property
    def auth_ca_certificate(self) -> bytes:
        return self._certificate(JpkiFile.AUTH_CA_CERT)

    @property
    def sign_ca_certificate(self) -> bytes:
        return self._certificate(JpkiFile.SIGN_CA_CERT)

    def public_key(self, kind: KeyName) -> rsa.RSAPublicKey:
        return self._state.security.keys.public_key(kind)

    @property
    def integrity_public_key(self) -> rsa.RSAPublicKey:
        """Public key that signed the card-info integrity record (EF 0003, DF33): the key
        the card-info EF 0004 CV certificate certifies. Tests take it from here."""
        key = serialization.load_der_public_key(self._state.integrity_public_key)
        if not isinstance(key, rsa.RSAPublicKey):
            raise TypeError("integrity key is not RSA")
        return key

    # --- persistence ----------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the card's memory (files, keys, PIN hashes, counters, options) to
        `path`: atomic, mode 0600. The file contains the private keys in clear."""
        with self._lock:
            write_state(Path(path), encode_state(self._state))

    @classmethod
    def load(cls, path: Path) -> SoftwareCard:
        """Read a card saved by `save`. Raises CardStateError for a bad file."""
        return cls(read_state(Path(path)))

    def to_bytes(self) -> bytes:
        """The state file's bytes (for copying a card in memory)."""
        with self._lock:
            return encode_state(self._state)

    @classmethod
    def from_bytes(cls, raw: bytes) -> SoftwareCard:
        return cls(decode_state(raw))

    def copy(
        self,
        *,
        t0: bool | None = None,
        reselect_clears_pins: bool | None = None,
        options: CardOptions | None = None,
    ) -> SoftwareCard:
        """An independent card with the same memory (same keys: a clone, for tests),
        powered up fresh, optionally with other options. Files and PIN records are
        duplicated; the key objects are immutable and shared, which keeps this fast
        (no re-parsing of the keys)."""
        with self._lock:
            source = self._state
            filesystem = FileSystem()
            for applet in source.filesystem.applets.values():
                clone = Applet(applet.aid, applet.label, default_key=applet.default_key)
                for ef in applet.files.values():
                    clone.add(dataclasses.replace(ef))
                filesystem.add(clone)
            pins = {
                kind: dataclasses.replace(record, kdf=dict(record.kdf))
                for kind, record in source.security.pins.items()
            }
            new_options = options or source.options
            if reselect_clears_pins is not None:
                new_options = dataclasses.replace(
                    new_options, reselect_clears_pins=reselect_clears_pins
                )
            state = CardState(
                persona_id=source.persona_id,
                filesystem=filesystem,
                # Its own key store: an ACTIVATE on the copy must not change this card.
                security=SecurityState(pins, source.security.keys.copy()),
                options=new_options,
                t0=source.t0 if t0 is None else t0,
                integrity_public_key=source.integrity_public_key,
                mf_objects=dict(source.mf_objects),
                issuer_key=source.issuer_key,
            )
        return type(self)(state)
