"""The one-click recipe: what the Retrain button (the automatic retrain, and ``train TAXONOMY``
without options) trains, chosen from the labels a lead would train on, with its reason and the
labelled records it rests on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable

import pandas as pd

from core.domain.taxonomy import Taxonomy
from core.store import Store
from core.work.learning import MIN_TRAINING, TrainOptions, training_frame

MULTILINGUAL_SHARE = 0.5  # from this share of labels in languages other than English, the recipe reads them with e5
# Below this many labelled records the multilingual recipe is the e5 head alone, from it TF-IDF + the
# head (``bench_multilingual.py --curve``, 5-fold weighted F1, head alone / with TF-IDF: Hungarian
# speeches 50 labels 0.338 / 0.259, 100 0.440 / 0.408, 176 0.500 / 0.494; Danish agenda items 50
# 0.345 / 0.346, 100 0.436 / 0.435, 200 0.518 / 0.512, 500 0.601 / 0.617, 1,000 0.652 / 0.689,
# 1,600 0.689 / 0.731): with few labels TF-IDF has learnt little and its share of the mix, fitted on
# a few hundred out-of-fold predictions, costs more than it brings.
HEAD_ALONE_BELOW = 500

# The fine-tuned mix (TF-IDF + multilingual-e5-small fine-tuned, 512 tokens, 3 epochs), measured
# against the one-click recipe (TF-IDF + e5 head) by ``bench_finetune.py --multilingual`` (5-fold
# weighted F1, 2 cores): 176 Hungarian speeches a fold (long: they fill a 512-token window) 0.479
# against the recipe's 0.444 while the head weighed every record the same; since the head weighs
# each category by its inverse frequency the recipe reads 0.494 (ahead on three folds of five),
# about a minute a version against 12; 1,600 Danish agenda items a fold (short titles, 64 tokens)
# 0.733 against 0.728. It is no longer the better recipe where it was measured, so the Retrain
# never trains it (not on a GPU either); for long texts in other languages the Models page offers
# it as an alternative to compare on the workspace's own evaluation set (``finetuned_for``).
# With fewer than ``HEAD_ALONE_BELOW`` labels the recipe is the head alone: 0.500 on those folds.
HU_RECIPE, HU_FINETUNED = 0.500, 0.479  # the figures the offer quotes (5-fold weighted F1, 220 speeches)
LONG_TEXT = 1000  # characters: the labelled records' median from which the fine-tuned mix is offered
FINETUNE_MOST = 1000  # labelled records up to which it is offered (measured at 176; with 1,600 short ones it tied)
FINETUNE_PARAMS = {"members": "tfidf+finetune", "finetune.encoder": "multilingual-e5-small",
                   "finetune.max_length": 512, "finetune.epochs": 3}


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
    minutes: float = 0.0  # the fine-tuned mix: about how long a version takes here

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


_ONE_CLICK: dict[tuple, OneClick | None] = {}  # the Retrain hint is drawn on every rerun of Annotate and Models


def one_click(store: Store, taxonomy: Taxonomy, *, fast: bool = False) -> OneClick:
    """``recipe_for`` the workspace's labels now, kept until a label, an import or the taxonomy
    changes (reading 100,000 imported codes takes seconds; a page asks on every rerun)."""
    chosen = _kept(store, taxonomy, "fast" if fast else "", lambda: recipe_for(store, taxonomy, fast=fast))
    return replace(chosen, options=replace(chosen.options, params=dict(chosen.options.params)))


def _kept(store: Store, taxonomy: Taxonomy, what: str, make: Callable[[], OneClick | None]) -> OneClick | None:
    key = (str(store.path), taxonomy.id, store.labels_stamp(taxonomy.id), store.taxonomy_version_key(taxonomy.id),
           what)
    if key not in _ONE_CLICK:
        if len(_ONE_CLICK) >= 8:
            _ONE_CLICK.clear()
        _ONE_CLICK[key] = make()
    return _ONE_CLICK[key]


def finetune_minutes(texts, gpu: bool = False) -> float:
    """About how long fine-tuning the multilingual encoder on these texts takes (3 epochs, 512
    tokens at most, about 3.5 characters a token): 1.3 s per record and epoch for a full window on
    2 CPU cores, less in proportion for shorter texts (measured: 176 Hungarian speeches, 11-12
    minutes; 1,440 Danish agenda items of 66 characters, about a minute an epoch), about 20 times
    less on a GPU."""
    seconds = sum(1.3 * min(len(str(t)) / 3.5, 512) / 512 for t in texts) * 3
    return seconds / 60 / (20 if gpu else 1)


@lru_cache(maxsize=1)
def has_gpu() -> bool:
    """Whether torch sees a GPU here (the fine-tuned mix is then minutes, not a quarter of an hour).
    A CPU build of torch ("+cpu") never does: the page is not made to wait for torch's import."""
    import importlib.metadata

    try:
        if importlib.metadata.version("torch").endswith("+cpu"):
            return False
        import torch
    except (ImportError, importlib.metadata.PackageNotFoundError):
        return False
    return bool(torch.cuda.is_available())


