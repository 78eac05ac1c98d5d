"""Taxonomies as first-class objects: a validated hierarchy (a tree or a DAG) of coded nodes.

A ``Taxonomy`` is immutable once built. Building it validates the structure (unknown parents,
cycles, empty names, duplicate codes) and precomputes the indices every query needs, so the
queries (children, ancestors, path, level, leaves, cut-at-level, search) are dictionary look-ups.
"""

from __future__ import annotations

import re
from collections import deque
from types import MappingProxyType
from typing import Iterable, Iterator, Mapping

from rapidfuzz import fuzz, process

from core.domain.nodes import Node, NodeSpec, SearchHit, _build_index, _validate
from core.domain.text import fold, normalize_code
from core.errors import TaxonomyError


class Taxonomy:
    """A validated, immutable hierarchy of nodes.

    ``Taxonomy(id, name, specs)`` raises ``TaxonomyError`` listing every problem found, each
    naming the line it came from when the specs carry one.
    """

    def __init__(
        self,
        id: str,
        name: str,
        specs: Iterable[NodeSpec | Node],
        *,
        source: str = "",
        version: str = "",
        languages: Iterable[str] | None = None,
    ):
        self.id = id
        self.name = name
        self.source = source
        self.version = version
        nodes, problems = _validate(specs)
        if problems:
            raise TaxonomyError(
                f"taxonomy '{name}' has {len(problems)} problem{'s' if len(problems) != 1 else ''}",
                problems,
            )
        self._nodes: dict[str, Node] = nodes
        self._index = _build_index(nodes)
        langs = list(languages or [])
        for node in nodes.values():
            for lang in node.names:
                if lang not in langs:
                    langs.append(lang)
        self.languages: tuple[str, ...] = tuple(langs)
        self._search_index: _SearchIndex | None = None
        self._path_counts: dict[str, int] | None = None

    # ----------------------------------------------------------------------------- basics
    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __contains__(self, code: object) -> bool:
        return normalize_code(code) in self._nodes

    def __repr__(self) -> str:
        return f"Taxonomy(id={self.id!r}, nodes={len(self)}, depth={self.depth})"

    @property
    def nodes(self) -> Mapping[str, Node]:
        return MappingProxyType(self._nodes)

    def get(self, code: object) -> Node | None:
        return self._nodes.get(normalize_code(code))

    def node(self, code: object) -> Node:
        found = self.get(code)
        if found is None:
            raise KeyError(f"code '{code}' is not in taxonomy '{self.name}'")
        return found

    def name_of(self, code: object, lang: str = "en") -> str:
        return self.node(code).name(lang)

    # ---------------------------------------------------------------------------- structure
    @property
    def depth(self) -> int:
        return max(self._index.level.values(), default=0)

    def roots(self) -> list[Node]:
        return [self._nodes[c] for c in self._index.children.get(None, [])]

    def children(self, code: object | None = None) -> list[Node]:
        """Children of ``code`` in file order; the roots when ``code`` is None."""
        key = None if code is None else self.node(code).code
        return [self._nodes[c] for c in self._index.children.get(key, [])]

    def parents(self, code: object) -> list[Node]:
        return [self._nodes[p] for p in self.node(code).parents]

    def level(self, code: object) -> int:
        """1 for a root; otherwise one more than its shallowest parent."""
        return self._index.level[self.node(code).code]

    def is_leaf(self, code: object) -> bool:
        return not self._index.children.get(self.node(code).code)

    def leaves(self) -> list[Node]:
        return [n for n in self._nodes.values() if not self._index.children.get(n.code)]

    def at_level(self, level: int) -> list[Node]:
        return [n for n in self._nodes.values() if self._index.level[n.code] == level]

    def ancestors(self, code: object) -> list[str]:
        """Every ancestor code (all parents' lines in a DAG), nearest first, without ``code``."""
        start = self.node(code).code
        seen: dict[str, None] = {}
        queue = deque(self._nodes[start].parents)
        while queue:
            current = queue.popleft()
            if current not in seen:
                seen[current] = None
                queue.extend(self._nodes[current].parents)
        return list(seen)

    def descendants(self, code: object) -> list[str]:
        start = self.node(code).code
        seen: dict[str, None] = {}
        queue = deque(self._index.children.get(start, []))
        while queue:
            current = queue.popleft()
            if current not in seen:
                seen[current] = None
                queue.extend(self._index.children.get(current, []))
        return list(seen)

    def path(self, code: object) -> list[Node]:
        """The primary root-to-node path, following each node's first parent."""
        node = self.node(code)
        out = [node]
        while node.parents:
            node = self._nodes[node.parents[0]]
            out.append(node)
        return out[::-1]

    def paths(self, code: object, limit: int = 20) -> list[list[Node]]:
        """Root-to-node paths (several where nodes have several parents), first parents first, at
        most ``limit`` of them: a DAG can have exponentially many (``path_count`` says how many).
        Iterative, so a hierarchy thousands of levels deep is no problem either."""
        out: list[list[Node]] = []
        stack = [[self.node(code)]]  # partial paths, node first
        while stack and len(out) < limit:
            trail = stack.pop()
            parents = trail[-1].parents
            if not parents:
                out.append(trail[::-1])
            stack.extend(trail + [self._nodes[p]] for p in reversed(parents))
        return out

    def path_count(self, code: object) -> int:
        """How many root-to-node paths ``code`` has."""
        if self._path_counts is None:
            counts: dict[str, int] = {}
            pending = {c: len(n.parents) for c, n in self._nodes.items()}
            ready = deque(c for c, k in pending.items() if k == 0)
            while ready:  # parents before children (Kahn's order)
                current = ready.popleft()
                counts[current] = sum(counts[p] for p in self._nodes[current].parents) or 1
                for child in self._index.children.get(current, []):
                    pending[child] -= 1
                    if pending[child] == 0:
                        ready.append(child)
            self._path_counts = counts
        return self._path_counts[self.node(code).code]

    def label(self, code: object, lang: str = "en") -> str:
        """How a person reads a node: "1.2 · Computer and information sciences" for a published code;
        the name alone for an internal one ("L3_applied mathematics"); siblings that share a name
        are told apart by their code's last part ("... (cluster 2)")."""
        node = self.node(code)
        name = node.name(lang) or node.code
        if _PUBLIC_CODE.match(node.code):
            return f"{node.code} · {name}"
        parent = node.parents[0] if node.parents else None
        twins = [c.code for c in self.children(parent) if c.code != node.code and c.name(lang) == node.name(lang)]
        if twins:
            tail = node.code.rsplit("_", 1)[-1]
            return f"{name} (cluster {tail})" if tail.isdigit() else f"{name} ({node.code})"
        return name

    def path_label(self, code: object, lang: str = "en", sep: str = " › ") -> str:
        return sep.join(n.name(lang) for n in self.path(code))

    def cut(self, code: object, level: int) -> str:
        """The code's ancestor at ``level`` on its primary path (the code itself if not deeper)."""
        path = self.path(code)
        return path[min(level, len(path)) - 1].code

    def check_level(self, level: int | None) -> int | None:
        """``level`` if this taxonomy has it (None stands for "as given")."""
        if level is not None and not 1 <= int(level) <= self.depth:
            raise TaxonomyError(f"level {level} is not a level of '{self.name}' (levels 1-{self.depth})")
        return level

    def cut_codes(self, codes: Iterable[object], level: int | None = None) -> list[str]:
        """Codes as this taxonomy writes them, cut at ``level`` (deeper codes become their ancestor
        there, shallower ones stay), duplicates dropped, order kept. A code the taxonomy does not
        know is kept as given, so that callers see it (metrics count it as wrong) instead of losing it."""
        out = []
        for code in codes:
            if code in self:
                out.append(self.node(code).code if level is None else self.cut(code, level))
            else:
                out.append(str(code))
        return list(dict.fromkeys(out))

    def subtree_counts(self, counts: dict[str, int]) -> dict[str, int]:
        """Counts per code rolled up: each node's count plus those of every code below it."""
        rolled: dict[str, int] = {}
        for code, n in counts.items():
            if code in self:
                for c in [self.node(code).code, *self.ancestors(code)]:
                    rolled[c] = rolled.get(c, 0) + n
        return rolled

    # ------------------------------------------------------------------------------ search
    def _ensure_search_index(self) -> _SearchIndex:
        if self._search_index is None:
            _builtin_pairs()
            register_name_pairs((n.names.get("hu", ""), n.names.get("en", "")) for n in self._nodes.values())
            self._search_index = _SearchIndex(self._nodes.values())
        return self._search_index

    def search(self, query: str, limit: int = 20, lang: str = "en", min_score: float = 60) -> list[SearchHit]:
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
                best[code] = SearchHit(code, self._nodes[code].name(lang), score, matched, hit_lang)

        code_q = normalize_code(query)
        if code_q in self._nodes:
            offer(code_q, 100.0, code_q, "code")
        folded_code_q = query.casefold()
        for code in self._nodes:
            if code != code_q and (code.startswith(code_q + ".") or code.casefold().startswith(folded_code_q)):
                offer(code, 96.0 - 0.01 * len(code), code, "code")

        index = self._ensure_search_index()
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
                 if any(strong.get(a, 0) > h.score for a in self.ancestors(h.code))}
        hits = sorted(best.values(), key=lambda h: (-h.score, h.code not in under, self._index.level[h.code], h.code))
        return hits[:limit]

    # ------------------------------------------------------------------------------ export
    def to_rows(self) -> list[dict[str, str]]:
        """Rows in the workbench CSV format (code, parent, level, name_<lang>..., description)."""
        rows = []
        for node in self._nodes.values():
            row = {"code": node.code, "parent": "|".join(node.parents), "level": str(self.level(node.code))}
            for lang in self.languages:
                row[f"name_{lang}"] = node.names.get(lang, "")
            row["description"] = node.description
            rows.append(row)
        return rows


_WORD = re.compile(r"[0-9a-z]+")
_PUBLIC_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,11}$")  # 1.2, 2.10, 1405, FOS-1: not "L3_applied maths"


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


__all__ = ["Node", "NodeSpec", "SearchHit", "Taxonomy"]
