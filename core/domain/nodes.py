"""The parts a taxonomy is built from: nodes as read from a file (``NodeSpec``), validated nodes
(``Node``), and the checks and indices that building a ``Taxonomy`` runs once."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping

from core.domain.text import normalize_code
from core.errors import Problem


@dataclass(frozen=True)
class Node:
    """One category. ``names`` maps a language code (``en``, ``hu``) to the node's name."""

    code: str
    names: Mapping[str, str]
    parents: tuple[str, ...] = ()
    description: str = ""

    def name(self, lang: str = "en") -> str:
        """The name in ``lang``, falling back to English, then to any name, then to the code."""
        return self.names.get(lang) or self.names.get("en") or next(iter(self.names.values()), self.code)


@dataclass(frozen=True)
class SearchHit:
    code: str
    name: str
    score: float  # 0-100, higher is better
    matched: str  # the text that matched (a name in some language, or the code)
    lang: str


@dataclass(frozen=True)
class NodeSpec:
    """A node as read from a file, before validation; ``line`` says where it came from."""

    code: str
    names: dict[str, str]
    parents: tuple[str, ...] = ()
    description: str = ""
    line: int | None = None


@dataclass
class _Index:
    children: dict[str | None, list[str]] = field(default_factory=dict)
    level: dict[str, int] = field(default_factory=dict)


def _validate(specs: Iterable[NodeSpec | Node]) -> tuple[dict[str, Node], list[Problem]]:
    problems: list[Problem] = []
    nodes: dict[str, Node] = {}
    lines: dict[str, int | None] = {}
    for spec in specs:
        line = getattr(spec, "line", None)
        code = normalize_code(spec.code)
        if not code:
            problems.append(Problem("empty code", line))
            continue
        if code in nodes:
            first = lines[code]
            where = f" (first on line {first})" if first is not None else ""
            problems.append(
                Problem(
                    f"duplicate code '{code}'{where}; to give a node two parents, list both in one "
                    "row separated by '|'",
                    line,
                )
            )
            continue
        names = {k: v.strip() for k, v in spec.names.items() if v and v.strip()}
        if not names:
            problems.append(Problem(f"node '{code}' has an empty name", line))
        parents: list[str] = []
        for parent in spec.parents:
            parent = normalize_code(parent)
            if parent and parent not in parents:
                parents.append(parent)
        if code in parents:
            problems.append(Problem(f"node '{code}' is its own parent", line))
            parents.remove(code)
        nodes[code] = Node(code, MappingProxyType(names), tuple(parents), (spec.description or "").strip())
        lines[code] = line
    for code, node in nodes.items():
        for parent in node.parents:
            if parent not in nodes:
                problems.append(Problem(f"node '{code}' names an unknown parent '{parent}'", lines[code]))
    if problems:
        return nodes, problems
    cycle = _find_cycle(nodes)
    if cycle:
        loop = " → ".join(cycle + [cycle[0]])
        problems.append(Problem(f"cycle in the hierarchy: {loop}", lines[cycle[0]]))
    return nodes, problems


def _find_cycle(nodes: dict[str, Node]) -> list[str]:
    """Return the codes of one cycle (following parent links), or [] if the graph is acyclic."""
    state: dict[str, int] = {}  # 1 = on the current walk, 2 = done
    for start in nodes:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        trail: list[str] = []
        while stack:
            code, i = stack.pop()
            if i == 0:
                state[code] = 1
                trail.append(code)
            parents = nodes[code].parents
            if i < len(parents):
                stack.append((code, i + 1))
                nxt = parents[i]
                if state.get(nxt) == 1:
                    return trail[trail.index(nxt):]
                if not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[code] = 2
                trail.pop()
    return []


def _build_index(nodes: dict[str, Node]) -> _Index:
    index = _Index()
    index.children[None] = []
    for node in nodes.values():
        if not node.parents:
            index.children[None].append(node.code)
        for parent in node.parents:
            index.children.setdefault(parent, []).append(node.code)
    # Breadth-first from the roots gives every node its shallowest depth.
    queue = deque((code, 1) for code in index.children[None])
    while queue:
        code, level = queue.popleft()
        if code in index.level:
            continue
        index.level[code] = level
        for child in index.children.get(code, []):
            if child not in index.level:
                queue.append((child, level + 1))
    return index
