"""Telegram HTML replies: answers, help and sources, escaped and split under the message limit.

Everything taken from documents or users goes through ``html.escape``; the only tags are the
ones written here (``b``, ``i``, ``code``), always closed within the same message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from telegram import LinkPreviewOptions, Update

from bot.core.texts import Language, language, not_searched, text
from index import Document, Passage, QuestionError
from index.documents import split_sentences

# A passage's title links to its article: no page preview under an answer.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
MESSAGE_LIMIT = 4096  # Telegram's limit for one text message, in UTF-16 code units
ELLIPSIS = "\u2026"  # marks where an excerpt of a passage too long for one message was cut
CONTEXT_CHARS = 300  # the longest "About: ..." line shown above an answer taken in context

_SPACE = re.compile(r"\s")


def lang(update: Update) -> Language:
    """The language to answer ``update`` in."""
    return language(update.effective_user)


def size(message: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); markup counted too, to stay safe."""
    return len(message.encode("utf-16-le")) // 2


def escape(value: str) -> str:
    """``value`` safe to put into an HTML message: ``<``, ``>`` and ``&`` escaped."""
    return html.escape(value, quote=False)


def _piece(raw: str, bold: bool) -> str:
    return f"<b>{escape(raw)}</b>" if bold else escape(raw)


def _cut(raw: str, bold: bool, limit: int) -> list[str]:
    """Split one unbreakable run of text into rendered pieces of at most ``limit``, at spaces if possible."""
    pieces: list[str] = []
    while raw:
        end, used, space = 0, size(_piece("", bold)), -1
        while end < len(raw):
            step = size(escape(raw[end]))
            if used + step > limit:
                break
            if _SPACE.match(raw[end]):
                space = end
            used += step
            end += 1
        if end < len(raw) and space > end // 2:
            end = space + 1
        end = max(end, 1)
        pieces.append(_piece(raw[:end].strip(), bold))
        raw = raw[end:].lstrip()
    return [p for p in pieces if p not in ("", "<b></b>")]


