"""Finding a taxonomy's nodes by code or by name in any language: accent-insensitive,
typo-tolerant (rapidfuzz), inflection-aware (Snowball stems of Hungarian and English words) and
across languages through the shipped taxonomies' own name pairs. Kept apart from the taxonomy
model (``core.domain.taxonomy``): its index is built on a taxonomy's first search.
"""

from __future__ import annotations

import re
from typing import Iterable

from rapidfuzz import fuzz, process

from core.domain.nodes import Node, SearchHit
from core.domain.taxonomy import Taxonomy
from core.domain.text import fold, normalize_code

_WORD = re.compile(r"[0-9a-z]+")


def _index_of(taxonomy: Taxonomy) -> _SearchIndex:
    if taxonomy._search_index is None:
        _builtin_pairs()
        register_name_pairs((n.names.get("hu", ""), n.names.get("en", "")) for n in taxonomy)
        taxonomy._search_index = _SearchIndex(list(taxonomy))
    return taxonomy._search_index

def search(taxonomy: Taxonomy, query: str, limit: int = 20, lang: str = "en", min_score: float = 60) -> list[SearchHit]:
    """Find nodes by code or by name in any language; accent-insensitive and typo-tolerant.

    Ranking: exact code, then codes under the typed code prefix, then names that equal, start
    with or contain the query, then names whose words match the query's words with typos
    (each query word matched to its closest name word by rapidfuzz, averaged).
    """
    query = (query or "").strip()
    if not query:
        return []
    best: dict[str, SearchHit] = {}

    def offer(code: str, score: float, matched: str, hit_lang: str) -> None:
        current = best.get(code)
        if current is None or score > current.score:
            best[code] = SearchHit(code, taxonomy.node(code).name(lang), score, matched, hit_lang)

    code_q = normalize_code(query)
    if code_q in taxonomy:
        offer(code_q, 100.0, code_q, "code")
    folded_code_q = query.casefold()
    for code in taxonomy.nodes:
        if code != code_q and (code.startswith(code_q + ".") or code.casefold().startswith(folded_code_q)):
            offer(code, 96.0 - 0.01 * len(code), code, "code")

    index = _index_of(taxonomy)
    q = fold(query)
    for i, text in enumerate(index.texts):
        if text == q:
            score = 99.0
        elif text.startswith(q):
            score = 94.0
        elif q in text:
            score = 90.0 if f" {q}" in f" {text}" else 86.0
        else:
            continue
        code, hit_lang, name = index.meta[i]
        offer(code, score - (0 if hit_lang == lang else 0.5), name, hit_lang)

    # inflected and compound words (Hungarian "oktatási" → "Oktatáspolitika"), names and descriptions
    q_forms = word_forms(query)
    for i, score in index.by_forms(q_forms):
        code, hit_lang, name = index.meta[i]
        offer(code, score - (0 if hit_lang in (lang, "description") else 0.5), name, hit_lang)
    # across languages through the shipped taxonomies' own name pairs: a Hungarian query whose words
    # match the Hungarian name of some node brings that node's English name ("oktatás" → "Education")
    for words in bridge_words(q_forms):
        for i, score in index.by_forms(words, languages=("en", "description")):
            code, hit_lang, name = index.meta[i]
            # a name that says it outranks a description that mentions it ("oktatás": Education
            # before Tobacco Abuse, whose description names tobacco education)
            offer(code, min(score, 92.0) - (5.0 if hit_lang == "en" else 20.0), name, hit_lang)

    for i, score in index.fuzzy(q, min_score):
        code, hit_lang, name = index.meta[i]
        offer(code, score * 0.85, name, hit_lang)

    # among equal scores, the nodes under a strong hit first ("oktatás": Education's subtopics
    # before another field's node whose description mentions education)
    strong = {h.code: h.score for h in best.values() if h.score >= 85}
    under = {h.code for h in best.values()
             if any(strong.get(a, 0) > h.score for a in taxonomy.ancestors(h.code))}
    hits = sorted(best.values(), key=lambda h: (-h.score, h.code not in under, taxonomy.level(h.code), h.code))
    return hits[:limit]


_STEMMERS: dict[str, object] = {}


def stem(word: str, lang: str) -> str:
    """Snowball's stem of a lower-cased word (Hungarian or English)."""
    if lang not in _STEMMERS:
        import snowballstemmer

        _STEMMERS[lang] = snowballstemmer.stemmer({"hu": "hungarian", "en": "english"}[lang])
    return _STEMMERS[lang].stemWord(word)


def word_forms(text: str) -> list[frozenset[str]]:
    """Each word of ``text`` as the set of forms it may match by: the folded word and its folded
    Hungarian and English Snowball stems ("oktatási" → {oktatasi, oktatas})."""
    out = []
    for word in re.findall(r"\w+", (text or "").lower()):
        if len(word) < 3 or word.isdigit():
            continue
        out.append(frozenset(fold(w) for w in (word, stem(word, "hu"), stem(word, "en")) if len(w) >= 2))
    return out


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _forms_close(a: str, b: str) -> bool:
    common = _common_prefix(a, b)
    return a == b or (common >= 5 and common >= 0.6 * min(len(a), len(b)))


def forms_match(query: frozenset[str], name: frozenset[str]) -> bool:
    """Two words match when a form of one equals a form of the other, or they share a prefix of at
    least 5 letters that is at least 60 % of the shorter form: inflections and Hungarian compounds
    ("egeszsegugy" / "egeszsegpolitika", "kornyezetvedel" / "kornyezetpolitika")."""
    return bool(query & name) or any(_forms_close(a, b) for a in query for b in name)