def finetuned_for(store: Store, taxonomy: Taxonomy) -> OneClick | None:
    """The fine-tuned mix, offered on the Models page beside the Retrain button as an alternative
    where it was measured (``_finetuned``): the version's evaluation-set verdict against the
    Retrain's says which one serves these records better."""
    chosen = one_click(store, taxonomy)
    tuned = _kept(store, taxonomy, "finetuned", lambda: _finetuned(store, taxonomy, chosen, gpu=has_gpu()))
    return None if tuned is None else replace(tuned, options=replace(tuned.options, params=dict(tuned.options.params)))


def _finetuned(store: Store, taxonomy: Taxonomy, chosen: OneClick, gpu: bool,
               frame: pd.DataFrame | None = None) -> OneClick | None:
    """The fine-tuned mix beside ``chosen`` (the e5 head, or TF-IDF + it) where it was measured: labels mostly
    in languages other than English, texts long (median ``LONG_TEXT`` characters), at most
    ``FINETUNE_MOST`` labelled records; None elsewhere."""
    if chosen.options.kind == "tfidf" or not (MIN_TRAINING <= chosen.records <= FINETUNE_MOST):
        return None
    frame = training_frame(store, taxonomy, include_imported=True) if frame is None else frame
    if not len(frame) or float(frame["input"].str.len().median()) < LONG_TEXT:
        return None
    return replace(chosen, options=replace(chosen.options, kind="ensemble", params=dict(FINETUNE_PARAMS)),
                   recipe="TF-IDF + the multilingual encoder fine-tuned",
                   why_template="long texts, mostly in languages other than English (most: {0}); {1:,} labelled "
                                "records", why_values=(chosen.why_values[1], chosen.records),
                   minutes=round(finetune_minutes(frame["input"], gpu), 1))


def recipe_for(store: Store, taxonomy: Taxonomy, *, fast: bool = False) -> OneClick:
    """The one-click recipe, from the labels a lead would train on: the experts' labels and the
    codes of imported files (an expert's label wins where a record has both; machine-accepted
    codes stay out), outside the evaluation set. TF-IDF (word + character n-grams, seconds to
    train) where most labels are English; where most are in other languages, a head on the
    multilingual encoder, alone below ``HEAD_ALONE_BELOW`` labelled records and mixed with TF-IDF
    from there, which learnt more from the same labels in ``bench_multilingual`` (5-fold weighted
    F1: 1,600 Danish labels 0.73 against 0.68 for TF-IDF alone, 200 Danish 0.52 against 0.41, 176
    Hungarian 0.50 against 0.43).

    ``fast``: its fast twin, for bulk jobs that ask for the fast tier (no transformer at run time):
    TF-IDF alone is one already; the multilingual recipe becomes TF-IDF + a head on the static
    vectors distilled from the encoder (``e5-fast``, which reads a record's first 8,000 characters),
    at any label count: on the 220 Hungarian speeches (5-fold weighted F1, ``bench_multilingual
    --fast-tier``) that twin reads 0.434, a head on the static vectors alone 0.374, against the
    recipe's 0.500 (87 %), at hundreds of speeches a second.

    The fine-tuned mix is never the recipe (it measured below it on Hungarian speeches and level on
    Danish items); the Models page offers it beside the Retrain button (``finetuned_for``)."""
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
        why, values = "{0:.0%} of the labels are in languages other than English (most: {1})", (other, main)
        if fast:  # TF-IDF stays in the twin: a head on the static vectors alone read much less
            kind, params = "ensemble", {"head.encoder": "e5-fast"}
            recipe = "TF-IDF + a head on the multilingual encoder's static vectors (the fast tier)"
        elif len(frame) < HEAD_ALONE_BELOW:
            kind, params = "head", {"encoder": "e5"}
            recipe = "a head on the multilingual encoder (multilingual-e5-small)"
            why = ("{0:.0%} of the labels are in languages other than English (most: {1}); fewer than {2:,} "
                   "labelled records, too few for TF-IDF to add to the head")
            values = (other, main, HEAD_ALONE_BELOW)
        else:
            kind, params = "ensemble", {"head.encoder": "e5"}
            recipe = "TF-IDF + a head on the multilingual encoder (multilingual-e5-small)"
    else:
        kind, params = "tfidf", {}
        recipe = "TF-IDF (word + character n-grams)"
        why, values = "most labels are in English", ()
    options = TrainOptions(kind, include_imported=bool(imported), params=params)
    return OneClick(options, recipe, why, values, len(frame), expert, imported, both, counts)


def recommended_options(store: Store, taxonomy: Taxonomy) -> tuple[TrainOptions, str]:
    """(options, "recipe: why") of ``one_click``."""
    chosen = one_click(store, taxonomy)
    return chosen.options, f"{chosen.recipe}: {chosen.why()}"


__all__ = ["FINETUNE_MOST", "FINETUNE_PARAMS", "HEAD_ALONE_BELOW", "LONG_TEXT", "MULTILINGUAL_SHARE", "OneClick",
           "finetune_minutes", "finetuned_for", "has_gpu", "one_click", "recipe_for", "recommended_options"]