def pack(blocks: Iterable[str], limit: int = MESSAGE_LIMIT, separator: str = "\n\n") -> list[str]:
    """Join rendered blocks into as few messages as fit under ``limit``; each block must fit alone."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        joined = f"{current}{separator}{block}" if current else block
        if size(joined) <= limit:
            current = joined
            continue
        if current:
            messages.append(current)
        current = block
    if current:
        messages.append(current)
    return messages


def source_line(passage: Passage, lang: Language) -> str:
    """Where a passage comes from, as HTML: its document's title (a link to the article when the
    document has a URL), date and paragraph number."""
    title = escape(passage.title or passage.source)
    if passage.url:
        title = f'<a href="{html.escape(passage.url, quote=True)}">{title}</a>'
    date = f" ({escape(passage.date)})" if passage.date else ""
    return f"<i>{title}{date} · {text(lang, 'paragraph')} {passage.paragraph}</i>"


def passage_block(passage: Passage, lang: Language, limit: int = MESSAGE_LIMIT) -> str:
    """One passage as HTML: where it comes from (``source_line``), then its text with the answering
    sentence in bold.

    Always one message at most: a passage longer than ``limit`` (documents are cut into
    paragraphs of bounded size, but escaping can still grow one past a message) is shown as the
    excerpt around its answering sentence, cut between sentences where possible and marked with
    "…", so one question never floods a chat.
    """
    header = source_line(passage, lang)
    start = passage.text.find(passage.sentence) if passage.sentence else -1
    if start < 0:
        runs = [(s, False) for s in split_sentences(passage.text)]
    else:
        before, after = passage.text[:start], passage.text[start + len(passage.sentence) :]
        runs = [(s, False) for s in split_sentences(before)]
        runs.append((passage.sentence, True))
        runs += [(s, False) for s in split_sentences(after)]
    budget = limit - size(header) - 1 - size(f"{ELLIPSIS} ") - size(f" {ELLIPSIS}")
    pieces: list[str] = []
    for raw, bold in runs:
        rendered = _piece(raw, bold)
        pieces += [rendered] if size(rendered) <= budget else _cut(raw, bold, budget)
    body = pack(pieces, budget, separator=" ")
    if not body:
        return header
    shown = next((i for i, part in enumerate(body) if "<b>" in part), 0)
    excerpt = body[shown]
    if shown > 0:
        excerpt = f"{ELLIPSIS} {excerpt}"
    if shown < len(body) - 1:
        excerpt = f"{excerpt} {ELLIPSIS}"
    return f"{header}\n{excerpt}"


def answer_messages(
    passages: Sequence[Passage],
    lang: Language,
    limit: int = MESSAGE_LIMIT,
    *,
    hedged: bool = False,
) -> list[str]:
    """Passages as few HTML messages as fit under ``limit``, split only between paragraphs.

    ``hedged``: the passages are related but do not answer the question directly, and the first
    message says so before them.
    """
    blocks = [passage_block(p, lang, limit) for p in passages]
    return pack([text(lang, "hedged"), *blocks] if hedged else blocks, limit)


def context_line(meaning: str, lang: Language) -> str:
    """The line above an answer taken in context: what the question was taken to be."""
    shown = meaning if len(meaning) <= CONTEXT_CHARS else meaning[: CONTEXT_CHARS - 1] + "…"
    return f"<i>{text(lang, 'context_line', question=escape(shown))}</i>"


def document_line(document: Document) -> str:
    """A document as ``Title (date)``, escaped."""
    date = f" ({escape(document.date)})" if document.date else ""
    return f"{escape(document.title)}{date}"


def topics(documents: Sequence[Document], lang: Language, shown: int = 20) -> str:
    """The documents as a bulleted list, at most ``shown`` of them, so the reply stays short."""
    if not documents:
        return text(lang, "no_documents")
    lines = [f"• {document_line(d)}" for d in documents[:shown]]
    if len(documents) > shown:
        lines.append(text(lang, "and_more", count=len(documents) - shown))
    return "\n".join(lines)


def question_problem(error: QuestionError, lang: Language, examples: Sequence[str]) -> str:
    """Why the engine will not search for a question, in the reader's language: no letter or
    digit (with an example to copy), or too long (with its length and the limit)."""
    if error.reason == "empty":
        return text(lang, "ask_empty", example=escape(examples[0] if examples else "..."))
    return not_searched(lang, error)


def not_covered(documents: Sequence[Document], examples: Sequence[str], lang: Language) -> str:
    """The honest "not in the article" reply, with what the bot does know about."""
    reply = f"{text(lang, 'not_covered')}\n{topics(documents, lang)}"
    if examples:
        reply += "\n\n" + text(lang, "not_covered_hint", example=escape(examples[0]))
    return reply


def help_message(documents: Sequence[Document], examples: Sequence[str], lang: Language, *, admin: bool) -> str:
    """The /start and /help reply: what the bot knows, how to ask, examples, commands."""
    parts = [f"{text(lang, 'help_intro')}\n{topics(documents, lang)}", text(lang, "help_how")]
    if examples:
        parts.append(text(lang, "help_examples") + "\n" + "\n".join(f"• <i>{escape(q)}</i>" for q in examples[:3]))
    parts.append(text(lang, "help_commands"))
    if admin:
        parts.append(text(lang, "help_admin"))
    return "\n\n".join(parts)


def sources_messages(documents: Sequence[Document], lang: Language, *, admin: bool = False) -> list[str]:
    """The /sources reply: every indexed document by title, with its size; for admins also the file
    name that /remove takes."""
    key = "sources_line_admin" if admin else "sources_line"
    lines = [
        text(lang, key, document=document_line(d), name=escape(d.name), paragraphs=len(d.paragraphs)) for d in documents
    ]
    return pack([text(lang, "sources_title"), *(lines or [text(lang, "no_documents")])], separator="\n")
