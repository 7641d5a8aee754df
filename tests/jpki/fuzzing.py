"""Hypothesis strategies shared by the validation fuzz tests: random bytes and
mutations (flip, overwrite, insert, delete, truncate) of a valid DER object."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Deterministic in CI (a shared pipeline must not fail by chance); set
# MYNATERM_FUZZ_RANDOM=1 (and raise MYNATERM_FUZZ_EXAMPLES) to explore new inputs.
FUZZ_SETTINGS = settings(
    max_examples=int(os.environ.get("MYNATERM_FUZZ_EXAMPLES", "300")),
    deadline=None,
    derandomize=not os.environ.get("MYNATERM_FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 4))]
        else:
            del data[i:]
    out = bytes(data)
    return out if out != original else original + b"\x00"


def garbage() -> st.SearchStrategy[bytes]:
    """Random bytes, half of them starting like a DER SEQUENCE to get past the first check."""
    return st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=300).map(lambda b: b"\x30" + bytes([min(len(b), 127)]) + b),
        st.binary(max_size=300).map(lambda b: b"\x30\x82" + len(b).to_bytes(2, "big") + b),
    )
