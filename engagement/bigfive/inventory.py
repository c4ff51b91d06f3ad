"""The IPIP-NEO-120 inventory (Johnson, 2014) as versioned data.

Source of the item texts, their order and their keying: John A. Johnson's own
administration and scoring scripts for the 120-item IPIP-NEO (``shortipipneo1.cgi``
items 1–60, ``shortipipneo2.cgi`` items 61–120, ``shortipipneo3.cgi`` scoring),
as mirrored in the public repository kholia/IPIP-NEO-PI (``app/``). In those forms a
minus-keyed item is recognisable because its answer buttons carry the values 5…1
instead of 1…5; that is the ``keyed`` column below. The items come from the
International Personality Item Pool (Goldberg, 1999) and are in the public domain
(https://ipip.ori.org/newPermission.htm).

Johnson's scoring program assigns item ``n`` to facet scale ``(n - 1) % 30``, the 30
scales cycling through the domains N, E, O, A, C (facet 1 of each, then facet 2 of
each, …): item 1 is N1 Anxiety, item 2 E1 Friendliness, …, item 30 C6 Cautiousness,
item 31 N1 again. ``domain`` and ``facet`` below are written out explicitly; a test
checks them against that rule.

Item ids are stable, order-independent identifiers: ``<domain><facet>-<k>``, ``k``
being the item's rank (1–4) within its facet. Clients answer by id; the key is never
sent to clients, and scoring always happens on the server.

Bump ``INVENTORY_VERSION`` whenever a text, a key or the scoring changes; stored
results keep the version they were scored with (``quiz_version``).
"""

from __future__ import annotations

from dataclasses import dataclass

INVENTORY_ID = "ipip-neo-120"
INVENTORY_VERSION = "1.0"
INVENTORY_NAME = "IPIP-NEO-120 (Johnson, 2014)"

# Answer scale (the label texts of Johnson's forms).
SCALE: tuple[tuple[int, str], ...] = (
    (1, "Very Inaccurate"),
    (2, "Moderately Inaccurate"),
    (3, "Neither Accurate Nor Inaccurate"),
    (4, "Moderately Accurate"),
    (5, "Very Accurate"),
)
ANSWER_MIN, ANSWER_MAX = 1, 5

# Domains in Johnson's scoring order, with display names.
DOMAINS: dict[str, str] = {
    "N": "Neuroticism",
    "E": "Extraversion",
    "O": "Openness to Experience",
    "A": "Agreeableness",
    "C": "Conscientiousness",
}
# Order in which reports show the domains (OCEAN).
DISPLAY_ORDER: tuple[str, ...] = ("O", "C", "E", "A", "N")

# Facet names as labelled in Johnson's IPIP-NEO reports.
FACETS: dict[str, tuple[str, ...]] = {
    "N": ("Anxiety", "Anger", "Depression", "Self-Consciousness", "Immoderation", "Vulnerability"),
    "E": ("Friendliness", "Gregariousness", "Assertiveness", "Activity Level", "Excitement-Seeking", "Cheerfulness"),
    "O": ("Imagination", "Artistic Interests", "Emotionality", "Adventurousness", "Intellect", "Liberalism"),
    "A": ("Trust", "Morality", "Altruism", "Cooperation", "Modesty", "Sympathy"),
    "C": ("Self-Efficacy", "Orderliness", "Dutifulness", "Achievement-Striving", "Self-Discipline", "Cautiousness"),
}

