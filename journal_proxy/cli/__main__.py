"""``python -m journal_proxy.cli``: the ``journal-proxy`` command."""

import sys

from journal_proxy.cli.main import main

sys.exit(main())
