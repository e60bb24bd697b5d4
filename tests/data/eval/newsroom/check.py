#!/usr/bin/env python3
"""Validate questions.json and dialogues.json against the articles and print counts.

Paragraphs: for articles/<slug>.txt, the header lines (key: value) end at the first blank line;
the rest is split on blank lines; paragraph 1 is the first one after the header.
For the shipped article (armenia-icc-2023-10.txt) the text is split on blank lines and the
leading ' date 2023-10' metadata prefix of the first paragraph is removed.
Run: python3 check.py            (validate + counts)
     python3 check.py --show     (also print every article with paragraph numbers and word counts)
"""

import json
import os
import re
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = "armenia-icc-2023-10.txt"
SHIPPED_PATH = os.path.normpath(os.path.join(HERE, "../../../../../shared/corpus", SHIPPED))
if not os.path.exists(SHIPPED_PATH):
    SHIPPED_PATH = "/work/shared/corpus/" + SHIPPED


def paragraphs(name):
    if name == SHIPPED:
        text = open(SHIPPED_PATH, encoding="utf-8").read()
        paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        paras[0] = re.sub(r"^date\s+\S+\s+", "", paras[0])
        return {"title": None, "date": "2023-10"}, paras
    text = open(os.path.join(HERE, "articles", name), encoding="utf-8").read()
    head, body = text.split("\n\n", 1)
    meta = {}
    for line in head.splitlines():
        k, v = line.split(":", 1)
        meta[k.strip()] = v.strip()
    assert set(meta) == {"title", "date"}, (name, meta)
    assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", meta["date"]), (name, meta)
    paras = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    for p in paras:
        assert "\n" not in p, (name, "paragraph with a line break", p[:60])
    return meta, paras