_BRIDGE: list[tuple[tuple[frozenset[str], ...], tuple[frozenset[str], ...]]] = []


def register_name_pairs(pairs: Iterable[tuple[str, str]]) -> None:
    """(Hungarian name, English name) pairs of shipped taxonomies' nodes, for cross-language search."""
    known = set(_BRIDGE)
    for hu, en in pairs:
        entry = (tuple(word_forms(hu)), tuple(word_forms(en)))
        if hu and en and entry[0] and entry[1] and entry not in known:
            _BRIDGE.append(entry)
            known.add(entry)


def bridge_words(query: list[frozenset[str]]) -> list[list[frozenset[str]]]:
    """The English names (as word forms) of nodes whose Hungarian name matches every query word."""
    if not query:
        return []
    out: list[list[frozenset[str]]] = []
    for hu, en in _BRIDGE:
        if all(any(forms_match(q, w) for w in hu) for q in query):
            for word in en:  # each English word on its own: "Agriculture, forestry, and fisheries"
                if not word & _STOP and [word] not in out:
                    out.append([word])
    return out


_LOADED: list[bool] = []
_STOP = frozenset({"and", "other", "the", "of", "general", "sciences", "scienc", "studies", "studi", "es", "egyeb"})


def _builtin_pairs() -> None:
    """Register the shipped taxonomies' (Hungarian, English) name pairs once."""
    if _LOADED:
        return
    _LOADED.append(True)
    import csv

    from core.settings import DATA_DIR

    # the shipped taxonomies' own name pairs, and everyday Hungarian words for their topics that no
    # node's name holds ("lakhatás" is housing; CAP names it "Területpolitika és lakásügy")
    for path in [*sorted((DATA_DIR / "taxonomies").glob("*.csv")), DATA_DIR / "search" / "hu_en_terms.csv"]:
        try:
            with open(path, encoding="utf-8") as handle:
                register_name_pairs((row.get("name_hu") or "", row.get("name_en") or "")
                                    for row in csv.DictReader(handle))
        except (OSError, csv.Error, UnicodeDecodeError):
            continue


class _SearchIndex:
    """Folded names, their words, and an inverted index from word to names, for fuzzy search;
    each name's and description's words as forms (``word_forms``) for inflected matching."""

    def __init__(self, nodes: Iterable[Node]):
        self.texts: list[str] = []
        self.meta: list[tuple[str, str, str]] = []
        self.words_of: list[list[str]] = []
        self.forms_of: list[list[frozenset[str]]] = []
        self.form_postings: dict[str, set[int]] = {}
        postings: dict[str, list[int]] = {}
        for node in nodes:
            entries = [(lang, name) for lang, name in node.names.items() if name]
            if node.description:
                entries.append(("description", node.description))
            for lang, name in entries:
                i = len(self.texts)
                text = fold(name)
                words = _WORD.findall(text)
                self.texts.append(text if lang != "description" else "")  # descriptions: word matches only
                self.meta.append((node.code, lang, name))
                self.words_of.append(words)
                self.forms_of.append(word_forms(name))
                for forms in self.forms_of[-1]:
                    for form in forms:
                        self.form_postings.setdefault(form, set()).add(i)
                if lang != "description":
                    for word in set(words):
                        postings.setdefault(word, []).append(i)
        self.vocabulary = list(postings)
        self.postings = postings

    def by_forms(self, query: list[frozenset[str]], languages: tuple[str, ...] | None = None
                 ) -> list[tuple[int, float]]:
        """Names (92) and descriptions (80) in which every query word matches a word."""
        if not query:
            return []
        entries: set[int] | None = None
        for q in query:  # the entries holding a word close to this query word
            hits: set[int] = set()
            for form, where in self.form_postings.items():
                if any(_forms_close(a, form) for a in q):
                    hits |= where
            entries = hits if entries is None else entries & hits
            if not entries:
                return []
        out = []
        for i in sorted(entries or ()):
            lang = self.meta[i][1]
            if languages is None or lang in languages:
                out.append((i, 80.0 if lang == "description" else 92.0))
        return out

    def fuzzy(self, query: str, min_score: float) -> list[tuple[int, float]]:
        """Names scored by how well every query word matches one of their words (0-100)."""
        q_words = [w for w in _WORD.findall(query) if len(w) >= 2]
        if not q_words or sum(len(w) for w in q_words) < 3:
            return []
        per_word: list[dict[int, float]] = []
        for word in q_words:
            scores: dict[int, float] = {}
            matches = process.extract(
                word, self.vocabulary, scorer=fuzz.ratio, limit=None, score_cutoff=max(min_score, 70)
            )
            # A query word that starts a longer word ("polit" → "political") counts as a match too.
            if len(word) >= 3:
                matches += [(v, 95.0, None) for v in self.vocabulary if v.startswith(word) and v != word]
            for vocab_word, score, _ in matches:
                for i in self.postings[vocab_word]:
                    if score > scores.get(i, 0.0):
                        scores[i] = score
            per_word.append(scores)
        out: dict[int, float] = {}
        for i in set().union(*per_word):
            total = sum(scores.get(i, 0.0) for scores in per_word) / len(per_word)
            # Names with many unmatched words rank a little lower.
            extra = max(0, len(self.words_of[i]) - len(q_words))
            total -= min(10.0, 1.5 * extra)
            if total >= min_score:
                out[i] = total
        return sorted(out.items(), key=lambda kv: -kv[1])


__all__ = ["bridge_words", "forms_match", "register_name_pairs", "search", "stem", "word_forms"]
