"""Personal insights for a Big Five result, behind a small interface.

``InsightsGenerator`` is what the submit service needs: ``generate(*, scores, person)``
returns the text stored in the result's ``suggestions`` column (seed 000: "AI-generated
personality insights"). The shipped ``RuleBasedInsights`` is deterministic: the same
scores and person always give the same text. It writes one paragraph per domain from
the domain's level and the person's most distinctive facets, then two or three
practical suggestions tied to the person's stated purpose and career stage. All texts
are FocusedRoom's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from engagement.bigfive.inventory import DISPLAY_ORDER, DOMAINS, facet_name

GENERATOR_ID = "rule-based-1"


@dataclass(frozen=True)
class PersonContext:
    """What the generator may know about the person (all optional)."""

    first_name: str = ""
    career_stage: str = ""  # accounts.models.CareerStage value
    purpose: str = ""
    profession: str = ""
    age: int | None = None


@dataclass(frozen=True)
class Insights:
    domains: dict[str, str]  # domain code -> paragraph
    suggestions: list[str] = field(default_factory=list)
    generator: str = GENERATOR_ID
    text: str = ""  # a generator that only writes free text (no structure) puts it here

    def as_text(self) -> str:
        if self.text:
            return self.text
        parts = [self.domains[d] for d in DISPLAY_ORDER if d in self.domains]
        if self.suggestions:
            parts.append("Suggestions:\n" + "\n".join(f"- {s}" for s in self.suggestions))
        return "\n\n".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"generator": self.generator, "domains": self.domains, "suggestions": self.suggestions}


class InsightsGenerator(Protocol):
    def generate(self, *, scores: Mapping[str, Any], person: PersonContext) -> str: ...


# ------------------------------------------------------------------ domain texts

_DOMAIN_TEXT: dict[str, dict[str, str]] = {
    "O": {
        "high": "You are strongly drawn to new ideas, experiences and ways of seeing things. Novelty energises "
        "you, and you tend to notice connections and possibilities that others walk past.",
        "average": "You balance curiosity with practicality: you enjoy a new idea when it has a purpose, and "
        "you are just as comfortable with approaches that have already proven themselves.",
        "low": "You prefer the concrete and the familiar to the abstract and the untried. You value what works, "
        "judge ideas by their use, and are rarely distracted by novelty for its own sake.",
    },
    "C": {
        "high": "You are organised, reliable and driven. You set goals, plan the way to them and keep going when "
        "the work gets dull, and people tend to count on you to finish what you start.",
        "average": "You can be organised and persistent when something matters to you, while leaving room for "
        "flexibility and spontaneity when it does not.",
        "low": "You prefer flexibility to plans and spontaneity to schedules. You respond well to what is in "
        "front of you, though long, structured efforts can feel like a cage.",
    },
    "E": {
        "high": "You draw energy from people and activity. You are outgoing, expressive and quick to engage, and "
        "you tend to bring momentum to the groups you are part of.",
        "average": "You enjoy company and action in good measure, yet you also value time on your own; you can "
        "adapt to lively and quiet settings alike.",
        "low": "You are reserved and independent and recharge best on your own or with a few close people. "
        "You tend to think before you speak and do not need a crowd to feel engaged.",
    },
    "A": {
        "high": "You are considerate, cooperative and warm. You look for harmony, assume the best of others and "
        "readily put your own interests aside to help.",
        "average": "You care about others and about getting along, but you will also stand your ground when your "
        "own needs or convictions are at stake.",
        "low": "You are candid, sceptical and competitive. You are comfortable with disagreement, say what you "
        "think and put results ahead of keeping everyone happy.",
    },
    "N": {
        "high": "You feel emotions intensely and are sensitive to stress and setbacks. That sensitivity can make "
        "you alert to problems early, but it can also wear you down when pressure lasts.",
        "average": "You experience the normal ups and downs: stress affects you at times, yet you generally "
        "recover your balance without too much trouble.",
        "low": "You are calm and emotionally steady. Stress, criticism and setbacks rarely throw you off course, "
        "and others often find your composure reassuring.",
    },
}

# Facet phrases used when a facet stands out: (when high, when low).
_FACET_TEXT: dict[str, tuple[str, str]] = {
    "N1": ("you worry readily about what could go wrong", "you seldom worry about what might go wrong"),
    "N2": ("irritation and anger come to you quickly", "you rarely get angry, even when provoked"),
    "N3": ("you are prone to low moods and self-doubt", "you seldom feel discouraged or down"),
    "N4": ("you feel self-conscious in social situations", "you are at ease even in awkward social moments"),
    "N5": ("cravings and urges can be hard for you to resist", "you resist temptations easily"),
    "N6": ("pressure can leave you feeling overwhelmed", "you stay clear-headed under pressure"),
    "E1": ("you warm to people quickly and make friends easily", "you take time to open up to new people"),
    "E2": ("you enjoy crowds and busy gatherings", "you prefer small groups or your own company to crowds"),
    "E3": ("you naturally take the lead and speak up", "you are happy to let others take the lead"),
    "E4": ("you keep a fast, busy pace", "you prefer a relaxed, unhurried pace"),
    "E5": ("you seek thrills and stimulation", "you avoid noise, risk and commotion"),
    "E6": ("you radiate enthusiasm and joy", "you are low-key rather than exuberant"),
    "O1": ("you have a rich, active imagination", "you keep your mind on the here and now"),
    "O2": ("art and beauty move you", "art and aesthetics matter little to you"),
    "O3": ("you are closely in touch with your feelings", "you pay little attention to your emotional reactions"),
    "O4": ("you love variety and trying new things", "you prefer familiar routines"),
    "O5": ("you enjoy abstract ideas and intellectual challenge", "you prefer practical matters to theory"),
    "O6": (
        "you readily question authority and convention",
        "you value tradition and established rules",
    ),
    "A1": ("you assume others mean well", "you are wary of others' intentions"),
    "A2": ("you deal with others openly and fairly", "you are willing to play tactically to get ahead"),
    "A3": ("you find real satisfaction in helping others", "you guard your time and energy from others' demands"),
    "A4": ("you avoid confrontation and seek compromise", "you do not shy away from a fight"),
    "A5": ("you are modest about your achievements", "you are confident about your worth and show it"),
    "A6": ("you are moved by others' hardship", "you judge situations by reason rather than sympathy"),
    "C1": ("you trust your ability to get things done", "you sometimes doubt your ability to deliver"),
    "C2": ("you like order and tidiness", "you are relaxed about mess and structure"),
    "C3": ("you take your duties and promises seriously", "you treat rules and obligations loosely"),
    "C4": ("you push hard to achieve", "you are content with doing what is needed"),
    "C5": ("you get started and keep going without prompting", "starting and sticking to tasks can be hard"),
    "C6": ("you think carefully before you act", "you decide quickly and act on impulse"),
}


def _distinctive_facets(scores: Mapping[str, Any], domain: str, limit: int = 2) -> list[str]:
    """The domain's facets that are not average, most extreme first (ties by facet order)."""
    facets = scores["facets"]
    codes = [f"{domain}{i}" for i in range(1, 7) if facets["levels"][f"{domain}{i}"] != "average"]
    codes.sort(key=lambda c: (-abs(facets["t_scores"][c] - 50), c))
    return codes[:limit]


