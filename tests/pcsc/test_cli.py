"""`mynaterm readers`, `watch`, `emulator serve`, `pcsc-stack status` against the real
pcscd with software cards in vpcd readers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from card.errors import InvalidPinError
from card.pcsc import open_reader, wait_for_reader
from card.protocol import CardChannel
from jpki.constants import MYNUMBER_CARD_ATR, PinKind
from jpki.jpki_ap import JpkiSession
from simulators.card import SoftwareCard
from simulators.pcsc_stack import PcscStack
from terminal.cli.main import app
from terminal.codes import exit_code
from tests.pcsc.fixtures import JPKI_AID, FakeCard, ReaderPool, SharedReader

pytestmark = [pytest.mark.pcsc, pytest.mark.timeout(60)]

runner = CliRunner()


def test_readers_json_tells_the_mynumber_card_by_select(
    pcsc_stack: PcscStack,
    reader_pool: ReaderPool,
    software_card: SoftwareCard,
    first_reader: SharedReader,
) -> None:
    first_reader.swap(FakeCard(atr=MYNUMBER_CARD_ATR))  # the right ATR, but no JPKI applet
    plugged = reader_pool.plug(software_card)
    busy = reader_pool.plug(FakeCard(applet=JPKI_AID))
    with open_reader(busy.reader, shared=True):  # another program uses this card
        result = runner.invoke(app, ["readers", "--json"])
    assert result.exit_code == 0, result.output
    entries = {entry["name"]: entry for entry in json.loads(result.stdout)["readers"]}
    assert list(entries) == [r.name for r in pcsc_stack.readers]
    mine = entries[plugged.reader]
    assert mine["card_present"] is True
    assert mine["atr"] == software_card.atr.hex().upper()
    assert mine["is_mynumber_card"] is True
    assert mine["in_use"] is False
    # Asking would disturb the other program (our SELECT ends its PIN state): not asked.
    assert entries[busy.reader]["in_use"] is True
    assert entries[busy.reader]["is_mynumber_card"] is None
    assert busy.bridge.apdu_count == 0
    first = entries[first_reader.reader]
    assert first["card_present"] is True and first["is_mynumber_card"] is False
    empty = entries[pcsc_stack.readers[-1].name]
    assert empty == {
        **empty,
        "card_present": False,
        "atr": None,
        "is_mynumber_card": None,
        "in_use": False,
    }


def test_watch_json_prints_one_event_per_line(
    pcsc_stack: PcscStack, reader_pool: ReaderPool, software_card: SoftwareCard
) -> None:
    plugged = reader_pool.plug(software_card)
    result = runner.invoke(app, ["watch", "--json", "--timeout", "0.5"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    attached = [e["reader"] for e in events if e["event"] == "reader_attached"]
    assert attached == [r.name for r in pcsc_stack.readers]
    inserted = [e for e in events if e["event"] == "card_inserted"]
    assert {"reader": plugged.reader, "is_mynumber_card": True}.items() <= next(
        e for e in inserted if e["reader"] == plugged.reader
    ).items()


def test_emulator_serve_plugs_the_card_and_saves_its_counters(
    pcsc_stack: PcscStack, software_card: SoftwareCard, tmp_path: Path
) -> None:
    card_file = tmp_path / "card.state"
    software_card.save(card_file)
    reader = pcsc_stack.readers[-1]
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mynaterm"),
            "emulator",
            "serve",
            "--card",
            str(card_file),
            "--port",
            str(reader.port),
            "--timeout",
            "3",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for_reader(reader.name, present=True, timeout=5)
        result = runner.invoke(app, ["--reader", reader.name, "pin", "status", "--json"])
        assert result.exit_code == 0, result.output
        # The card's own counters read through the emulator ("3" somewhere in the output
        # would match any of them, or a port number).
        pins = {r["pin"]: r["remaining"] for r in json.loads(result.stdout)["pins"]}
        assert pins == {"auth": 3, "sign": 5, "cardinfo": 3}
        channel = CardChannel(open_reader(reader.name))
        try:
            with pytest.raises(InvalidPinError) as wrong:
                JpkiSession(channel).verify_pin(PinKind.AUTH, "0000")
            assert wrong.value.remaining == 2
        finally:
            channel.connection.close()  # type: ignore[attr-defined]
        out, err = server.communicate(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, err
    first, _, rest = out.partition("\n")
    assert json.loads(first) == {"serving": [{"card": str(card_file), "port": reader.port}]}
    summary = json.loads(rest)
    assert summary["saved"] == [str(card_file)]
    assert summary["apdus"][0] >= 4  # SELECT, PIN status, SELECT EF, VERIFY at least
    assert SoftwareCard.load(card_file).pin_remaining(PinKind.AUTH) == 2
    assert wait_for_reader(reader.name, present=False, timeout=5)


def test_serve_without_vpcd_fails_clearly(tmp_path: Path, software_card: SoftwareCard) -> None:
    card_file = tmp_path / "card.state"
    software_card.save(card_file)
    result = runner.invoke(
        app, ["emulator", "serve", "--card", str(card_file), "--port", "1", "--json"]
    )
    assert result.exit_code == exit_code("PCSC_UNAVAILABLE")
    assert "pcsc-stack up" in json.loads(result.stdout)["error"]["message"]


def test_pcsc_stack_status_and_up_refuses_a_second_pcscd(
    pcsc_stack: PcscStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYNATERM_HOME", str(tmp_path))
    status = runner.invoke(app, ["pcsc-stack", "status", "--json"])
    assert status.exit_code == 0, status.output
    payload = json.loads(status.stdout)
    assert payload["running"] is True and payload["pid"] == pcsc_stack.pid
    assert payload["started_by_pcsc_stack_up"] is False
    assert [r["name"] for r in payload["readers"]] == [r.name for r in pcsc_stack.readers]
    up = runner.invoke(app, ["pcsc-stack", "up", "--json"])
    assert up.exit_code == exit_code("PCSC_STACK")
    assert (
        "one pcscd per machine" in json.loads(up.stdout)["error"]["message"]
        or "holds" in json.loads(up.stdout)["error"]["message"]
    )
    down = runner.invoke(app, ["pcsc-stack", "down", "--json"])
    assert down.exit_code == exit_code("PCSC_STACK")
    assert f"kill {pcsc_stack.pid}" in json.loads(down.stdout)["error"]["message"]


def test_human_output_of_readers_and_watch(
    pcsc_stack: PcscStack, reader_pool: ReaderPool, software_card: SoftwareCard
) -> None:
    plugged = reader_pool.plug(software_card)
    table = runner.invoke(app, ["readers"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    row = next(line for line in table.stdout.splitlines() if plugged.reader in line)
    assert "present" in row and software_card.atr.hex().upper() in row and "yes" in row
    events = runner.invoke(
        app, ["watch", "--timeout", "0.3", "--no-identify"], env={"COLUMNS": "200"}
    )
    assert events.exit_code == 0, events.output
    assert f"card_inserted  {plugged.reader}  ATR {software_card.atr.hex().upper()}" in (
        events.stdout
    )
    assert "My Number card" not in events.stdout  # --no-identify: nothing was selected


def test_a_card_command_leaves_no_verified_pin_behind(
    reader_pool: ReaderPool, software_card: SoftwareCard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real cards keep a VERIFY until power-down, across disconnects (real-card-notes
    §0): after `pin verify` the CLI logs the card out, so the next program that gets
    the reader cannot sign with the auth key without the PIN."""
    plugged = reader_pool.plug(software_card)
    monkeypatch.setenv("MYNATERM_PIN", "1234")
    result = runner.invoke(app, ["--reader", plugged.reader, "pin", "verify", "auth"])
    assert result.exit_code == 0, result.output
    select_jpki = bytes.fromhex("00A4040C0AD392F000260100000001")
    assert software_card.process(select_jpki)[-2:] == b"\x90\x00"
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + bytes(32)
    sign = bytes([0x80, 0x2A, 0x00, 0x97, len(digest_info)]) + digest_info + b"\x00"
    assert software_card.process(sign)[-2:] == b"\x69\x82"
