"""Experiment results: SQL-aggregated sufficient statistics, then ``stats`` and ``verdicts``.

Everything a results page, an API client, the report command or the dashboard needs: per
conversion type and variant the test of the method in force (sequential or fixed horizon),
regression adjustment (CUPED, with personality covariates), Bayesian chance to beat the
control, verdicts that follow the decision rule, segments with Benjamini–Hochberg correction,
guardrail metrics and the warnings that make a result untrustworthy (sample-ratio mismatch,
multiple exposures, too small a sample).

Counts come from SQL aggregation on the analytics database alias (a read replica when one is
configured), never rows loaded into Python, in a fixed number of queries per experiment and
per conversion type:

* participants per variant (one grouped query), segment sizes (one ``GROUPING SETS`` query),
  personality moments (one grouped query over the participants who took the Big Five test
  before their exposure);
* per conversion type: converters, values and the cross products with the pre-exposure metric
  and the traits (one query, reading the conversions and the pre-exposure window's
  conversions, joined to the participations only when some have traits), and converters per
  segment (one ``GROUPING SETS`` query);
* guardrails: every registered guardrail metric in one query.

Other modules read results through ``experiments.selectors``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connections
from django.utils import timezone

from accounts import selectors as accounts_selectors
from experiments import stats, verdicts
from experiments.models import TRAITS_SEPARATOR, DeviceType, Experiment, ExperimentStatus
from focusedroom import registries
from focusedroom.db import analytics_alias

MULTIPLE_EXPOSURE_SHOW_SHARE = 0.005
SEGMENT_MIN_PARTICIPANTS_PER_VARIANT = 100
DOMAINS = ("N", "E", "O", "A", "C")
DOMAIN_NAMES = {
    "N": "Neuroticism",
    "E": "Extraversion",
    "O": "Openness",
    "A": "Agreeableness",
    "C": "Conscientiousness",
}
COVARIATES = ("pre_exposure", "took_big_five", *(f"trait_{d}" for d in DOMAINS))
MULTIPLE_EXPOSURE_CAUSES = [
    "People who used several browsers or devices before logging in or giving their email: each browser was "
    "assigned on its own, and identifying merged them (the earlier exposure is kept).",
    "Shared devices: several people logging in from one browser share its visitor id.",
    "Cleared cookies or private browsing before identifying, which gives a new visitor id.",
    "An app or partner tool assigning with another id, seed or hash than FocusedRoom's.",
]
SEGMENT_NOTE = (
    "Segment findings are hypotheses, not results: with many segments compared some differences appear by "
    "chance. The p-values are corrected with Benjamini–Hochberg across segments; confirm a segment finding "
    "with a new experiment before acting on it."
)


def pct(x: float, digits: int = 0) -> str:
    return verdicts.pct(x, digits)


def _float(value) -> float:
    return float(value) if value is not None else 0.0


# ----------------------------------------------------------------------------- SQL

COUNTED = "p.was_eligible_at_exposure AND NOT p.has_multiple_exposures"

# Segment keys of a participation, known at its first exposure: the device and the channel, and the
# norm group and five levels together in ``traits_segment`` (a stored column the database derives
# from ``pre_exposure_traits``; NULL without a pre-exposure test). The pass groups by the variant and
# these three; migration 0005 creates PostgreSQL statistics of their distinct combinations, so it
# plans a hash aggregate over about as many groups as there are cells.
SEGMENT_NAMES = ["device", "channel", "norm_group", *(f"level_{d}" for d in DOMAINS)]
SEGMENT_SEPARATOR = TRAITS_SEPARATOR

# A trait coordinate: the domain percentile centred on the norm's median, on a 0–1 scale.
TRAIT_NAMES = [f"t_{d.lower()}" for d in DOMAINS]
_TRAIT_COLUMNS = ", ".join(f"(p.trait_{d.lower()} - 50) / 100 AS t_{d.lower()}" for d in DOMAINS)

TRAITS_EXIST_SQL = """
SELECT EXISTS (SELECT 1 FROM user_experiment_participation
                WHERE experiment_id = %s AND pre_exposure_traits IS NOT NULL)
"""

# Whether any participant may have converted in the pre-exposure window (else the adjustment by the
# same metric before exposure is skipped): one range of the ``conversions_type_time`` index.
PRE_EXIST_SQL = """
SELECT EXISTS (SELECT 1 FROM conversions
                WHERE conversion_type = ANY(%(types)s) AND created_at >= %(since)s
                  AND experiment_id <> %(experiment)s)
"""

TYPES_SQL = """
SELECT DISTINCT conversion_type FROM conversions WHERE experiment_id = %s ORDER BY conversion_type
"""

# The same metric in the pre-exposure window: conversions of the same type the participant made
# during the ``window`` before their first exposure, recorded by FocusedRoom for other experiments
# (this one records nothing before an exposure). One conversion recorded for several experiments
# counts once (same participant, type and time).
_PRE_BRANCH = """
SELECT DISTINCT p.id AS participation_id, c.conversion_type, c.created_at, coalesce(c.conversion_value, 0) AS value
  FROM conversions c
  JOIN user_experiment_participation p ON p.experiment_id = %(experiment)s AND {match}
 WHERE c.conversion_type = ANY(%(types)s) AND c.experiment_id <> %(experiment)s AND c.created_at >= %(since)s
   AND c.created_at < p.first_exposure_date AND c.created_at >= p.first_exposure_date - %(window)s
   AND {counted}
