"""The counter/kiosk terminal: service, CLI, web pages, linkage registry, audit trail."""
