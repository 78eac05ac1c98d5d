"""The charts of the Performance page and the exports: the bubble chart (a mark per category, its
size the category's gold records, its colour and shape its F1 band), the reliability diagram and
the trend over time, as Altair specifications; PNG and SVG drawn offline by vl-convert."""

from __future__ import annotations

import json

import pandas as pd

from core.errors import WorkbenchError

BANDS = ("good", "fair", "poor", "no data")
# green, yellow, red, blue, from the Okabe-Ito palette (told apart with colour blindness too), and a
# shape per band so the colour is never the only cue
BAND_COLOURS = ("#009E73", "#E6B800", "#D55E00", "#0072B2")
BAND_SHAPES = ("circle", "square", "triangle-up", "diamond")
FEW_GOLD = 10  # below this many gold records a category's figures are uncertain: drawn faded


def _short(name: str, n: int = 26) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def reliability_chart(table: pd.DataFrame, *, title: str = "", x_title: str = "mean confidence in the bin",
                      y_title: str = "share correct"):
    """Accuracy against confidence per bin (points sized by records, joined by a line), with the
    diagonal a calibrated model would follow. Every layer shares one [0, 1] x [0, 1] frame, and no
    line carries a size encoding (which Vega-Lite draws as nothing and lays out off the canvas)."""
    import altair as alt

    x = alt.X("confidence:Q", scale=alt.Scale(domain=[0, 1]), title=x_title)
    y = alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title=y_title)
    diagonal = alt.Chart(pd.DataFrame({"confidence": [0.0, 1.0], "accuracy": [0.0, 1.0]})).mark_line(
        strokeDash=[4, 4], color="gray").encode(x=x, y=y)
    line = alt.Chart(table).mark_line(color="#0072B2").encode(x=x, y=y)
    points = alt.Chart(table).mark_circle(color="#0072B2", opacity=0.9).encode(
        x=x, y=y, size=alt.Size("records:Q", legend=None, scale=alt.Scale(range=[40, 600])),
        tooltip=["from", "to", alt.Tooltip("confidence:Q", format=".3f"), alt.Tooltip("accuracy:Q", format=".3f"),
                 "records"])
    return alt.layer(diagonal, line, points, title=title or alt.Undefined).properties(height=320, width="container")


def precision_coverage_chart(curve: pd.DataFrame, target: float, threshold: float | None = None, *,
                             x_title: str = "share of the category's records accepted",
                             y_title: str = "precision of the accepted"):
    """Precision against coverage as the confidence threshold falls (one category's
    ``core.domain.thresholds.precision_curve``), the target as a dashed rule, the chosen threshold
    as a point."""
    import altair as alt

    x = alt.X("coverage:Q", scale=alt.Scale(domain=[0, 1]), title=x_title)
    y = alt.Y("precision:Q", scale=alt.Scale(domain=[0, 1]), title=y_title)
    tips = [alt.Tooltip("threshold:Q", format=".3f"), alt.Tooltip("coverage:Q", format=".1%"),
            alt.Tooltip("precision:Q", format=".3f"), "accepted"]
    line = alt.Chart(curve).mark_line(color="#0072B2", point=True).encode(x=x, y=y, tooltip=tips)
    rule = alt.Chart(pd.DataFrame({"precision": [target]})).mark_rule(strokeDash=[4, 4], color="#D55E00").encode(y=y)
    layers = [line, rule]
    if threshold is not None:
        chosen = curve[curve["threshold"] >= threshold].tail(1)
        layers.append(alt.Chart(chosen).mark_point(size=160, shape="diamond", filled=True, color="#D55E00")
                      .encode(x=x, y=y, tooltip=tips))
    return alt.layer(*layers).properties(height=300, width="container")


def size_legend_values(support: pd.Series) -> list[int]:
    """Up to four round gold-record counts spanning the data, for a size legend that is complete."""
    top = int(support.max() or 0)
    if top <= 0:
        return [0]
    rounded = {max(1, int(round(top * f, -len(str(int(top * f))) + 1))) for f in (0.1, 0.33, 0.66)}
    return sorted(v for v in rounded | {top} if v <= top)