def main():
    errors = []
    arts = sorted(os.listdir(os.path.join(HERE, "articles")))
    corpus = {SHIPPED: paragraphs(SHIPPED)[1]}
    for a in arts:
        corpus[a] = paragraphs(a)[1]
    if "--show" in sys.argv:
        for a, ps in corpus.items():
            print("==", a)
            for i, p in enumerate(ps, 1):
                print(f"  [{i}] ({len(p.split())}w) {p[:90]}")

    def check_ref(where, item):
        doc = item.get("doc")
        if doc not in corpus:
            errors.append(f"{where}: unknown doc {doc}")
            return
        ps = item.get("paragraph")
        if not ps or any(not isinstance(n, int) or n < 1 or n > len(corpus[doc]) for n in ps):
            errors.append(f"{where}: bad paragraph {ps} for {doc}")
            return
        golds = item.get("gold")
        if not golds:
            errors.append(f"{where}: no gold")
        for g in golds:
            if not any(g in corpus[doc][n - 1] for n in ps):
                errors.append(f"{where}: gold not in paragraphs {ps} of {doc}: {g!r}")
        # every listed paragraph should hold at least one gold string
        for n in ps:
            if not any(g in corpus[doc][n - 1] for g in golds):
                errors.append(f"{where}: paragraph {n} of {doc} holds no gold string")

    Q = json.load(open(os.path.join(HERE, "questions.json"), encoding="utf-8"))
    D = json.load(open(os.path.join(HERE, "dialogues.json"), encoding="utf-8"))
    if sorted(Q["corpus"]) != sorted(corpus):
        errors.append(f"questions.json corpus list differs from files: {sorted(set(Q['corpus']) ^ set(corpus))}")
    STYLES = {"keyword", "plain", "paraphrase", "typo", "yesno", "why", "number", "context", "casual", "chatty"}
    seen = Counter()
    for i, q in enumerate(Q["answerable"]):
        check_ref(f"answerable[{i}] {q['q'][:40]!r}", q)
        if q["style"] not in STYLES:
            errors.append(f"answerable[{i}]: style {q['style']}")
        if q["lang"] not in ("nl", "en"):
            errors.append(f"answerable[{i}]: lang {q['lang']}")
    allq = [q["q"] for q in Q["answerable"] + Q["off_topic"] + Q["near_topic"]]
    for d in D["dialogues"]:
        allq += [t["q"] for t in d["turns"]]
    for q, n in Counter(x.strip().lower() for x in allq).items():
        if n > 1 and q not in (
            "en waarom?",
            "waarom?",
            "wanneer?",
            "hoeveel?",
            "en rusland?",
            "why?",
            "wie zei dat?",
            "waar?",
        ):
            errors.append(f"duplicate question: {q!r} x{n}")
    for x in Q["off_topic"]:
        assert set(x) == {"q", "lang", "domain"}, x
    for x in Q["near_topic"]:
        assert set(x) == {"q", "lang", "why"}, x
    ids = Counter(d["id"] for d in D["dialogues"])
    for k, n in ids.items():
        if n > 1:
            errors.append(f"duplicate dialogue id {k}")
    for d in D["dialogues"]:
        if not 2 <= len(d["turns"]) <= 3:
            errors.append(f"{d['id']}: {len(d['turns'])} turns")
        for j, t in enumerate(d["turns"]):
            check_ref(f"{d['id']} turn {j + 1}", t)
            if (j == 0) != (t["kind"] == "first") or t["kind"] not in ("first", "followup", "new"):
                errors.append(f"{d['id']} turn {j + 1}: kind {t['kind']}")

    # ---- counts
    print(f"articles: {len(corpus)} (shipped + {len(arts)} new)")
    for a, ps in corpus.items():
        wc = [len(p.split()) for p in ps]
        print(f"  {a}: {len(ps)} paragraphs, words/paragraph {min(wc)}-{max(wc)}")
    A = Q["answerable"]
    print(f"answerable: {len(A)}")
    per = defaultdict(Counter)
    for q in A:
        per[q["doc"]][q["lang"]] += 1
    for a in corpus:
        c = per[a]
        sty = Counter(q["style"] for q in A if q["doc"] == a)
        print(f"  {a}: {sum(c.values())} (nl {c['nl']}, en {c['en']}); styles: {dict(sorted(sty.items()))}")
    print("  by style:", dict(sorted(Counter(q["style"] for q in A).items())))
    print("  by lang:", dict(Counter(q["lang"] for q in A)))
    print(
        f"off_topic: {len(Q['off_topic'])}",
        dict(Counter(x["lang"] for x in Q["off_topic"])),
        "near-miss:",
        sum("(near-miss)" in x["domain"] for x in Q["off_topic"]),
    )
    print(f"near_topic: {len(Q['near_topic'])}", dict(Counter(x["lang"] for x in Q["near_topic"])))
    dl = D["dialogues"]
    turns = [t for d in dl for t in d["turns"]]
    print(
        f"dialogues: {len(dl)}",
        dict(Counter(d["lang"] for d in dl)),
        "turns per dialogue:",
        dict(Counter(len(d["turns"]) for d in dl)),
    )
    print(f"  turns: {len(turns)}, by kind:", dict(Counter(t["kind"] for t in turns)))
    fu_other = fu_same_par = fu_other_par = 0
    for d in dl:
        for prev, t in zip(d["turns"], d["turns"][1:]):
            if t["kind"] != "followup":
                continue
            if t["doc"] != prev["doc"]:
                fu_other += 1
            elif set(t["paragraph"]) & set(prev["paragraph"]):
                fu_same_par += 1
            else:
                fu_other_par += 1
    print(
        f"  followups: to another article {fu_other}, same paragraph {fu_same_par}, "
        f"other paragraph same article {fu_other_par}"
    )
    if errors:
        print(f"\n{len(errors)} ERRORS:")
        for e in errors:
            print("  ", e)
        sys.exit(1)
    print("\nOK: all gold strings are exact substrings of their paragraphs")


if __name__ == "__main__":
    main()
