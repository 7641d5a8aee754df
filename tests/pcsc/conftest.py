"""The PC/SC fixtures live in tests.pcsc.fixtures, registered for the whole suite by
`pytest_plugins` in tests/conftest.py (so the session suites reach
`pcsc_channel_factory` too). Nothing else is needed here."""
