"""What each Big Five domain and facet measures, and what a low or a high score tends to mean.

Written for FocusedRoom's reports (not taken from any published report text). Each entry says in
plain language what the scale is about (``about``), and how people who score low or high on it
usually describe themselves (``low``, ``high``). An average score sits between the two: a bit of
both, depending on the situation. None of the poles is better than the other; each has its uses.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Description:
    about: str
    low: str
    high: str


DOMAIN_DESCRIPTIONS: dict[str, Description] = {
    "N": Description(
        about="How strongly you react to stress, setbacks and threats, and how long the feeling stays.",
        low="Calm under pressure; upsets pass quickly and rarely knock you off course.",
        high="You feel worry, frustration or sadness intensely, which also makes you alert to what could go wrong.",
    ),
    "E": Description(
        about="How much you seek out people, activity and excitement, and how much energy you draw from them.",
        low="Reserved and self-contained; you recharge alone and prefer a few close conversations to a crowd.",
        high="Outgoing and energetic; company, action and being in the middle of things give you energy.",
    ),
    "O": Description(
        about="How much you are drawn to ideas, art, feelings and new experiences.",
        low="Practical and down to earth; you trust what is proven and prefer the familiar to the abstract.",
        high="Curious and imaginative; new ideas, beauty and unusual experiences attract you.",
    ),
    "A": Description(
        about="How you balance your own interests against getting along with and caring for others.",
        low="Direct and competitive; you say what you think and are not easily talked into things.",
        high="Warm and cooperative; you look for harmony, give people the benefit of the doubt and like to help.",
    ),
    "C": Description(
        about="How you organise yourself, keep commitments and push towards goals.",
        low="Flexible and spontaneous; you work in bursts and keep plans loose.",
        high="Organised and persistent; you plan ahead, keep your word and finish what you start.",
    ),
}

FACET_DESCRIPTIONS: dict[str, Description] = {
    # Neuroticism
    "N1": Description(
        about="Anxiety: how readily you worry and feel tense about what might happen.",
        low="You stay relaxed about the future and seldom lose sleep over what might go wrong.",
        high="You often anticipate problems and feel nervous, which keeps you prepared but can wear you out.",
    ),
    "N2": Description(
        about="Anger: how quickly frustration turns into irritation or temper.",
        low="It takes a lot to make you angry, and your irritation fades quickly.",
        high="Unfairness and obstacles irritate you fast; you feel anger strongly, even when you do not show it.",
    ),
    "N3": Description(
        about="Depression: how often you feel low, discouraged or down on yourself.",
        low="Your mood is usually steady and you rarely feel hopeless for long.",
        high="You are prone to low moods and self-criticism, especially after disappointments.",
    ),
    "N4": Description(
        about="Self-consciousness: how sensitive you are to what others might think of you.",
        low="You feel at ease with people and are rarely embarrassed or shy.",
        high="You worry about being judged and may hold back so as not to stand out.",
    ),
    "N5": Description(
        about="Immoderation: how hard it is to resist cravings and urges in the moment.",
        low="Temptations have little hold on you; you stop when you have had enough.",
        high="Strong urges are hard to resist, and you sometimes overdo food, spending or other pleasures.",
    ),
    "N6": Description(
        about="Vulnerability: how well you cope when pressure and demands pile up.",
        low="You keep a clear head in emergencies and trust yourself to handle hard moments.",
        high="Under heavy pressure you can feel overwhelmed and look to others for support.",
    ),
    # Extraversion
    "E1": Description(
        about="Friendliness: how warm and open you are with people you meet.",
        low="You keep some distance at first and let closeness grow slowly.",
        high="You warm to people easily and make them feel welcome.",
    ),
    "E2": Description(
        about="Gregariousness: how much you enjoy being part of a crowd.",
        low="Large groups and busy places tire you; you prefer quieter settings.",
        high="You like lively gatherings and the buzz of many people around you.",
    ),
    "E3": Description(
        about="Assertiveness: how readily you speak up and take the lead.",
        low="You let others steer and say your piece when asked.",
        high="You voice opinions, take charge and are comfortable directing a group.",
    ),
    "E4": Description(
        about="Activity level: the pace at which you like to live and work.",
        low="You prefer an unhurried pace with time to rest between things.",
        high="You keep busy, move fast and like a full agenda.",
    ),
    "E5": Description(
        about="Excitement-seeking: how much you crave stimulation, thrills and risk.",
        low="You prefer calm, safe and predictable activities.",
        high="You look for adventure and get bored without some intensity.",
    ),
    "E6": Description(
        about="Cheerfulness: how often you feel joy, enthusiasm and high spirits.",
        low="You are more serious than exuberant, and your good moods are quiet ones.",
        high="You laugh easily and your enthusiasm is often contagious.",
    ),
    # Openness to Experience
    "O1": Description(
        about="Imagination: how much you enjoy fantasy, daydreams and inner worlds.",
        low="You keep your attention on the here and now rather than on what could be.",
        high="Your mind wanders into stories and possibilities; imagination makes life richer for you.",
    ),
    "O2": Description(
        about="Artistic interests: how much beauty, art and nature move you.",
        low="Art and aesthetics play a small part in your life compared with practical matters.",
        high="Music, art, design and nature matter to you, and you notice beauty that others pass by.",
    ),
    "O3": Description(
        about="Emotionality: how aware you are of your own feelings and how deeply you feel them.",
        low="You pay little attention to your feelings and rarely dwell on them.",
        high="You notice and value your emotions and feel them with intensity.",
    ),
    "O4": Description(
        about="Adventurousness: how eager you are to try new activities, places and routines.",
        low="You prefer familiar routines and trusted ways of doing things.",
        high="You like change and variety, and try new things for the experience.",
    ),
    "O5": Description(
        about="Intellect: how much you enjoy ideas, puzzles and abstract thinking.",
        low="You prefer practical problems to abstract debates and theories.",
        high="You enjoy thinking for its own sake: complex ideas, debates and hard questions.",
    ),
    "O6": Description(
        about="Liberalism: how readily you question authority, tradition and established values.",
        low="You value tradition and stability, and trust rules that have stood the test of time.",
        high="You like to re-examine conventions and are open to changing how things are done.",
    ),
    # Agreeableness
    "A1": Description(
        about="Trust: how much you assume that others are honest and mean well.",
        low="You are cautious about people's motives until they have earned your trust.",
        high="You assume the best in people and take them at their word.",
    ),
    "A2": Description(
        about="Morality: how straightforward and sincere you are in dealing with others.",
        low="You are willing to be strategic and keep your cards close when it helps.",
        high="You are frank and fair, and would rather lose than win by manipulation.",
    ),
    "A3": Description(
        about="Altruism: how much you enjoy helping others and giving your time.",
        low="You look after your own affairs first and help when it is clearly needed.",
        high="Helping people gives you real satisfaction, and you often offer before being asked.",
    ),
    "A4": Description(
        about="Cooperation: how you handle conflict and disagreement.",
        low="You do not shy away from a confrontation and will push back hard.",
        high="You dislike confrontation and will often compromise to keep the peace.",
    ),
    "A5": Description(
        about="Modesty: how you see and present your own worth compared with others.",
        low="You are confident about your abilities and comfortable saying so.",
        high="You play down your achievements and do not like to be in the spotlight.",
    ),
    "A6": Description(
        about="Sympathy: how much you are moved by other people's hardship.",
        low="You keep a cool head about others' troubles and favour firm, objective judgements.",
        high="Suffering touches you deeply and you feel for people who are worse off.",
    ),
    # Conscientiousness
    "C1": Description(
        about="Self-efficacy: how confident you are in your ability to get things done.",
        low="You often doubt whether you can handle what is asked of you.",
        high="You trust your competence and expect to succeed at what you take on.",
    ),
    "C2": Description(
        about="Orderliness: how much you like tidiness, structure and lists.",
        low="You tolerate clutter and do not mind a little chaos.",
        high="You like things in their place and work from plans and lists.",
    ),
    "C3": Description(
        about="Dutifulness: how strongly you feel bound by promises, rules and obligations.",
        low="You treat rules as guidelines and feel free to bend them.",
        high="You keep your promises and take your obligations seriously.",
    ),
    "C4": Description(
        about="Achievement-striving: how hard you push for excellence and recognition.",
        low="You are content with good enough and keep work in proportion.",
        high="You set ambitious goals and work hard to reach them.",
    ),
    "C5": Description(
        about="Self-discipline: how well you start tasks and stick with them without getting distracted.",
        low="You tend to put off dull tasks and get pulled towards more pleasant things.",
        high="Once you start, you keep going until the job is done, even when it is boring.",
    ),
    "C6": Description(
        about="Cautiousness: how carefully you think before you act or decide.",
        low="You decide quickly and act on the spur of the moment.",
        high="You weigh options and consequences before committing.",
    ),
}


def facet_description(code: str) -> Description:
    return FACET_DESCRIPTIONS[code]
