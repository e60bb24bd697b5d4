"""The one base of the engine's own errors, so that a caller can catch them all at once.

Each error stays in the module that raises it (``CorpusError`` in ``index.documents``,
``ModelError`` in ``index.encoders`` and so on) with its message safe to show a user; some keep
a second base (``ValueError``, ``RuntimeError``) that callers relied on before.
"""

from __future__ import annotations


class EngineError(Exception):
    """An error the engine raises on purpose, its message saying what went wrong in one line."""
