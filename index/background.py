"""The reference text of the "is it in the corpus at all?" decision: sentences no article is about.

``resources/background.txt`` says where its sentences come from; ``index.search`` measures a
question against them.
"""

from __future__ import annotations

from importlib import resources


def background_texts() -> list[str]:
    """Generic sentences on everyday topics, in Dutch and English, that no article is about.

    A question is only worth answering from the corpus when it matches the corpus clearly
    better than it matches this unrelated text (see ``index.search``).
    """
    text = resources.files("index").joinpath("resources/background.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