def _join(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"


def _domain_paragraph(scores: Mapping[str, Any], domain: str) -> str:
    level = scores["levels"][domain]
    pct = scores["percentiles"][domain]
    name = DOMAINS[domain]
    text = f"{name} — {level} (percentile {pct}). {_DOMAIN_TEXT[domain][level]}"
    distinctive = _distinctive_facets(scores, domain)
    if distinctive:
        phrases = []
        for code in distinctive:
            high, low = _FACET_TEXT[code]
            phrase = high if scores["facets"]["levels"][code] == "high" else low
            phrases.append(f"{phrase} ({facet_name(code)})")
        lead = "What stands out most" if level == "average" else "Most distinctive for you"
        text += f" {lead}: {_join(phrases)}."
    return text


# ------------------------------------------------------------------ suggestions

_GOALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("change", ("career change", "change career", "changing career", "transition", "switch", "new career", "pivot")),
    ("leadership", ("lead", "team", "manag", "boss")),
    ("stress", ("stress", "anxi", "calm", "burnout", "burn out", "balance", "overwhelm")),
    ("habits", ("habit", "routine", "disciplin", "productiv", "procrastinat", "focus", "consisten")),
    ("relationships", ("relationship", "partner", "friend", "family", "social", "connect", "people")),
    ("career", ("career", "job", "work", "profession", "promotion", "role")),
    ("self", ("understand", "myself", "self", "know me", "who i am", "curious")),
)


