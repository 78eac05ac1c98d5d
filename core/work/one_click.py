"""The one-click recipe: what the Retrain button (the automatic retrain, and ``train TAXONOMY``
without options) trains, chosen from the labels a lead would train on, with its reason and the
labelled records it rests on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import pandas as pd

from core.domain.taxonomy import Taxonomy
from core.store import Store
from core.work.learning import TrainOptions, training_frame

MULTILINGUAL_SHARE = 0.5  # from this share of labels in languages other than English, the recipe reads them with e5


@dataclass
class OneClick:
    """What the one-click Retrain (the automatic one, and ``train TAXONOMY`` without options)
    trains: the options, the recipe's name, why, and the labelled records it rests on."""

    options: TrainOptions
    recipe: str
    why_template: str  # the reason, an English template the interface translates, with its values
    why_values: tuple = ()
    records: int = 0  # labelled records outside the evaluation set it trains on
    expert: int = 0  # of them, by an expert's (or a lead's gold) label
    imported: int = 0  # of them, by a code from an imported file
    both: int = 0  # records with both, where the expert's label won
    languages: dict = field(default_factory=dict)  # {language: records}

    def why(self, tr: Callable[[str], str] = lambda s: s) -> str:
        return tr(self.why_template).format(*self.why_values)

    def used(self, tr: Callable[[str], str] = lambda s: s) -> str:
        """"220 labelled records: 22 expert labels, 198 imported codes (the expert's label wins on 5
        records that have both)"."""
        if not self.records:
            return tr("no labelled records outside the evaluation set yet")
        text = tr("{0:,} labelled records: {1:,} expert labels, {2:,} imported codes").format(
            self.records, self.expert, self.imported)
        if self.both:
            text += " " + tr("(the expert's label wins on {0:,} records that have both)").format(self.both)
        return text


_ONE_CLICK: dict[tuple, OneClick] = {}  # the Retrain hint is drawn on every rerun of Annotate and Models


def one_click(store: Store, taxonomy: Taxonomy, *, fast: bool = False) -> OneClick:
    """``recipe_for`` the workspace's labels now, kept until a label, an import or the taxonomy
    changes (reading 100,000 imported codes takes seconds; a page asks on every rerun)."""
    key = (str(store.path), taxonomy.id, store.labels_stamp(taxonomy.id), store.taxonomy_version_key(taxonomy.id),
           fast)
    if key not in _ONE_CLICK:
        if len(_ONE_CLICK) >= 8:
            _ONE_CLICK.clear()
        _ONE_CLICK[key] = recipe_for(store, taxonomy, fast=fast)
    chosen = _ONE_CLICK[key]
    return replace(chosen, options=replace(chosen.options, params=dict(chosen.options.params)))


def recipe_for(store: Store, taxonomy: Taxonomy, *, fast: bool = False) -> OneClick:
    """The one-click recipe, from the labels a lead would train on: the experts' labels and the
    codes of imported files (an expert's label wins where a record has both; machine-accepted
    codes stay out), outside the evaluation set. TF-IDF (word + character n-grams, seconds to
    train) where most labels are English; where most are in other languages, TF-IDF mixed with a
    head on the multilingual encoder, which learnt more from the same labels in
    ``bench_multilingual`` (5-fold weighted F1: 1,600 Danish labels 0.73 against 0.68 for TF-IDF
    alone, 200 Danish 0.50 against 0.41, 176 Hungarian 0.44 against 0.43).

    ``fast``: its fast twin, for bulk jobs that ask for the fast tier (no transformer at run time):
    TF-IDF alone is one already; the multilingual mix takes its head on the static vectors
    distilled from the encoder (``e5-fast``, which reads a record's first 8,000 characters). On
    the 220 Hungarian speeches (5-fold weighted F1, ``bench_multilingual --fast-tier``) the twin
    reads 0.437 against the recipe's 0.444 (98 %), at hundreds of speeches a second."""
    frame = training_frame(store, taxonomy, include_imported=True)
    sources = frame["source"].value_counts() if len(frame) else pd.Series(dtype=int)
    imported = int(sources.get("imported", 0))
    expert = len(frame) - imported
    both = 0
    if imported and expert:
        coded = {int(r["record_id"]) for r in store.imported_label_rows(taxonomy.id)}
        both = int(frame.loc[frame["source"].ne("imported"), "record_id"].astype(int).isin(coded).sum())
    languages = frame["language"].fillna("").str.lower() if len(frame) else pd.Series([], dtype=str)
    known = languages[languages != ""]
    counts = {k: int(v) for k, v in known.value_counts().items()}
    other = float((known != "en").mean()) if len(known) else 0.0
    if other >= MULTILINGUAL_SHARE:
        main = known[known != "en"].value_counts().index[0]
        options = TrainOptions("ensemble", include_imported=bool(imported),
                               params={"head.encoder": "e5-fast" if fast else "e5"})
        recipe = ("TF-IDF + a head on the multilingual encoder's static vectors (the fast tier)" if fast else
                  "TF-IDF + a head on the multilingual encoder (multilingual-e5-small)")
        why, values = "{0:.0%} of the labels are in languages other than English (most: {1})", (other, main)
    else:
        options = TrainOptions("tfidf", include_imported=bool(imported))
        recipe = "TF-IDF (word + character n-grams)"
        why, values = "most labels are in English", ()
    return OneClick(options, recipe, why, values, len(frame), expert, imported, both, counts)


def recommended_options(store: Store, taxonomy: Taxonomy) -> tuple[TrainOptions, str]:
    """(options, "recipe: why") of ``one_click``."""
    chosen = one_click(store, taxonomy)
    return chosen.options, f"{chosen.recipe}: {chosen.why()}"


__all__ = ["MULTILINGUAL_SHARE", "OneClick", "one_click", "recipe_for", "recommended_options"]
