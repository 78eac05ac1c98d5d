"""What a generative model is asked, and how its answer becomes scores (the ``llm`` runtime).

Two ways to answer, both constrained to the taxonomy's codes:

- **letters** (where the model's next-token log-probabilities can be read: a local causal LM, or
  an endpoint that returns ``logprobs``): the candidates are listed as A, B, C ...; the answer's
  first token's probabilities over those letters are the candidates' scores;
- **json** (any chat endpoint): the candidates are listed by code; the answer must be
  ``{"code": "<a listed code>"}``. An answer that is not is asked again (twice), then reported.

The candidates are every output code (zero-shot, for up to ``MAX_CANDIDATES`` codes), or the top
``k`` of a supervised model (re-ranking, and zero-shot shortlisting for large taxonomies). Each is
shown with its name in the record's language, its path and the start of its description. The
prompts' words, per language, are data: ``core/models/prompts/llm.json``.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

LETTERS = string.ascii_uppercase
MAX_CANDIDATES = 26  # letters A-Z; larger taxonomies are shortlisted first
TEXT_CHARS = 1500  # of a record's text in a prompt
DESCRIPTION_CHARS = 90

PROMPTS_FILE = Path(__file__).with_name("prompts") / "llm.json"  # {lang: {system, record, categories, ...}}
PROMPTS: dict[str, dict[str, str]] = json.loads(PROMPTS_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Candidate:
    code: str
    names: dict  # language -> name (path included: "Health › Mental health")
    description: str = ""

    def line(self, label: str, lang: str) -> str:
        name = self.names.get(lang) or self.names.get("en") or next(iter(self.names.values()), self.code)
        text = f"{label}. {name}" if label != self.code else f"{self.code}: {name}"
        if self.description:
            cut = self.description[:DESCRIPTION_CHARS].rsplit(" ", 1)[0] if len(
                self.description) > DESCRIPTION_CHARS else self.description
            text += f" ({cut})"
        return text


def prompt_language(record_language: str, available: Sequence[str]) -> str:
    """The prompt's language: the record's where its texts are known, else English."""
    return record_language if record_language in PROMPTS and record_language in available else "en"


def messages(text: str, candidates: Sequence[Candidate], style: str, lang: str = "en") -> list[dict]:
    """The chat messages asking for one record's category among ``candidates``."""
    labels = LETTERS if style == "letters" else [c.code for c in candidates]
    lines = "\n".join(c.line(label, lang) for c, label in zip(candidates, labels))
    body = " ".join(str(text or "").split())[:TEXT_CHARS]
    words = PROMPTS[lang]
    return [{"role": "system", "content": words["system"]},
            {"role": "user", "content": f"{words['record']}: {body}\n\n{words['categories']}:\n{lines}\n\n"
                                        f"{words['ask_' + style]}"}]


def retry_messages(previous: list[dict], answer: str, lang: str = "en") -> list[dict]:
    return [*previous, {"role": "assistant", "content": answer[:200]},
            {"role": "user", "content": PROMPTS[lang]["retry"]}]


_JSON = re.compile(r"\{[^{}]*\}", re.S)


def parse_json_answer(answer: str, codes: Sequence[str]) -> str | None:
    """The listed code a JSON answer names, else None (prose around the JSON is tolerated, and a
    bare listed code; nothing else)."""
    text = str(answer or "").strip()
    allowed = {str(c): str(c) for c in codes}
    for match in _JSON.finditer(text):
        try:
            data = json.loads(match.group(0))
        except ValueError:
            continue
        if isinstance(data, dict):
            value = str(data.get("code", "")).strip()
            if value in allowed:
                return allowed[value]
    bare = text.strip("`\"' .")
    return allowed.get(bare)


def letter_scores(top: dict[str, float], n: int) -> list[float] | None:
    """Scores of the first ``n`` letters from the answer's first token's log-probabilities
    ({token: logprob}); None where no listed letter is among them."""
    import math

    best: dict[str, float] = {}
    for token, logprob in top.items():
        letter = str(token).strip().strip(".):").upper()
        if len(letter) == 1 and letter in LETTERS[:n]:
            best[letter] = max(best.get(letter, -math.inf), float(logprob))
    if not best:
        return None
    floor = min(best.values()) - 5.0  # letters outside the top list: far less likely than the least listed
    raw = [math.exp(best.get(LETTERS[i], floor)) for i in range(n)]
    total = sum(raw)
    return [r / total for r in raw]


__all__ = ["Candidate", "LETTERS", "MAX_CANDIDATES", "letter_scores", "messages", "parse_json_answer",
           "prompt_language", "retry_messages"]
