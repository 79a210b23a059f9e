"""The web layer: the only code that reads a request or builds a response.

``app.py`` builds the application (state, contexts, routes); ``routes.py`` has the handlers;
``formats.py`` picks a renderer for a request; ``streaming.py`` writes any log with one loop;
``responses.py`` is where errors become statuses and where every answer gets its headers.
Everything these call takes plain values.
"""

from journal_proxy.web.app import make_app

__all__ = ["make_app"]
