"""The rule-based insights generator: deterministic, personal, tied to purpose and career stage."""

import pytest

from engagement.bigfive import scoring
from engagement.bigfive.insights import InsightsGenerator, PersonContext, RuleBasedInsights, goal_category
from engagement.tests.helpers import answers, random_answers


def _scores(seed=1):
    return scoring.score(answers=random_answers(seed), sex="F", age=30)


def test_is_deterministic_and_implements_the_interface():
    generator: InsightsGenerator = RuleBasedInsights()
    person = PersonContext(first_name="Ada", career_stage="senior", purpose="Lead my team better")
    assert generator.generate(scores=_scores(), person=person) == generator.generate(scores=_scores(), person=person)


def test_one_paragraph_per_domain_and_two_or_three_suggestions():
    insights = RuleBasedInsights().build(scores=_scores(), person=PersonContext())
    assert list(insights.domains) == ["O", "C", "E", "A", "N"]
    assert 2 <= len(insights.suggestions) <= 3
    text = insights.as_text()
    assert text.count("percentile") >= 5 and "Suggestions:" in text


def test_paragraph_mentions_the_most_distinctive_facets():
    extreme = {**answers(3), "N1-1": 5, "N1-2": 5, "N1-3": 5, "N1-4": 5}
    insights = RuleBasedInsights().build(scores=scoring.score(answers=extreme, sex="M", age=30), person=PersonContext())
    assert "(Anxiety)" in insights.domains["N"]


@pytest.mark.parametrize(
    ("purpose", "goal", "needle"),
    [
        ("Build better habits", "habits", "habits goal"),
        ("Reduce stress at work", "stress", "stress"),
        ("Lead my team better", "leadership", "lead your team"),
        ("Improve my relationships", "relationships", "relationships"),
        ("Prepare for a career change", "change", "career change"),
        ("Find a career that fits me", "career", "career goal"),
        ("Understand myself", "self", "understand yourself"),
        ("", "growth", "retake the test"),
    ],
)
def test_suggestions_follow_the_purpose(purpose, goal, needle):
    assert goal_category(purpose) == goal
    insights = RuleBasedInsights().build(scores=_scores(3), person=PersonContext(purpose=purpose))
    assert needle in insights.suggestions[0]


def test_suggestions_follow_the_career_stage():
    insights = RuleBasedInsights().build(scores=_scores(4), person=PersonContext(career_stage="student"))
    assert any(s.startswith("As a student") for s in insights.suggestions)
    none = RuleBasedInsights().build(scores=_scores(4), person=PersonContext(career_stage=""))
    assert not any(s.startswith("As a student") for s in none.suggestions)
