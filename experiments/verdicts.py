"""The decision rule, in one sentence a marketer can act on.

A comparison is *significant* only when the method in force allows acting on it:

* sequential testing — at any look (its p-values and intervals are valid however often one looks);
* fixed horizon — only once the planned sample is reached; before that the answer is "not yet
  decidable — planned sample not reached", whatever the p-value says (a fixed-horizon test
  read every day for 30 days calls one A/A test in four "significant").

The decision is one of ``ship`` (the variant is better), ``keep_control`` (it is worse, harms a
guardrail, or the test ended without a difference) and ``keep_running``, with the reason.
No Django here: results in, words out.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.stats import SEQUENTIAL

SHIP = "ship"
KEEP_CONTROL = "keep_control"
KEEP_RUNNING = "keep_running"


def pct(x: float, digits: int = 0) -> str:
    return f"{x * 100:.{digits}f} %"


def signed(x: float, digits: int = 1) -> str:
    return f"{x * 100:+.{digits}f} %"


def interval(ci: list[float]) -> str:
    return f"{signed(ci[0])} to {signed(ci[1])}"


@dataclass(frozen=True)
class Plan:
    """When the method in force lets results be acted on."""

    method: str
    participants: int  # analysed so far
    planned: int | None  # the planned sample (fixed horizon), if known
    finished: bool  # the experiment is stopped: no more data will come

    @property
    def reached(self) -> bool:
        return self.planned is not None and self.participants >= self.planned

    @property
    def decidable(self) -> bool:
        return self.method == SEQUENTIAL or self.reached


def method_phrase(method: str) -> str:
    if method == SEQUENTIAL:
        return "sequential test, valid whenever you look"
    return "fixed-horizon test at the planned sample"


def decide(
    *,
    row: dict,
    control: str,
    plan: Plan,
    alpha: float,
    harms: list[dict] | None = None,
    verb: str = "converts",
) -> dict:
    """``{"decision", "reason", "significant", "verdict"}`` for one challenger on one metric.

    ``row`` has ``name``, ``uplift``, ``ci``, ``p_value_holm`` (or ``p_value``) and ``error``;
    ``harms`` the guardrails this variant is shown to harm (``label``, ``uplift``, ``threshold``).
    """
    name = row["name"]
    p_value = row.get("p_value_holm", row.get("p_value", 1.0))
    if row.get("error"):
        return _out(
            KEEP_RUNNING,
            "not_enough_data",
            False,
            f"Keep running: not enough data yet to compare {name} with {control}.",
        )
    significant = plan.decidable and p_value < alpha
    if harms:
        worst = harms[0]
        return _out(
            KEEP_CONTROL,
            "guardrail",
            significant,
            f"Keep {control}: {name} harms {worst['label']} ({signed(worst['uplift'])}, beyond your "
            f"{pct(worst['threshold'], 1).replace('.0 %', ' %')} limit), whatever it does to this metric.",
        )
    uplift, ci = row["uplift"], row["ci"]
    if not plan.decidable:
        if plan.planned is None:
            return _out(
                KEEP_RUNNING,
                "no_plan",
                False,
                f"Keep running: not yet decidable — a fixed-horizon test is read once, at a planned sample; set a "
                f"target sample size to plan it ({name} {signed(uplift)} for now).",
            )
        return _out(
            KEEP_RUNNING,
            "planned_sample_not_reached",
            False,
            f"Keep running: not yet decidable — planned sample not reached ({plan.participants:,} of "
            f"{plan.planned:,} participants); {name} is at {signed(uplift)} for now, which a fixed-horizon test "
            "cannot confirm before then.",
        )
    if significant and uplift > 0:
        return _out(
            SHIP,
            "better",
            True,
            f"Ship {name}: it {verb} {signed(uplift)} better than {control} "
            f"({interval(ci)}; {method_phrase(plan.method)}).",
        )
    if significant:
        return _out(
            KEEP_CONTROL,
            "worse",
            True,
            f"Keep {control}: {name} {verb} {signed(uplift)} worse ({interval(ci)}; {method_phrase(plan.method)}).",
        )
    if plan.finished or plan.reached:
        return _out(
            KEEP_CONTROL,
            "no_difference",
            False,
            f"Keep {control}: no difference detected — {name} at {signed(uplift)} ({interval(ci)}) is within what "
            "chance gives.",
        )
    return _out(
        KEEP_RUNNING,
        "not_significant_yet",
        False,
        f"Keep running: no significant difference yet — {name} at {signed(uplift)} ({interval(ci)}); the sequential "
        "test lets you look again tomorrow.",
    )


def _out(decision: str, reason: str, significant: bool, verdict: str) -> dict:
    return {"decision": decision, "reason": reason, "significant": significant, "verdict": verdict}