# (number, text, keyed, domain, facet number 1–6)
_ITEMS: tuple[tuple[int, str, str, str, int], ...] = (
    (1, "Worry about things.", "+", "N", 1),
    (2, "Make friends easily.", "+", "E", 1),
    (3, "Have a vivid imagination.", "+", "O", 1),
    (4, "Trust others.", "+", "A", 1),
    (5, "Complete tasks successfully.", "+", "C", 1),
    (6, "Get angry easily.", "+", "N", 2),
    (7, "Love large parties.", "+", "E", 2),
    (8, "Believe in the importance of art.", "+", "O", 2),
    (9, "Use others for my own ends.", "-", "A", 2),
    (10, "Like to tidy up.", "+", "C", 2),
    (11, "Often feel blue.", "+", "N", 3),
    (12, "Take charge.", "+", "E", 3),
    (13, "Experience my emotions intensely.", "+", "O", 3),
    (14, "Love to help others.", "+", "A", 3),
    (15, "Keep my promises.", "+", "C", 3),
    (16, "Find it difficult to approach others.", "+", "N", 4),
    (17, "Am always busy.", "+", "E", 4),
    (18, "Prefer variety to routine.", "+", "O", 4),
    (19, "Love a good fight.", "-", "A", 4),
    (20, "Work hard.", "+", "C", 4),
    (21, "Go on binges.", "+", "N", 5),
    (22, "Love excitement.", "+", "E", 5),
    (23, "Love to read challenging material.", "+", "O", 5),
    (24, "Believe that I am better than others.", "-", "A", 5),
    (25, "Am always prepared.", "+", "C", 5),
    (26, "Panic easily.", "+", "N", 6),
    (27, "Radiate joy.", "+", "E", 6),
    (28, "Tend to vote for liberal political candidates.", "+", "O", 6),
    (29, "Sympathize with the homeless.", "+", "A", 6),
    (30, "Jump into things without thinking.", "-", "C", 6),
    (31, "Fear for the worst.", "+", "N", 1),
    (32, "Feel comfortable around people.", "+", "E", 1),
    (33, "Enjoy wild flights of fantasy.", "+", "O", 1),
    (34, "Believe that others have good intentions.", "+", "A", 1),
    (35, "Excel in what I do.", "+", "C", 1),
    (36, "Get irritated easily.", "+", "N", 2),
    (37, "Talk to a lot of different people at parties.", "+", "E", 2),
    (38, "See beauty in things that others might not notice.", "+", "O", 2),
    (39, "Cheat to get ahead.", "-", "A", 2),
    (40, "Often forget to put things back in their proper place.", "-", "C", 2),
    (41, "Dislike myself.", "+", "N", 3),
    (42, "Try to lead others.", "+", "E", 3),
    (43, "Feel others' emotions.", "+", "O", 3),
    (44, "Am concerned about others.", "+", "A", 3),
    (45, "Tell the truth.", "+", "C", 3),
    (46, "Am afraid to draw attention to myself.", "+", "N", 4),
    (47, "Am always on the go.", "+", "E", 4),
    (48, "Prefer to stick with things that I know.", "-", "O", 4),
    (49, "Yell at people.", "-", "A", 4),
    (50, "Do more than what's expected of me.", "+", "C", 4),
    (51, "Rarely overindulge.", "-", "N", 5),
    (52, "Seek adventure.", "+", "E", 5),
    (53, "Avoid philosophical discussions.", "-", "O", 5),
    (54, "Think highly of myself.", "-", "A", 5),
    (55, "Carry out my plans.", "+", "C", 5),
    (56, "Become overwhelmed by events.", "+", "N", 6),
    (57, "Have a lot of fun.", "+", "E", 6),
    (58, "Believe that there is no absolute right or wrong.", "+", "O", 6),
    (59, "Feel sympathy for those who are worse off than myself.", "+", "A", 6),
    (60, "Make rash decisions.", "-", "C", 6),
    (61, "Am afraid of many things.", "+", "N", 1),
    (62, "Avoid contacts with others.", "-", "E", 1),
    (63, "Love to daydream.", "+", "O", 1),
    (64, "Trust what people say.", "+", "A", 1),
    (65, "Handle tasks smoothly.", "+", "C", 1),
    (66, "Lose my temper.", "+", "N", 2),
    (67, "Prefer to be alone.", "-", "E", 2),
    (68, "Do not like poetry.", "-", "O", 2),
    (69, "Take advantage of others.", "-", "A", 2),
    (70, "Leave a mess in my room.", "-", "C", 2),
    (71, "Am often down in the dumps.", "+", "N", 3),
    (72, "Take control of things.", "+", "E", 3),
    (73, "Rarely notice my emotional reactions.", "-", "O", 3),
    (74, "Am indifferent to the feelings of others.", "-", "A", 3),
    (75, "Break rules.", "-", "C", 3),
    (76, "Only feel comfortable with friends.", "+", "N", 4),
    (77, "Do a lot in my spare time.", "+", "E", 4),
    (78, "Dislike changes.", "-", "O", 4),
    (79, "Insult people.", "-", "A", 4),
    (80, "Do just enough work to get by.", "-", "C", 4),
    (81, "Easily resist temptations.", "-", "N", 5),
    (82, "Enjoy being reckless.", "+", "E", 5),
    (83, "Have difficulty understanding abstract ideas.", "-", "O", 5),
    (84, "Have a high opinion of myself.", "-", "A", 5),
    (85, "Waste my time.", "-", "C", 5),
    (86, "Feel that I'm unable to deal with things.", "+", "N", 6),
    (87, "Love life.", "+", "E", 6),
    (88, "Tend to vote for conservative political candidates.", "-", "O", 6),
    (89, "Am not interested in other people's problems.", "-", "A", 6),
    (90, "Rush into things.", "-", "C", 6),
    (91, "Get stressed out easily.", "+", "N", 1),
    (92, "Keep others at a distance.", "-", "E", 1),
    (93, "Like to get lost in thought.", "+", "O", 1),
    (94, "Distrust people.", "-", "A", 1),
    (95, "Know how to get things done.", "+", "C", 1),
    (96, "Am not easily annoyed.", "-", "N", 2),
    (97, "Avoid crowds.", "-", "E", 2),
    (98, "Do not enjoy going to art museums.", "-", "O", 2),
    (99, "Obstruct others' plans.", "-", "A", 2),
    (100, "Leave my belongings around.", "-", "C", 2),
    (101, "Feel comfortable with myself.", "-", "N", 3),
    (102, "Wait for others to lead the way.", "-", "E", 3),
    (103, "Don't understand people who get emotional.", "-", "O", 3),
    (104, "Take no time for others.", "-", "A", 3),
    (105, "Break my promises.", "-", "C", 3),
    (106, "Am not bothered by difficult social situations.", "-", "N", 4),
    (107, "Like to take it easy.", "-", "E", 4),
    (108, "Am attached to conventional ways.", "-", "O", 4),
    (109, "Get back at others.", "-", "A", 4),
    (110, "Put little time and effort into my work.", "-", "C", 4),
    (111, "Am able to control my cravings.", "-", "N", 5),
    (112, "Act wild and crazy.", "+", "E", 5),
    (113, "Am not interested in theoretical discussions.", "-", "O", 5),
    (114, "Boast about my virtues.", "-", "A", 5),
    (115, "Have difficulty starting tasks.", "-", "C", 5),
    (116, "Remain calm under pressure.", "-", "N", 6),
    (117, "Look at the bright side of life.", "+", "E", 6),
    (118, "Believe that we should be tough on crime.", "-", "O", 6),
    (119, "Try not to think about the needy.", "-", "A", 6),
    (120, "Act without thinking.", "-", "C", 6),
)