def goal_category(purpose: str) -> str:
    text = (purpose or "").lower()
    for goal, keywords in _GOALS:
        if any(k in text for k in keywords):
            return goal
    return "growth"


def _lvl(scores: Mapping[str, Any], domain: str) -> str:
    return scores["levels"][domain]


def _goal_suggestion(goal: str, s: Mapping[str, Any]) -> str:
    c, e, n, o, a = (_lvl(s, d) for d in "CENOA")
    if goal == "habits":
        if c == "low":
            return (
                "For your habits goal, make the first step tiny and attach it to something you already do every "
                "day (after your morning coffee, open the task list). With your flexible style, a visible streak "
                "works better than a detailed plan."
            )
        if c == "high":
            return (
                "For your habits goal, your discipline is an asset — protect it from overload. Keep no more than "
                "two new habits at a time and schedule a weekly review instead of adding more rules."
            )
        return (
            "For your habits goal, pick one habit, define exactly when and where it happens, and track it for "
            "three weeks before adding another."
        )
    if goal == "stress":
        if n == "high":
            return (
                "To reduce stress, plan your recovery as deliberately as your work: short daily breaks, one "
                "evening a week with no obligations, and writing worries down with one next step each — your "
                "sensitivity to pressure makes these buffers worth more to you than to most."
            )
        return (
            "To keep stress low, notice which situations still drain you despite your steadiness, and set a "
            "clear end to your working day; calm people often take on too much because they can."
        )
    if goal == "leadership":
        if e == "low":
            return (
                "To lead your team better, lean on one-to-one conversations and written updates, where reserved "
                "leaders shine, and plan the moments when the team needs you to be visible."
            )
        if a == "low":
            return (
                "To lead your team better, pair your directness with explicit appreciation: for every piece of "
                "critique, name one thing that worked, and ask for the team's view before deciding."
            )
        return (
            "To lead your team better, agree on a few clear priorities, delegate whole outcomes rather than "
            "tasks, and ask regularly what gets in people's way."
        )
    if goal == "relationships":
        if a == "low":
            return (
                "To strengthen your relationships, practise asking one more question before giving your opinion; "
                "your candour lands better once people feel heard."
            )
        if e == "low":
            return (
                "To strengthen your relationships, invest in a few people at a time: regular one-to-one "
                "meetings suit your reserved style better than large gatherings."
            )
        return (
            "To strengthen your relationships, make time for people on a schedule rather than only when things "
            "come up, and tell them specifically what you value in them."
        )
    if goal in {"career", "change"}:
        if o == "high":
            core = "roles with variety, learning and room to shape ideas"
        elif c == "high":
            core = "roles with clear goals, ownership and visible results"
        elif e == "high":
            core = "roles built around people, persuasion and collaboration"
        else:
            core = "roles that fit your strongest traits rather than your job title"
        if goal == "change":
            return (
                f"For your career change, test before you leap: talk to three people already doing the work "
                f"you are considering and look for {core}."
            )
        return f"For your career goal, look for {core}, and describe your profile in those terms when you apply."
    if goal == "self":
        return (
            "To understand yourself better, show this report to someone who knows you well and ask where it "
            "matches and where it does not — their view completes the picture a questionnaire can give."
        )
    return (
        "Choose one domain above where you would like to grow, set one small weekly experiment for it, and "
        "retake the test in a few months to see what changed."
    )


