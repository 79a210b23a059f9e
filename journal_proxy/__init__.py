"""journal-proxy: one systemd invocation's log on the web, behind a capability link.

The packages follow a request's path: ``access`` (checks before any lookup), ``upstream``
(gatewayd), ``journal`` (entries to one ordered log), ``mask``, ``triage``, ``renderers``,
``delivery`` (opening, sharing, caching and keeping a log) and ``web`` (the only reader of a
request); ``service`` runs it under systemd and ``cli`` is the command.  Importing this package
imports nothing else: the core packages never load aiohttp.
"""

__version__ = "0.1.0"