@dataclass(frozen=True)
class Item:
    id: str
    num: int
    text: str
    keyed: str  # "+" or "-"
    domain: str
    facet: int  # 1–6 within the domain

    @property
    def facet_code(self) -> str:
        return f"{self.domain}{self.facet}"

    @property
    def facet_name(self) -> str:
        return FACETS[self.domain][self.facet - 1]

    def keyed_score(self, answer: int) -> int:
        """The answer's contribution to its scale: reversed (6 − answer) when minus-keyed."""
        return answer if self.keyed == "+" else 6 - answer


def _build() -> tuple[Item, ...]:
    seen: dict[str, int] = {}
    items = []
    for num, text, keyed, domain, facet in _ITEMS:
        code = f"{domain}{facet}"
        seen[code] = seen.get(code, 0) + 1
        items.append(Item(f"{code}-{seen[code]}", num, text, keyed, domain, facet))
    return tuple(items)


ITEMS: tuple[Item, ...] = _build()
ITEMS_BY_ID: dict[str, Item] = {item.id: item for item in ITEMS}
FACET_CODES: tuple[str, ...] = tuple(f"{d}{i}" for d in DOMAINS for i in range(1, 7))


def facet_name(code: str) -> str:
    return FACETS[code[0]][int(code[1]) - 1]