_STAGE_TEXT: dict[str, str] = {
    "student": "As a student, use your {trait} to choose courses and projects, and try roles in clubs or "
    "internships that stretch you where you scored lower.",
    "early_career": "Early in your career, seek feedback often and pick projects that reward your {trait}; "
    "they become the track record you are known for.",
    "mid_career": "At mid-career, shape your role around your {trait} and delegate or pair up on the work "
    "that drains you most.",
    "senior": "In a senior role, your {trait} sets the tone for others: make your way of working explicit so "
    "your team can build on it.",
    "executive": "As an executive, surround yourself with people who complement your {trait} and ask them to "
    "challenge you where your profile has blind spots.",
    "career_change": "While changing careers, lead with your {trait} in conversations with employers — "
    "transferable traits matter more than past titles.",
    "entrepreneur": "As a founder, build your routines around your {trait} and hire or partner for the "
    "traits where you scored low.",
    "retired": "In retirement, choose activities and communities that feed your {trait}; they keep you "
    "engaged and connected.",
}

_TRAIT_NOUNS: dict[tuple[str, str], str] = {
    ("O", "high"): "curiosity",
    ("O", "low"): "practical focus",
    ("C", "high"): "reliability and drive",
    ("C", "low"): "flexibility",
    ("E", "high"): "social energy",
    ("E", "low"): "capacity for focused, independent work",
    ("A", "high"): "cooperative nature",
    ("A", "low"): "directness",
    ("N", "high"): "sensitivity to risks",
    ("N", "low"): "composure under pressure",
}


def _most_distinctive_domain(scores: Mapping[str, Any]) -> str:
    order = list(DISPLAY_ORDER)
    return max(order, key=lambda d: (abs(scores["t_scores"][d] - 50), -order.index(d)))


def _strength(scores: Mapping[str, Any]) -> str:
    domain = _most_distinctive_domain(scores)
    level = scores["levels"][domain]
    return _TRAIT_NOUNS.get((domain, level), "balanced profile")


def _stage_suggestion(stage: str, scores: Mapping[str, Any]) -> str | None:
    template = _STAGE_TEXT.get(stage)
    return template.format(trait=_strength(scores)) if template else None


def _profile_suggestion(scores: Mapping[str, Any]) -> str:
    domain = _most_distinctive_domain(scores)
    level = scores["levels"][domain]
    if level == "average":
        return (
            "Your profile is balanced: you can adapt to many situations. Use that range deliberately — decide "
            "in advance which side of yourself a situation needs."
        )
    return (
        f"Your most distinctive trait is your {_TRAIT_NOUNS[(domain, level)]} ({DOMAINS[domain]}, {level}). "
        "Notice this week one situation where it helped you and one where it cost you, and plan what you "
        "would do differently."
    )


@dataclass
class RuleBasedInsights:
    """Deterministic, template-based insights (the shipped generator)."""

    max_suggestions: int = 3

    def build(self, *, scores: Mapping[str, Any], person: PersonContext) -> Insights:
        paragraphs = {d: _domain_paragraph(scores, d) for d in DISPLAY_ORDER}
        if person.first_name:
            first = re.sub(r"\s+", " ", person.first_name).strip()[:60]
            paragraphs[DISPLAY_ORDER[0]] = f"{first}, here is your profile. " + paragraphs[DISPLAY_ORDER[0]]
        suggestions = [_goal_suggestion(goal_category(person.purpose), scores)]
        stage = _stage_suggestion(person.career_stage, scores)
        if stage:
            suggestions.append(stage)
        suggestions.append(_profile_suggestion(scores))
        unique = list(dict.fromkeys(suggestions))[: self.max_suggestions]
        return Insights(domains=paragraphs, suggestions=unique)

    def generate(self, *, scores: Mapping[str, Any], person: PersonContext) -> str:
        return self.build(scores=scores, person=person).as_text()


default_generator = RuleBasedInsights()
