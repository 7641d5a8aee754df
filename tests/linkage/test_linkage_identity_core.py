"""The symbol core's resident register (issue 10): resident-code check digits, unknown
codes refused, identity matching per field with the normalisation real data needs, and
the relay that replaced translation: the portal cannot obtain another agency's symbol by
any route of the core's API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from linkage_helpers import TERMINAL_AGENCY, TOKENS, core_config

from jpki.mynumber import check_digit as my_number_check_digit
from simulators.core import (
    BadResidentCodeCheckDigit,
    CoreConfigError,
    Forbidden,
    IdentityClaim,
    InvalidResidentCode,
    RelayRefused,
    ResidentRegister,
    SymbolCore,
    UnknownResident,
    UnknownSymbol,
    Verdict,
)
from simulators.core.app import create_core_app
from simulators.core.errors import BadRequest
from simulators.core.resident_code import check_digit, check_resident_code, complete
from simulators.personas import Persona


def _claim(persona: Persona, **changes: Any) -> IdentityClaim:
    facts: dict[str, Any] = {
        "name": persona.name,
        "birth_date": persona.birth_date.strftime("%Y%m%d"),
        "sex": persona.sex,
        "address": persona.address,
        "my_number": None,
    }
    facts.update(changes)
    return IdentityClaim(**facts)


def test_check_digit_table() -> None:
    # Worked by hand: weights 5,4,3,2,7,6,5,4,3,2 left to right; 11 - (sum mod 11), and
    # 0 for a remainder of 0 or 1.
    assert check_digit("1000000001") == 4
    assert check_digit("1000000009") == 0  # remainder 1
    # 1234567890: 5+8+9+8+35+36+35+32+27+0 = 195 = 17*11 + 8 -> 11 - 8 = 3
    assert check_digit("1234567890") == 3
    assert check_digit("0000000000") == 0
    assert complete("1000000002") == "10000000022"


@settings(max_examples=200, derandomize=True, database=None)
@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_same_shape_as_the_my_number_check_digit(first_ten: str) -> None:
    # The My Number's weights on its 11 digits end with this code's 10 weights, so a
    # leading zero makes the two formulas agree (the published My Number example
    # 123456789018 is covered by tests/jpki).
    assert check_digit(first_ten) == my_number_check_digit("0" + first_ten)
    code = complete(first_ten)
    assert check_resident_code(code) == code
    wrong = code[:10] + str((int(code[10]) + 1) % 10)
    with pytest.raises(BadResidentCodeCheckDigit):
        check_resident_code(wrong)


def test_every_persona_code_is_valid(personas: list[Persona]) -> None:
    for persona in personas:
        assert check_resident_code(persona.resident_code) == persona.resident_code
    assert len({p.resident_code for p in personas}) == len(personas)


def test_malformed_codes_are_a_different_error_from_a_bad_check_digit() -> None:
    for bad in ("1000000001", "100000000144", "1000000001X", "１００００００００１４", 10000000014):
        with pytest.raises(InvalidResidentCode) as caught:
            check_resident_code(bad)
        assert caught.value.code == "INVALID_RESIDENT_CODE"
    with pytest.raises(BadResidentCodeCheckDigit) as wrong:
        check_resident_code("10000000015")
    assert wrong.value.code == "RESIDENT_CODE_CHECK_DIGIT"


def test_register_refuses_codes_not_on_it(core: SymbolCore, personas: list[Persona]) -> None:
    assert len(core.register) == len(personas)
    nobody = complete("1000000099")
    with pytest.raises(UnknownResident) as unknown:
        core.person_symbols(nobody, ["portal"], caller=TERMINAL_AGENCY)
    assert unknown.value.code == "UNKNOWN_RESIDENT"
    with pytest.raises(BadResidentCodeCheckDigit):
        core.person_symbols("10000000099", ["portal"], caller=TERMINAL_AGENCY)
    with pytest.raises(UnknownResident):
        core.match_identity(_claim(personas[0]), caller=TERMINAL_AGENCY, resident_code=nobody)
    # Nothing was minted for the refused codes: the index stays empty.
    assert core._db.execute("SELECT count(*) FROM agency_symbols").fetchone() == (0,)


def test_register_loads_extra_residents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, personas: list[Persona]
) -> None:
    extra = tmp_path / "residents.toml"
    code = complete("2000000001")
    extra.write_text(
        f'[[resident]]\nresident_code = "{code}"\nname = "試験　一郎"\n'
        'birth_date = "1990-01-01"\nsex = "1"\naddress = "東京都千代田区永田町1番"\n'
        'my_number = "111111111118"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MYNATERM_CORE_RESIDENTS", str(extra))
    register = ResidentRegister.from_personas()
    assert code in register.codes() and len(register) == len(personas) + 1
    extra.write_text(extra.read_text().replace(code, code[:10] + "0"), encoding="utf-8")
    if code[10] != "0":
        with pytest.raises(CoreConfigError):
            ResidentRegister.from_personas()


def test_match_per_field_and_never_a_fact(core: SymbolCore, personas: list[Persona]) -> None:
    taro, hanako = personas[0], personas[1]
    same = core.match_identity(
        _claim(taro), caller=TERMINAL_AGENCY, resident_code=taro.resident_code
    )
    assert same == {
        "name": Verdict.MATCH,
        "birth_date": Verdict.MATCH,
        "sex": Verdict.MATCH,
        "address": Verdict.MATCH,
        "my_number": Verdict.NOT_GIVEN,
    }
    other = core.match_identity(
        _claim(hanako, my_number=hanako.my_number.reveal()),
        caller=TERMINAL_AGENCY,
        resident_code=taro.resident_code,
    )
    assert set(other.values()) == {Verdict.MISMATCH}
    assert all(isinstance(v, Verdict) for v in other.values())  # verdicts, no values
    moved = core.match_identity(
        _claim(taro, address="東京都千代田区永田町一丁目7番1号", my_number=taro.my_number.reveal()),
        caller=TERMINAL_AGENCY,
        resident_code=taro.resident_code,
    )
    assert moved["address"] == Verdict.MISMATCH and moved["my_number"] == Verdict.MATCH
    assert moved["name"] == Verdict.MATCH


def test_match_normalises_what_real_data_varies_in(
    core: SymbolCore, personas: list[Persona]
) -> None:
    taro = personas[0]  # 山田　太郎, 東京都千代田区霞が関二丁目1番2号, 1985-04-12, 1
    variants = _claim(
        taro,
        name="山田 太郎",  # U+0020 for U+3000
        address="東京都千代田区霞が関二丁目１番２号",  # full-width digits
        birth_date="1985-04-12",
        my_number=" ".join([taro.my_number.reveal()[:4], taro.my_number.reveal()[4:]]),
    )
    verdict = core.match_identity(
        variants, caller=TERMINAL_AGENCY, resident_code=taro.resident_code
    )
    assert set(verdict.values()) == {Verdict.MATCH}
    dashed = _claim(taro, address="東京都千代田区霞が関二丁目1−2")  # not the same address
    assert (
        core.match_identity(dashed, caller=TERMINAL_AGENCY, resident_code=taro.resident_code)[
            "address"
        ]
        == Verdict.MISMATCH
    )
    aoi = personas[2]  # sex 9 on the register; the certificate profile says 3
    cert_style = _claim(aoi, sex="3")
    assert (
        core.match_identity(cert_style, caller=TERMINAL_AGENCY, resident_code=aoi.resident_code)[
            "sex"
        ]
        == Verdict.MATCH
    )
    kenichi = personas[3]  # 髙橋: a variant character is not its common form
    common_form = _claim(kenichi, name=kenichi.name.replace("髙", "高"))
    assert (
        core.match_identity(
            common_form, caller=TERMINAL_AGENCY, resident_code=kenichi.resident_code
        )["name"]
        == Verdict.MISMATCH
    )


def test_match_by_the_callers_own_symbol(core: SymbolCore, personas: list[Persona]) -> None:
    taro, hanako = personas[0], personas[1]
    symbols = core.person_symbols(taro.resident_code, ["portal"], caller=TERMINAL_AGENCY)
    own = symbols[TERMINAL_AGENCY]
    assert set(
        core.match_identity(_claim(taro), caller=TERMINAL_AGENCY, agency_symbol=own).values()
    ) == {Verdict.MATCH, Verdict.NOT_GIVEN}
    assert (
        core.match_identity(_claim(hanako), caller=TERMINAL_AGENCY, agency_symbol=own)["name"]
        == Verdict.MISMATCH
    )
    with pytest.raises(UnknownSymbol):  # the portal's symbol is not the caller's own
        core.match_identity(_claim(taro), caller=TERMINAL_AGENCY, agency_symbol=symbols["portal"])
    with pytest.raises(BadRequest):
        core.match_identity(
            _claim(taro),
            caller=TERMINAL_AGENCY,
            resident_code=taro.resident_code,
            agency_symbol=own,
        )
    with pytest.raises(BadRequest):  # the basic 4 facts are all needed for a decision
        core.match_identity(
            IdentityClaim(name=taro.name), caller=TERMINAL_AGENCY, resident_code=taro.resident_code
        )
    for agency in ("portal", "tax"):  # only municipalities match identities
        with pytest.raises(Forbidden):
            core.match_identity(_claim(taro), caller=agency, resident_code=taro.resident_code)


def test_relay_translates_inside_the_core(core: SymbolCore, personas: list[Persona]) -> None:
    taro = personas[0]
    symbols = core.person_symbols(taro.resident_code, ["portal"], caller=TERMINAL_AGENCY)
    tax_symbol = core._deriver.agency_symbol(
        core._deriver.linkage_symbol(taro.resident_code), "tax"
    )
    received: list[tuple[str, dict[str, Any]]] = []

    def tax_office(symbol: str, request: Any) -> dict[str, Any]:
        received.append((symbol, dict(request)))
        return {"item": request.get("item"), "status": "filed"}

    core.register_responder("tax", tax_office)
    answer = core.relay(symbols["portal"], "tax", {"item": "income-2025"}, caller="portal")
    assert answer == {"item": "income-2025", "status": "filed"}
    assert received == [(tax_symbol, {"item": "income-2025"})]  # tax got its own symbol
    with pytest.raises(UnknownSymbol):  # an agency asks with its own symbol only
        core.relay(symbols[TERMINAL_AGENCY], "tax", {}, caller="portal")
    with pytest.raises(Forbidden):
        core.relay(symbols["portal"], "portal", {}, caller="portal")
    with pytest.raises(RelayRefused):  # pension takes no relayed requests
        core.relay(symbols["portal"], "pension", {}, caller="portal")

    core.register_responder("tax", lambda symbol, _req: {"echo": symbol})
    with pytest.raises(RelayRefused):  # an answer carrying the tax symbol is not passed on
        core.relay(symbols["portal"], "tax", {}, caller="portal")

    def broken(_symbol: str, _request: Any) -> dict[str, Any]:
        raise RuntimeError("down")

    core.register_responder("tax", broken)
    with pytest.raises(RelayRefused):
        core.relay(symbols["portal"], "tax", {}, caller="portal")


def test_portal_obtains_no_other_agencys_symbol_by_any_route(personas: list[Persona]) -> None:
    """Every route of the core's HTTP API, called as the portal with every shape of
    request the API takes: no answer carries a symbol of another agency."""
    core = SymbolCore(core_config())
    taro = personas[0]
    city = core.person_symbols(taro.resident_code, ["portal"], caller=TERMINAL_AGENCY)
    linkage = core._deriver.linkage_symbol(taro.resident_code)
    foreign = {
        a: core._deriver.agency_symbol(linkage, a) for a in ("tax", "pension", TERMINAL_AGENCY)
    }
    core.register_responder("tax", lambda symbol, request: {"known": True, "n": len(request)})
    portal_symbol = city["portal"]
    client = TestClient(create_core_app(core))
    headers = {"Authorization": f"Bearer {TOKENS['portal']}"}
    facts = {
        "name": taro.name,
        "birth_date": "19850412",
        "sex": "1",
        "address": taro.address,
        "my_number": taro.my_number.reveal(),
    }
    symbol_values = [portal_symbol, *foreign.values(), "X" * 32]
    agencies = ["portal", "tax", "pension", TERMINAL_AGENCY, "police"]
    bodies: dict[str, list[dict[str, Any]]] = {
        "/v1/persons/symbols": [
            {"resident_code": taro.resident_code, "agencies": [a]} for a in agencies
        ],
        "/v1/identity/match": [
            {"identity": facts, "resident_code": taro.resident_code},
            *({"identity": facts, "agency_symbol": s} for s in symbol_values),
        ],
        "/v1/relay": [
            {"symbol": s, "to_agency": a, "request": {"want": "symbol"}}
            for s in symbol_values
            for a in agencies
        ],
        "/v1/translate": [{"from_agency": "portal", "symbol": portal_symbol, "to_agency": "tax"}],
    }
    routes = {getattr(r, "path", "") for r in client.app.routes}  # type: ignore[attr-defined]
    api = {p for p in routes if p.startswith("/v1/")}
    assert api - set(bodies) <= {"/v1/health", "/v1/agencies"}  # a new route must be listed
    texts = [client.get(path, headers=headers).text for path in ("/v1/health", "/v1/agencies")]
    statuses = []
    for path, variants in bodies.items():
        for body in variants:
            response = client.post(path, headers=headers, json=body)
            statuses.append(response.status_code)
            texts.append(response.text)
    assert 200 in statuses  # the relay to tax answered: the scan saw real answers
    for text in texts:
        for agency, symbol in foreign.items():
            assert symbol not in text, f"{agency} symbol reached the portal"
        assert linkage not in text and taro.resident_code not in text
        assert taro.my_number.reveal() not in text and taro.address not in text
    core.close()


def test_register_edits_change_the_verdict(core: SymbolCore, personas: list[Persona]) -> None:
    taro = personas[0]
    new_address = "東京都千代田区永田町一丁目7番1号"
    core.register.update(taro.resident_code, address=new_address)
    assert (
        core.match_identity(_claim(taro), caller=TERMINAL_AGENCY, resident_code=taro.resident_code)[
            "address"
        ]
        == Verdict.MISMATCH
    )
    after = _claim(taro, address=new_address)
    assert (
        core.match_identity(after, caller=TERMINAL_AGENCY, resident_code=taro.resident_code)[
            "address"
        ]
        == Verdict.MATCH
    )
    assert core.register.get(taro.resident_code).birth_date == dt.date(1985, 4, 12)


def test_address_normalisation_forgives_width_and_dashes_only() -> None:
    from simulators.core.register import normalize_address, normalize_name

    assert normalize_address("霞が関2-1-2") == normalize_address("霞が関２－１－２")
    assert normalize_address("霞が関2‐1—2") == normalize_address("霞が関2−1−2")
    assert normalize_address("霞が関　2-1") == normalize_address("霞が関 2-1")
    assert normalize_address("霞が関二丁目") != normalize_address("霞が関2丁目")  # kanji numerals
    assert normalize_address("コーポ") != normalize_address("コ-ポ")  # U+30FC is a letter
    assert normalize_name("山田　太郎") == normalize_name(" 山田  太郎 ")
    assert normalize_name("ヤマダ") != normalize_name("ﾔﾏﾀﾞ")  # names are not width-folded
