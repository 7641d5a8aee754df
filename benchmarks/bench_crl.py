"""CRL benchmark: a 1,000,000-entry partition CRL, cryptography vs jpki.validation.

Run: .venv/bin/python benchmarks/bench_crl.py [--entries N]
The generated CRL (and its CA) is cached under /tmp/mynaterm-bench-crl/.
Goals: lookup <= 5 us; verify + index no slower than cryptography's is_signature_valid
alone; index <= 16 bytes per entry."""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crlgen import generate_crl, make_ca, make_serials
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jpki.validation.crlcolumns import parse_entries_columns
from jpki.validation.crlindex import CrlIndex, CrlInfo
from jpki.validation.crlparse import parse_entries_packed, split_crl
from jpki.validation.crlstore import CrlStore
from jpki.validation.signatures import signature_valid
from jpki.validation.trust import TrustStore

T = TypeVar("T")
KEY_ID: list[bytes] = []  # the CA key id, set once the CRL is loaded
CACHE = Path(tempfile.gettempdir()) / "mynaterm-bench-crl"
PARTITION = x509.Name(
    [
        x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(x509.NameOID.ORGANIZATIONAL_UNIT_NAME, "CRL Distribution Points"),
        x509.NameAttribute(x509.NameOID.COMMON_NAME, "Bench-shi CRLDP"),
    ]
)


def fixture(entries: int) -> tuple[bytes, x509.Certificate, list[int]]:
    CACHE.mkdir(exist_ok=True)
    crl_path, ca_path, key_path = (CACHE / f"crl-{entries}.der", CACHE / "ca.der", CACHE / "ca.key")
    serials = make_serials(entries, random.Random(7))  # noqa: S311 - test data
    if not ca_path.exists() or not key_path.exists():
        cert, key = make_ca()
        ca_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        crl_path.unlink(missing_ok=True)
    cert = x509.load_der_x509_certificate(ca_path.read_bytes())
    if not crl_path.exists():
        signer = serialization.load_pem_private_key(key_path.read_bytes(), None)
        assert isinstance(signer, rsa.RSAPrivateKey)
        started = time.perf_counter()
        crl_path.write_bytes(generate_crl(cert, signer, PARTITION, serials))
        print(f"generated {entries} entries in {time.perf_counter() - started:.1f} s -> {crl_path}")
    return crl_path.read_bytes(), cert, serials


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """CPU seconds of this process (steadier than wall time on a shared machine; both
    sides are single-threaded) and the value."""
    started = time.process_time()
    value = fn()
    return time.process_time() - started, value


def median_us(fn: Callable[[int], object], probes: list[int]) -> float:
    samples = []
    for probe in probes:
        started = time.perf_counter_ns()
        fn(probe)
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


def verify_only(crl: bytes, ca: x509.Certificate) -> bool:
    """What CrlStore.load does before it walks the entries: split the DER, parse the
    header, verify the signature over the raw TBS bytes."""
    raw = split_crl(crl)
    header = x509.load_der_x509_crl(raw.header_only())
    return signature_valid(
        ca.public_key(),
        raw.signature,
        cast(bytes, raw.tbs_bytes),
        header.signature_hash_algorithm,
        header.signature_algorithm_parameters,
    )


def walk_and_index(crl: bytes, columnar: bool) -> CrlIndex:
    """The entry walk and index build alone: the columnar walker the store uses, or the
    general per-entry walker with a sort of packed ints (the build before numpy)."""
    raw = split_crl(crl)
    assert raw.revoked is not None
    info = CrlInfo("bench", "bench", "00", 1, datetime.now(UTC), datetime.now(UTC), 0, "0")
    gc.disable()  # as CrlStore._build does
    try:
        if columnar:
            return CrlIndex.build_columns(
                info, parse_entries_columns(raw.data, *raw.revoked, 5_000_000)
            )
        return CrlIndex.build_packed(info, parse_entries_packed(raw.data, *raw.revoked, 5_000_000))
    finally:
        gc.enable()


def numpy_import_seconds() -> float:
    """CPU seconds a fresh process spends importing numpy: the first CRL load in a
    process pays it once (jpki.validation itself does not import numpy)."""
    code = "import time; t = time.process_time(); import numpy; print(time.process_time() - t)"
    return float(
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    )


def lib_lookup(crl: x509.CertificateRevocationList, serial: int) -> float:
    return timed(lambda: crl.get_revoked_certificate_by_serial_number(serial))[0]


