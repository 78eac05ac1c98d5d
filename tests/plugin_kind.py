"""A kind written the way a new kind is: one module exposing ``KIND`` (used by test_finetune to
show that registering it is all the loop, the CLI and the job need)."""


from core.models.kinds.base import Field, Kind, Trained, TrainingInput, with_recipe
from core.models.kinds.tfidf import build_tfidf, out_of_fold


def train(data: TrainingInput) -> Trained:
    manifest, fitted = build_tfidf(data.texts, data.codes, data.folder, data.manifest, multi_label=data.multi_label,
                                   seed=data.seed, characters=False, c=float(data.params["c"]))
    return with_recipe(data, manifest, out_of_fold(fitted))


KIND = Kind(name="words", help="TF-IDF over words alone", runtime="sparse-linear", reads=frozenset({"texts"}),
            train=train, fields=(Field("c", "C", "float", 0.5, "regularisation", low=0.01, high=100.0),))
