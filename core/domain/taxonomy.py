"""Taxonomies as first-class objects: a validated hierarchy (a tree or a DAG) of coded nodes.

A ``Taxonomy`` is immutable once built. Building it validates the structure (unknown parents,
cycles, empty names, duplicate codes) and precomputes the indices every query needs, so the
queries (children, ancestors, path, level, leaves, cut-at-level) are dictionary look-ups. Finding
nodes by code or name is ``core.domain.search``.
"""

from __future__ import annotations

import re
from collections import deque
from types import MappingProxyType
from typing import Iterable, Iterator, Mapping

from core.domain.nodes import Node, NodeSpec, SearchHit, _build_index, _validate
from core.domain.text import normalize_code
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
        self._search_index = None  # core.domain.search builds it on the first search
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


_PUBLIC_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,11}$")  # 1.2, 2.10, 1405, FOS-1: not "L3_applied maths"




__all__ = ["Node", "NodeSpec", "SearchHit", "Taxonomy"]
