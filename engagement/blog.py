"""Demo blog posts: a page to host the blog-engagement widget (the real blog lives elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Post:
    slug: str
    title: str
    summary: str
    paragraphs: tuple[str, ...]


POSTS: dict[str, Post] = {
    p.slug: p
    for p in (
        Post(
            "what-the-big-five-measure",
            "What the Big Five actually measure",
            "Five broad traits, thirty facets, and why percentiles beat labels.",
            (
                "Personality psychologists describe most differences between people with five broad traits: "
                "openness, conscientiousness, extraversion, agreeableness and neuroticism.",
                "Each trait is a continuum, not a box. A percentile tells you where you stand compared with "
                "people of your age and sex; the facets tell you which parts of a trait drive your score.",
            ),
        ),
        Post(
            "introverts-at-work",
            "Introverts at work: energy, not shyness",
            "Why low extraversion is about where you get your energy.",
            (
                "A low extraversion score does not mean shyness. It means you recharge on your own and need less "
                "stimulation to feel engaged.",
                "Quiet focus, written communication and one-to-one conversations are strengths worth designing "
                "your work around.",
            ),
        ),
        Post(
            "habits-and-conscientiousness",
            "Habits when you are not a planner",
            "Small steps and visible streaks for flexible minds.",
            (
                "If detailed plans feel like a cage, make the first step of a habit tiny and attach it to "
                "something you already do every day.",
                "Track it where you can see it; a streak motivates more than a schedule.",
            ),
        ),
    )
}