"""
_PRE_BY_PERSON = _PRE_BRANCH.format(match="p.user_id = c.user_id", counted=COUNTED)
_PRE_BY_VISITOR = _PRE_BRANCH.format(
    match="p.user_id IS NULL AND c.user_id IS NULL AND p.anonymous_id = c.anonymous_id", counted=COUNTED
)


def _per_type(n_types: int, flag: str, value: str, source: str) -> str:
    """Per conversion type ``i``: whether the participant has one (``{flag}{i}``) and its value (``{value}{i}``),
    summed as float8 (the statistics' type; a numeric sum is slower and cast anyway)."""
    columns = []
    for i in range(n_types):
        columns.append(f"max(CASE WHEN conversion_type = %(type_{i})s THEN 1::float8 ELSE 0::float8 END) AS {flag}{i}")
        columns.append(
            f"sum(CASE WHEN conversion_type = %(type_{i})s THEN ({source})::float8 ELSE 0::float8 END) AS {value}{i}"
        )
    return ", ".join(columns)


def _joins(n_types: int, *, pre: bool, among: str = "") -> str:
    """Each participation's conversions of every type (converted, value) and, with ``pre``, the same in
    its pre-exposure window. ``among`` (a relation with a unique ``id`` column of participations) limits
    both to those participations: a pass over a few of them groups their conversions only, not the
    experiment's (a join, so PostgreSQL hashes the few rather than probing the conversions once per row)."""
    only = f" JOIN {among} a ON a.id = participation_id" if among else ""
    joins = f"""
  LEFT JOIN (SELECT participation_id, {_per_type(n_types, "y", "yv", "coalesce(conversion_value, 0)")}
               FROM conversions{only}
              WHERE experiment_id = %(experiment)s AND conversion_type = ANY(%(types)s)
                AND conversion_within_window AND conversion_eligibility_verified
              GROUP BY participation_id) c ON c.participation_id = p.id"""  # noqa: S608
    if pre:
        joins += f"""
  LEFT JOIN (SELECT participation_id, {_per_type(n_types, "x", "xv", "value")}
               FROM ({_PRE_BY_PERSON} UNION {_PRE_BY_VISITOR}) z{only}
              GROUP BY participation_id) x ON x.participation_id = p.id"""  # noqa: S608
    return joins


def metric_columns(i: int, *, pre: bool) -> list[str]:
    """The sums of conversion type ``i`` in a cell: ``y`` (converted), ``yv`` (value) and, with ``pre``,
    ``x``/``xv`` (the same before exposure) with their products — 0 without."""
    y, yv, x, xv = f"c.y{i}", f"c.yv{i}", f"x.x{i}", f"x.xv{i}"
    columns = [f"sum({y})", f"sum({yv})", f"sum({yv} * {yv})"]
    if pre:
        return columns + [f"sum({x})", f"sum({xv})", f"sum({xv} * {xv})", f"sum({y} * {x})", f"sum({yv} * {xv})"]
    return columns + ["0::float8"] * 5


METRIC_WIDTH = 8
TRAIT_BLOCK = ("y", "yv", "x", "xv")
TRAIT_WIDTH = len(TRAIT_BLOCK) * (1 + len(TRAIT_NAMES))


def trait_columns(i: int, *, pre: bool) -> list[str]:
    """Products of conversion type ``i``'s ``y, yv, x, xv`` with ``k`` (took the test) and the traits."""
    columns = []
    for left in TRAIT_BLOCK:
        if left.startswith("x") and not pre:
            columns += ["0::float8"] * (1 + len(TRAIT_NAMES))
            continue
        value = f"{'x' if left.startswith('x') else 'c'}.{left}{i}"
        columns += [f"sum({value})"] + [f"sum({value} * p.{t})" for t in TRAIT_NAMES]
    return columns


PARTICIPANT_COLUMNS = [
    f"count(*) FILTER (WHERE {COUNTED})",
    "count(*) FILTER (WHERE p.has_multiple_exposures)",
    "count(*) FILTER (WHERE NOT p.was_eligible_at_exposure AND NOT p.has_multiple_exposures)",
    "coalesce(sum(p.total_impressions), 0)",
    f"count(*) FILTER (WHERE {COUNTED} AND p.traits_segment IS NOT NULL)",
]
PERSONALITY_COLUMNS = [f"sum(p.{t})" for t in TRAIT_NAMES] + [
    f"sum(p.{a} * p.{b})" for i, a in enumerate(TRAIT_NAMES) for b in TRAIT_NAMES[i:]
]


def pass_sql(n_types: int, *, adjusted: bool = True, pre: bool = True) -> str:
    """The participants pass: one scan of the experiment's participations joined to their conversions
    (and to the pre-exposure window's), grouped by variant and segment keys. Every count and sum is
    additive over these cells: per variant, per segment, per conversion type."""
    pre = adjusted and pre
    columns = list(PARTICIPANT_COLUMNS)
    for i in range(n_types):
        columns += metric_columns(i, pre=pre)
    return f"""
SELECT p.variant_id, p.device_type, p.acquisition_channel, p.traits_segment, {", ".join(columns)}
  FROM (SELECT p.variant_id, p.id, p.was_eligible_at_exposure, p.has_multiple_exposures, p.total_impressions,
               p.device_type, p.acquisition_channel, p.traits_segment
          FROM user_experiment_participation p
         WHERE p.experiment_id = %(experiment)s) p{_joins(n_types, pre=pre) if n_types else ""}
 GROUP BY p.variant_id, p.device_type, p.acquisition_channel, p.traits_segment
"""  # noqa: S608 (built from constants; values are parameters)


def traits_sql(n_types: int, *, pre: bool = True) -> str:
    """The participants who took the Big Five before their exposure (``participation_traits`` index, read alone):
    per variant, the traits' sums and products, and their products with every conversion type's sums.
    (Materialised: each coordinate is computed once per row, not once per product that uses it, and only
    these participants' conversions are grouped.)"""
    columns = ["count(*)", *PERSONALITY_COLUMNS]
    for i in range(n_types):
        columns += trait_columns(i, pre=pre)
    joins = _joins(n_types, pre=pre, among="traited") if n_types else ""
    return f"""
WITH traited AS MATERIALIZED (
    SELECT p.variant_id, p.id, {_TRAIT_COLUMNS}
      FROM user_experiment_participation p
     WHERE p.experiment_id = %(experiment)s AND p.pre_exposure_traits IS NOT NULL AND {COUNTED}
)
SELECT p.variant_id, {", ".join(columns)}
  FROM traited p{joins}
 GROUP BY p.variant_id
"""  # noqa: S608 (built from constants; values are parameters)


def guardrails_sql(metrics: list[registries.GuardrailMetric]) -> str:
    """Every guardrail metric per variant in one query: per participant, the events from the first
    exposure to the end of the conversion window; then sums per variant."""
    events = "\n        UNION ALL\n".join(
        f"SELECT {i} AS metric, g.user_id, g.occurred_at, g.value::float8 AS value FROM ({m.sql}) g"  # noqa: S608
        for i, m in enumerate(metrics)
    )
    return f"""
WITH events AS (
        {events}
), per AS (
    SELECT p.variant_id, e.metric, p.id, sum(e.value) AS value, count(*) AS events
      FROM events e
      JOIN user_experiment_participation p ON p.experiment_id = %(experiment)s AND p.user_id = e.user_id
     WHERE {COUNTED}
       AND e.occurred_at >= p.first_exposure_date AND e.occurred_at <= p.first_exposure_date + %(window)s
     GROUP BY p.variant_id, e.metric, p.id
)
SELECT variant_id, metric, count(*) AS participants, sum(value), sum(value * value)
  FROM per GROUP BY variant_id, metric
"""  # noqa: S608 (the registered guardrail metrics' SQL is code, not input)


# -------------------------------------------------------------------------- counts


def _add(target: list[float], values, offset: int = 0) -> None:
    for i, v in enumerate(values):
        target[offset + i] += _float(v)


def results_counts(*, experiment: Experiment, conversion_types: list[str] | None = None) -> dict[str, Any]:
    """Per-variant sufficient statistics: participants, segments, personality moments and, per
    conversion type, converters, value sums and their cross products with the covariates."""
    adjusted = bool(experiment.regression_adjustment)
    window = timedelta(days=experiment.pre_exposure_window_days or 14)
    start = experiment.started_at or experiment.created_at or timezone.now()
    with connections[analytics_alias()].cursor() as cursor:
        if conversion_types is None:
            cursor.execute(TYPES_SQL, [experiment.id])
            conversion_types = [row[0] for row in cursor.fetchall()]
        n_types = len(conversion_types)
        params: dict[str, Any] = {
            "experiment": experiment.id,
            "window": window,
            "since": start - window,
            "types": list(conversion_types),
            **{f"type_{i}": t for i, t in enumerate(conversion_types)},
        }
        traits = pre = False
        if adjusted:
            cursor.execute(TRAITS_EXIST_SQL, [experiment.id])
            traits = bool(cursor.fetchone()[0])
            if n_types:
                cursor.execute(PRE_EXIST_SQL, params)
                pre = bool(cursor.fetchone()[0])
        cursor.execute(pass_sql(n_types, adjusted=adjusted, pre=pre), params)
        cells = cursor.fetchall()
        trait_rows = []
        if traits:
            cursor.execute(traits_sql(n_types, pre=pre), params)
            trait_rows = cursor.fetchall()
        guardrail_metrics = sorted(registries.guardrail_metrics.entries(), key=lambda m: (m.order, m.name))
        guardrails: dict[str, dict[str, list[float]]] = {}
        if guardrail_metrics and cells:
            cursor.execute(
                guardrails_sql(guardrail_metrics),
                {**params, "since": start, "window": timedelta(days=experiment.conversion_window_days)},
            )
            for variant_id, metric, *values in cursor.fetchall():
                guardrails.setdefault(guardrail_metrics[metric].name, {})[str(variant_id)] = [_float(v) for v in values]
    counts = _roll_up(cells, conversion_types)
    for variant, count, *rest in trait_rows:
        variant_id = str(variant)
        personality_width = len(PERSONALITY_COLUMNS)
        counts["personality"][variant_id] = [_float(count), *(_float(v) for v in rest[:personality_width])]
        rest = rest[personality_width:]
        for i, conversion_type in enumerate(conversion_types):
            sums = counts["metrics"][conversion_type]["sums"].setdefault(variant_id, [0.0] * METRIC_WIDTH)
            sums.extend(_float(v) for v in rest[i * TRAIT_WIDTH : (i + 1) * TRAIT_WIDTH])
    return {
        **counts,
        "guardrail_metrics": guardrail_metrics,
        "guardrails": guardrails,
        "adjusted": adjusted,
        "traits": traits,
    }


def _roll_up(cells: list[tuple], conversion_types: list[str]) -> dict[str, Any]:
    """The pass's cells summed per variant, per segment and per conversion type."""
    participants: dict[str, dict[str, int]] = {}
    sums: list[dict[str, list[float]]] = [{} for _ in conversion_types]
    segment_sizes: dict[tuple[str, str], dict[str, int]] = {}
    segment_converters: list[dict[tuple[str, str], dict[str, int]]] = [{} for _ in conversion_types]
    for variant, device, channel, traits_segment, *rest in cells:
        variant_id = str(variant)
        traits_keys = traits_segment.split(SEGMENT_SEPARATOR) if traits_segment is not None else [""] * 6
        keys = [device or "", "" if channel is None else str(channel), *traits_keys]
        counted, multiple, excluded, impressions, with_traits = (int(v or 0) for v in rest[:5])
        rest = rest[5:]
        row = participants.setdefault(
            variant_id, {"participants": 0, "multiple_exposures": 0, "excluded": 0, "impressions": 0, "with_traits": 0}
        )
        for name, value in (
            ("participants", counted),
            ("multiple_exposures", multiple),
            ("excluded", excluded),
            ("impressions", impressions),
            ("with_traits", with_traits),
        ):
            row[name] += value
        blocks = [rest[i * METRIC_WIDTH : (i + 1) * METRIC_WIDTH] for i in range(len(conversion_types))]
        for i, block in enumerate(blocks):
            _add(sums[i].setdefault(variant_id, [0.0] * METRIC_WIDTH), block)
        if not counted:
            continue
        for name, value in zip(SEGMENT_NAMES, keys, strict=True):
            segment = (name, value)
            cell = segment_sizes.setdefault(segment, {})
            cell[variant_id] = cell.get(variant_id, 0) + counted
            for i, block in enumerate(blocks):
                converted = int(_float(block[0]))
                if converted:
                    cell = segment_converters[i].setdefault(segment, {})
                    cell[variant_id] = cell.get(variant_id, 0) + converted
    return {
        "participants": participants,
        "personality": {},
        "segment_sizes": segment_sizes,
        "metrics": {
            conversion_type: {"sums": sums[i], "segments": segment_converters[i]}
            for i, conversion_type in enumerate(conversion_types)
        },
    }


# ------------------------------------------------------------------------- results


def _method(experiment: Experiment) -> str:
    return stats.SEQUENTIAL if experiment.sequential_testing else stats.FIXED_HORIZON


METHOD_DESCRIPTIONS = {
    stats.SEQUENTIAL: "P-values and intervals stay valid however often you look, so a "
    "result marked significant can be acted on the day it appears. Intervals are wider than a fixed-horizon "
    "test's, the price of looking every day.",
    stats.FIXED_HORIZON: "Valid for one look, at the planned sample. Before that, "
    "p-values and intervals are shown for information only and no result is called significant.",
}


def experiment_results(*, experiment: Experiment, conversion_types: list[str] | None = None) -> dict[str, Any]:
    variants = list(experiment.variants.order_by("position"))
    counts = results_counts(experiment=experiment, conversion_types=conversion_types)
    confidence = float(experiment.confidence_level or 0.95)
    alpha = 1 - confidence
    mde = float(experiment.minimum_detectable_effect or 0.05)
    method = _method(experiment)
    control = next((v for v in variants if v.is_control), variants[0] if variants else None)
    others = [v for v in variants if v is not control]

    rows = []
    for v in variants:
        c = counts["participants"].get(str(v.id), {})
        rows.append(
            {
                "id": str(v.id),
                "name": v.name,
                "is_control": v is control,
                "weight": float(v.weight),
                "participants": c.get("participants", 0),
                "impressions": c.get("impressions", 0),
                "multiple_exposures": c.get("multiple_exposures", 0),
                "excluded": c.get("excluded", 0),
                "with_big_five": c.get("with_traits", 0),
            }
        )
    by_id = {r["id"]: r for r in rows}
    analysed = sum(r["participants"] for r in rows)
    multiple = sum(r["multiple_exposures"] for r in rows)
    exposed = analysed + multiple
    multiple_share = multiple / exposed if exposed else 0.0

    srm = stats.sample_ratio_check([r["participants"] for r in rows], [r["weight"] for r in rows])
    context = _Context(
        experiment=experiment,
        counts=counts,
        by_id=by_id,
        control=control,
        others=others,
        alpha=alpha,
        confidence=confidence,
        mde=mde,
        method=method,
        analysed=analysed,
    )

    warnings = []
    if srm.mismatch:
        warnings.append(
            {
                "code": "srm",
                "message": f"Sample ratio mismatch (p = {srm.p_value:.2g}): traffic does not match the configured "
                "split. Check assignment and tracking before trusting any result.",
            }
        )
    multiple_shown = exposed > 0 and multiple_share >= MULTIPLE_EXPOSURE_SHOW_SHARE
    if multiple_shown:
        warnings.append(
            {
                "code": "multiple_exposures",
                "message": f"{pct(multiple_share, 1)} of participants ({multiple:,}) saw several variants; they are "
                "left out of the analysis. Likely causes: " + " ".join(MULTIPLE_EXPOSURE_CAUSES),
                "causes": MULTIPLE_EXPOSURE_CAUSES,
            }
        )
    target = experiment.target_sample_size
    progress = {
        "participants": analysed,
        "target_sample_size": target,
        "share": min(analysed / target, 1.0) if target else None,
    }
    if target and analysed < target:
        warnings.append(
            {
                "code": "sample_size",
                "message": f"Collecting data: {analysed:,} of {target:,} participants ({pct(analysed / target)})."
                + (
                    " The sequential test may be read at any time."
                    if method == stats.SEQUENTIAL
                    else " This fixed-horizon test is not decidable before the planned sample."
                ),
            }
        )

    guardrails = _guardrails(context) if control is not None else []
    harms_by_variant: dict[str, list[dict]] = {}
    for guardrail in guardrails:
        for row in guardrail["variants"]:
            if row.get("status") == "harm":
                harms_by_variant.setdefault(row["name"], []).append(
                    {
                        "name": guardrail["name"],
                        "label": guardrail["label"],
                        "uplift": row["uplift"],
                        "threshold": guardrail["threshold"],
                    }
                )
    metrics = []
    if control is not None:
        for conversion_type, data in counts["metrics"].items():
            metrics.append(_metric(context, conversion_type, data, harms_by_variant))
    if any(harms_by_variant.values()):
        names = ", ".join(sorted(harms_by_variant))
        warnings.append(
            {
                "code": "guardrail",
                "message": f"Guardrail harmed by {names}: see the guardrail metrics before shipping anything.",
            }
        )
    return {
        "experiment": {
            "key": experiment.key,
            "name": experiment.name,
            "status": experiment.status,
            "started_at": experiment.started_at.isoformat() if experiment.started_at else None,
            "ended_at": experiment.ended_at.isoformat() if experiment.ended_at else None,
            "confidence_level": confidence,
            "minimum_detectable_effect": mde,
            "coverage": float(experiment.coverage),
            "conversion_window_days": experiment.conversion_window_days,
            "sequential_testing": bool(experiment.sequential_testing),
            "sequential_tuning": experiment.sequential_tuning,
            "regression_adjustment": bool(experiment.regression_adjustment),
            "pre_exposure_window_days": experiment.pre_exposure_window_days,
            "guardrail_threshold": float(experiment.guardrail_threshold),
        },
        "method": method,
        "method_description": METHOD_DESCRIPTIONS[method],
        "variants": rows,
        "participants": analysed,
        "multiple_exposure_participants": multiple,
        "multiple_exposure_share": multiple_share,
        "multiple_exposures": {
            "participants": multiple,
            "share": multiple_share,
            "shown": multiple_shown,
            "causes": MULTIPLE_EXPOSURE_CAUSES if multiple_shown else [],
        },
        "srm": srm.as_dict(),
        "progress": progress,
        "metrics": metrics,
        "guardrails": guardrails,
        "warnings": warnings,
    }


class _Context:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    @property
    def finished(self) -> bool:
        return self.experiment.status in (ExperimentStatus.STOPPED, ExperimentStatus.ARCHIVED)

    def compare(self, a: stats.Stat, b: stats.Stat) -> dict:
        return stats.compare(a, b, alpha=self.alpha, method=self.method, tuning=self.experiment.sequential_tuning)

    def plan(self, needed_per_variant: int | None) -> verdicts.Plan:
        target = self.experiment.target_sample_size
        if target:
            planned = target
        elif needed_per_variant:
            planned = needed_per_variant * (len(self.others) + 1)
        else:
            planned = None
        return verdicts.Plan(method=self.method, participants=self.analysed, planned=planned, finished=self.finished)


def _moments(context: _Context, variant_id: str, sums: list[float], *, value: bool) -> stats.Moments:
    """An arm's ``Moments`` for ``(y, pre, took, N, E, O, A, C)`` from the SQL sums.

    ``sums`` is a conversion type's ``metric_columns`` summed over the variant's cells:
    ``[Σy, Σyv, Σyv², Σx, Σxv, Σxv², Σyx, Σyv·xv]`` then, with traits, for each of ``y, yv, x, xv``:
    ``Σ·k`` and ``Σ·t_d``. ``value`` picks ``(yv, xv)`` over ``(y, x)``.
    """
    n = context.by_id[variant_id]["participants"]
    sy, syv, syv2, sx, sxv, sxv2, syx, syvxv = (sums + [0.0] * 8)[:8]
    if value:
        y, y2, x, x2, yx = syv, syv2, sxv, sxv2, syvxv
    else:
        y, y2, x, x2, yx = sy, sy, sx, sx, syx
    k = 7  # pre, took, 5 traits
    cross = [[0.0] * (k + 1) for _ in range(k + 1)]
    totals = [y, x] + [0.0] * 6
    cross[0][0], cross[1][1], cross[0][1] = y2, x2, yx
    personality = context.counts["personality"].get(variant_id)
    if personality:
        count, *rest = personality
        trait_sums, trait_products = rest[:5], rest[5:]
        totals[2] = count
        totals[3:8] = trait_sums
        cross[2][2] = count
        for d in range(5):
            cross[2][3 + d] = trait_sums[d]
        position = 0
        for i in range(5):
            for j in range(i, 5):
                cross[3 + i][3 + j] = trait_products[position]
                position += 1
        extra = sums[8:]
        if extra:
            blocks = {name: extra[i * 6 : (i + 1) * 6] for i, name in enumerate(("y", "yv", "x", "xv"))}
            for row, name in ((0, "yv" if value else "y"), (1, "xv" if value else "x")):
                for d in range(6):
                    cross[row][2 + d] = blocks[name][d]
    for i in range(k + 1):
        for j in range(i):
            cross[i][j] = cross[j][i]
    return stats.Moments(n=n, sums=tuple(totals), products=tuple(tuple(r) for r in cross))


KINDS_RATE = (stats.PROPORTION, stats.PROPORTION, *([stats.MEAN] * 6))
KINDS_VALUE = tuple([stats.MEAN] * 8)


def _tested(context: _Context, a: stats.Moments, b: stats.Moments, *, value: bool) -> dict[str, Any]:
    """The comparison of ``b`` with the control ``a``: the method in force, regression-adjusted when on."""
    kinds = KINDS_VALUE if value else KINDS_RATE
    plain_a, plain_b = stats.unadjusted(a, kinds[0]), stats.unadjusted(b, kinds[0])
    plain = context.compare(plain_a, plain_b)
    out: dict[str, Any] = {"test": plain, "a": plain_a, "b": plain_b, "cuped": None, "unadjusted": None}
    if not context.counts["adjusted"]:
        return out
    adjustment = stats.regression_adjustment(a, b, kinds=kinds, names=COVARIATES)
    if not adjustment.adjusted:
        return out
    adjusted = context.compare(adjustment.a, adjustment.b)
    gain = stats.variance_reduction(adjusted, plain)
    if adjusted["error"] or gain is None:
        return out
    out.update(
        test=adjusted,
        a=adjustment.a,
        b=adjustment.b,
        cuped={
            "theta": {name: adjustment.theta[name] for name in adjustment.covariates},
            "covariates": list(adjustment.covariates),
            **gain,
        },
        unadjusted={"uplift": plain["uplift"], "ci": plain["ci"], "p_value": plain["p_value"]},
    )
    return out


def _metric(context: _Context, conversion_type: str, data: dict, harms_by_variant: dict) -> dict[str, Any]:
    sums = data["sums"]
    control = context.control

    def arm(v, *, value: bool) -> stats.Moments:
        return _moments(context, str(v.id), sums.get(str(v.id), []), value=value)

    rate_a, value_a = arm(control, value=False), arm(control, value=True)
    n_a = rate_a.n
    x_a = min(int(rate_a.sums[0]), n_a)
    control_rate = x_a / n_a if n_a else 0.0
    out_variants: list[dict[str, Any]] = [
        {
            "name": control.name,
            "is_control": True,
            "participants": n_a,
            "converters": x_a,
            "conversion_rate": control_rate,
            "value_mean": value_a.sums[0] / n_a if n_a else 0.0,
        }
    ]
    comparisons = []
    for v in context.others:
        rate_b, value_b = arm(v, value=False), arm(v, value=True)
        n_b = rate_b.n
        x_b = min(int(rate_b.sums[0]), n_b)
        rate = _tested(context, rate_a, rate_b, value=False)
        value = _tested(context, value_a, value_b, value=True)
        bayes = stats.bayesian(rate["a"], rate["b"], alpha=context.alpha)
        test = rate["test"]
        row = {
            "name": v.name,
            "is_control": False,
            "participants": n_b,
            "converters": x_b,
            "conversion_rate": x_b / n_b if n_b else 0.0,
            "value_mean": value_b.sums[0] / n_b if n_b else 0.0,
            "method": test["method"],
            "uplift": test["uplift"],
            "ci": test["ci"],
            "p_value": test["p_value"],
            "cuped": rate["cuped"],
            "unadjusted": rate["unadjusted"],
            "chance_to_win": bayes["chance_to_win"],
            "risk_control": bayes["risk"][0],
            "risk_variant": bayes["risk"][1],
            "credible_interval": bayes["ci"],
            "value_uplift": value["test"]["uplift"],
            "value_ci": value["test"]["ci"],
            "value_p_value": value["test"]["p_value"],
            "value_cuped": value["cuped"],
            "error": test["error"] or bayes["error"],
        }
        comparisons.append(row)
        out_variants.append(row)
    needed = (
        stats.sample_size_per_variant(control_rate=control_rate, mde=context.mde, confidence=context.confidence)
        if control_rate
        else None
    )
    plan = context.plan(needed)
    adjusted = stats.holm([c["p_value"] for c in comparisons]) if comparisons else []
    for row, p_adj in zip(comparisons, adjusted, strict=True):
        row["p_value_holm"] = p_adj
        row.update(
            verdicts.decide(
                row=row,
                control=control.name,
                plan=plan,
                alpha=context.alpha,
                harms=harms_by_variant.get(row["name"]),
            )
        )
    smallest = min((r["participants"] for r in out_variants), default=0)
    return {
        "conversion_type": conversion_type,
        "method": context.method,
        "variants": out_variants,
        "planned_sample": {
            "participants": plan.planned,
            "source": "target_sample_size"
            if context.experiment.target_sample_size
            else ("power" if plan.planned else None),
            "reached": plan.reached,
        },
        "power": {
            "control_rate": control_rate,
            "minimum_detectable_effect": context.mde,
            "power": 0.8,
            "participants_needed_per_variant": needed,
            "enough": needed is not None and smallest >= needed,
        },
        "segments": _segments(context, data["segments"], plan),
    }


# ------------------------------------------------------------------------ segments

SEGMENT_DIMENSIONS = [
    ("device", "Device at first exposure"),
    ("channel", "Acquisition channel"),
    ("norm_group", "Big Five norm group"),
    *((f"level_{d}", f"{DOMAIN_NAMES[d]} (before exposure)") for d in DOMAINS),
]


def _segment_label(dimension: str, value: str, channels: dict[str, str]) -> str | None:
    """A segment's name, or None for the participants a trait dimension does not describe."""
    if dimension == "device":
        return DeviceType(value).label if value in DeviceType.values else "Unknown device"
    if dimension == "channel":
        return channels.get(value, f"Channel {value}") if value else "Visitor (no account at exposure)"
    if not value:
        return None  # no Big Five before exposure: not a trait level
    if dimension == "norm_group":
        return value
    return value.capitalize()


def _segments(context: _Context, converters_raw: dict, plan: verdicts.Plan) -> dict[str, Any]:
    sizes = context.counts["segment_sizes"]
    converters = converters_raw
    channels = (
        {str(c.pk): c.name for c in accounts_selectors.channels()} if any(d == "channel" for d, _ in sizes) else {}
    )
    control_id = str(context.control.id)
    dimensions = []
    tested: list[dict[str, Any]] = []
    for dimension, title in SEGMENT_DIMENSIONS:
        segments = []
        for (dim, value), per_variant in sorted(sizes.items()):
            if dim != dimension:
                continue
            label = _segment_label(dimension, value, channels)
            if label is None:
                continue
            conv = converters.get((dim, value), {})
            variants = []
            for v in [context.control, *context.others]:
                n = per_variant.get(str(v.id), 0)
                x = min(conv.get(str(v.id), 0), n)
                variants.append(
                    {"name": v.name, "participants": n, "converters": x, "conversion_rate": x / n if n else 0.0}
                )
            n_control = per_variant.get(control_id, 0)
            comparisons = []
            for v in context.others:
                n_b = per_variant.get(str(v.id), 0)
                enough = min(n_control, n_b) >= SEGMENT_MIN_PARTICIPANTS_PER_VARIANT
                comparison: dict[str, Any] = {"name": v.name, "enough_data": enough}
                if enough:
                    a = stats.proportion(n_control, min(conv.get(control_id, 0), n_control))
                    b = stats.proportion(n_b, min(conv.get(str(v.id), 0), n_b))
                    test = context.compare(a, b)
                    comparison.update(
                        uplift=test["uplift"], ci=test["ci"], p_value=test["p_value"], error=test["error"]
                    )
                    if not test["error"]:
                        tested.append(comparison)
                comparisons.append(comparison)
            segments.append({"value": value, "label": label, "variants": variants, "comparisons": comparisons})
        if segments:
            dimensions.append({"dimension": dimension, "label": title, "segments": segments})
    q_values = stats.benjamini_hochberg([c["p_value"] for c in tested]) if tested else []
    for comparison, q in zip(tested, q_values, strict=True):
        comparison["q_value"] = q
        comparison["significant"] = plan.decidable and q < context.alpha
    findings = sum(1 for c in tested if c["significant"])
    return {
        "note": SEGMENT_NOTE,
        "correction": "benjamini_hochberg",
        "min_participants_per_variant": SEGMENT_MIN_PARTICIPANTS_PER_VARIANT,
        "comparisons": len(tested),
        "findings": findings,
        "dimensions": dimensions,
    }


# ---------------------------------------------------------------------- guardrails


def _guardrails(context: _Context) -> list[dict[str, Any]]:
    threshold = float(context.experiment.guardrail_threshold)
    out = []
    for metric in context.counts["guardrail_metrics"]:
        per_variant = context.counts["guardrails"].get(metric.name, {})

        def arm(v, metric=metric, per_variant=per_variant) -> stats.Stat:
            n = context.by_id[str(v.id)]["participants"]
            with_events, total, squares = (per_variant.get(str(v.id)) or [0, 0.0, 0.0])[:3]
            if metric.kind == "proportion":
                return stats.proportion(n, min(with_events, n))
            return stats.sample_mean(n, total, squares)

        a = arm(context.control)
        rows = [{"name": context.control.name, "is_control": True, "participants": a.n, "mean": a.mean}]
        for v in context.others:
            b = arm(v)
            test = context.compare(a, b)
            row = {
                "name": v.name,
                "is_control": False,
                "participants": b.n,
                "mean": b.mean,
                "method": test["method"],
                "uplift": test["uplift"],
                "ci": test["ci"],
                "p_value": test["p_value"],
                "error": test["error"],
            }
            row.update(_guardrail_status(metric, row, threshold, context))
            rows.append(row)
        out.append(
            {
                "name": metric.name,
                "label": metric.label,
                "kind": metric.kind,
                "harm": metric.harm,
                "unit": metric.unit,
                "threshold": threshold,
                "variants": rows,
            }
        )
    return out


def _guardrail_status(metric, row: dict, threshold: float, context: _Context) -> dict[str, str]:
    """``harm``: shown to hurt beyond the threshold (the interval is on the harmful side and the estimate
    beyond the threshold, under the method in force); ``watch``: the estimate is beyond it, not yet shown;
    ``ok``; ``no_data``."""
    if row["error"]:
        return {"status": "no_data", "message": f"Not enough data on {metric.label.lower()} yet."}
    sign = -1 if metric.harm == "decrease" else 1
    harmful_estimate = sign * row["uplift"] >= threshold
    lo, hi = row["ci"]
    interval_harmful = hi < 0 if sign < 0 else lo > 0
    decidable = context.method == stats.SEQUENTIAL or context.plan(None).reached
    change = f"{row['uplift'] * 100:+.1f} %"
    if harmful_estimate and interval_harmful and decidable:
        return {
            "status": "harm",
            "message": f"{row['name']} harms {metric.label.lower()} ({change}), beyond the {pct(threshold, 1)} limit.",
        }
    if harmful_estimate:
        return {
            "status": "watch",
            "message": f"{row['name']} may harm {metric.label.lower()} ({change}); not shown yet.",
        }
    return {"status": "ok", "message": f"{metric.label}: {change}, within the {pct(threshold, 1)} limit."}


# ------------------------------------------------------------------------ dashboard

RUNNING_COUNTS_SQL = """
SELECT p.experiment_id, p.variant_id,
       count(*) AS participants,
       count(*) FILTER (WHERE p.has_converted AND p.conversion_within_window) AS converters
  FROM user_experiment_participation p
  JOIN experiments e ON e.id = p.experiment_id
 WHERE e.status = 'running' AND p.was_eligible_at_exposure AND NOT p.has_multiple_exposures
 GROUP BY p.experiment_id, p.variant_id
"""


def running_experiments_overview() -> list[dict[str, Any]]:
    """Running experiments with their leading variant and SRM state, in a fixed number of queries.

    The leader is the variant with the highest share of participants who converted (any
    conversion type) within the window; the sample-ratio check is ``stats.sample_ratio_check``,
    as on the results page.
    """
    experiments = list(
        Experiment.objects.using(analytics_alias())
        .filter(status=ExperimentStatus.RUNNING)
        .prefetch_related("variants")
        .order_by("name")
    )
    with connections[analytics_alias()].cursor() as cursor:
        cursor.execute(RUNNING_COUNTS_SQL)
        counts = {(str(e), str(v)): (n, c) for e, v, n, c in cursor.fetchall()}
    overview = []
    for experiment in experiments:
        variants = []
        for variant in experiment.variants.all():
            n, c = counts.get((str(experiment.id), str(variant.id)), (0, 0))
            variants.append(
                {
                    "name": variant.name,
                    "weight": float(variant.weight),
                    "participants": n,
                    "converters": c,
                    "rate": c / n if n else 0.0,
                    "is_control": variant.is_control,
                }
            )
        users = [v["participants"] for v in variants]
        srm = stats.sample_ratio_check(users, [v["weight"] for v in variants])
        leader = max(variants, key=lambda v: v["rate"]) if any(v["participants"] for v in variants) else None
        overview.append(
            {
                "experiment": experiment,
                "participants": sum(users),
                "leader": leader,
                "variants": variants,
                "srm_p_value": srm.p_value,
                "srm_warning": srm.mismatch,
            }
        )
    return overview
