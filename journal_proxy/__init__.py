"""journal-proxy: one systemd invocation's log on the web, behind a capability link.

The public surface is small: build the app the CLI runs with :func:`make_app` from checked
:class:`Settings`.  Everything else is an implementation detail, named for its one job.
"""

from .config import settings_from_mapping
from .settings import Settings
from .web import make_app

__all__ = ["Settings", "make_app", "settings_from_mapping"]
__version__ = "0.1.0"
