"""The dev wing: everything that exists only for the software card, the test PKI and
the in-process symbol core. The product (the rest of terminal/) never imports
simulators/; it reaches them only through this package, plugged in from outside:

- service: `create_app(settings, extensions=[DevWing()])` with
  `from terminal.dev.wing import DevWing`;
- local wiring: terminal.dev.local (test PKI validator, in-process core client);
- software readers: terminal.dev.slots; simulator routes: terminal.dev.routes;
- in-process core client: terminal.dev.core_client; the demo: terminal.dev.demo;
- CLI: terminal.dev.cli (emulator, pki, pcsc-stack, demo, core serve, `--card FILE`).

This package imports nothing on purpose: the CLI reaches terminal.dev.local without
pulling in FastAPI."""
