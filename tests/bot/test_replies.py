"""HTML replies: escaping of hostile text, the bold sentence, and splitting under Telegram's limit."""

from __future__ import annotations

import pytest
from telegram import User

from bot.chat.replies import MESSAGE_LIMIT, answer_messages, escape, help_message, not_covered, passage_block, size
from bot.core.texts import TEXTS, Language, language
from index import Document, Passage
from tests.support.telegram_html import read_html

HOSTILE = "<script>alert('x')</script> & co <b>unclosed and </i> stray > signs &amp; fake entities."


def passage(
    text: str,
    sentence: str,
    number: int = 1,
    source: str = "doc.txt",
    title: str = "",
    date: str | None = None,
    url: str | None = None,
) -> Passage:
    assert sentence in text
    return Passage(
        text=text, score=1.0, source=source, paragraph=number, sentence=sentence, title=title, date=date, url=url
    )


def test_hostile_document_text_is_escaped_and_the_sentence_still_bold() -> None:
    text = f"Eerste zin. {HOSTILE} Laatste zin."
    (message,) = answer_messages([passage(text, HOSTILE, source="<evil>&.txt")], "nl")
    shown, bold = read_html(message)
    assert "<script>" not in message and "&lt;script&gt;" in message
    assert bold == HOSTILE  # exactly the answering sentence, unescaped back to the original
    assert shown == f"<evil>&.txt · alinea 1\n{text}"


def test_a_passage_is_named_by_its_documents_title_escaped_not_by_its_file() -> None:
    titled = passage("Ja. Nee.", "Nee.", title="Armenië & het <Strafhof>")
    (message,) = answer_messages([titled, passage("Elders.", "Elders.", 2, "x.txt")], "nl")
    shown, _ = read_html(message)
    assert shown == "Armenië & het <Strafhof> · alinea 1\nJa. Nee.\n\nx.txt · alinea 2\nElders."
    assert "doc.txt" not in message


def test_a_passage_says_when_it_was_written_and_links_to_its_article() -> None:
    url = 'https://news.example/a?x=1&y="2"'
    dated = passage("Ja. Nee.", "Nee.", title="Kop", date="2024-03-14", url=url)
    (message,) = answer_messages([dated, passage("Elders.", "Elders.", 2, title="Zonder link", date="2023-10")], "en")
    shown, _ = read_html(message)
    assert shown == "Kop (2024-03-14) · paragraph 1\nJa. Nee.\n\nZonder link (2023-10) · paragraph 2\nElders."
    assert message.startswith('<i><a href="https://news.example/a?x=1&amp;y=&quot;2&quot;">Kop</a> (2024-03-14)')
    assert message.count("<a href=") == 1


def test_the_answering_sentence_is_bold_once_even_when_repeated() -> None:
    text = "Ja. Nee. Ja."
    (message,) = answer_messages([passage(text, "Nee.")], "en")
    assert message == "<i>doc.txt · paragraph 1</i>\nJa. <b>Nee.</b> Ja."


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_hedged_answer_leads_with_the_hedge_then_the_same_passages(lang: Language) -> None:
    passages = [passage("Ja. Nee.", "Nee.", number=n) for n in (2, 5)]
    plain = answer_messages(passages, lang)
    (message,) = answer_messages(passages, lang, hedged=True)
    assert message == f"{TEXTS[lang]['hedged']}\n\n{plain[0]}"
    read_html(message)


def test_passages_are_split_between_paragraphs_under_the_limit() -> None:
    sentence = "Dit is een zin over het onderwerp van de alinea die lang genoeg is. "
    passages = [passage(sentence * 25 + f"Slot {n}.", f"Slot {n}.", number=n) for n in range(1, 9)]
    messages = answer_messages(passages, "nl")
    assert len(messages) > 1
    seen = []
    for message in messages:
        assert size(message) <= MESSAGE_LIMIT
        assert message.startswith("<i>doc.txt · alinea ")  # every message begins with a whole paragraph
        shown, _ = read_html(message)
        seen += [int(line.split("alinea ")[1]) for line in shown.splitlines() if line.startswith("doc.txt")]
    assert seen == list(range(1, 9))


