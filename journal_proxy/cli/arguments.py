"""Arguments several commands share: here, so the commands do not import one another."""

from __future__ import annotations

import argparse


def add_signing_arguments(p: argparse.ArgumentParser) -> None:
    """``--expires`` and ``--link-keys``, shared by ``url``, ``notify-github`` and ``keep``."""
    p.add_argument("--expires", help="sign the link to stop working after e.g. 30d, 12h, 2w")
    p.add_argument(
        "--link-keys",
        help="file of link keys, first signs (default: $CREDENTIALS_DIRECTORY/link-keys)",
    )
