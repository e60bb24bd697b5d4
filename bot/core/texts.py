"""What the bot says, in English and Dutch; documents themselves are never translated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the console reads these texts too, without loading telegram
    from telegram import User

    from index import QuestionError

Language = Literal["en", "nl"]

# Plain strings with ``str.format`` fields. Values filled in from documents or users must be
# HTML-escaped by the caller (see ``bot.replies``): these templates are sent with parse mode HTML.
TEXTS: dict[Language, dict[str, str]] = {
    "en": {
        "help_intro": "I answer questions about these documents:",
        "help_how": (
            "Just type a question in this chat, or use <code>/ask your question</code> (in groups: /ask, "
            "mention me, or reply to one of my messages). I show the paragraphs that answer it, with the "
            "best sentence in <b>bold</b>. The documents are in Dutch; you can ask in Dutch or English."
        ),
        "help_examples": "For example:",
        "help_commands": "/ask QUESTION - ask a question\n/sources - the indexed documents\n/help - this message",
        "help_admin": (
            "Admin: /reindex - rebuild the index\n/remove NAME - remove a document\n"
            "/stats - what readers asked in the last 7 days\n"
            "/add URL - add a news article (or just send the link)\n"
            "Send a .txt, .md or .html file to add or replace a document."
        ),
        "no_documents": "(no documents are indexed yet)",
        "and_more": "… and {count} more (see /sources)",
        "paragraph": "paragraph",
        "not_covered": "The article does not say. What I know is about:",
        "not_covered_hint": "Try for example: <i>{example}</i>",
        "hedged": "The article does not answer this directly; the closest passages:",
        "console_intro": "Ask a question about: {topics}.\nType /help for help; quit or Ctrl-D stops.",
        "console_refused": "The article does not say.",
        "console_help": (
            "Type a question about the documents and press Enter; the answer quotes the passages it comes from.\n"
            'A follow-up such as "and why?" is answered in the context of the question before it.\n'
            "/sources lists the documents, /help shows this, quit or Ctrl-D stops."
        ),
        "console_unknown": "Unknown command {command}. Type /help to see what I understand.",
        "console_covers": "It covers: {topics}.",
        "more_button": "More passages ▸",
        "no_more": "There are no more passages for this question.",
        "stale_button": "This button has expired. Please ask your question again.",
        "ask_empty": "Put your question after /ask, for example:\n<code>/ask {example}</code>",
        "too_long": "That question is too long ({length} characters; the limit is {limit}). Please shorten it.",
        "question_empty": "There is nothing to search for: the question has no letter or digit.",
        "question_undecodable": "That question is not valid UTF-8 text, so it was not searched.",
        "throttled": "You are asking quickly. Please wait {seconds} s before the next question.",
        "not_text": "I can only read text. Type your question, or send /help to see what I know.",
        "document_not_admin": "Only the bot's admins can add documents. Ask your question as text instead.",
        "edited": "I only answer new messages. Please send your corrected question again.",
        "unknown_command": "I don't know that command. Send /help to see what I can do.",
        "link_question": "From the link: <i>{question}</i>",
        "link_too_long": (
            "That link is too long ({length} characters; a Telegram link carries at most {limit}). "
            "Type your question here instead."
        ),
        "link_bad_characters": (
            "That link holds characters a Telegram link cannot carry (only letters, digits, - and _). "
            "Type your question here instead."
        ),
        "link_unknown": (
            "That link does not hold a question I know (<code>{payload}</code>); it may be mistyped or out of "
            "date. Type your question here instead."
        ),
        "context_line": "About: {question}",
        "inline_not_covered": "The article does not cover this",
        "inline_covers": "It is about: {topics}",
        "error": "Sorry, something went wrong on my side. Please try again in a moment.",
        "not_ready": "I'm still starting up. Please try again in a few seconds.",
        "not_admin": "Sorry, only the bot's admins can do that. Nothing was changed.",
        "reindex_started": "Rebuilding the index… Questions are still answered from the current index meanwhile.",
        "reindex_busy": "A rebuild is already running. Please wait until it has finished.",
        "reindex_later": "A rebuild is already running; send /reindex when it has finished to include this change.",
        "reindex_done": (
            "Index rebuilt: {documents} document{documents_s}, {paragraphs} paragraph{paragraphs_s} in {seconds:.1f} s."
        ),
        "reindex_reuse": "Embedded {embedded} document{embedded_s}; reused the vectors of {reused}.",
        "reindex_skipped": "Skipped {name}: {reason}",
        "reindex_failed": "The rebuild failed: {reason}. The previous index keeps serving.",
        "sources_title": "Indexed documents:",
        "sources_line": "{document}, {paragraphs} paragraph{paragraphs_s}",
        "sources_line_admin": "{document} - <code>{name}</code>, {paragraphs} paragraph{paragraphs_s}",
        "upload_saved": "Saved <code>{name}</code> ({size} bytes).",
        "upload_replaced": "Replaced <code>{name}</code> ({size} bytes).",
        "upload_refused": "I can't add that file: {reason}.",
        "refuse_type": "only .txt, .md and .html documents can be added",
        "refuse_name": "the file name must be letters, digits, '.', '-' or '_' and end in .txt, .md or .html",
        "refuse_size": "it is larger than the limit of {limit} bytes",
        "refuse_encoding": "it is not UTF-8 text",
        "refuse_empty": "it has no text",
        "fetch_scheme": "only http:// and https:// links can be fetched",
        "fetch_host": "the link has no host name",
        "fetch_private": "the address of {host} is private or local ({address})",
        "fetch_dns": "the host {host} could not be found",
        "fetch_unreachable": "{host} could not be reached",
        "fetch_timeout": "the page did not finish within {seconds} s",
        "fetch_status": "the server answered HTTP {status}",
        "fetch_redirects": "it redirects more than {limit} times",
        "fetch_not_html": "it is not an HTML page ({type})",
        "fetch_not_feed": "it is not an RSS or Atom feed ({type})",
        "fetch_size": "the page is larger than {limit}",
        "page_empty": "the page has no article text",
        "article_added": "Added <b>{title}</b>{date} as <code>{name}</code>.",
        "article_replaced": "Updated <b>{title}</b>{date} in <code>{name}</code>.",
        "add_usage": "Usage: <code>/add URL</code>, or just send me the link.",
        "add_refused": "I can't add that page: {reason}. Nothing was changed.",
        "remove_usage": "Usage: <code>/remove NAME</code>; see /sources for the names.",
        "remove_missing": "There is no document called <code>{name}</code>; see /sources.",
        "remove_last": "<code>{name}</code> is the only document; add another before removing it.",
        "removed": "Removed <code>{name}</code>.",
        "vote_thanks": "Thank you: {vote} noted.",
        "vote_changed": "Changed your vote to {vote}.",
        "vote_throttled": "You are voting quickly. Please wait {seconds} s.",
        "stats_private": "Please ask for /stats in a private chat with me: the report holds readers' questions.",
        "stats_unavailable": "The feedback database cannot be read right now; see the bot's log.",
        "stats_header": (
            "Last {days} day{days_s} (since {since} UTC): {questions} question{questions_s} from {chats} chat{chats_s}"
        ),
        "stats_outcomes": "answered {answered:.0%} · hedged {hedged:.0%} · refused {refused:.0%}",
        "stats_votes": "votes: 👍 {up} · 👎 {down}",
        "stats_unanswered": "Top unanswered questions (refused or hedged):",
        "stats_asked": "{rank}. {question} - asked {asked}x in {chats} chat{chats_s}, {outcome}",
        "stats_also": "   also: {variant}",
        "stats_downvoted": "Passages most often voted down:",
        "stats_passage": "- {source}, paragraph {paragraph}: 👎 {down} · 👍 {up}",
        "stats_none": "(none)",
        "outcome_hedged": "hedged",
        "outcome_refused": "refused",
    },
    "nl": {
        "help_intro": "Ik beantwoord vragen over deze documenten:",
        "help_how": (
            "Typ gewoon een vraag in dit gesprek, of gebruik <code>/ask je vraag</code> (in groepen: /ask, "
            "noem mij, of antwoord op een van mijn berichten). Ik laat de alinea's zien die antwoord geven, "
            "met de beste zin <b>vetgedrukt</b>."
        ),
        "help_examples": "Bijvoorbeeld:",
        "help_commands": "/ask VRAAG - stel een vraag\n/sources - de geïndexeerde documenten\n/help - dit bericht",
        "help_admin": (
            "Beheer: /reindex - de index opnieuw opbouwen\n/remove NAAM - een document verwijderen\n"
            "/stats - wat lezers de afgelopen 7 dagen vroegen\n"
            "/add URL - een nieuwsartikel toevoegen (of stuur gewoon de link)\n"
            "Stuur een .txt-, .md- of .html-bestand om een document toe te voegen of te vervangen."
        ),
        "no_documents": "(er zijn nog geen documenten geïndexeerd)",
        "and_more": "… en nog {count} (zie /sources)",
        "paragraph": "alinea",
        "not_covered": "Dat staat niet in het artikel. Wat ik weet gaat over:",
        "not_covered_hint": "Vraag bijvoorbeeld: <i>{example}</i>",
        "hedged": "Het artikel geeft hier geen direct antwoord op; de passages die er het dichtst bij komen:",
        "console_intro": "Stel een vraag over: {topics}.\nTyp /help voor uitleg; quit of Ctrl-D stopt.",
        "console_refused": "Dat staat niet in het artikel.",
        "console_help": (
            "Typ een vraag over de documenten en druk op Enter; het antwoord citeert de passages waar het uit komt.\n"
            'Een vervolgvraag zoals "en waarom?" wordt beantwoord in de context van de vraag ervoor.\n'
            "/sources toont de documenten, /help dit overzicht, quit of Ctrl-D stopt."
        ),
        "console_unknown": "Onbekend commando {command}. Typ /help om te zien wat ik begrijp.",
        "console_covers": "Het gaat over: {topics}.",
        "more_button": "Meer passages ▸",
        "no_more": "Er zijn geen andere passages voor deze vraag.",
        "stale_button": "Deze knop is verlopen. Stel je vraag alsjeblieft opnieuw.",
        "ask_empty": "Zet je vraag achter /ask, bijvoorbeeld:\n<code>/ask {example}</code>",
        "too_long": "Die vraag is te lang ({length} tekens; het maximum is {limit}). Maak hem korter.",
        "question_empty": "Er valt niets te zoeken: de vraag heeft geen letter of cijfer.",
        "question_undecodable": "Die vraag is geen geldige UTF-8-tekst, dus er is niet gezocht.",
        "throttled": "Je vraagt wel erg snel. Wacht {seconds} s voor de volgende vraag.",
        "not_text": "Ik kan alleen tekst lezen. Typ je vraag, of stuur /help om te zien wat ik weet.",
        "document_not_admin": "Alleen de beheerders van de bot kunnen documenten toevoegen. Stel je vraag als tekst.",
        "edited": "Ik beantwoord alleen nieuwe berichten. Stuur je verbeterde vraag opnieuw.",
        "unknown_command": "Dat commando ken ik niet. Stuur /help om te zien wat ik kan.",
        "link_question": "Uit de link: <i>{question}</i>",
        "link_too_long": (
            "Die link is te lang ({length} tekens; een Telegram-link bevat er hoogstens {limit}). Typ je vraag hier."
        ),
        "link_bad_characters": (
            "Die link bevat tekens die een Telegram-link niet kan doorgeven (alleen letters, cijfers, - en _). "
            "Typ je vraag hier."
        ),
        "link_unknown": (
            "In die link staat geen vraag die ik ken (<code>{payload}</code>); misschien is hij verkeerd "
            "overgenomen of verouderd. Typ je vraag hier."
        ),
        "context_line": "Over: {question}",
        "inline_not_covered": "Dat staat niet in het artikel",
        "inline_covers": "Het gaat over: {topics}",
        "error": "Sorry, er ging bij mij iets mis. Probeer het zo nog eens.",
        "not_ready": "Ik ben nog aan het opstarten. Probeer het over een paar seconden nog eens.",
        "not_admin": "Sorry, alleen de beheerders van de bot kunnen dat. Er is niets veranderd.",
        "reindex_started": "De index wordt opnieuw opgebouwd… Vragen worden intussen met de huidige index beantwoord.",
        "reindex_busy": "Er loopt al een herbouw. Wacht alsjeblieft tot die klaar is.",
        "reindex_later": "Er loopt al een herbouw; stuur /reindex als die klaar is om deze wijziging mee te nemen.",
        "reindex_done": (
            "Index opnieuw opgebouwd: {documents} document{documents_s}, {paragraphs} alinea{paragraphs_s}"
            " in {seconds:.1f} s."
        ),
        "reindex_reuse": "{embedded} document{embedded_s} ingebed; van {reused} de vectoren hergebruikt.",
        "reindex_skipped": "{name} overgeslagen: {reason}",
        "reindex_failed": "De herbouw is mislukt: {reason}. De vorige index blijft in gebruik.",
        "sources_title": "Geïndexeerde documenten:",
        "sources_line": "{document}, {paragraphs} alinea{paragraphs_s}",
        "sources_line_admin": "{document} - <code>{name}</code>, {paragraphs} alinea{paragraphs_s}",
        "upload_saved": "<code>{name}</code> opgeslagen ({size} bytes).",
        "upload_replaced": "<code>{name}</code> vervangen ({size} bytes).",
        "upload_refused": "Dat bestand kan ik niet toevoegen: {reason}.",
        "refuse_type": "alleen .txt-, .md- en .html-documenten kunnen worden toegevoegd",
        "refuse_name": (
            "de bestandsnaam mag alleen letters, cijfers, '.', '-' of '_' bevatten en op .txt, .md of .html eindigen"
        ),
        "refuse_size": "het is groter dan de limiet van {limit} bytes",
        "refuse_encoding": "het is geen UTF-8-tekst",
        "refuse_empty": "er staat geen tekst in",
        "fetch_scheme": "alleen http://- en https://-links kunnen worden opgehaald",
        "fetch_host": "de link heeft geen hostnaam",
        "fetch_private": "het adres van {host} is privé of lokaal ({address})",
        "fetch_dns": "de host {host} is niet gevonden",
        "fetch_unreachable": "{host} is niet bereikbaar",
        "fetch_timeout": "de pagina was niet binnen {seconds} s binnen",
        "fetch_status": "de server antwoordde HTTP {status}",
        "fetch_redirects": "hij verwijst meer dan {limit} keer door",
        "fetch_not_html": "het is geen HTML-pagina ({type})",
        "fetch_not_feed": "het is geen RSS- of Atom-feed ({type})",
        "fetch_size": "de pagina is groter dan {limit}",
        "page_empty": "er staat geen artikeltekst op de pagina",
        "article_added": "<b>{title}</b>{date} toegevoegd als <code>{name}</code>.",
        "article_replaced": "<b>{title}</b>{date} bijgewerkt in <code>{name}</code>.",
        "add_usage": "Gebruik: <code>/add URL</code>, of stuur me gewoon de link.",
        "add_refused": "Die pagina kan ik niet toevoegen: {reason}. Er is niets veranderd.",
        "remove_usage": "Gebruik: <code>/remove NAAM</code>; zie /sources voor de namen.",
        "remove_missing": "Er is geen document met de naam <code>{name}</code>; zie /sources.",
        "remove_last": "<code>{name}</code> is het enige document; voeg eerst een ander toe.",
        "removed": "<code>{name}</code> verwijderd.",
        "vote_thanks": "Dank je: {vote} genoteerd.",
        "vote_changed": "Je stem is veranderd in {vote}.",
        "vote_throttled": "Je stemt snel. Wacht alsjeblieft {seconds} s.",
        "stats_private": "Vraag /stats alsjeblieft in een privéchat met mij: het overzicht bevat vragen van lezers.",
        "stats_unavailable": "De feedbackdatabase is nu niet leesbaar; zie het log van de bot.",
        "stats_header": "{days_w} (sinds {since} UTC): {questions} {questions_w} uit {chats} chat{chats_s}",
        "stats_outcomes": "beantwoord {answered:.0%} · met voorbehoud {hedged:.0%} · geweigerd {refused:.0%}",
        "stats_votes": "stemmen: 👍 {up} · 👎 {down}",
        "stats_unanswered": "Meest gestelde onbeantwoorde vragen (geweigerd of met voorbehoud):",
        "stats_asked": "{rank}. {question} - {asked}x gevraagd in {chats} chat{chats_s}, {outcome}",
        "stats_also": "   ook: {variant}",
        "stats_downvoted": "Passages met de meeste 👎:",
        "stats_passage": "- {source}, alinea {paragraph}: 👎 {down} · 👍 {up}",
        "stats_none": "(geen)",
        "outcome_hedged": "met voorbehoud",
        "outcome_refused": "geweigerd",
    },
}


def language(user: User | None) -> Language:
    """Dutch for users whose Telegram client is set to Dutch, English for everyone else."""
    code = (user.language_code or "") if user else ""
    return "nl" if code.lower().split("-")[0] == "nl" else "en"


PLURAL: dict[Language, dict[str, str]] = {
    "en": {"documents": "s", "paragraphs": "s", "questions": "s", "chats": "s", "days": "s", "embedded": "s"},
    "nl": {"documents": "en", "paragraphs": "'s", "chats": "s", "embedded": "en"},
}
# Counted words whose plural is not an ending: ``{name_w}`` is the singular or the plural, whole.
PLURAL_WORDS: dict[Language, dict[str, tuple[str, str]]] = {
    "en": {},
    "nl": {"questions": ("vraag", "vragen"), "days": ("Afgelopen dag", "Afgelopen {days} dagen")},
}


def text(lang: Language, key: str, **values: object) -> str:
    """The template ``key`` in ``lang``, filled with ``values`` (already escaped by the caller).

    A count ``name`` also fills ``{name_s}``: the plural ending, or nothing for exactly one; and
    ``{name_w}``: its word from ``PLURAL_WORDS``, singular or plural.
    """
    endings = {
        f"{name}_s": "" if values[name] == 1 else ending for name, ending in PLURAL[lang].items() if name in values
    }
    words = {
        f"{name}_w": (one if values[name] == 1 else many).format(**values)
        for name, (one, many) in PLURAL_WORDS[lang].items()
        if name in values
    }
    return TEXTS[lang][key].format(**values, **endings, **words)


def not_searched(lang: Language, error: QuestionError) -> str:
    """Why the engine will not search for a question, in ``lang``: no letter or digit, or too long
    (with its length and the limit)."""
    if error.reason == "empty":
        return text(lang, "question_empty")
    if error.reason == "undecodable":
        return text(lang, "question_undecodable")
    return text(lang, "too_long", length=error.length, limit=error.limit)
