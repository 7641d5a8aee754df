"""A terminal in another process, for the fault tests: issues one card and prints the
outcome as JSON. With --ready/--release it pauses inside the transaction (after every
write, before COMMIT): it creates the --ready file, then waits for the --release file.

python linkage_worker.py DB_URL SERIAL RESIDENT_CODE [--ready F --release F] [--request ID]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from linkage_helpers import OPERATOR, SIGN_CA_KID, TOKENS, cert, core_config

from simulators.core.core import SymbolCore
from terminal.db.engine import open_store
from terminal.dev.core_client import InProcessCoreClient
from terminal.linkage import LinkageError, LinkageRegistry, PersonRef
from terminal.linkage.core_client import symbols_for_issuance


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db_url")
    parser.add_argument("serial", type=int)
    parser.add_argument("resident_code")
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--release", type=Path)
    parser.add_argument("--request")
    parser.add_argument("--started", type=Path, help="touched just before the issuance")
    args = parser.parse_args()

    def pause(_operation: str) -> None:
        if args.ready is None or args.release is None:
            return
        args.ready.touch()
        deadline = time.monotonic() + 60
        while not args.release.exists():
            if time.monotonic() > deadline:
                raise SystemExit("worker: never released")
            time.sleep(0.02)

    store = open_store(args.db_url)
    core = SymbolCore(core_config())
    client = InProcessCoreClient(core, TOKENS["city-13101"])
    registry = LinkageRegistry(store, before_commit=pause)
    symbols = symbols_for_issuance(client, args.resident_code)
    if args.started is not None:
        args.started.touch()
    try:
        result = registry.issue(
            PersonRef(),
            cert(args.serial),
            cert(args.serial + 1, SIGN_CA_KID),
            symbols,
            OPERATOR,
            request_id=args.request,
        )
    except LinkageError as exc:
        print(json.dumps({"ok": False, "code": exc.code}))
        return 3
    except Exception as exc:  # report the typed code of store errors too
        print(json.dumps({"ok": False, "code": getattr(exc, "code", type(exc).__name__)}))
        return 4
    print(json.dumps({"ok": True, "integrated_number": result.integrated_number}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