def bubble_chart(data: pd.DataFrame, *, title: str = "", size_title: str = "gold records", colour_title: str = "F1",
                 bands: dict[str, str] | None = None):
    """An Altair bubble chart: one mark per category, its size the category's **gold records**
    (the same count the tooltip and the label show), colour and shape its F1 band, faded where
    fewer than ``FEW_GOLD`` gold records make its figures uncertain."""
    import altair as alt

    groups = list(dict.fromkeys(data["group"]))
    if len(groups) > MANY_COLUMNS and int(data["slot"].max() or 1) == 1:
        return _bubble_rows(data, title=title, size_title=size_title, colour_title=colour_title, bands=bands)
    base = alt.Chart(data, title=title or alt.Undefined).encode(
        x=alt.X("group:N", sort=groups, title=None,
                axis=alt.Axis(labelAngle=-25, labelLimit=200, labelOverlap=False, orient="bottom")),
        y=alt.Y("slot:O", title=None, axis=None),
    )
    circles = _bubbles(base, data, (30, 1300), size_title, colour_title, bands)
    labels = base.mark_text(align="left", dx=14, fontSize=10).encode(text="label:N")
    return (circles + labels).properties(height=max(220, 48 * int(data["slot"].max() or 1)), width="container")


def _bubbles(base, data: pd.DataFrame, sizes: tuple[int, int], size_title: str, colour_title: str,
             bands: dict[str, str] | None):
    """The bubbles of either layout: size the gold records, colour and shape the F1 band (named in
    the interface's language; the data keeps the English keys), faded where few gold records make
    the figures uncertain, a tooltip with every figure, and the click that picks a category."""
    import altair as alt

    top = max(int(data["support"].max() or 0), 1)
    names = json.dumps({b: (bands or {}).get(b, b) for b in BANDS}, ensure_ascii=False)
    band_legend = alt.Legend(orient="bottom", direction="horizontal", labelExpr=f"{names}[datum.label]")
    return base.mark_point(filled=True, stroke="#333333", strokeWidth=0.5).encode(
        size=alt.Size("support:Q", scale=alt.Scale(domain=[0, top], range=list(sizes), zero=True),
                      title=size_title,
                      legend=alt.Legend(orient="bottom", direction="horizontal",
                                        values=size_legend_values(data["support"]))),
        color=alt.Color("band:N", scale=alt.Scale(domain=list(BANDS), range=list(BAND_COLOURS)), title=colour_title,
                        legend=band_legend),
        shape=alt.Shape("band:N", scale=alt.Scale(domain=list(BANDS), range=list(BAND_SHAPES)), title=colour_title,
                        legend=band_legend),
        opacity=alt.condition(alt.datum.uncertain, alt.value(0.3), alt.value(0.9)),
        tooltip=[alt.Tooltip("code:N"), alt.Tooltip("name:N"), alt.Tooltip("support:Q", title=size_title),
                 alt.Tooltip("predicted:Q"), alt.Tooltip("precision:Q", format=".2f"),
                 alt.Tooltip("recall:Q", format=".2f"), alt.Tooltip("f1:Q", format=".2f"),
                 alt.Tooltip("lenient_f1:Q", format=".2f", title="lenient F1"),
                 alt.Tooltip("uncertain:N", title=f"fewer than {FEW_GOLD} gold records")],
    ).add_params(alt.selection_point(fields=["code"], name="pick"))


MANY_COLUMNS = 12  # more categories than this, each its own column (CAP's 21-40 major topics): one row each


