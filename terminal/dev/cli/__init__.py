"""The dev wing's CLI: `emulator`, `pki`, `pcsc-stack`, `core serve`, `demo`, and the
`--card FILE` software card (card_file). Registered by terminal.cli.main."""