def store_lookup(store: CrlStore, serial: int) -> object:
    return store.lookup(PARTITION, serial, issuer_key_id=KEY_ID[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--lib-samples", type=int, default=3)
    args = parser.parse_args()
    crl, ca, serials = fixture(args.entries)
    trust = TrustStore([ca.public_bytes(serialization.Encoding.DER)])
    rng = random.Random(3)  # noqa: S311 - sampling, not secrets
    held = set(serials)
    hits = rng.sample(serials, 2000)
    misses = [s for s in (rng.getrandbits(32) for _ in range(4000)) if s not in held][:2000]
    print(f"CRL: {len(crl) / 1e6:.1f} MB, {args.entries} entries")

    # --- cryptography ---
    t_load, lib_crl = timed(lambda: x509.load_der_x509_crl(crl))
    ca_key = ca.public_key()
    assert isinstance(ca_key, rsa.RSAPublicKey)  # crlgen makes RSA CAs
    t_sig, ok = timed(partial(lib_crl.is_signature_valid, ca_key))
    assert ok is True
    n = args.lib_samples
    t_hit = statistics.median(lib_lookup(lib_crl, s) for s in hits[:n])
    t_miss = statistics.median(lib_lookup(lib_crl, s) for s in misses[:n])
    del lib_crl
    gc.collect()

    # --- ours ---
    t_verify, verified = timed(partial(verify_only, crl, ca))
    assert verified
    t_general, general = timed(partial(walk_and_index, crl, False))
    del general
    gc.collect()
    t_columnar, columnar = timed(partial(walk_and_index, crl, True))
    del columnar
    gc.collect()
    with tempfile.TemporaryDirectory() as tmp:
        index_key = b"benchmark-crl-index-key-0123456789"
        store = CrlStore(tmp, index_key=index_key)
        t_ours, info = timed(partial(store.load, crl, trust, partition=PARTITION))
        index = store.index(PARTITION)
        KEY_ID.append(bytes.fromhex(info.issuer_key_id))
        assert all(index.find(s) is not None for s in hits[:200])
        assert all(index.find(s) is None for s in misses[:200])
        o_hit = median_us(index.find, hits)
        o_miss = median_us(index.find, misses)
        o_store_hit = median_us(partial(store_lookup, store), hits)
        t_restart, restarted = timed(lambda: CrlStore(tmp, index_key=index_key).index(PARTITION))
        assert restarted.find(hits[0]) is not None
        # No key configured: the index proves nothing, the signed CRL is verified again.
        t_rebuild, rebuilt = timed(lambda: CrlStore(tmp, trust=trust).index(PARTITION))
        assert rebuilt.find(hits[0]) is not None
        del rebuilt
        per_entry = index.nbytes / max(1, len(index))
        file_bytes = sum(p.stat().st_size for p in Path(tmp).glob("*.crlidx"))
        del store, index, restarted
        gc.collect()
        tracemalloc.start()
        CrlStore(None).load(crl, trust, partition=PARTITION)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    rows = [
        ("load CRL (parse)", f"{t_load * 1e3:9.1f} ms", "", ""),
        ("is_signature_valid", f"{t_sig * 1e3:9.1f} ms", "", ""),
        (
            "verify signature (raw TBS)",
            "",
            f"{t_verify * 1e3:9.1f} ms",
            f"{t_sig / t_verify:.1f}x faster than is_signature_valid",
        ),
        ("walk + index: general walker", "", f"{t_general * 1e3:9.1f} ms", "per-entry Python"),
        (
            "walk + index: columnar walker",
            "",
            f"{t_columnar * 1e3:9.1f} ms",
            f"{t_general / t_columnar:.1f}x faster than the general walker",
        ),
        (
            "verify + parse + index + persist",
            "",
            f"{t_ours * 1e3:9.1f} ms",
            f"{t_ours / t_sig:.2f}x of is_signature_valid",
        ),
        (
            "  + numpy import, first load only",
            "",
            f"{numpy_import_seconds() * 1e3:9.1f} ms",
            "once per process",
        ),
        (
            "lookup hit",
            f"{t_hit * 1e6:9.0f} us",
            f"{o_hit:9.2f} us",
            f"{t_hit * 1e6 / o_hit:,.0f}x faster",
        ),
        (
            "lookup miss",
            f"{t_miss * 1e6:9.0f} us",
            f"{o_miss:9.2f} us",
            f"{t_miss * 1e6 / o_miss:,.0f}x faster",
        ),
        ("store.lookup hit (with freshness)", "", f"{o_store_hit:9.2f} us", ""),
        (
            "restart from persisted index (MAC key)",
            f"{(t_load + t_sig) * 1e3:9.1f} ms",
            f"{t_restart * 1e3:9.1f} ms",
            f"{(t_load + t_sig) / t_restart:.0f}x faster",
        ),
        (
            "restart, no key: re-verify + rebuild",
            f"{(t_load + t_sig) * 1e3:9.1f} ms",
            f"{t_rebuild * 1e3:9.1f} ms",
            f"{(t_load + t_sig) / t_rebuild:.1f}x faster",
        ),
        ("index bytes per entry", "", f"{per_entry:9.2f} B", f"file {file_bytes / 1e6:.1f} MB"),
        (
            "tracemalloc peak during load",
            "",
            f"{peak / 1e6:9.1f} MB",
            f"{peak / args.entries:.0f} B/entry transient",
        ),
    ]
    print("\nbuild and restart times are CPU seconds; lookups are wall-clock medians")
    print(f"\n{'step':36} {'cryptography':>14} {'jpki.validation':>16}  ratio")
    for name, lib, ours, ratio in rows:
        print(f"{name:36} {lib:>14} {ours:>16}  {ratio}")
    print(
        f"\ngoals: lookup <= 5 us: {'met' if max(o_hit, o_miss) <= 5 else 'NOT met'}; "
        f"verify+index <= is_signature_valid: {'met' if t_ours <= t_sig else 'NOT met'}; "
        f"index <= 16 B/entry: {'met' if per_entry <= 16 else 'NOT met'}"
    )
    print(f"CRL #{info.crl_number}, partition {info.partition}")


if __name__ == "__main__":
    main()
