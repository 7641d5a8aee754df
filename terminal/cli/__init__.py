"""The `mynaterm` command line."""