def _bubble_rows(data: pd.DataFrame, *, title: str, size_title: str, colour_title: str,
                 bands: dict[str, str] | None):
    """The bubble chart as a sorted list: a row per category (the most frequent first), its name on
    the axis in full, its bubble (size: gold records, colour and shape: F1 band) and its figures
    beside it; readable at 40 categories where 40 slanted column names overlap."""
    import altair as alt

    frame = data.copy()
    frame["row"] = [f"{c} · {_short(n, 44)}" for c, n in zip(frame["code"], frame["name"])]
    frame["detail"] = [f"F1 {f:.2f} · {s:,}" if s and f is not None else (f"{p:,} ▸" if p else "–")
                       for f, s, p in zip(frame["f1"], frame["support"], frame["occurrences"])]
    order = frame.sort_values(["support", "occurrences", "code"], ascending=[False, False, True])["row"].tolist()
    base = alt.Chart(frame, title=title or alt.Undefined).encode(
        y=alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=340, labelFontSize=11, ticks=False,
                                                              domain=False)))
    circles = _bubbles(base, frame, (20, 420), size_title, colour_title, bands).encode(x=alt.value(16))
    text = base.mark_text(align="left", fontSize=11).encode(x=alt.value(36), text="detail:N")
    return (circles + text).properties(height=24 * len(frame), width=260)


def trend_chart(over_time: pd.DataFrame):
    """Micro F1 per period and cumulative, as lines over real dates (each period's start)."""
    import altair as alt

    frame = over_time.copy()
    frame["date"] = pd.to_datetime(frame["period"].astype(str).str.split("/").str[0], errors="coerce")
    long = frame.melt(id_vars=["date"], value_vars=["period_micro_f1", "cumulative_micro_f1"], var_name="series",
                      value_name="micro F1")
    long["series"] = long["series"].map({"period_micro_f1": "in the period", "cumulative_micro_f1": "cumulative"})
    return alt.Chart(long.dropna(subset=["date"])).mark_line(point=True).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y-%m-%d", labelAngle=-30)),
        y=alt.Y("micro F1:Q", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("date:T", format="%Y-%m-%d"), "series:N", alt.Tooltip("micro F1:Q", format=".3f")],
    ).properties(height=260, width="container")


def confusion_chart(cells: pd.DataFrame, *, title: str = "", gold_title: str = "gold",
                    predicted_title: str = "predicted", share_title: str = "share of the gold category"):
    """The confusion matrix as a heat map: gold categories down, predicted across, each cell shaded
    by its share of the gold category's records and labelled with its count. A click picks a cell
    (the selection ``cell``: its gold and predicted codes)."""
    import altair as alt

    frame = cells.copy()
    order = list(dict.fromkeys(frame.sort_values("gold")["gold label"]))
    across = order + [c for c in dict.fromkeys(frame["predicted label"]) if c not in order]
    pick = alt.selection_point(name="cell", fields=["gold", "predicted"], on="click")
    base = alt.Chart(frame).encode(
        x=alt.X("predicted label:N", title=predicted_title, sort=across, axis=alt.Axis(labelAngle=-40, labelLimit=160)),
        y=alt.Y("gold label:N", title=gold_title, sort=order, axis=alt.Axis(labelLimit=200)))
    squares = base.mark_rect(stroke="#ffffff").encode(
        color=alt.Color("share:Q", title=share_title, scale=alt.Scale(scheme="blues", domain=[0, 1])),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.55)),
        tooltip=["gold label:N", "predicted label:N", "count:Q", alt.Tooltip("share:Q", format=".0%")],
    ).add_params(pick)
    counts = base.mark_text(fontSize=10).encode(
        text="count:Q", color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("#333333")))
    side = max(220, 22 * len(order))
    return (squares + counts).properties(title=title, width=max(220, 26 * len(across)), height=side)


def chart_bytes(chart, fmt: str, width: int = 900) -> bytes:
    """PNG or SVG of an Altair chart or a Vega-Lite spec dict (rendered offline by vl-convert)."""
    import vl_convert

    spec = dict(chart if isinstance(chart, dict) else chart.to_dict())
    spec["width"] = width  # "container" has no meaning outside a page
    if fmt == "png":
        return vl_convert.vegalite_to_png(spec, scale=2)
    if fmt == "svg":
        return vl_convert.vegalite_to_svg(spec).encode("utf-8")
    raise WorkbenchError(f"charts export as png or svg, not '{fmt}'")


__all__ = ["BANDS", "BAND_COLOURS", "BAND_SHAPES", "FEW_GOLD", "bubble_chart", "chart_bytes", "reliability_chart",
           "size_legend_values", "trend_chart"]
