"""The ``journal-proxy`` command."""