def test_a_paragraph_longer_than_a_message_is_one_excerpt_around_its_sentence() -> None:
    sentences = [f"Zin nummer {n} gaat over Armenië & Rusland <en> het Strafhof." for n in range(200)]
    text = " ".join(sentences)
    (message,) = answer_messages([passage(text, sentences[150])], "nl")
    assert size(message) <= MESSAGE_LIMIT
    shown, bold = read_html(message)
    assert bold == sentences[150]
    header, excerpt = shown.split("\n", 1)
    assert header == "doc.txt · alinea 1"
    assert excerpt.startswith("\u2026 Zin nummer ") and excerpt.endswith("Strafhof. \u2026")
    assert excerpt[2:-2] in text  # whole sentences, in order, as in the document
    assert len(excerpt) > MESSAGE_LIMIT // 2  # an excerpt, not a fragment


def test_one_huge_sentence_without_spaces_is_one_valid_message() -> None:
    blob = "&<>" * 3000  # every character grows when escaped
    (message,) = answer_messages([passage(blob, blob)], "en")
    assert size(message) <= MESSAGE_LIMIT
    bold = read_html(message)[1]
    assert blob.startswith(bold) and size(escape(bold)) > MESSAGE_LIMIT - 200  # as much as fits
    assert message.endswith("\u2026")


def test_three_oversized_passages_are_three_messages() -> None:
    """A question costs at most one message per passage (and the hedge line), however long the paragraphs are."""
    long = " ".join(f"Zin {n} over het Strafhof." for n in range(3000))
    messages = answer_messages([passage(long, "Zin 2000 over het Strafhof.")] * 3, "en", hedged=True)
    assert len(messages) == 4 and messages[0] == "The article does not answer this directly; the closest passages:"
    assert all(size(m) <= MESSAGE_LIMIT for m in messages)


def test_size_counts_utf16_like_telegram() -> None:
    assert size("a") == 1 and size("ë") == 1 and size("😀") == 2


def test_an_emoji_heavy_passage_respects_the_utf16_limit() -> None:
    text = " ".join(["😀😀😀 zin."] * 1500)
    block = passage_block(passage(text, "😀😀😀 zin."), "nl")
    assert size(block) <= MESSAGE_LIMIT
    read_html(block)


def test_not_covered_is_honest_and_names_what_is_covered() -> None:
    document = Document(name="a.txt", title="Armenië & <Rusland>", date="2023-10", paragraphs=())
    reply = not_covered([document], ["Wat <b>?"], "en")
    shown, _ = read_html(reply)
    assert shown.startswith("The article does not say.")
    assert "Armenië & <Rusland> (2023-10)" in shown and "Wat <b>?" in shown


@pytest.mark.parametrize(
    ("code", "expected"), [("nl", "nl"), ("nl-BE", "nl"), ("NL", "nl"), ("en", "en"), ("de", "en"), (None, "en")]
)
def test_the_language_follows_the_telegram_client(code: str | None, expected: str) -> None:
    assert language(User(1, "A", False, language_code=code)) == expected
    assert language(None) == "en"


def test_help_lists_documents_examples_and_admin_commands_only_for_admins() -> None:
    document = Document(name="a.txt", title="Armenia icc", date="2023-10", paragraphs=())
    examples = ["Wat moet Armenië doen?", "Waarom <dit>?", "Derde?", "Vierde?"]
    for lang in ("nl", "en"):
        public = help_message([document], examples, lang, admin=False)
        admin = help_message([document], examples, lang, admin=True)
        shown, _ = read_html(public)
        assert "Armenia icc (2023-10)" in shown and "Waarom <dit>?" in shown and "Vierde?" not in shown
        assert "/reindex" not in public and "/reindex" in admin
        read_html(admin)


def test_every_text_exists_in_both_languages_and_is_valid_html() -> None:
    assert TEXTS["en"].keys() == TEXTS["nl"].keys()
    for lang in TEXTS.values():
        for template in lang.values():
            read_html(template.replace("{", "").replace("}", ""))


def test_help_and_not_covered_stay_one_message_with_many_documents() -> None:
    documents = [
        Document(name=f"d{n}.txt", title="Een lange titel & meer " * 5, date=None, paragraphs=()) for n in range(300)
    ]
    for reply in (help_message(documents, ["Vraag?"], "en", admin=True), not_covered(documents, ["Vraag?"], "nl")):
        assert size(reply) <= MESSAGE_LIMIT
        shown, _ = read_html(reply)
        assert shown.count("Een lange titel") == 20 * 5
    assert "… and 280 more (see /sources)" in help_message(documents, [], "en", admin=False)
