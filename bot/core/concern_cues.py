"""What a careful reader notices in a sentence of a discussion: the features of a concern.

A concern is a point someone objects to, worries about, or asks the proposer
to justify. Readers do not find them by a list of words; they find them by the
*forms* objections take, and by *who* says what *to whom*:

- the forms: a stated worry or objection ("I'm concerned", "-1", "not sold"),
  doubt ("I'm not sure", "I wonder whether", "dubious"), a negated belief
  ("I don't think", "I do not see"), a negative judgement of the proposal
  ("confusing", "fragile", "a drawback"), a counter-proposal ("I suggest",
  "why not", "instead", "should"), a pointed question;
- what is *not* an objection though it looks like one: thanks, approval,
  acknowledgement, an answer, a plan ("I'll add it"), a meta remark about the
  thread, a question asking for information;
- the structure: the proposer's own replies answer rather than raise; a reply
  to a question tends to be an answer; items of a list introduced as
  "my concerns" or "some issues" are each a point; a review comment on a
  pull request's text addresses the proposal directly.

Each feature here is one of those observations, named so a person can read
why a sentence was taken (``Finding.cues``). How much each one weighs is not
decided here but fitted on labelled threads from many communities
(:mod:`bot.core.concern_model`), and measured on communities left out of the
fit (``bench/judgement.py``).

Pure: no I/O.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.prose import Unit

Features = Mapping[str, float]


def _cue(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_I = r"\b(?:i|we)(?:'m|'re|\s+am|\s+are|\s+was|\s+were|\s+remain|'d\s+be|\s+would\s+be)?"
_NEG = (
    r"(?:do\s+not|don't|dont|did\s+not|didn't|can't|cannot|could\s+not|couldn't|am\s+not|'m\s+not)"
)
_PROPOSAL_NOUNS = (
    r"(?:proposal|rfc|idea|approach|change|plan|design|suggestion|feature|pr|patch|process|policy"
    r"|flip|kep|pep|option|syntax|scheme|api|mechanism|wording|text|section|step|rule|name|naming"
    # What an ASF vote adopts ("the draft resolution", "the charter"), and the other
    # enhancement-proposal names.
    r"|resolution|draft|charter|motion|kip|aip|cep|spip)s?\b"
)
_PROPOSAL = rf"(?:this|that|the|your|such\s+an?|these)\s+(?:\w+\s+)?{_PROPOSAL_NOUNS}"
# Pointing at the proposal itself, not at a thing that is ("the profile section"): "this
# section", "your rule", "the proposal", "the new syntax".
_POINTS_AT_PROPOSAL = re.compile(
    rf"\b(?:this|that|your|these|such\s+an?)\s+(?:\w+\s+)?{_PROPOSAL_NOUNS}"
    r"|\bthe\s+(?:proposal|rfc|proposed|suggested|new)\b"
)

# A version to come: "3.0", "v2", "Maven 5", "the next major release", "a later version".
# A bare number is none ("not for 2 weeks"), nor is "the 2" or "about 5".
_VERSION = (
    r"(?:v\d+(?:\.[\dx]+)*|\d+\.[\dx]+(?:\.[\dx]+)*|(?!(?:the|a|an|about|around|over|under|at|in"
    r"|for|to|every|each|all|only|just|some|first|last)\s)[a-z]+\s+v?\d+(?:\.[\dx]+)*)(?![\w%])"
)
_LATER = (
    rf"(?:{_VERSION}|(?:the\s+)?(?:next|a\s+later|a\s+future|later|future)\s+(?:major\s+|minor\s+)?"
    r"(?:release|version|cycle|milestone|edition)s?\b)"
)

# -- forms of objection -------------------------------------------------------

WORRY = _cue(
    # "As far as I am concerned" gives an opinion; it voices no worry.
    rf"(?<!as\sfar\sas\s){_I}\s+(?:\w+\s+){{0,2}}?(?:concerned|worried|nervous|uneasy|wary|uncomfortable|skeptical"
    r"|sceptical|hesitant|troubled|afraid|leery|reluctant|dubious|lukewarm"
    r"|not\s+(?:too\s+|very\s+|entirely\s+|really\s+)?(?:happy|keen|thrilled|comfortable)"
    # "I'm fine with Apache-2.0. I am not fine with the CLA."
    r"|not\s+(?:fine|ok|okay)\s+with"
    # "I'm much less comfortable with -Os."
    r"|(?:much\s+|a\s+(?:lot|bit)\s+|far\s+|even\s+)?less\s+(?:comfortable|happy|keen|convinced|sure)"
    # "This is the part I'm least comfortable with."
    r"|least\s+(?:comfortable|happy|keen|convinced|sure))\b",
    # "The part I'd worry about is the asset library."
    r"\bi'?d\s+(?:also\s+|still\s+)?worry\s+about\b|\bi\s+would\s+(?:also\s+|still\s+)?worry\s+about\b",
    r"\b(?:my|our|one|the\s+(?:main|only|biggest|real))\s+(?:\w+\s+)?(?:concerns?|worry|worries|fears?"
    r"|objections?|reservations?|hesitations?|doubts?)\b",
    # "My main issue is the reliance on one maintainer", "my problem with this is".
    r"\bmy\s+(?:main|biggest|only|real|primary|one|first|second|other)\s+(?:issue|problem|gripe|complaint)\b"
    r"|\bmy\s+(?:issue|problem|gripe)\s+with\s+(?:this|that|it|the)\b",
    r"\b(?:i|we)\s+(?:still\s+|also\s+|do\s+)?(?:have|had|share)\s+(?:\w+\s+){0,3}?(?:concerns?|worry"
    r"|worries|doubts?|reservations?|objections?|reservations)\b",
    # "I also tend to disagree": up to two softeners between the speaker and the verb.
    r"(?<!should\s)(?<!would\s)(?<!need\s)(?<!do\s)\b(?:i|we)\s+(?:(?:do|really|still|also"
    r"|strongly|kind\s+of|tend\s+to|personally|have\s+to|must|respectfully)\s+){0,2}(?:worry|fear|doubt|object"
    r"|disagree|oppose)\b",
    r"\b(?:it|this|that|what)\s+(?:really\s+|slightly\s+)?(?:worries|concerns|bothers|scares)\s+me\b"
    # "The part about auto-converting worries me", "the timeline bothers me a little" (not
    # "nothing about it worries me", "that doesn't bother me").
    r"|(?<!n't\s)(?<!not\s)(?<!never\s)\b(?:worries|bothers|scares|troubles)\s+me\b"
    # "Two things bother me here", "a few points worry me".
    r"|\b(?:things?|points?|aspects?|parts?|details?)\s+(?:here\s+)?(?:really\s+|still\s+)?(?:bother|worry"
    r"|concern|trouble)s?\s+me\b"
    # "I'd be more comfortable if the reader stayed": a condition for agreeing.
    r"|\bi(?:'d|\s+would)\s+be\s+(?:much\s+|a\s+lot\s+|far\s+)?(?:more\s+comfortable|happier)\s+"
    r"(?:if|with)\b"
    r"|\bmakes?\s+me\s+(?:a\s+(?:bit|little)\s+|very\s+|really\s+|quite\s+)?(?:nervous|uneasy|uncomfortable"
    r"|worried|wary|cringe)\b",
    r"\b(?:the|my|one|another)\s+(?:only\s+|main\s+|big(?:gest)?\s+|real\s+)?(?:issue|problem|risk"
    r"|catch|downside|drawback)\s+(?:i\s+(?:can\s+)?see|here|there|with\s+(?:this|that|it)"
    r"|(?:here\s+|there\s+)?is\s+that)\b",
    # "So one of the issues with that is multiple Maven versions".
    r"\bone\s+of\s+the\s+(?:\w+\s+)?(?:issues|problems|risks|downsides|drawbacks|pitfalls)\s+"
    r"(?:i\s+see|here|there|(?:with|of)\s+(?:this|that|it)\s+is|is)\b",
    # "I see one potential big risk: ...", "I can see two problems with it".
    r"\bi\s+(?:can\s+|do\s+)?(?:see|foresee)\s+(?:a|one|two|three|some|several|a\s+few|many)\s+"
    r"(?:\w+\s+){0,2}?(?:risks?|problems?|issues?|concerns?|drawbacks?|downsides?|pitfalls?)\b",
)
OBJECTION = _cue(
    # ("I'm -1." ends its sentence; "-1.5" is a number.)
    r"(?:^|[\s(\[])-1(?!\d|\.\d)",
    # "I'd really think twice before making committee membership this visible."
    r"\bthink\s+twice\b",
    # The mild ballot said in discussion: "I'm -0 on moving the connectors out",
    # "-0.5 from me", "Still -0."
    r"\b(?:i'm|i\s+am|i'd\s+be|i\s+would\s+be|count\s+me\s+(?:as|in\s+as)|still)\s+(?:a\s+)?-0(?:\.\d)?(?!\d)"
    r"|(?:^|[\s(\[])-0(?:\.\d)?\s+(?:on|to|for|from\s+me)\b|^-0(?:\.\d)?\s*(?:[.,:;!]|$)",
    r":-1:|👎",
    # The kernel's refusal: "NAK.", "Nacked-by:"; a shrug: "Meh."
    r"^nak\b|\bnack(?:ed)?\b|\bnak(?:ed)?-by\b|^meh\b",
    # "I'm strongly against ..." ("I'm not against the idea for servers" grants it).
    r"\b(?:i|we)(?:'m|\s+am|\s+are)\s+(?!not\s|never\s)(?:\w+\s+)?(?:opposed\s+to|against)\b",
    r"^(?:(?:i'm|i\s+am|we're|we\s+are)\s+)?(?:strongly\s+|firmly\s+|very\s+much\s+)?opposed\b"
    # "Strongly against making this the default" ("Against all odds, ..." is not).
    r"|^(?:(?:i'm|i\s+am|we're|we\s+are)\s+)?(?:strongly|firmly|very\s+much|totally)\s+against\b",
    rf"\bi\s+(?:really\s+|still\s+|just\s+)?{_NEG}\s+(?:really\s+|fully\s+|quite\s+)?(?:like|agree"
    r"|buy|support|love)\b",
    r"\bnot\s+(?:a\s+(?:big\s+|huge\s+|great\s+)?|much\s+of\s+a\s+|the\s+biggest\s+)fan\b|\bnot\s+sold\b"
    r"|\bveto\b",
    # "I'd push back on the naming", "I'd argue against making this mandatory", "I would
    # hold off on this until ...", "Please don't merge this yet".
    r"\b(?:i|we)(?:'d|\s+would|\s+will|'ll|\s+have\s+to|\s+must)?\s+(?:\w+\s+)?(?:push(?:ing)?\s*back"
    r"|argue\s+against|hold\s+off)\b|\bplease\s+(?:don't|do\s+not)\s+(?:\w+\s+)?(?:merge|land|ship"
    r"|accept|approve|rush)\b|\bplease\s+reconsider\b|\bvote\s+against\b"
    # Said of the quoted part a reply sits under: "This is the bit I'd push on.", "This is
    # where I get off the train."
    r"|\b(?:this|that|here)\s+is\s+(?:the\s+(?:bit|part|piece|one|step|point|place)\s+(?:that\s+)?"
    r"|where\s+)(?:i|we)(?:'d|\s+would|\s+have\s+to|\s+must)?\s+(?:\w+\s+)?(?:push|object|disagree"
    r"|balk|stumble|struggle|get\s+off|part\s+ways|draw\s+the\s+line)"
    # "Please don't invent another YAML-ish dialect.", "Please don't." ("Please don't
    # worry", "please do not hesitate to ask" reassure.)
    r"|^(?:so\s+|but\s+)?please\s+(?:don't|do\s+not)\b(?!\s+(?:worry|hesitate|feel|be\s+(?:shy|afraid)"
    r"|forget|take\s+(?:this|it)\s+(?:the\s+wrong\s+way|personally)|(?:top|bottom|cross)-?post|send|reply"
    # "Please don't let the bot close it": keeping the issue open is housekeeping.
    r"|let\s+(?:the\s+)?(?:stale\s*)?bot\b|close\s+(?:this|it)\b"
    r"|use\s+html))"
    # "I'd hold the vote until the report is out", "postpone this until".
    r"|\b(?:i|we)(?:'d|\s+would|\s+should)\s+(?:\w+\s+)?(?:hold|postpone|delay|defer)\s+(?:\w+\s+){0,3}?"
    r"until\b"
    # Asking to keep what the change takes away: "Please keep the old flag as an alias".
    r"|\bplease\s+(?:(?:keep|retain|preserve)\s+(?:the\s+|our\s+)?(?:old|current|existing|previous"
    r"|legacy)|(?:don't|do\s+not)\s+(?:remove|drop|break))\b"
    # Asking the proposal not to do something: "Please don't make TOML the only option".
    # Not the courtesies: "please don't hesitate to ask", "don't forget the docs".
    r"|\bplease\s+(?:don't|do\s+not)\s+(?:make|change|rename|remove|drop|deprecate|force|require"
    r"|add|introduce|turn|switch|enable|disable|tie|couple|bundle|rewrite|replace|hard-?code|start"
    r"|call|rush|do\s+(?:that|this|it)(?:\s+this\s+way)?(?=\s*[.!]|$))\b",
    # "Strong objection from me", "I can't vote for this while ...", "the bot should never push".
    r"\b(?:strong|serious|major|formal)\s+objection\b|\bobjection\s+from\s+me\b"
    # A point headed as one: "Objection: the RFC changes a public API", "Concern 2: ...".
    r"|^(?:my\s+)?(?:objections?|concerns?|blockers?|worry|worries|reservations?)(?:\s+\d+)?\s*:\s*\w"
    r"|\b(?:i|we)\s+(?:can't|cannot|could\s+not|couldn't|won't|will\s+not|wouldn't|would\s+not)\s+"
    r"(?:\w+\s+)?(?:vote\s+for|approve|endorse|get\s+behind)\b|\bshould\s+(?:never|not\s+ever)\b"
    # "I'm not going to sign something that lets a funder decide later ...", "I won't sign
    # that."
    r"|\b(?:i|we)(?:'m|\s+am|'re|\s+are)\s+not\s+going\s+to\s+(?:sign|approve|vote\s+for|accept)\b"
    r"|\b(?:i|we)\s+(?:won't|will\s+not|refuse\s+to)\s+sign\b"
    # "Tripling the branches isn't something I'd sign off on without more hands."
    r"|\b(?:isn't|is\s+not|not)\s+something\s+(?:i|we)(?:'d|\s+would)\s+(?:sign\s+off\s+on|approve"
    r"|support|accept|vote\s+for)\b"
    # "I wouldn't design it so that it's easy.", "I would not do it this way."
    r"|\bi\s+(?:wouldn't|would\s+not)\s+(?:design|do|build|structure|set\s+up|write|word|ship|merge"
    r"|run)\s+(?:it|this|that)\s+(?:this\s+way|that\s+way|like\s+(?:this|that)|so\s+that|so\b)"
    # "our security team won't sign that off", "legal would not sign off on it".
    r"|\b(?:won't|will\s+not|wouldn't|would\s+not|can't|cannot)\s+sign\s+(?:\w+\s+)?off\b",
    # What the change would stop someone doing: "we can't ship a build that needs it",
    # "we couldn't adopt this" (not "we can't ship 2.0 without this": a need, agreed).
    r"\b(?:we|i|(?:my|our)\s+(?:team|users|customers|company))\s+(?:still\s+|simply\s+|just\s+)?(?:can't"
    r"|cannot|could\s+not|couldn't|won't\s+be\s+able\s+to|would\s+not\s+be\s+able\s+to)\s+(?:\w+\s+)?"
    r"(?:ship|release|accept|adopt|depend\s+on|package|distribute|deploy|upgrade|migrate|use|install"
    r"|afford|add|cut|tag|publish|sign\b(?!\s+up))\b(?!.*\bwithout\b)"
    # What it would drive people to: "We'd have to switch libraries", "we either pin 4.x
    # forever or rewrite our API" ("we'd have to update the docs" is a plan).
    r"|\b(?:we|i|they|users|people)(?:'d|\s+would|'ll|\s+will)\s+(?:\w+\s+)?have\s+to\s+(?:switch|move\s+away"
    r"|rewrite|fork|abandon|leave|pin|stay\s+on)\b|\bmeans\s+(?:we|i|they|users|everyone|people|you)\s+"
    r"(?:either|have\s+to|must|can't|cannot|lose|drop|can\s+no\s+longer)\b"
    # ("means we stop relitigating it every release" is the gain.)
    r"|\bmeans\s+(?:we|i|they|users|everyone|people|you)\s+stop\s+(?!(?:re)?litigating|arguing|debating"
    r"|bikeshedding|having\s+to|worrying|wasting|guessing)",
    # "Not keen.", "Not convinced, sorry."; "so no, not yet"; "+1 in principle. But not via
    # a deadline-driven lazy consensus."; "I'd rather you didn't call a vote yet".
    r"\bno,?\s+not\s+yet\b|^but\s+not\s+(?:via|through|by|now|yet|like\s+this|this\s+way|in\s+this\s+form)\b|\bi(?:'d|\s+would)\s+rather\s+(?:you|we|they)\s+(?:didn't|did\s+not"
    r"|don't|not|waited|held)\b",
    r"^not\s+(?:too\s+|very\s+|really\s+|that\s+|terribly\s+)?(?:keen|thrilled|a\s+fan|happy\s+with|sold)\b"
    r"|\bnot\s+happening\b",
    # "I really don't want to see yet another build flag" (not "I don't want to block this").
    r"\b(?:i|we)\s+(?:really\s+)?(?:don't|do\s+not)\s+want\s+(?:to\s+(?:see|have|add|introduce)\s+)?"
    r"(?:yet\s+)?(?:another|more|a\s+second|two)\b",
    # "I really hate the idea", "I dislike having two formats".
    r"\bi\s+(?:really\s+|still\s+|just\s+|kind\s+of\s+)?(?:hate|dislike)\b",
    r"\b(?:should|must)\s+not\s+be\s+(?:accepted|merged|approved)\b|\bshouldn't\s+be\s+(?:accepted"
    r"|merged)\b",
    # "This is the part I have trouble with.", "I still have a hard time with the timing."
    r"\b(?:i|we)\s+(?:still\s+|really\s+|do\s+)?(?:have|had)\s+(?:some\s+|real\s+|a\s+lot\s+of\s+)?(?:trouble"
    r"|difficulty|a\s+hard\s+time)\s+(?:with|accepting|seeing)\b",
    # "We can't just yank it in a minor release."
    r"\b(?:we|you)\s+(?:can't|cannot|can\s+not)\s+(?:just|simply)\s+(?!say\b|tell\b|assume\b)[a-z]+"
    r"|\b(?:bad|poor|terrible|dangerous)\s+idea\b|\bnot\s+a\s+good\s+idea\b|\blet's\s+not\b"
    r"|\bi(?:'d|\s+would)\s+(?:rather\s+not|avoid|not)\b|\bwe\s+(?:should\s+not|shouldn't)\b",
    # Not now: "we probably should wait until the API is stable", "not the right time",
    # "revisit this for 3.0", "Not for 2.0 please", "it could be for Maven 5 or 6",
    # "maybe later, but ...". Waiting on the process is no objection: "we should wait
    # for the vote / CI / more feedback".
    r"\b(?:we|i)\s+(?:\w+\s+){0,2}?(?:should|must|need\s+to|have\s+to|ought\s+to|'d\s+rather"
    r"|would\s+rather|had\s+better|'d\s+better)\s+(?:\w+\s+)?wait\s+(?:until|till|for)\b"
    r"(?!\s+(?:the\s+)?(?:ci|build|vote|votes|voting|feedback|reviews?|results?|more\s+\w+)\b)",
    r"\bnot\s+(?:the\s+)?(?:right|best|ideal)\s+(?:time|moment)\b|\bnot\s+now\b"
    r"|\b(?:maybe|perhaps)\s+(?:later|some\s+day|one\s+day|in\s+the\s+future)\s*,?\s+but\b"
    r"|\bneeds?\s+more\s+(?:attention|work|thought|time|discussion)\s+first\b",
    rf"\b(?:revisit|reconsider|postpone|defer|delay|push|move|punt|park|slip)\s+(?:this|it|that)\s+"
    rf"(?:\w+\s+){{0,2}}?(?:to|until|till|after|for|in)\s+{_LATER}",
    rf"\bnot\s+for\s+(?:{_VERSION}|this\s+release|the\s+(?:next|current|upcoming)\s+release)\b",
    rf"\b(?:it|this|that)\s+(?:could|can|should|might|may)\s+(?:\w+\s+)?(?:be|go|wait|come|land)\s+"
    rf"(?:for|into|in|until|till)\s+(?:\w+\s+)?{_LATER}",
    # Not here: "this feels like plugin level functionality", "belongs in a separate
    # plugin", "should live outside the core", "out of scope for the project", "core is the
    # wrong place for this", "a job for a user-space tool".
    r"\b(?:belongs?|should\s+(?:live|be|go|stay|remain)|would\s+(?:fit|sit|live)\s+better)\s+"
    r"(?:\w+\s+){0,2}?(?:in|into|outside(?:\s+of)?|out\s+of)\s+(?:(?:a|an|the|its\s+own|their\s+own"
    r"|some)\s+)?(?:[\w-]+\s+){0,2}?(?:plugins?|extensions?|librar(?:y|ies)|projects?|packages?"
    r"|crates?|userland|user-?space|documentation|docs|wiki|core|layer|level)\b",
    r"\b(?:feels|sounds|looks|seems)\s+like\s+(?:an?\s+)?(?:[\w-]+\s+){0,2}?(?:level|land|space"
    r"|side)\s+(?:functionality|feature|concern|thing|job|problem)\b|\bjob\s+for\s+(?:a|an|the)\s+"
    r"(?:[\w-]+\s+){0,2}?(?:tool|plugin|library|extension|script)\b",
    r"\bout\s+of\s+(?:the\s+)?scope\s+(?:for|of)\s+(?:the|this)\s+(?:project|core|language|library"
    r"|standard|spec(?:ification)?|compiler)\b|\bwrong\s+(?:place|layer|level|home)\s+for\b"
    r"|\bnot\s+the\s+(?:right|best|proper)\s+(?:place|layer|level)\s+for\b"
    r"|\b(?:rather\s+than|instead\s+of|not)\s+(?:being\s+)?(?:in|part\s+of|for)\s+(?:the\s+)?"
    r"(?:core|build\s+itself|distribution|language|standard\s+library|stdlib)\b",
)
DOUBT = _cue(
    # "not sure it/this/why/whether"; "not sure what it takes to ..." asks instead.
    r"\bnot\s+(?:so\s+|really\s+|entirely\s+|quite\s+|completely\s+|at\s+all\s+|yet\s+|100%\s+)?"
    r"(?:sure|certain)\b(?!\s+(?:exactly\s+)?(?:what|how|where|when|who|which|the\s+best)\b)"
    # "Not sure if it's what you're after, but there is this patch" offers help.
    r"(?!\s+(?:if|whether)\s+(?:it'?s|this\s+is|that'?s|it\s+is)\s+(?:exactly\s+)?what\s+you)"
    # "Not sure whether I can make the call tomorrow" doubts the writer's diary.
    r"(?!\s+(?:(?:if|whether)\s+)?i(?:'ll|\s+can|\s+could|\s+will|\s+would)\s+(?:\w+\s+)?(?:make|attend|join"
    r"|be\s+(?:there|around|available|able)|have\s+(?:the\s+)?time)\b)",
    r"\bnot\s+(?:so\s+|really\s+|entirely\s+|quite\s+|yet\s+)?(?:convinced|clear|obvious)\b",
    # "I'm not sure how this plays with console work": how the proposal would fare, not
    # how to do something.
    r"\bnot\s+(?:\w+\s+)?sure\s+how\s+(?:well\s+)?(?:this|it|that|the\s+(?:proposal|change|plan|rfc))\s+"
    r"(?:would\s+|will\s+|is\s+going\s+to\s+)?(?:plays?|fits?|works?|interacts?|scales?|squares?"
    r"|combines?|goes|holds?\s+up)\s+(?:with|in|on|for|under|alongside)\b",
    r"\b(?:think|ask\s+ourselves|question|consider)\s+(?:about\s+)?whether\b",
    r"\b(?:weird|strange|odd|surprising|curious)\s+(?:to\s+me|that)\b|\b(?:seems?|feels?|looks?)\s+"
    r"(?:a\s+(?:bit|little)\s+|rather\s+|pretty\s+|very\s+|quite\s+)?(?:odd|weird|strange)\s+to\b",
    # "ok, I was confused by the different takes" owns a misunderstanding that is over.
    r"\bunconvinced\b|\bunclear\b|\bconfusing\b|(?<!\bwas\s)(?<!\bgot\s)\bconfused\b|\bdubious\b"
    r"|\bskeptic|\bsceptic",
    # "I'm wondering if code from gccrs could help with it" offers help; it doubts nothing.
    r"(?:\bi\s+(?:do\s+)?wonder\b|\bwondering\s+(?:if|whether|why|how)\b)"
    r"(?!(?:\s+[\w'-]+){1,6}?\s+(?:could|can|might)\s+(?:help|be\s+(?:used|useful|reused)|serve)\b)",
    r"\bi'?m\s+not\s+following\b|\bi\s+(?:don't|do\s+not)\s+follow\b",
    r"\bdoubt(?:ful)?\b|\bmixed\s+feelings\b",
    # "the question is whether ...", "whether there is enough evidence", "whether we need it".
    r"\bquestion\s+(?:is|remains)\s+whether\b|\bwhether\s+(?:there\s+is|there\s+are|we\s+(?:really\s+)?"
    r"(?:need|want|should))\b",
    # An open question stated, not asked: "My question is how this interacts with ...",
    # "there is also the question of who maintains it", "it remains to be seen whether",
    # "I'd like to understand why we need a second format".
    r"\b(?:my|our|one|another|the)\s+(?:\w+\s+)?question\s+(?:is|remains|here\s+is)\s+(?:how|why|what"
    r"|who|if)\b|\bthe\s+question\s+of\s+(?:who|how|whether|what|why)\b|\bremains\s+to\s+be\s+seen\b"
    r"|\bi(?:'d|\s+would)\s+(?:\w+\s+)?like\s+to\s+(?:understand|know|hear)\s+(?:\w+\s+){0,3}?why\b",
)
NEGATED_BELIEF = _cue(
    rf"\b(?:i|we)\s+(?:still\s+|really\s+|just\s+|personally\s+)?{_NEG}\s+(?:really\s+|necessarily\s+"
    r"|fully\s+|quite\s+|yet\s+)?(?:think|believe|see|feel|understand|buy|get|agree)\b"
    # ("I don't feel strongly about it" disclaims a stance; it denies no belief.)
    r"(?!\s+(?:very\s+|that\s+|too\s+)?strongly\b)",
    r"\bi\s+fail\s+to\s+see\b|\bi(?:'m|\s+am)\s+(?:still\s+|just\s+)?not\s+seeing\b",
    # "I struggle to see the benefit", "I have a hard time understanding why".
    r"\bi\s+(?:still\s+)?(?:struggle|have\s+(?:a\s+)?(?:hard|difficult)\s+time)\s+(?:to\s+)?(?:see"
    r"|seeing|understand|understanding|believe|believing)\b",
    r"\bi(?:'ve|\s+have)?\s+(?:personally\s+|really\s+)?(?:haven't|have\s+not|never|not)\s+"
    r"(?:(?:yet|ever|once)\s+)?(?:seen|heard|met)\b",
)
# What finds fault in a thing: "confusing", "a drawback", "too hard".
_FAULT_WORDS = (
    r"problem(?:s|atic)?|risk(?:s|y)?|danger(?:s|ous)?|drawbacks?|downsides?|pitfalls?"
    # ("the release blocker list", "blocker bugs" are a tracker's, not a judgement.)
    r"|blockers?(?!\s+(?:list|bugs?|issues?|labels?|tags?|milestones?|tickets?))"
    r"|disaster|burden(?:some)?|overhead|hassle|pain(?:ful)?|fragile|brittle|unstable"
    r"|unreliable|awkward|clunky|cumbersome|confusing|misleading|surprising|inconsistent|ambiguous"
    r"|expensive|costly|overkill|overly|complex(?:ity)?|complicated|difficult|tricky|noisy"
    # "Hard" judges; a hard link, reset, limit or fork is a thing of its own.
    r"|hard(?![-\s]+(?:link|drive|disk|reset|limit|fork|cod|wir|cop|wrap|tab|stop|requirement))"
    r"|broken|wrong|bad|worse|worst|mess|messy|ugly|unfortunate|shame|mistake|premature|rush(?:ed)?"
    r"|blows?\s+up|blew\s+up|strands?|stranded|stuck\s+(?:on|with)|churn|barely\s+maintained"
    r"|a\s+bit\s+much|rabbit\s+hole|rough\s+edges?|trap(?:ped)?|footgun|regression|breaks?|breaking|harm(?:ful)?"
    r"|anti-?patterns?|deal-?breakers?|show-?stoppers?|non-?starters?|no-go|half-baked"
    r"|under-?specified|error-?prone|confuses?|nightmare|slippery\s+slope|security\s+theat(?:er|re)"
    # "This is exactly where the coherence argument in section 5 falls apart."
    r"|falls?\s+apart|fell\s+apart|falling\s+apart"
    # "One group this doesn't fit: translators.", "builds nobody has run".
    r"|(?:doesn't|does\s+not|won't|will\s+not)\s+fit|nobody\s+(?:has|had|will\s+have)\s+(?:ever\s+)?(?:run|tested"
    r"|built|tried)"
    # "we're back where we started a year later", "is asking for an incident at 3am".
    r"|back\s+(?:where\s+we\s+started|to\s+square\s+one)|asking\s+for\s+(?:trouble|an?\s+(?:incident|outage"
    r"|disaster|accident))"
    r"|dreadful|awful|horrible|abysmal|barriers?|weapon(?:s|i[sz]ed)?|bypasses|circumvents|sidesteps"
    # Where it leads, in the idioms for a bad end: "the path to the dark side of imperative
    # builds", "a recipe for disaster", "opens a can of worms".
    r"|dark\s+side|recipe\s+for\s+(?:disaster|trouble|confusion|bugs|pain)|can\s+of\s+worms"
    r"|(?:open|opens|opening)\s+(?:the\s+)?floodgates|(?:path|road)\s+to\s+(?:hell|madness|ruin)"
    r"|scope\s+creep|one-way\s+door|lock-?in|caught\s+off\s+guard|inconsistenc(?:y|ies)|undermin(?:e|es|ing)"
    r"|unrealistic|impractical|infeasible|unworkable|untenable|unsustainable|gloss(?:es|ed|ing)?\s+over"
    # ("unsafe" is a kind of Rust block, not a verdict.)
    r"|hand-?wav(?:y|es|ing)|moot|second-class|(?:turn|drive|scare)(?:s|ing)?\s+(?:\w+\s+){0,3}?away"
    r"|unusable|unmaintainable|unreadable|untested|incomplete|insecure|uninstallable|unbuildable"
    # "a lot of CI setups will fall over", "compactions fall further behind".
    r"|fall(?:s|ing)?\s+over|fell\s+over|fall(?:s|ing)?\s+(?:further\s+|even\s+further\s+)?behind"
    r"|inefficient|unsound|unintuitive|unpredictable|unmaintained|undocumented|unproven|unjustified"
    r"|unacceptable|inappropriate|inadequate|half-finished|unfinished|immature|unconvincing|mismatch(?:es|ed)?"
    r"|ignores|overlooks|neglects|underestimat(?:es|ing)|leaky|leaks?"
    r"|silently\s+(?:alter|change|break|drop|ignore|fail|discard|strip|rewrite|overwrite|lose|delete"
    r"|remove|truncate)s?"
    r"|hurts?|defeats?|lose|losing|loss|unnecessary|unneeded|redundant|pointless|lacks?|lacking"
    r"|insufficient|prevents?|tradeoffs?|trade-offs?|cost|at\s+the\s+(?:cost|expense)\s+of"
    # "It blocks the release", "would block graduation"; a building block, a code block or
    # an unsafe block is a thing, not a judgement.
    r"|(?<!building\s)(?<!code\s)(?<!unsafe\s)(?<!try\s)(?<!catch\s)(?<!text\s)(?<!\ba\s)"
    r"(?<!\bthe\s)(?<!each\s)(?<!such\s)blocks?"
)
# Harm a writer foresees, without a word of judgement: "users will get a screen full of
# warnings", "that is going to land on plugin authors as angry reviews", "a given minor
# would stop getting fixes", "we would be on an unsupported version". What the change is
# said to fix or prevent ("it will fix the crashes") is no harm.
_HARMS = (
    r"errors|failures|crash(?:es)?|bugs|complaints|angry|confused|confusion|garbage|unsupported"
    r"|outages?|downtime|data\s+loss|corrupt(?:ed|ion|s)?|flaky|timeouts|(?:go|goes|turn|turns)\s+red"
    r"|(?:screen|page|wall|flood|lots|tons)\s+(?:full\s+)?of\s+warnings"
    r"|stop\s+(?:getting|receiving|working|building|compiling)|never\s+(?:match|work|build|run|catch\s+up)"
    r"|left\s+behind|out\s+of\s+date|stale"
    # "the docs will drift behind the code", "the two copies will drift apart".
    r"|drift(?:s|ing)?\s+(?:apart|behind|out\s+of\s+sync)|out\s+of\s+sync|bit-?rot"
    # "This is going to produce a wave of drive-by adoptions."
    r"|(?:wave|flood|flurry|deluge|avalanche)\s+of"
    # "... and think the project died", "activity drops by half".
    r"|think\s+(?:the\s+|this\s+|that\s+)?(?:project|community)\s+(?:is\s+|has\s+)?(?:died|dead"
    r"|abandoned|over)|drops?\s+by\s+(?:half|a\s+third|\d+\s*%)"
)
# A cost stated as it stands, in the idioms people use for one: "every one of those is a
# screenshot waiting to happen", "It also takes away tooling.", "one more thing to rebase
# every release", "the next RM is the one who pays for it", "leaves out most of the people
# who ...", "A handle is not much protection".
_COST_IDIOMS = (
    r"\bwaiting\s+to\s+happen\b"
    r"|\btakes?\s+away\s+(?:\w+\s+){0,2}?(?:tooling|tools?|abilit(?:y|ies)|control|choices?|options?"
    r"|flexibility|freedom|visibility)\b"
    r"|\b(?:one|yet\s+another|another)\s+(?:more\s+)?thing\s+to\s+(?:rebase|maintain|carry|track|test"
    r"|review|update|support|keep\s+in\s+sync|worry\s+about|remember|forget)\b"
    # "Zulip is one more app nobody has installed", "yet another account to manage".
    r"|\b(?:one\s+more|yet\s+another)\s+(?:app|tool|account|login|password|service|client"
    r"|channel|place)\s+(?:(?:that\s+)?(?:nobody|no\s+one|few\s+people)\b|to\s+(?:manage|install"
    r"|check|watch|maintain))"
    r"|\b(?:is|are)\s+the\s+ones?\s+who\s+(?:pays?|suffers?|loses?)\b|\bpays?\s+the\s+price\b"
    r"|\b(?:leaves?|locks?|shuts?)\s+out\s+(?:most|many|all|a\s+lot|lots|half|the\s+(?:very\s+)?people"
    r"|people|users|anyone|everyone)\b"
    r"|\b(?:(?:is|are|'s)\s+not|isn't|aren't)\s+(?:very\s+)?much\s+(?:of\s+an?\s+)?(?:protection|help"
    r"|use|comfort|improvement|fix|solution|safeguard|guarantee)\b"
    # What the change runs into where the writer works: "pulling Meson from pip, which our
    # release process doesn't allow".
    r"|\b(?:our|their|the\s+distro'?s?)\s+(?:\w+\s+){0,2}?(?:process|policy|policies|rules"
    r"|guidelines|setup|pipeline)\s+(?:doesn't|does\s+not|won't|will\s+not|wouldn't|would\s+not"
    r"|can't|cannot)\s+(?:allow|permit|accept)\b"
    # The harm seen before: "We had exactly this bug in crinoid-panel last year".
    r"|\bwe\s+(?:had|hit|ran\s+into)\s+(?:exactly\s+|precisely\s+)?(?:this|the\s+same|that)"
    r"\s+(?:bug|problem|issue|failure|breakage|regression)\b"
)
_REMEDIES = (
    r"fix|fixes|fixed|avoid|avoids|prevent|prevents|reduce|reduces|eliminate|remove|solve|solves"
    r"|no\s+more|fewer|less|without"
)
FORESEEN_HARM = (
    r"\b(?:will|would|'ll|'d|going\s+to|might|may|could)\b"
    rf"(?:(?!\b(?:{_REMEDIES})\b)[^.;?!]){{0,80}}?\b(?:{_HARMS})\b"
)
NEGATIVE_JUDGEMENT = _cue(
    # "this only serves to delay a decision that needs to be made"
    r"\bonly\s+serves?\s+to\b",
    FORESEEN_HARM,
    _COST_IDIOMS,
    # What the change takes away: "we can't even follow main with our own CI any more",
    # "plugins will no longer load", "any component from an unmigrated plugin can't be saved".
    r"\b(?:can't|cannot|can\s+not)\s+(?:even\s+)?\w+[^.;?!]*\b(?:any\s*more|any\s+longer)\b"
    r"|\b(?:can|could|will|would)\s+no\s+longer\b"
    r"|\b(?:can't|cannot|can\s+not|won't|will\s+not)\s+be\s+(?:saved|used|built|installed|loaded|opened"
    r"|read|upgraded|migrated|compiled|run|deployed)\b"
    # "as it stands the shim doesn't help the cases it's meant for"
    r"|\b(?:doesn't|does\s+not|won't|will\s+not|wouldn't|would\s+not)\s+(?:really\s+|actually\s+)?help\b"
    # "there is literally no way to get at the AudioServer from a plugin"
    r"|\bthere(?:'s|\s+is|\s+will\s+be|'ll\s+be|\s+would\s+be)\s+(?:literally\s+|simply\s+|just\s+|then\s+)?no\s+way"
    r"\s+(?:for\s+(?:\w+\s+){1,3}?)?to\b",
    # A cost measured against what is: "runs the dense LU benchmarks 30-35% slower".
    r"\b\d[\d.,]*(?:\s*[-\u2013]\s*\d[\d.,]*)?\s*(?:%|x|\u00d7|\s+times)\s+(?:slower|larger|bigger|worse)\b",
    # Who the change leaves out: "This excludes 1.20, which is what Debian 12 ships.", "it
    # would lock out every user on a managed laptop".
    r"^(?:but\s+|and\s+|so\s+)?(?:this|that|it)\s+(?:would\s+|will\s+)?(?:effectively\s+)?"
    r"(?:exclude[sd]?|shuts?\s+out|locks?\s+out)\b",
    # "it's not really a fix for us", "Hiring isn't a plan until someone is hired", "That
    # is a plan, not a fact."
    r"\b(?:is|'s)\s+not\s+(?:really\s+)?a\s+(?:fix|solution)\s+for\b|\bisn't\s+(?:really\s+)?a\s+(?:fix|solution)\s+for\b"
    r"|\b(?:isn't|is\s+not)\s+a\s+plan\b|\ba\s+plan,?\s+not\s+a\s+fact\b",
    # "This part I think is simply not valid." (of an argument or a rule of the proposal)
    r"\b(?:is|'s|are)\s+(?:simply\s+|just\s+|clearly\s+)?not\s+valid\b"
    r"|\b(?:isn't|aren't)\s+(?:simply\s+|just\s+|clearly\s+)?valid\b",
    # "That is not a reason to grow the API." ("... is no reason to block this" answers.)
    r"\b(?:is|'s|are)\s+(?:not|no)\s+(?:a\s+)?(?:good\s+|sufficient\s+|valid\s+)?reason\s+to\s+"
    r"(?!(?:block|reject|hold|delay|stop|not|wait|veto|object)\b)"
    r"|\b(?:isn't|aren't)\s+(?:a\s+)?(?:good\s+|sufficient\s+|valid\s+)?reason\s+to\s+"
    r"(?!(?:block|reject|hold|delay|stop|not|wait|veto|object)\b)",
    # What it leaves undone: "No selftest in the series.", "A warning in debug builds does
    # nothing for people who ship release builds", "two-year terms are a long time for
    # volunteers".
    r"^no\s+(?:self-?tests?|tests?|test\s+coverage|documentation|docs|benchmarks?|numbers|changelog"
    r"|migration\s+(?:guide|path|plan)|rationale)\b(?!\s+(?:needed|required|changes?))"
    r"|\bdoes\s+(?:nothing|little|not\s+much)\s+(?:at\s+all\s+)?(?:for|about|against|to\s+(?:help|fix"
    r"|address|solve|stop|prevent))\b"
    r"|\b(?:is|are)\s+a\s+(?:very\s+)?long\s+(?:time|wait)\s+(?:for|to)\b",
    # The proposal's own claim, quoted and denied: '"every existing URL keeps working"
    # isn't true for those'.
    r"[\"\u201d]\s+(?:(?:isn't|is\s+not|won't\s+be|will\s+not\s+be|wouldn't\s+be)"
    r"(?:\s+(?:quite|entirely|strictly|actually|really))?\s+(?:true|correct|accurate|the\s+case)"
    r"|(?:doesn't|does\s+not|won't|will\s+not)\s+hold)\b",
    # A reviewer naming a defect: "This one is a real bug, I think.", "Plain accesses for
    # both is a data race", "that's racy". ("a bug fix", "the bug tracker" name things.)
    r"\b(?:is|are|'s|looks\s+like|sounds\s+like)\s+(?:a\s+|still\s+a\s+)?(?:real\s+|genuine\s+|serious\s+"
    r"|nasty\s+|subtle\s+|latent\s+)?(?:bug|data\s+race|race(?:\s+condition)?|deadlock|use-after-free"
    r"|regression|memory\s+leak)s?\b(?!\s+(?:fix|fixes|tracker|report|reports|number|id)\b)"
    r"|\b(?:is|are|looks|'s)\s+racy\b"
    # A removal made without notice: "patch 3 drops nmi_watchdog=panic with no deprecation
    # period".
    r"|\b(?:with\s+no|without\s+(?:a|any))\s+(?:deprecation|transition|grace|migration)\s+"
    r"(?:period|notice|warning|window|path)\b",
    # An amount judged short: "One release of SKIFF_OUTPUT=legacy is not a lot."
    r"\b(?:(?:is|are|was)\s+not|isn't|aren't|wasn't)\s+(?:really\s+)?(?:a\s+lot|much|very\s+long)\s*[.;,!]",
    # What the proposal leaves out: "The RFC never says what happens to ...", "the
    # security section is missing", "the numbers don't support the claim".
    r"\b(?:rfc|proposal|document|design|draft|text|pr|kip|flip|pep|kep)\s+(?:never|doesn't|does\s+not)\s+"
    r"(?:says?|mentions?|explains?|address(?:es)?|specif(?:y|ies)|discuss(?:es)?|describes?)\b"
    r"|\b(?:section|discussion|analysis|rationale|justification|migration\s+(?:guide|plan|path)"
    r"|benchmarks?|threat\s+model)\s+(?:is|are)\s+(?:still\s+|completely\s+)?missing\b"
    r"|\b(?:doesn't|don't|does\s+not|do\s+not)\s+(?:really\s+)?(?:support|justify|back\s+up)\s+(?:the|this"
    r"|that|your)\s+(?:claim|argument|conclusion|premise|case)\b",
    rf"\b(?:{_FAULT_WORDS})\b",
    r"\b(?:no|zero|little|not\s+much|marginal|minimal|negligible|small|modest|tiny)\s+(?:real\s+|user\s+"
    r"|practical\s+|actual\s+)?(?:point|need|reason"
    r"|benefit|value|use|gain|improvement|advantage)s?\b|\bnot\s+worth\b"
    r"|\b(?:doesn't|does\s+not|don't|do\s+not)\s+make\s+(?:much\s+)?sense\b|\bmakes\s+no\s+sense\b",
    r"\b(?:won't|will\s+not|wouldn't|would\s+not|can't|cannot)\s+(?:really\s+)?(?:work|scale|fly)\b"
    r"|\b(?:would|will|could|might)\s+(?:\w+\s+)?(?:break|regress|exclude|alienate|penali[sz]e|discourage"
    r"|fragment|complicate|surprise|mislead|misread|misinterpret|corrupt|overwhelm|exhaust"
    r"|fill\s+up|(?:cut|lock|shut)\s+(?:\w+\s+){0,3}?(?:off|out)|hang|crash|deadlock|stall|freeze"
    r"|time\s+out)\b|\b(?:a|the)\s+source\s+of\s+(?:\w+\s+)?(?:bugs|confusion"
    r"|problems|errors|mistakes|pain)\b"
    # "That could end up duplicating the local repo cache": an unwanted consequence.
    r"|\b(?:would|will|could|might|may)\s+(?:easily\s+)?end\s+up\b"
    # "is going to bite anyone who stores timestamps", "configs will behave differently".
    r"|\b(?:going\s+to|will|would|could|might)\s+(?:\w+\s+)?bite\b|\b(?:will|would|could|might)\s+"
    r"(?:\w+\s+)?behave\s+(?:differently|inconsistently|unpredictably)\b",
    # A cost measured: "importing it added ~180 ms to cold start"; an error users will hit;
    # "a lot of extra work landing on distros"; "reverse-dependencies won't port in time";
    # "we lost two major downstream users".
    r"\badd(?:s|ed|ing)\s+(?:~|about\s+|around\s+|roughly\s+|over\s+)?\d[\d.,]*\s*(?:ms|s|seconds|minutes|mb|kb"
    r"|gb|%)(?!\w)"
    r"|\b(?:will|would|could)\s+(?:\w+\s+)?(?:hit|get|run\s+into)\s+(?:an?\s+|the\s+)?[\"“']?\w*(?:error"
    r"|exception|failure|crash)"
    r"|\b(?:a\s+lot\s+of|lots\s+of|significant|considerable|substantial)\s+(?:extra|additional|more)\s+"
    r"(?:work|effort|maintenance|burden)\b"
    r"|\bwon't\s+(?:\w+\s+)?(?:port|make\s+it|be\s+ready|land|finish)\s+in\s+time\b"
    r"|(?<!n't\s)(?<!not\s)(?<!never\s)\blost\s+(?:\w+\s+){0,3}?(?:users|contributors|downstream|customers"
    r"|maintainers)\b",
    # Who it leaves out or loses: "nobody will be able to reconstruct why", "half of us
    # won't even have seen the thread", "before I can say anything", "would remove me from
    # design discussion", "shuts out contributors", "people will quietly stop following".
    r"\b(?:nobody|no\s+one|no-one)\s+(?:will|would|could|can)\s+(?:ever\s+)?(?:be\s+able\s+to|find|follow"
    r"|reconstruct|remember|keep\s+up)\b"
    r"|\b(?:won't|will\s+not)\s+even\s+(?:have\s+)?(?:seen|read|heard|noticed)\b"
    r"|\bbefore\s+(?:i|we|they|anyone|people|most\s+of\s+us)\s+(?:can|could|get\s+to)\s+(?:say|respond"
    r"|reply|react|comment|weigh\s+in)\b"
    r"|\b(?:remove|exclude|shut|lock|cut)s?\s+(?:me|us|them|people|contributors|users|anyone|everyone"
    r"|committers)\s+(?:out\s+)?(?:of|from)\b|\b(?:shuts?|locks?|shutting|locking)\s+(?:\w+\s+){0,3}?out\b"
    r"|\b(?:will|would|could|might)\s+(?:\w+\s+)?stop\s+(?:following|contributing|participating|reading"
    r"|reviewing|caring)\b"
    # What it fails to do, or costs: "A web forum does none of that", "Getting it added
    # would take months", "GitHub is blocked by our proxy", "only works if silence means
    # consent".
    r"|\b(?:does|do|did|will|would|can)\s+none\s+of\s+(?:that|this|these|those|it)\b"
    r"|\b(?:would|will|could)\s+take\s+(?:us\s+|them\s+)?(?:months|years)\b"
    r"|\b(?:is|are)\s+blocked\s+(?:by|in|at|for)\b|\bonly\s+works?\s+(?:if|when)\b"
    # The form it should take instead: "This needs a formal vote under our bylaws, not a
    # 'please comment' thread".
    r"|\bneeds?\s+(?:a|an)\s+[^,;.?!]{1,50},\s+not\s+(?:a|an|just)\b",
    # Against the rules one works under: "ASF policy is pretty clear that the list is the
    # venue", "whether this is even permitted" ("the policy says we need three +1s" only
    # informs).
    r"\b(?:bylaws|policy|policies|charter|guidelines|rules)\s+(?:is|are)\s+(?:\w+\s+)?clear\s+(?:that|on)\b"
    r"|\b(?:is|are|be)\s+(?:\w+\s+)?even\s+(?:permitted|allowed|legal|compliant)\b",
    # A flaw in the text as it stands: "because as written it could", "as worded, this
    # would" (not "+1 as written").
    r"\bas\s+(?:currently\s+)?(?:written|worded|drafted|phrased)\s*,?\s+(?:it|this|that|the\s+\w+)\s+"
    r"(?:could|would|will|might|can)\b|\bbecause\s+as\s+(?:currently\s+)?(?:written|worded|drafted"
    r"|phrased)\b",
    # Experience offered as the objection: "We did exactly this at my last job and spent
    # eighteen months answering tickets", "we tried it in 2019 and reverted it".
    r"\b(?:we|i)\s+(?:did|tried|attempted|had)\s+(?:exactly\s+|much\s+)?(?:this|that|the\s+same|something"
    r"\s+(?:like|similar))\b[^.;]*?\b(?:and|but|then|only\s+to)\s+(?:\w+\s+){0,2}?(?:reverted|regretted"
    r"|rolled\s+(?:it\s+)?back|gave\s+up|abandoned|spent|backed\s+(?:it\s+)?out|had\s+to|ended\s+up)\b"
    r"|\b(?:went|moved|switched|migrated)\s+back\s+to\b",
    # A doubt that it can be done at all: "There's no way a migration lands in that window"
    # ("there's no way to configure it" says what cannot be done today).
    r"\bthere(?:'s|\s+is)\s+no\s+way\s+(?!to\b|around\b|back\b)(?:that\s+)?\w+",
    r"\b(?:not|isn't|is\s+not|aren't|wouldn't\s+be|won't\s+be)\s+(?:\w+\s+)?(?:ideal|great|good"
    r"|enough|sufficient|adequate|worth|feasible|possible|practical|realistic|available|stable"
    r"|trusted|mature|ready|needed|necessary|clear|foolproof|bulletproof|robust|intuitive|safe"
    r"|reliable|scalable|secure|an\s+improvement|an\s+answer|an\s+option|a\s+solution|viable)\b",
    r"\b(?:too|very|highly|quite|rather)\s+(?:\w+\s+)?(?:much|many|slow|big|large|complex|risky"
    r"|early|late|soon|strict|loose|vague|broad|narrow|specific|problematic|costly|expensive|short|long"
    r"|few|little|tight|aggressive)\b"
    # "is a bit short for a change this size", "a little ambitious".
    r"|\ba\s+(?:bit|little|tad)\s+(?:short|early|soon|tight|much|rushed|aggressive|ambitious|optimistic)\b"
    # "'working' is a bit of a stretch", "we'd be going backwards on supply-chain checks",
    # "the speed-up on CI is marginal", "gradlew build fails on Windows".
    r"|\b(?:a\s+(?:bit\s+of\s+a\s+)?stretch|going\s+backwards?|a\s+step\s+backwards?)\b"
    r"|\b(?:is|are|be)\s+(?:\w+\s+)?marginal\b|\bfails?\s+(?:on|with|under)\b"
    # Work nobody has taken on: "nobody has volunteered to rewrite them", "weeks of work
    # that nobody has scoped"; "The CI side is missing from the proposal".
    r"|\b(?:nobody|no\s+one)\s+has\s+(?:\w+\s+)?(?:volunteered|scoped|signed\s+up|offered|agreed|tested"
    r"|checked)\b|\bmissing\s+from\s+(?:the|this|your)\s+(?:proposal|rfc|plan|draft|branch|write-?up)\b",
    # Excess of any kind: "too optimistic", "far too big a change" ("me too", "..., too.",
    # "too, since" and "Windows too and Linux" are "also").
    r"\btoo\s+(?!(?:and|or|but|as|in|on|for|with|to|so|which|that|the|a|an|if|when|since|because|is"
    r"|are|was|were|will|would|i|we|you|it|this|they)\b)[a-z][a-z-]{2,}",
    r"\bover-?(?:think|engineer|complicat|design|kill)\w*",
    # "The use case seems pretty niche" (not "it fills a niche"), "could be misused",
    # "locking ourselves into this design", "doesn't pull its weight".
    r"\b(?:seems?|is|are|sounds?|feels?)\s+(?:pretty\s+|very\s+|quite\s+|rather\s+|too\s+|fairly\s+)?niche\b"
    r"|\b(?:could|can|would|will|might|may)\s+(?:\w+\s+)?be\s+(?:easily\s+)?(?:misused|abused)\b"
    r"|\bprone\s+to\s+(?:misuse|abuse)\b|\bduplicat(?:es|ing)\s+(?:\w+\s+){0,3}?(?:functionality|what"
    r"|work|effort|logic|features?|existing)\b"
    r"|\b(?:there's|there\s+is)\s+no\s+(?:clear\s+|good\s+|real\s+)?(?:\w+\s+)?(?:story|path|plan|way"
    r"|mechanism|guidance)\s+(?:for|to)\b|\block(?:s|ing|ed)?\s+(?:ourselves|us|users|everyone|people"
    r"|them)\s+in(?:to)?\b|\b(?:doesn't|does\s+not|won't|wouldn't|not)\s+(?:\w+\s+)?(?:pull|carry)"
    r"(?:ing)?\s+its\s+(?:own\s+)?weight\b",
    # A cost it brings: "This would make bisecting much harder", "makes the common case
    # slower" (not "slower disks", a kind of thing).
    r"\b(?:makes?|making|made|render|renders)\s+(?:[\w'-]+\s+){0,4}?(?:(?:much|even|far|a\s+lot)\s+)?"
    r"(?:harder|slower|worse|more\s+(?:difficult|complex|complicated|fragile|confusing|error-?prone))\b"
    # "This would make the XSD useless" (not "amlog being made useless for me": history).
    r"|\b(?:would|will|could|might)\s+(?:\w+\s+)?(?:make|render)\s+(?:[\w'-]+\s+){0,4}?(?:useless"
    r"|impossible|unusable|obsolete|pointless|meaningless)\b",
    # Harm it does to what exists: "hashing a new format invalidates every cache entry", "the
    # key names collide with the overrides", "it conflicts with RFC 112", "performance
    # regressed by 30%". A conflict named as a thing ("resolved the conflicts with main",
    # "merge conflicts with", "to avoid clashes with", "no conflicts with") is none.
    r"\b(?:invalidat(?:es|ing)|(?=c)(?<!\bno\s)(?<!\bany\s)(?<!\bthe\s)(?<!avoid\s)(?<!prevent\s)(?<!merge\s)"
    r"(?:collid(?:es?|ing)\s+with|conflicts?\s+with|clash(?:es)?\s+with)"
    r"|regressed|(?:is|are|was|were|got)\s+(?:\w+\s+)?(?:slower|bigger|larger)\s+(?:than|by)\b)",
    # What the proposal leaves out: "The RFC doesn't address how deployments migrate", "is
    # silent on backwards compatibility", "nothing in the proposal about", "have not been
    # thought through", "with no migration path".
    r"\b(?:doesn't|does\s+not|don't|do\s+not|fails?\s+to|never)\s+(?:really\s+|fully\s+|adequately"
    r"\s+|even\s+)?(?:address|cover|explain|mention|consider|account\s+for|justify|discuss|say|specify"
    r"|define|describe|state)\b",
    r"\b(?:is|are)\s+(?:completely\s+|entirely\s+)?silent\s+(?:on|about)\b",
    r"\bnothing\s+(?:in|about)\s+(?:the|this|your)\s+(?:\w+\s+)?(?:proposal|rfc|text|document|draft"
    r"|kep|pep|design|flip|spec)\b",
    r"\bnot\s+(?:been\s+)?(?:fully\s+|really\s+|well\s+)?thought\s+(?:through|out)\b",
    r"\bno\s+(?:clear\s+|good\s+|real\s+)?(?:migration|upgrade|transition|rollback|deprecation)\s+"
    r"(?:path|story|plan)\b",
    # Unconvinced by it: "The rationale doesn't convince me", "the examples don't match".
    r"\b(?:doesn't|does\s+not|don't|do\s+not|didn't)\s+(?:really\s+|quite\s+)?(?:convince|match)\b"
    r"|\bnot\s+convincing\b",
    # What it takes away: "removes the ability to pin a version", "would no longer
    # compile" (not "no longer run-time mutable"), "doesn't work for people behind a proxy".
    r"\b(?:removes?|removing|drops?|dropping|takes?\s+away|loses?|losing)\s+(?:the\s+|our\s+"
    r"|their\s+)?(?:ability|option|possibility|way)\s+to\b",
    r"\bno\s+longer\s+(?:compiles?|works?|builds?|runs?|pass(?:es)?|loads?|starts?|be\s+(?:possible"
    r"|able|supported))\b(?!-)",
    r"\b(?:doesn't|does\s+not)\s+(?:really\s+)?work\s+(?:offline|(?:for|with)\s+(?:people|users?"
    r"|anyone|us|many|most|some|those|everyone|our|distributions?|packagers?))\b",
    # What it costs others: "packagers would have to carry a patch", "reviewers will have to
    # check two formats" ("so plugin authors don't have to" lifts a burden), "doubles the
    # work", "much shorter than what auditors require".
    r"\b(?:users?|everyone|everybody|contributors?|committers?|maintainers?|packagers?"
    r"|distributions?|distros?|reviewers?|operators?|admins?|developers?|authors?|downstream"
    r"|vendors?|projects?)\s+(?:would|will|'d|'ll|must\s+now|now)\s+(?:all\s+)?(?:have|need)\s+to\b",
    r"\b(?:doubles?|triples?)\s+(?:the\s+|our\s+)?(?:work|effort|maintenance|burden|cost|load|time)\b",
    r"\b(?:shorter|longer|smaller|lower|higher|less|fewer)\s+than\s+(?:what\s+)?(?:\w+\s+){0,3}?"
    r"(?:requires?|needs?|expects?|required|needed|expected|allowed)\b",
    # A premise questioned: "assumes that every contributor works in UTC office hours",
    # "which is not how the foundation works".
    r"\bassum(?:e|es|ing)\s+(?:that\s+)?(?:every|all|everyone|everybody|nobody|no\s+one)\b"
    r"|\b(?:is|'s|are)\s+not\s+how\b",
    # Set against what stands: "conflicts with the deprecation policy", "at odds with",
    # "goes against the principle of least surprise", "incompatible with".
    # (A verb: "resolve conflicts with main", "to avoid clashes with" judge nothing.)
    r"\b(?:this|that|it|which|would|will|might|could|may|directly|clearly)\s+(?:\w+\s+)?(?:conflicts?"
    r"|clash(?:es)?)\s+with\b|\bat\s+odds\s+with\b|\bcontradicts?\b"
    r"|\b(?:goes|go|going|run|runs|running)\s+(?:\w+\s+)?(?:against|counter\s+to)\s+(?:the|our|what|how"
    r"|everything|every)\b|\bincompatible\b",
    # What was raised and is still open: "neither remark is addressed", "unresolved".
    r"\b(?:unaddressed|unresolved|unanswered)\b|\b(?:is|are|was|were|been|remains?)\s+(?:still\s+)?"
    r"(?:not|never)\s+(?:been\s+)?(?:addressed|resolved|answered|discussed)\b"
    r"|\bneither\s+(?:\w+\s+){1,2}(?:is|was|has\s+been)\s+(?:addressed|resolved|answered)\b",
    # What the text owes its readers: "should be clearer", "needs clarification".
    r"\b(?:should|needs?\s+to|must|could)\s+be\s+(?:made\s+)?(?:much\s+)?(?:clearer|more\s+(?:clear"
    r"|explicit|precise|specific))\b|\bneeds?\s+(?:some\s+|more\s+)?(?:clarification|clarifying)\b",
    # "The RFC should explain what happens when the cache is full."
    rf"\b{_PROPOSAL}\s+(?:should|needs\s+to|must|has\s+to|ought\s+to)\s+(?:also\s+|really\s+)?(?:explain"
    r"|say|specify|describe|document|address|clarify|justify|define|cover|mention|discuss)\b",
    # A consequence for every one of a kind: "every distro gets an accidental ABI-looking
    # change", "every Helm install starts logging a deprecation warning on every run",
    # "Every security fix becomes a hand-port.", "every mobile beginner pays that".
    r"(?:^|[,;:]\s*|\b(?:so|then|means|that)\s+)(?:(?:in\s+practice|basically|effectively|suddenly)"
    r",?\s+)?every\s+(?!(?:day|week|month|year|time|now|other|single\s+day)\b)(?:[\w'.-]+\s+){1,6}?"
    r"(?:(?:will|would|then|now|silently|suddenly)\s+)?(?:gets?|becomes?|turns?\s+into|starts?"
    r"|pays?|loses?|breaks?|fails?|has\s+to|needs?\s+to|switch(?:es)?|opens?\s+with"
    r"|(?:have|has)\s+the\s+same)\b",
    # "As if unofficial RFCs get merged": the sarcasm of a doubt. So is "Nothing says
    # "thank you for your service" like a form letter" and "But sure, I'm certain the QA
    # team will do a better job with it".
    r"^as\s+if\b|^nothing\s+says\s+[^.]{1,80}?\s+like\b"
    r"|^(?:but\s+|oh\s+)?sure,\s+(?:i'?m|i\s+am)\s+(?:certain|sure)\b"
    # "Starting a two-week FCP on December 16th. Bold move."
    r"|^bold\s+(?:move|choice)[.!]*$"
    # "..., which is going to be fun to debug.", "It's marking your own homework, a bit.",
    # "I'm sure that will feel very fair to whoever just got suspended.", "a SHOULD with
    # extra steps", "our log aggregation bill thanks you", "let's be honest about what
    # this costs".
    r"|\b(?:(?:is|'s|are|'re)\s+going\s+to|will)\s+be\s+(?:fun|a\s+joy|a\s+treat|great\s+fun)\s+to\s+"
    r"(?:debug|explain|support|maintain|review|untangle|diagnose|document)\b"
    r"|\bmarking\s+(?:your|their|its|our|his|her)\s+own\s+homework\b"
    r"|^i'?m\s+sure\s+(?:that|this|it)\s+will\s+(?:feel|look|sound)\s+(?:very\s+|really\s+|totally\s+)?"
    r"(?:fair|reassuring|welcoming)\s+to\b|\bwith\s+extra\s+steps\b"
    r"|\b(?:bill|budget|pager|on-?call\s+rotation)\s+thanks\s+you\b"
    r"|^(?:but\s+|so\s+)?let'?s\s+be\s+honest\s+about\b",
)
COUNTER_PROPOSAL = _cue(
    r"\bi(?:'d|\s+would)?\s+(?:strongly\s+)?(?:suggest|propose|recommend|prefer|rather|favou?r)\b",
    # "I'd honestly prefer all five seats filled by nomination". (Not "I'd much rather have
    # this than ...", which as often prefers the proposal to what is.)
    r"\bi(?:'d|\s+would)\s+(?:honestly|really|personally|actually|frankly)\s+(?:prefer|rather)\b",
    # "I am actually leaning toward suggesting to extend the ignore mechanism".
    r"\b(?:i(?:'m|\s+am|'d|\s+would)|we(?:'re|\s+are|'d|\s+would))\s+(?:\w+\s+)?(?:be\s+)?lean(?:ing)?"
    r"\s+(?:more\s+)?towards?\b",
    r"\b(?:i(?:'d|\s+would)|we(?:'d|\s+would))\s+(?:like|want|need)\s+to\s+(?:remove|drop|change"
    r"|avoid|replace|rename|swap|move|split|merge|keep)\b",
    # "I'd keep the reference docs with the code.", "I'd leave the CLI alone."
    r"^(?:so\s+|personally,?\s+|honestly,?\s+)?i(?:'d|\s+would)\s+(?:still\s+|just\s+)?(?:keep|leave|stick\s+with"
    r"|stay\s+with)\b",
    r"\b(?:how|what)\s+about\b|\bwhy\s+not\b|\binstead\b|\brather\s+than\b|\balternatively\b"
    # ("another way to describe the issue" restates it.)
    r"|\banother\s+(?:option|approach|idea|way(?!\s+(?:to|of)\s+(?:describe|say|saying|put|putting|phrase"
    r"|look|looking|see|seeing|state|frame|think)))\b|\bbetter\s+(?:to|if|would|approach|option|way)\b",
    r"\b(?:maybe|perhaps|probably)\s+(?:we|you|it|this|the)\b|\bideally\b",
    r"\b(?:can|could|shall|should)\s+we\b|\bwe\s+could\s+(?:instead|also|just)\b",
    # "I think experts is a better standard": preferring something else.
    r"\b(?:is|are|be|seems?)\s+(?:a\s+|much\s+|far\s+)?(?:better|safer|simpler|clearer)\s+(?:\w+\s+)?"
    r"(?:standard|option|choice|approach|default|fit|name|way|idea|solution)\b",
    r"\bi\s+think\s+(?:we|you|it|this|that)\s+(?:should|need|must|ought)\b",
    # "This belongs in a separate RFC", "should be its own proposal".
    r"\bbelongs?\s+(?:in|to)\s+(?:a|an|its\s+own)\s+(?:separate|different|own|another|follow-?up)\b"
    r"|\bshould\s+be\s+(?:a\s+separate|its\s+own|a\s+different)\s+(?:rfc|proposal|pr|issue|discussion"
    r"|thread|change|kep|pep|flip)\b",
)
# Support that says a reservation follows: "+1 from me, with one big "but".", "In
# principle yes, with one caveat:".
WITH_A_BUT = (
    r"\bwith\s+(?:one|a|two|some|an)\s+(?:big\s+|small\s+|major\s+|minor\s+|important\s+|serious\s+)?"
    r"(?:[\"\u201c']but[\"\u201d']|caveats?|reservations?)"
)
# Granting something, then turning against it: "Merging it into one project is an
# interesting option, but I think the resolver deserves its own project", "I see the
# appeal, but we would be stuck with it".
YES_BUT = _cue(
    r"\b(?:interesting|good|nice|valid|fair|reasonable|great|neat|cool)\s+(?:\w+\s+)?(?:option"
    r"|idea|point|approach|proposal|suggestion|thought|goal|start)\b[^.;?!]*?\bbut\s+(?:i|we|it"
    r"|this|that|the|imo|imho)\b",
    r"\bi\s+(?:like|see|understand|get|appreciate)\s+[^.;?!]*?,\s*but\s+(?:i|we|it|this|that)\b",
    r"\b(?:makes\s+sense|sounds\s+good|looks\s+good|sounds\s+nice)[^.;?!]*?,?\s*but\s+(?:i|we|it"
    r"|this|that)\b",
    # "I'm not against a baseline bump, but 15.4 looks like it was picked because ...".
    r"\b(?:i'm|i\s+am|we're|we\s+are)\s+not\s+(?:\w+\s+)?(?:against|opposed\s+to)\b[^.;?!]*?,?\s*but\b",
    # "The Grafana plugin is good for metrics, but it has not the job topology view."
    r"\b(?:is|are|'s)\s+(?:\w+\s+)?(?:good|fine|great|nice|ok|okay)\s+(?:for|at|as)\s+[^.;?!]*?,?\s*but\s+"
    r"(?:it|this|that|they|there|the)\b",
    # "Requiring 2FA is fine, but doing it with two weeks' notice is not."
    r"\b(?:is|are|seems?|sounds?)\s+(?:perfectly\s+)?(?:fine|ok|okay|reasonable)\s*,?\s*but\b[^.;?!]*"
    r"(?:\b(?:is|are)\s+not\b|\b(?:isn't|aren't)\b)",
    # "+1 from me, with one big "but".", "In principle yes, with one caveat:".
    WITH_A_BUT,
)
# What must be true before the proposal goes in: a condition of support, which is a
# concern until it is met ("there should be consensus on the names before merging",
# "we must have tooling in place to implement this").
# "before merging", "before we accept": the moment a proposal goes in.
_GOING_IN = (
    r"\bbefore\s+(?:merging|accepting|landing|shipping|releasing|approving|adopting|agreeing"
    r"|changing|enabling|switching|flipping|turning|making|dropping|removing|deprecating"
    # "before we change the default": whatever the group is about to do, it does after.
    r"|we\s+(?:(?:actually|really|finally|all)\s+)?(?!know\b|had\b|have\b|get\s+there\b)[a-z]+"
    r"|(?:it|this|that)\s+(?:goes\s+in|lands|ships|(?:is|gets)\s+(?:merged|accepted|approved|adopted"
    r"|released|shipped))|the\s+(?:merge|switch|flip|cutover|vote))\b"
)
# A reviewer's own condition, said as what they want: "I want an SMP job before this
# ships", "I'd still prefer numbers before the merge". (Wanting the change itself in soon,
# "I want to get this in before the freeze", is support.)
_I_WANT = (
    r"\b(?:i|we)(?:(?:'d|\s+would)\s+(?:(?:still|really|also|definitely|just)\s+)*(?:want|need|prefer"
    r"|expect|like)|\s+(?:(?:still|really|also|definitely|just)\s+)*(?:want|need|prefer|expect))"
    r"\s+(?!(?:to\s+(?:get|have)\s+)?(?:this|it)\s+(?:in|merged|landed|done|shipped)\b)"
)
REQUIREMENT = _cue(
    r"\b(?:should|must|need\s+to|needs\s+to|has\s+to|have\s+to|ought\s+to|(?:i|we)(?:'d|\s+would)\s+"
    r"(?:want|like|need)\s+to\s+see|please\s+(?:add|include|provide|share|document|explain))\b[^.;]*"
    + _GOING_IN,
    _I_WANT + r"[^.;]*" + _GOING_IN,
    # "If this goes in, I'd at least want a documented way to build without it."
    r"\b(?:i|we)(?:'d|\s+would)\s+at\s+(?:the\s+(?:very\s+)?)?least\s+(?:want|need|like|expect|ask\s+for)\b"
    # "But I'd really like to see a deprecation step first.": what must come before it.
    r"|\b(?:i|we)(?:'d|\s+would)\s+(?:really\s+|much\s+)?(?:like|want|need|prefer)\s+to\s+see\s+"
    r"[^.;?]{1,60}?\s+first\b",
    # "At the very least I'd want numbers from our own archive": the least it must meet.
    r"\bat\s+(?:the\s+(?:very\s+)?least|a\s+minimum|minimum)\b[^.;]*" + _I_WANT,
    # "This needs PTRACE_MODE_READ_FSCREDS at the very least.", "At a minimum it needs a
    # deprecation notice."
    r"\b(?:it|this|that|the\s+\w+)\s+(?:needs|requires)\b[^.;]*\bat\s+(?:the\s+(?:very\s+)?least|a\s+minimum)\b"
    r"|\bat\s+(?:the\s+(?:very\s+)?least|a\s+minimum)\b,?\s+(?:it|this|that|the\s+\w+)\s+(?:needs|requires"
    r"|should|must)\b",
    r"\b(?:must|should|need\s+to|needs\s+to|has\s+to|have\s+to)\s+(?:have|be|get)\s+(?:\w+\s+){0,4}?"
    r"in\s+place\b",
    # "This needs more discussion", "requires further thought": not ready as it stands.
    r"\b(?:needs?|requires?)\s+(?:a\s+lot\s+|much\s+|some\s+)?(?:more|further)\s+(?:discussion|thought"
    r"|work|design|consideration|testing|justification|motivation|bake\s+time)\b",
    r"\b(?:we|you|it|this)\s+(?:really\s+)?(?:needs?|should\s+have|must\s+have)\s+(?:\w+\s+){1,7}?first\b"
    r"|\b(?:i|we)(?:'d|\s+would)\s+(?:like|want|need)\s+(?:to\s+see\s+)?(?:[\w'-]+\s+){1,6}?first\b",
    # What the document must still say: "The proposal should say what happens when someone
    # steps down."
    r"\b(?:the\s+|this\s+)?(?:proposal|rfc|document|doc|text|draft|design|kip|pep|policy)\s+(?:should"
    r"|must|needs\s+to|ought\s+to)\s+(?:also\s+|really\s+)?(?:say|explain|cover|address|specify|mention"
    r"|describe|spell\s+out|define|state|include|document)\b",
    # "the migration guide needs a worked example of a retry loop", "the release notes need
    # a warning".
    r"\b(?:guide|docs|documentation|release\s+notes|changelog|upgrade\s+notes|readme)\s+needs?\s+"
    r"(?:a|an)\s+(?:\w+\s+){0,2}?(?:example|section|note|warning|paragraph|explanation|entry)\b",
    # "Would want to understand this before 7.0 ships." (the subject left out, as terse
    # reviewers do)
    r"^(?:i\s+)?would\s+(?:want|like|need)\s+to\s+(?:understand|see|know)\b[^.;]*\bbefore\b",
    # "I'd like the RFC to say who does the tooling work."
    r"\bi(?:'d|\s+would)\s+(?:like|want)\s+the\s+(?:rfc|proposal|document|doc|text|draft|design|kep|pep)\s+to\s+"
    r"(?:say|explain|cover|address|specify|mention|describe|spell\s+out|define|state|include|document)\b",
    # "Fix them first, then deprecate."
    r"^(?:\w+\s+){1,4}?first\s*[,;]\s*(?:and\s+)?then\s+\w+",
    # Asked of the proposal in so many words: "Please make sure the SONAME matches
    # libtool", "Please make it effective after the mass rebuild". ("Please note ..."
    # informs; "please make sure you ..." instructs.)
    r"(?:^|[,;:]\s*)(?:so\s+|and\s+|but\s+|then\s+)?please\s+make\s+(?:sure\s+(?!you\b|to\b)|it\b|this\b"
    r"|that\b)",
    # "Security reports must never end up as public GitHub issues."
    r"\b(?:must|should)\s+never\b",
    # "The deprecation should be announced at least one major version ahead."
    r"\b(?:should|must|needs?\s+to)\s+be\s+(?:\w+\s+){1,3}?at\s+least\b",
    # A +1 on a condition: "+1 to the feature if ORDER BY is mandatory, -0 without it",
    # "+1 only if the old reader stays for a release". (Not a -0 withdrawn for a +1 "as
    # long as" the answer holds: that settles a point.)
    r"^(?![^.;?!]*\b(?:withdraw|chang(?:e|ing)\s+my))[^.;?!]*?(?:^|\s)\+1\b[^.;?!]{0,80}?\b(?:only\s+if"
    r"|as\s+long\s+as|provided\s+(?:that\s+)?|on\s+condition\s+that)\s"
    r"|(?:^|\s)\+1\b[^.;?!]{0,80}?\bif\b[^.;?!]*[,;]\s*-\s*[01]\b",
)
# Asking for something more, which in a call for ideas is a proposal of its own.
WISH = _cue(
    r"\b(?:i(?:'d|\s+would)|we(?:'d|\s+would))\s+(?:really\s+)?(?:like|love|want)\s+(?:to\s+(?:see"
    r"|have|get)\b|(?:a|an|some|the)\b)",
    r"\b(?:it|this|that)\s+would\s+be\s+(?:nice|good|great|helpful|useful|cool|awesome)\s+(?:to|if"
    r"|for)\b|\bit\s+would\s+(?:also\s+)?make\s+(?:more\s+)?sense\s+to\b",
    r"\bi\s+(?:want|need|wish)\b|\bplease\s+(?:add|include|consider|support)\b|\bcan\s+we\s+"
    r"(?:have|get|add)\b|\bwish\s*list\b|\bnice\s+to\s+have\b",
)
# Something added to the proposal rather than set against it: "we could also have a hook",
# "Maybe we should have a --test option", "it might be nice to have a mechanism".
ADDITION = _cue(
    r"\b(?:we|you|it)\s+could\s+also\b|\b(?:might|would)\s+be\s+nice\s+to\s+have\b"
    r"|\bmaybe\s+(?:we|you)\s+(?:should|could)\s+(?:also\s+)?(?:have|add)\s+(?:a|an)\b"
    r"|\bmaybe\s+it\s+could\b",
)
OBLIGATION = _cue(
    r"\b(?:should|shouldn't|must|mustn't|ought\s+to|needs?\s+to|has\s+to|have\s+to|required|requires?"
    r"|necessary)\b",
)
CHALLENGE_QUESTION = _cue(
    r"^(?:but\s+|so\s+|and\s+|then\s+|also\s+|honestly,?\s+|seriously,?\s+)?(?:why|how\s+(?:would"
    r"|will|do|does|can|could|should|is|are|come|long|many|much)|what\s+(?:if|about|happens|would)"
    r"|what(?:'s|\s+is|\s+are|\s+would\s+be)\s+(?:the|your)\s+(?:\w+\s+)?(?:point|benefit|value|goal"
    r"|objective|purpose|reason|plan|rationale|motivation|use\s*case|gain|advantage|need)"
    r"|who(?:'s|\s+will|\s+would|\s+is\s+going|\s+(?:is|are)\s+(?:maintaining|supporting|owning|reviewing"
    r"|testing|paying)|\s+(?:reviews|maintains|owns|supports|tests|pays\s+for)\s+(?:this|it|that|these"
    r"|them|the)\b)"
    # "What do we actually gain here?"
    r"|what\s+(?:do|does|would|will)\s+(?:we|users|anyone|this|it)\s+(?:actually\s+|really\s+)?(?:gain"
    r"|win|buy)"
    r"|is\s+(?:this|it|that)|is\s+there\s+(?:really\s+)?(?:any\s+|a\s+|enough\s+)?(?:real\s+)?(?:value"
    r"|point|need|reason|benefit|use\s*case|demand|evidence|consensus|precedent)|are\s+(?:we|you|these)|should|shall|do\s+we|does\s+(?:this|it)"
    r"|can(?:'t)?\s+(?:we|you|they|it|this)|could\s+(?:we|you|this)|would\s+(?:it|this|that|we)|isn't"
    r"|aren't|wouldn't|won't|doesn't|don't)\b",
    r"\b(?:is|are)\s+(?:this|it|that|these|a\s+new\s+\w+)\s+(?:really\s+)?(?:necessary|needed|required"
    r"|justified|worth|useful|wise)\b",
)
INFORMATION_QUESTION = _cue(
    # "Is there a compiler that ...?", "Are there any benchmarks?": asking what exists.
    r"^(?:(?:so|and|also),?\s+)?(?:is|are)\s+there\s+(?:a|an|any|some)\s+(?!(?:real\s+)?(?:value|point|need"
    r"|reason|benefit|use\s*case|demand|evidence|consensus|precedent)\b)",
    # (Not inside a quote: 'a nice "did you mean a closure?" suggestion'.)
    r"\bcurious\b|(?<![\"\u201c'])\bdo\s+you\s+mean\b|\bwhat\s+do\s+you\s+mean\b"
    r"|\bany\s+(?:updates?|news|progress)\s*(?:on|with|regarding|about|here|yet|\?|$)"
    r"|\bwhat\s+is\s+the\s+status\b|\bis\s+there\s+(?:a|any)\s+(?:tracking\s+|github\s+|jira\s+)?(?:link|doc"
    r"|document|issue|ticket|example)\b"
    r"|(?<![\"\u201c'])\bwhere(?:'s|\s+(?:can|do|is|will|would|does|should))\b|\bwhen\s+(?:will|is|do|does"
    r"|would)\b|(?<![\"\u201c'])\bdid\s+you\s+(?:mean|see)\b|\bjust\s+want(?:ed)?\s+to\s+(?:know|check|understand|confirm)\b"
    # What the answer is for, said after the question: "Just trying to understand the
    # scope.", "That would help me plan the timing on our side.", "I'd like to know what
    # to tell students.", "If someone has the raw data it would be interesting to see."
    r"|\b(?:just\s+)?trying\s+to\s+understand\b|\b(?:that|this|it|an\s+answer)\s+would\s+help\s+(?:me|us)\s+"
    r"(?:to\s+)?(?:plan|decide|prepare|understand)\b|\bknow\s+what\s+to\s+tell\b"
    r"|\bwould\s+be\s+interesting\s+to\s+(?:see|know|hear)\b"
    # "Just checking, I don't know.", "Purely out of curiosity.", "Just asking."
    r"|^(?:(?:only|purely)\s+)?(?:just\s+(?:checking|asking|wondering)|out\s+of\s+curiosity)\b"
    # "Which category would design threads go in?"
    r"|^(?:which|what)\s+(?:\w+\s+){1,3}?(?:would|will|should|does|do)\s+(?:\w+\s+){1,3}?(?:go\s+in(?:to)?"
    r"|live|belong|land)\b"
    r"|\bhave\s+you\s+(?:seen|had\s+a\s+chance)\b"
    # "Any comments?", "do you have any concerns": asking for them (not "add any comments below").
    r"|(?:^|\b(?:have|are\s+there|is\s+there|there\s+are|welcome|appreciate|appreciated|know\s+of"
    r"|hear)\s+)any\s+(?:other\s+|more\s+|further\s+)?(?:thoughts|opinions|comments"
    r"|objections|concerns|feedback|candidates)\b|\bthoughts\s*\?|\bwdyt\b|\bwhat\s+do\s+you\s+think\b",
    # Asking about plans or causes: "any plan to update the file?", "What causes the
    # duplicated commits?".
    r"\bany\s+plans?\s+(?:to|for|on)\b|^any\s+(?:volunteers|takers)\b|^what\s+(?:causes|caused|is\s+causing)\b"
    r"|^(?:any\s+)?(?:thoughts|ideas|suggestions)\s+on\b",
    # Asking for the particulars: "Which rights do you need?", "What version do you use?",
    # "What is the name of the compiler that you use?".
    r"^(?:(?:so|and|also)\s+)?(?:which|what)\s+(?:\w+\s+){1,4}?(?:(?:do|does|did|would|will)\s+you\s+"
    r"(?:need|use|want|have|prefer|run|recommend)|(?:are|were)\s+you\s+(?:using|running|on)"
    # "Which TOML version are we targeting?"
    r"|(?:are\s+we|are\s+you)\s+(?:targeting|using|aiming\s+(?:at|for)|planning\s+(?:on|for)))\b"
    r"|^(?:(?:so|and|also)\s+)?what(?:'s|\s+is|\s+are)\s+the\s+(?:exact\s+)?(?:names?|versions?|urls?"
    r"|links?|numbers?)\s+of\b"
    # "Which Gradle version does the branch target?", "What's the minimum JDK needed?"
    r"|^(?:which|what)\s+(?:\w+\s+){1,3}?(?:does|do|did|will|would)\s+(?:\w+\s+){1,3}?(?:target|require"
    r"|support|run\s+on|build\s+with)\b|^what(?:'s|\s+is)\s+the\s+(?:minimum|maximum|required|target"
    r"|expected|recommended)\b"
    # Asking which environment a failure comes from: "What JVM is this?", "Which OS are
    # you on?", "i see ubuntu. but which one?".
    r"|^(?:(?:so|and|but|also)\s+)?(?:which|what)\s+(?:jvm|jdk|java\s+version|os|version|platform|distro"
    r"|browser|compiler|one)\s*(?:(?:is|was)\s+(?:this|that|it)|are\s+you\s+(?:on|using|running)"
    r"|do\s+you\s+(?:use|run))?\s*\?",
    # Asking what a thing is for: "Within Google is it used more as a MR replacement or a
    # stream processor?".
    r"\bis\s+(?:it|this|that)\s+(?:mostly\s+|mainly\s+)?(?:used|meant|intended)\s+(?:more\s+|mostly\s+"
    r"|mainly\s+)?(?:as|for)\b",
    # A tag asking to confirm what the writer understood: "we discuss only candidates
    # here, isn't it?", "..., right?". Not after a "should": that tag seeks agreement.
    r"^(?!.*\b(?:should|must|need|ought|have\s+to)\b).*,\s*(?:isn't\s+it|aren't\s+we|right"
    r"|correct|is\s+that\s+(?:right|correct)|am\s+i\s+right)\s*\?+\s*$",
    # Checking one's own reading: "Am I telling the story right?", "Did I get that
    # right?", "Am I understanding this correctly?".
    r"^(?:(?:so|and)\s*,?\s+)?(?:am\s+i|did\s+i|do\s+i)\s+(?:\w+\s+){1,4}"
    r"(?:right|correctly|correct)\s*\?",
)
CONTRAST = _cue(
    r"^(?:but|however|though|although|yet|still|that\s+said|on\s+the\s+other\s+hand"
    r"|(?:that|this)\s+being\s+said|having\s+said\s+(?:that|this)|(?:with\s+)?(?:all\s+)?that\s+said)\b",
    r"[,;]\s*(?:but|however|though|although)\b|\bbut\s+(?:i|we|it|this|that|the)\b",
)
OPINION = _cue(
    r"\bi\s+(?:personally\s+|really\s+|still\s+|also\s+|do\s+)?(?:think|feel|believe|guess|suspect"
    r"|expect|find)\b|\bimn?ho\b|\bin\s+my\s+(?:humble\s+)?(?:opinion|view|experience)\b|\bto\s+me\b"
    r"|\bfor\s+me\b|\bpersonally\b|\bit\s+seems\s+(?:to\s+me\s+)?(?:like\s+)?|\b(?:seems|sounds|looks)"
    r"\s+(?:like|to\s+me)\b",
)
CAUTION = _cue(
    r"\b(?:keep|bear)\s+in\s+mind\b|\bbeware\b|\bconsider\s+that\b|\b(?:don't|do\s+not)\s+forget\b"
    r"|\bbe\s+careful\b|\bcareful\s+(?:when|with|about|not)\b|\bi\s+hope\s+you(?:'re|\s+are)\s+aware\b"
    r"|\bwatch\s+out\b|\bnote\s+that\b"
    # "I'd take that number with a pinch of salt."
    r"|\bwith\s+a\s+(?:pinch|grain)\s+of\s+salt\b"
    # A point the writer says the thread has missed: "One thing nobody has mentioned yet:",
    # "Something nobody has brought up yet: documentation translations."
    r"|\b(?:thing|point|issue|aspect|angle|something)\s+(?:that\s+)?(?:nobody|no\s+one|no-one)\s+"
    r"(?:has\s+|have\s+)?(?:yet\s+)?(?:mentioned|brought\s+up|raised|considered|talked\s+about)\b",
)
CONDITION = _cue(
    r"^(?:if|unless|as\s+long\s+as|provided)\b|\bunless\b|\bif\s+(?:we|you|it|this|that)\b",
    # What must happen first: a condition on the proposal going in.
    _GOING_IN,
)

# -- forms of agreement, answers and talk about the talk ------------------------

APPROVAL = _cue(
    # "Ship it!", "LGTM, ship it." (not "we can't ship it without ...").
    r"(?:^|\s)\+1\b|\blgtm\b|\bsgtm\b|👍|:\+1:|(?:^|[,;:]\s*)(?:let's\s+)?ship\s+it\s*[!.]*\s*$",
    r"\b(?:sounds|looks|seems)\s+(?:\w+\s+)?(?:good|great|reasonable|fine|ok|okay|right|sensible)\b",
    # ("Can we agree up front that ...?" asks.)
    r"\bmakes?\s+(?:a\s+lot\s+of\s+)?sense\b|(?<!can\s)(?<!could\s)(?<!should\s)"
    r"\b(?:i|we)\s+(?:fully\s+|totally\s+|completely\s+|also\s+|strongly\s+)?(?:agree|support|liked?"
    r"|loved?|endorse|prefer\s+a)\b|\bagreed\b",
    r"\b(?:great|good|nice|excellent|awesome|solid|interesting)\s+(?:proposal|idea|work|point|job"
    r"|writeup|write-up|rfc|suggestion|question|catch)\b|\bi'?m\s+(?:in|fine|ok|okay|happy)\b",
    # ("I am not very happy with such an interface", "The cap I'm less happy with".)
    r"(?<!not\s)(?<!less\s)(?<!n't\s)(?<!not\svery\s)(?<!not\sreally\s)(?<!not\stoo\s)\bhappy\s+(?:with|to)\b"
    r"|\bfine\s+(?:with|by)\s+me\b|\b(?:totally|fully|completely)\s+agree\b",
    r"\b(?:this|that|it)(?:'s|\s+is|\s+looks|\s+sounds)\s+(?:really\s+|very\s+|pretty\s+|so\s+)?(?:cool"
    r"|great|awesome|nice|neat|excellent)\b",
)
THANKS = _cue(r"\bthanks?\b|\bthank\s+you\b|\bappreciate\b|\bkudos\b|\bcheers\b")
# "Done.", "Fixed in the next revision.", "Updated the doc": said of a change made, not
# an adjective ("Fixed trains create a rush to merge", "Updated images break ...").
_MADE = (
    r"(?=\s*(?:[.,!;:)]|$)|\s+(?:in|on|by|the|a|an|some|it|that|this|them|both|all|now|as|per|with|and"
    r"|accordingly|above|below|too|here|there|already|upstream|locally)\b)"
)
ACKNOWLEDGEMENT = _cue(
    # ("Right now ..." and "Right after ..." say when.)
    r"^(?:ok|okay|yes|yeah|yep|yup|sure|right(?!\s+(?:now|away|after|before|when|at|from|on|in)\b)"
    r"|indeed|true|correct|exactly|fair(?:\s+enough)?"
    r"|good\s+(?:point|catch|question)|got\s+it|understood|noted|i\s+see(?=\s*(?:[.,!;:]|$))|ah|oh"
    # ("Sorry to be the grumpy one, but ..." and "Sorry, but ..." open an objection.)
    r"|sorry(?![,\s]+(?:to\s+(?:be|rain|say|push|sound|nitpick)|but|for\s+being|if\s+this\s+sounds))"
    r"|my\s+bad|(?:done|fixed|updated)" + _MADE + r")\b",
    # Owning a slip: "That was my mistake, my bad."
    r"\bmy\s+(?:bad|mistake|fault)\b",
    # Taking in someone else's point before answering it: "I fully understand the concern of
    # maintenance overhead, but ...". The writer's own point, if any, comes after.
    r"\b(?:i|we)\s+(?:fully\s+|totally\s+|completely\s+|do\s+)?(?:understand|appreciate|hear|get"
    r"|see)\s+(?:the|your|their|this|that|these|those|[\w-]+'s)\s+(?:\w+\s+)?(?:concerns?|worry"
    r"|worries|point|objections?|reservations?)\b",
)
PLAN = _cue(
    # ("the exact same thing that we can already do with branches" is what exists.)
    r"\b(?:i|we)(?:'ll|\s+will|\s+shall|\s+am\s+going\s+to|'m\s+going\s+to|\s+can)\s+(?!already\b)(?:\w+\s+)?"
    r"(?:add|update|change|fix|remove|file|write|send|start|open|create|work|look|try|do|follow|amend"
    r"|clarify|reword|push|merge|bring|help(?!\s+from))\b",
    # An offer: "Happy to do it if nobody else wants to", "glad to help with the docs",
    # "happy to be a second pair of eyes".
    r"\b(?:happy|glad|willing|keen)\s+to\s+(?:\w+\s+)?(?:do|help|take|shepherd|drive|write|review|lead"
    r"|own|volunteer|work|be)\b",
    r"\b(?:i|we)(?:'ve|\s+have)\s+(?:just\s+|now\s+)?(?:updated|added|changed|fixed|removed|pushed"
    r"|addressed|amended|rewritten|reworded|incorporated|adjusted)\b",
    r"^(?:updated|done|fixed|addressed|added|changed|removed)\b" + _MADE,
)
# A review remark its writer ranks below a concern: "Nit:", "(nit)", "Minor nit, but",
# "Nitpick:", "Nits:". Reviewers everywhere mark them so that nobody blocks on them.
_NIT = (
    r"^\(?(?:(?:a\s+|one\s+|just\s+a\s+)?(?:minor|small|tiny)\s+)?nit(?:pick|picking|picky)?s?\)?"
    r"(?:\s*[:,.)-]|\s*$|\s+but\b)"
)
NIT = _cue(_NIT)
# The posting went wrong, not the proposal: "they sent a wrong message", "posted to the
# wrong list". (The program's "wrong message" to its user is no posting.)
_POSTING_WENT_WRONG = (
    r"\b(?:sent|send|sending|posted|post|posting)\s+(?:\w+\s+)?(?:a|the)\s+wrong\s+(?:message|mail"
    r"|e-?mail|copy)\b|\b(?:to|on|in)\s+the\s+wrong\s+(?:thread|list)\b"
    r"|\bsent\s+(?:it\s+|this\s+)?twice\b|\bdouble[- ]?post"
    # "I think the branch URL got cut off in your mail?"
    r"|\b(?:link|url|attachment|image|patch)\s+(?:got|is|was|seems|looks)\s+(?:\w+\s+)?(?:cut\s+off"
    r"|truncated|mangled)\b"
)
# Speaking as the one who runs the process, for the whole post: "Chair hat on."
# "Chair hat on.", "Speaking with my project leader hat on for a moment." (Not "with my
# packager hat on": a packager raises a packager's concerns.)
_CHAIR_HAT = (
    r"^(?:speaking\s+)?(?:with\s+(?:my|the)\s+)?(?:chair|moderator|mod|admin|project\s+lead(?:er)?)"
    r"(?:'s)?\s+hat\s+on\b"
)
CHAIR_HAT = re.compile(_CHAIR_HAT)
# An aside the writer marks as one: "Sidebar: what ... ?", "Side note:", "Tangent:".
# ("BTW, this breaks the build" is no aside: "btw" and "fwiw" introduce anything.)
_MARKED_ASIDE = (
    r"^(?:sidebar|side\s*note|tangent|aside|unrelated|off-?topic|meta)\s*[:,.-]|^as\s+an\s+aside\b"
    # A remark on how the matter is run, not on the proposal: "Procedural: could the vote
    # stay open until the 21st?", "Process note from the steering group: ...", "Quick
    # process note since X came up: ...", "Chair hat on."
    r"|^(?:(?:first|one|also|and|finally),?\s+)?(?:(?:a|one|quick|short|small)\s+)*(?:(?:process"
    r"|housekeeping)(?:\s+|-)?(?:notes?|points?|remarks?|questions?)?|procedural(?:ly)?|procedure|administrivia"
    # A moderator's note on the topic itself: "Mod note: I've split the 12 replies ...".
    r"|(?:mod|moderator|admin)\s+note)"
    r"(?:\s+(?:for|from|since)\s+[^:]{1,60})?"
    # "Quick housekeeping note, moderator hat on: ..."
    r"(?:,\s*(?:chair|moderator|mod|admin)(?:'s)?\s+hat\s+on)?\s*:|" + _CHAIR_HAT
)
MARKED_ASIDE = re.compile(_MARKED_ASIDE)
# Where to settle a detail: "Let's bikeshed the metric names in the implementation PR
# rather than here." It moves the matter; it sets nothing against the proposal.
_DEFERS_ELSEWHERE = re.compile(
    r"\b(?:rather\s+than|instead\s+of)\s+(?:here|in\s+this\s+(?:thread|rfc|pr|issue|discussion))\b"
)
META = _cue(
    r"\btop-?post|\bbottom-?post|\boff-?topic\b|\bthis\s+thread\b|\bthe\s+(?:previous|other|long)"
    r"\s+(?:thread|discussion)\b|\bsorry\s+(?:for|if|about)\b|\bptal\b|\bfriendly\s+ping\b"
    # A nudge ("Ping.", "ping @ann", "Ping: any news?"), not the word in a rule: "I still
    # think six months is too short, ping or no ping."
    r"|^ping\b|\bping\s*[@:,]|\bping\s+(?:on\s+this|again)\b"
    # Asking someone for a look: "@BurntSushi when you have time, do you think ...?"
    r"|\bwhen\s+you\s+(?:have|get|find)\s+(?:the\s+|some\s+|a\s+)?(?:time|chance|moment|minute)\b"
    # Copying someone in ("cc @jdoe", "Cc: Tom", "CCing the PMC"), not the compiler ("the
    # bundled cc"); a duplicate marked, not one foreseen ("a new duplicate topic every time").
    r"|\bready\s+for\s+(?:review|merge|final\s+review)\b|(?:^|\s)cc\s*[:@]|^cc\s+\w|\bcc(?:'?ing|'d)\b"
    r"|(?<!before\s)\bfcp\b|\bvote\s+thread\b|\b(?:start|call"
    r"|open|begin|kick\s+off)\s+(?:a|the)\s+(?:formal\s+|official\s+|final\s+)?(?:vote|\[vote\])\b"
    r"|\bduplicate\s+of\b|\b(?:is|as)\s+a\s+duplicate\s*(?:[.,;:!)]|$)|\b(?:mark(?:ed|ing)?|clos(?:e|ed|ing))\s+"
    r"(?:\w+\s+)?as\s+(?:a\s+)?duplicate\b"
    r"|\bresent\b|\bre-?send\b"
    # How the mail itself is sent: "could you send plain text to the list? HTML-only mails
    # come out garbled in the archive".
    r"|\b(?:send|post|write|reply)(?:s|ing)?\s+(?:in\s+)?plain[- ]text\b"
    r"|\bhtml(?:-only)?\s+e?-?mails?\b|\byour\s+(?:mail|e-?mail)\s+client\b"
    # Where and how the vote runs: "Will the vote be on dev@ or private@?"
    r"|\bthe\s+vote\s+(?:be|run|happen|take\s+place)\s+(?:on|in|at|via)\b"
    r"|^(?:first,?\s+)?(?:a\s+)?process\s+note\b"
    # Where to decide it: "Could we put this on the agenda for the April call?"
    r"|\b(?:put|add|bring)\s+(?:this|it|that)\s+(?:up\s+)?(?:on|to)\s+(?:the\s+)?(?:[\w'-]+\s+){0,3}?"
    r"agenda\b",
    _DEFERS_ELSEWHERE.pattern,
    _POSTING_WENT_WRONG,
    _MARKED_ASIDE,
    _NIT,
)
# Concern words that are not the speaker's: denied ("no concerns", "don't worry"), someone
# else's ("your concern"), invited ("if you have concerns", "any objections?") or asked
# about ("should I worry?", "why -1?").
# "then I do not have a problem myself with its continued use": the problem word is
# denied, so the sentence judges nothing badly.
NO_PROBLEM = _cue(
    r"\b(?:don't|do\s+not|doesn't|does\s+not|didn't|did\s+not)\s+(?:really\s+)?(?:have|see)\s+(?:a|any)"
    r"\s+(?:real\s+|big\s+)?(?:problems?|issues?)\s+(?:myself\s+|personally\s+)?with\b",
    # "I don't think it's a problem": the belief denied is the problem's.
    r"\b(?:i|we)\s+(?:don't|do\s+not)\s+think\s+(?:it's|it\s+is|that's|that\s+is|this\s+is|there's"
    r"|there\s+is)\s+(?:a\s+|an\s+|any\s+)?(?:real\s+|big\s+)?(?:problem|issue|concern|big\s+deal)\b",
    # An obstacle denied: "I don't think there's a real reason that the UI can't wrap the
    # existing mechanism" says it can.
    r"\b(?:i|we)\s+(?:don't|do\s+not)\s+(?:think|see|believe)\s+(?:that\s+)?there(?:'s|\s+is)\s+(?:a|any)\s+"
    r"(?:real\s+|good\s+|technical\s+)?reason\s+(?:that|why)\b[^.;]*\b(?:can't|cannot|couldn't|shouldn't"
    r"|won't|wouldn't)\b",
    # A difficulty denied: "I suspect it wouldn't be too hard to get it working with Clang."
    r"\b(?:wouldn't|would\s+not|won't|will\s+not|isn't|is\s+not|shouldn't|should\s+not|not)\s+"
    r"(?:be\s+)?(?:too|that|very|so|particularly)\s+(?:hard|difficult|complex|complicated|bad"
    r"|expensive|costly|risky|tricky)\b",
)
# What a writer calls their own concern when they settle it ("addresses my worry", "my
# doubts are gone"): one list for the cues here and for the ledger's acceptances.
MY_WORRY_NOUNS = r"concerns?|objections?|worry|worries|doubts?|reservations?"
# A worry its writer says is over: "with that patch my main worry goes away" (a cue that
# settles, and the ledger's acceptance).
WORRY_GOES_AWAY = (
    r"\bmy\s+(?:\w+\s+)?(?:" + MY_WORRY_NOUNS + r"|points?)\s+(?:\w+\s+){0,2}?(?:goes|go|went"
    r"|has\s+gone|have\s+gone)\s+away\b"
    # "My earlier worry about repacking mirrors is handled by the content digest."
    r"|\bmy\s+(?:\w+\s+)?(?:" + MY_WORRY_NOUNS + r")\s+(?:about\s+(?:\w+\s+){1,4}?)?"
    r"(?:is|are|was|were|has\s+been|have\s+been)\s+(?:now\s+|fully\s+|mostly\s+)?"
    r"(?:handled|addressed|resolved|covered|answered|settled|taken\s+care\s+of)\b"
    # "Consider my concern addressed.", "you can count my objection as resolved".
    # ("Please consider our earlier -1 withdrawn.": a company's or a team's, as theirs.)
    r"|\b(?:consider|count|mark|treat)\s+(?:my|our)\s+(?:\w+\s+)?(?:"
    + MY_WORRY_NOUNS
    + r"|points?|-1(?!\d))\s+"
    r"(?:as\s+)?(?:handled|addressed|resolved|covered|answered|settled|withdrawn)\b"
    # "then my concern is much smaller", "my worry is a lot less now".
    r"|\bmy\s+(?:\w+\s+)?(?:" + MY_WORRY_NOUNS + r")\s+(?:is|are)\s+(?:now\s+)?"
    r"(?:much|a\s+lot|far|way|a\s+bit|somewhat)\s+(?:smaller|less|lower|reduced|weaker)\b"
)
DENIAL = _cue(
    r"\b(?:no|not\s+any|without\s+any|without)\s+(?:real\s+|major\s+|big\s+|further\s+|more\s+"
    r"|other\s+)?(?:concerns?|objections?|worries|issues|problems?)\b",
    r"\bnot\s+(?:concerned|worried)\b|\b(?:don't|do\s+not|no\s+need\s+to)\s+worry\b|\bno\s+worries\b"
    # "Nothing about this worries me", "none of it bothers me".
    r"|^(?:nothing|none|no\s+\w+)\b[^.;]*\b(?:worries|bothers|scares|troubles|concerns)\s+me\b",
    r"\b(?:your|his|her|their)\s+(?:\w+\s+)?(?:concerns?|worry|worries|fears?|objections?|-1|veto)\b",
    r"\bif\s+(?:you|anyone|someone|somebody|people)\s+(?:\w+\s+)?(?:has|have|are|is|see)\s+"
    r"(?:\w+\s+)?(?:concerns?|objections?|worried|concerned|issues?|problems?)\b",
    r"\b(?:any|other|further|more)\s+(?:concerns|objections|thoughts|comments|feedback|questions)\b"
    r"[^.]*\?",
    # Asking where the concerns stand: "Have all remaining concerns about this proposal been
    # addressed?"
    r"\b(?:have|are|were|has|is)\s+(?:all\s+)?(?:the\s+)?(?:remaining\s+|outstanding\s+|open\s+|raised\s+)?"
    r"(?:concerns?|objections?)\s+(?:\w+\s+){0,4}?(?:been\s+)?(?:addressed|resolved|answered|settled)\b[^.]*\?",
    r"\b(?:should|do|would|need)\s+(?:i|we)\s+(?:\w+\s+)?(?:worry|be\s+(?:worried|concerned))\b",
    # ("I'm a -1 on this", "count me as a -1" are the writer's own.)
    # ("The -1 is for the revert clause" explains the writer's own.)
    r"\b(?:why|give|cast|your)\s+-1\b|\bthe\s+-1\b(?!\s+is\s+(?:for|about|on|because))|\ba(?<!\bi'm\sa)(?<!\bam\sa)(?<!\bbe\sa)(?<!\bas\sa)\s+-1\b",
    # "-1" as a value ("returning -1 is the safe thing") is code talk, not a ballot.
    r"\b(?:returns?|returning|returned|exits?\s+with|equals?|set\s+to)\s+-1\b",
    # Settling one's own concern is not raising one.
    r"\b(?:addresses|answers|resolves|settles|covers|allays)\s+my\s+(?:\w+\s+)?(?:"
    + MY_WORRY_NOUNS
    + r"|question|point)\b"
    # "I withdraw the interoperability part of my objection", "I'll drop my -1 once PS4 is
    # up": the whole span, so that the objection it names goes with it.
    r"|\bi\s+withdraw\b(?:\s+(?:the\s+|that\s+)?(?:[\w-]+\s+){0,4}?(?:part\s+of\s+)?my\s+(?:\w+\s+)?"
    r"(?:objections?|concerns?|-1|veto|block)\b)?|\b(?:withdraw|drop|lift|remove|retract)(?:ing|ping)?"
    r"\s+my\s+(?:\w+\s+)?(?:objections?|concerns?|-1|veto|block)(?!\w)|\bwithdraw(?:ing)?\s+my\b"
    r"|\bmy\s+(?:\w+\s+)?(?:" + MY_WORRY_NOUNS + r")\s+(?:\w+\s+){0,3}?"
    r"(?:is|are|has|have|was|were)\s+(?:\w+\s+)?(?:addressed|resolved|answered|gone|moot)\b"
    r"|\bno\s+longer\s+(?:concerned|worried)\b",
)
# A fault named only to be weighed and accepted: "That's a shame, but it's good enough
# for alpha", "Aside from the slight hassle, this feature is great".
CONCESSION = _cue(
    r"\b(?:but|though|however|still)\b,?\s+(?:[\w']+\s+){0,4}?(?:(?:good|fine|ok|okay|acceptable"
    r"|reasonable)\s+enough|works?\s+for\s+me|worth\s+it|not\s+a\s+(?:big\s+)?(?:deal|blocker"
    r"|problem)|(?:i|we)\s+can\s+live\s+with)\b",
    r"^(?:aside|apart)\s+from\b.*\b(?:is|are|looks?|seems?)\s+(?:\w+\s+)?(?:great|good|fine"
    r"|excellent|nice|useful)\b",
)
# A problem named as one that is avoided or solved: "a setup that doesn't suffer from
# that problem", "this fixes the issue", "without needing to disrupt Batik".
SOLVED = _cue(
    r"\b(?:doesn't|does\s+not|don't|do\s+not|won't|wouldn't|never)\s+(?:suffer|have)\s+(?:from\s+)?"
    r"(?:that|this|the|any|such|those|these)\s+(?:\w+\s+)?(?:problems?|issues?|risks?)\b",
    r"(?<!\bto\s)\b(?:solves?|solved|fix(?:es|ed)?|avoids?|avoided|eliminates?|removes?)\s+(?:that|this|the"
    r"|those|these|any|such)\s+(?:\w+\s+)?(?:problems?|issues?|risks?|pitfalls?|bugs?|regressions?"
    r"|blockers?|show-?stoppers?)\b",
    r"\bwithout\s+(?:needing|having)\s+to\s+(?:disrupt|break|change|lose)\b",
    # "this looks like a sensible way out of it"
    r"\b(?:a|the)\s+(?:\w+\s+)?way\s+out\s+of\s+(?:it|this|that|the\s+\w+)\b",
)
SELF_HEDGE = _cue(
    r"\bi(?:'m|\s+am|\s+might\s+be|\s+may\s+be|\s+could\s+be)\s+(?:probably\s+)?(?:missing|wrong"
    r"|mistaken)\b|\bcorrect\s+me\s+if\b|\bif\s+i\s+(?:understand|read)\b|\bunless\s+i'?m\s+missing\b",
)
# Taking up what the post answers as one's own: "I share the exact thought", "I echo
# Jark's point", "same here". After an objection it voices that objection again.
SECONDING = _cue(
    r"\b(?:i|we)\s+(?:also\s+|fully\s+|completely\s+)?(?:share|echo|second)\s+(?:the\s+|this\s+"
    r"|that\s+|your\s+|[\w-]+'s\s+)?(?:\w+\s+)?(?:thoughts?|view|sentiment|feeling|point|opinion"
    r"|reservations?|skepticism|scepticism)\b|^same\s+here\b|^ditto\b"
    r"|^(?:i\s+have\s+(?:the\s+)?)?same\s+(?:worry|worries|concerns?|questions?|thoughts?|feeling)\b",
)
SECOND_PERSON = _cue(r"\b(?:you|your|you're|you've|you'd|yours)\b")
REFERS_TO_PROPOSAL = re.compile(rf"\b{_PROPOSAL}")
# A reply opening with a flat "No." refuses what it replies to (unless that asked a question).
_REFUSAL = re.compile(r"^(?:no|nope|nah)\s*[.,:;!]")
NEGATION = _cue(r"\b(?:not|no|never|nothing|none|nobody|cannot)\b|n't\b")
CONCERN_NOUNS = re.compile(
    r"\b(?:concerns?|worries|objections?|issues?|problems?|questions?|points?|comments?|drawbacks?"
    r"|downsides?|risks?|reservations?|doubts?|nits?|thoughts|remarks?|things?|gaps?|areas?)\b"
)

CUES: dict[str, re.Pattern[str]] = {
    "worry": WORRY,
    "objection": OBJECTION,
    "doubt": DOUBT,
    "negated_belief": NEGATED_BELIEF,
    "negative_judgement": NEGATIVE_JUDGEMENT,
    "counter_proposal": COUNTER_PROPOSAL,
    "yes_but": YES_BUT,
    "wish": WISH,
    "requirement": REQUIREMENT,
    "obligation": OBLIGATION,
    "challenge_question": CHALLENGE_QUESTION,
    "information_question": INFORMATION_QUESTION,
    "contrast": CONTRAST,
    "opinion": OPINION,
    "condition": CONDITION,
    "caution": CAUTION,
    "approval": APPROVAL,
    "thanks": THANKS,
    "acknowledgement": ACKNOWLEDGEMENT,
    "plan": PLAN,
    "meta": META,
    "self_hedge": SELF_HEDGE,
    "concession": CONCESSION,
    "solved": SOLVED,
    "denial": DENIAL,
    "no_problem": NO_PROBLEM,
    "second_person": SECOND_PERSON,
    "addition": ADDITION,
    "seconding": SECONDING,
    "refers_to_proposal": REFERS_TO_PROPOSAL,
    "negation": NEGATION,
}
# The forms that, on their own, say "here is a problem": a sentence carrying none of
# them can still be part of a point (its elaboration) but does not start one.
OBJECTION_FORMS = (
    "refusal",
    "worry",
    "objection",
    "doubt",
    "negated_belief",
    "negative_judgement",
    "counter_proposal",
    "yes_but",
    "challenge_question",
    "caution",
    "requirement",
)


@dataclass(frozen=True, slots=True)
class PostContext:
    """What a reader knows about the post a sentence is in, and the post it answers."""

    by_proposer: bool = False
    is_proposal: bool = False
    replies_to_proposer: bool = False
    parent_asks: bool = False
    review_comment: bool = False
    in_vote: bool = False
    units: int = 1
    parent_proposes: bool = False
    parent_objects: bool = False
    quotes_parent: bool = False
    first_from_author: bool = True
    parent_asks_yes_no: bool = False
    # What the thread may call its proposer ("Becket", "becket qin", a login), casefolded:
    # "I agree with Becket that ..." takes the proposer's side, not an objector's.
    proposer_names: frozenset[str] = frozenset()
    # The proposer weighing someone else's suggestion (``by_proposer`` is then false): a
    # way out they float there is the proposal growing, not an objection to it.
    proposer_reviewing: bool = False
    # What the thread may call its other participants (as ``proposer_names``): a point
    # put down to one of them ("Timing (Olu): cut-over after 3.3.0") is a summary of it.
    others_names: frozenset[str] = frozenset()
    # Of those, the ones who wrote before this post: turning to one of them by name
    # answers them; turning to someone yet to speak puts a point to them.
    earlier_names: frozenset[str] = frozenset()
    # A pull request review submitted as "Request changes": its writer says outright that
    # the proposal may not go in as it is, whatever words the comments use.
    requests_changes: bool = False


_YES_NO = re.compile(
    r"^(?:(?:so|but|and|then|also|or)\s+)?(?:is|are|am|was|were|do|does|did|can|could|should|would"
    r"|will|shall|may|might|must|has|have|had|any|anyone|anybody|isn't|aren't|don't|doesn't"
    r"|didn't|won't|wouldn't|shouldn't|can't|couldn't)\b|\b(?:right|ok|okay|correct|agreed)\s*\?$"
)


def asks_yes_or_no(unit: Unit) -> bool:
    """ "Is this MNG-6118?", "..., right?": a question that "No." answers rather than refuses."""
    return unit.is_question and bool(_YES_NO.search(unit.probe))


def cues_of(unit: Unit) -> frozenset[str]:
    """The names of the cue families the sentence carries.

    A sentence whose concern words are denied, someone else's or invited ("no
    concerns from me", "your -1", "any objections?") does not voice a worry or
    an objection of its own, whatever words it uses.
    """
    return _sentence_cues(unit.probe, unit.text, unit.is_question)


# A thread is read again whenever a post joins it, and most of its sentences were read
# before: the cues depend on the sentence's words alone, so they are remembered (under
# a steady stream of mail the regular expressions took a third of the computing
# process's time; a few tens of MB at most, for 32,768 sentences).
@functools.lru_cache(maxsize=1 << 15)
def _sentence_cues(probe: str, text: str, is_question: bool) -> frozenset[str]:
    found = {name for name, pattern in CUES.items() if pattern.search(probe)}
    if not is_question:
        found.discard("challenge_question")
    if found & {"denial", "no_problem"}:
        # Only the concern words denied or someone else's go: "Strong objection to the
        # revert rule: ... only by a -1 veto" objects, whoever else's -1 it names.
        found.discard("challenge_question")
        # ("Fedora is no problem, rawhide is on GCC 15": the problem word, denied.)
        for name in ("worry", "objection", "negative_judgement"):
            if name in found and (
                _only_within(CUES[name], DENIAL, probe)
                or _only_within(CUES[name], NO_PROBLEM, probe)
            ):
                found.discard(name)
    if "no_problem" in found:
        found -= {"negative_judgement", "negated_belief"}
    if _PROCESS_MOVE.search(probe):
        found -= {"challenge_question", "counter_proposal"}  # "Shall we start the FCP?"
        if "doubt" in found and _only_within(DOUBT, _WHETHER_CLAUSE, probe):
            found.discard("doubt")  # "The question is whether we start the vote on Monday"
    if "doubt" in found and "counter_proposal" in found and _HEDGES_OWN_IDEA.search(probe):
        # "I am not sure if possible but .. could we get the provider out of core?": the
        # doubt is about the writer's own idea, which the sentence goes on to float.
        found = (found - {"doubt"}) | {"self_hedge"}
    if _SETTLES_OWN.search(probe) and not _STILL_OPEN.search(probe):
        # "A readable error instead of a black canvas addresses my concern.", "That
        # addresses most of what I was worried about.": the writer's own concern, settled;
        # the words that named it or its remedy object to nothing now.
        found = (found - set(OBJECTION_FORMS)) | {"solved"}
    if found & {"worry", "doubt"} and _OVERCOME.search(probe):
        # "I was worried about comments at first, but the converter keeps them": a worry
        # told as past, and answered in the same breath.
        found = (found - {"worry", "doubt"}) | {"solved"}
    if is_question and not _ASKS_NEGATIVELY.search(probe) and _only_asks(probe):
        # "Just checking: does this cover the settings file?", "Out of curiosity, ...": the
        # writer says the question asks, not challenges. ("Quick question: isn't this going
        # to break Windows?" still does.)
        found = (found - {"challenge_question", "doubt", "negative_judgement"}) | {
            "information_question"
        }
    if "addition" in found:
        found -= {"counter_proposal"}  # adding to the proposal does not propose otherwise
    if _DEFERS_ELSEWHERE.search(probe):
        found -= set(OBJECTION_FORMS)
    if _RESTATES.search(probe):
        # "Or to put it another way, ...": the point before, again, not a point of its own.
        found -= set(OBJECTION_FORMS)
    if _SECONDS_ANOTHER.search(probe):
        # Whose point it is decides, not the words it is put in: seconding an objection
        # voices it again (see SECONDING), seconding the proposer raises nothing.
        found = (found - set(OBJECTION_FORMS)) | {"seconding"}
    if (
        _ASKS_PERMISSION.search(probe)
        or _ANSWERS_OTHERS.search(probe)
        or _GRANTS_ANOTHERS.match(probe)
        or _GRANTS_YOU.match(probe)
    ):
        # "Any problem with me opening a JIRA epic?" asks leave, and "For those asking: a -1
        # on a procedural vote isn't a veto" or "That's a fair worry, but I'd push back on
        # how big it is" answers someone: none of them finds fault with the proposal.
        found = (found - set(OBJECTION_FORMS)) | {"information_question"}
    if _ASKS_THEIR_PROBLEM.search(probe):
        # "Is your problem that you don't want those on Nexus?": the problem is theirs,
        # and the question asks what it is.
        found = (found - {"negative_judgement", "challenge_question"}) | {"information_question"}
    if (
        _OFFERS_HELP.search(probe)
        or _ASKS_FOR_POINTERS.search(probe)
        or _ASKS_THE_WAY.search(probe)
        or (_ASKS_LOGISTICS.search(probe) and not _ASKS_WHY.search(probe))
    ):
        # "How can I help here?" challenges nothing: it asks what to do. Nor does asking
        # for a summary, a pointer or a check: "Can you please summarize what needs to be
        # done?", "Did you also configure your proxy in settings.xml?". Nor does asking
        # the way forward: "So how to proceed?".
        found = (found - {"challenge_question"}) | {"information_question"}
        if "doubt" in found and _only_within(DOUBT, _WONDER, probe):
            found.discard("doubt")  # "I wonder whether anyone else wants to help"
    if "contrast" not in found and OPENS_PLUS_ONE.match(probe):
        # "+1 for the status enum, the errno thing is really confusing for us", "Generally
        # +1 from me, the JIRA account dance has cost us two contributors": the fault is
        # with what the proposal replaces, and the reason for the +1.
        found -= {"negative_judgement", "doubt"}
    if found & {"concession", "solved"}:
        found -= {"negative_judgement", "doubt"}
    if _INVITES_QUESTIONS.search(probe):
        found -= {"doubt", "negative_judgement"}  # "Let me know if anything is unclear."
    if "negative_judgement" in found and (
        _only_within(NEGATIVE_JUDGEMENT, _FAULT_DENIED, probe)
        or _only_within(NEGATIVE_JUDGEMENT, _GRANTED, probe)
    ):
        # "It's not hard to do", "don't feel bad about it": a fault denied is none.
        # "Even if that syntax is ugly, it would be perfectly OK": a fault granted on the
        # way to a verdict is not the verdict.
        found.discard("negative_judgement")
    if "negative_judgement" in found and _only_within(NEGATIVE_JUDGEMENT, _CONSOLES, probe):
        # "If it bitrots after that, at least it bitrots outside core": the harm, bounded.
        found.discard("negative_judgement")
    if "negative_judgement" in found and _only_within(NEGATIVE_JUDGEMENT, _POSTED_WRONG, probe):
        found.discard("negative_judgement")  # the "wrong" of "sent a wrong message"
    if "objection" in found and _only_within(OBJECTION, _NOT_OPPOSING, probe):
        found.discard("objection")  # "I would not oppose teaching git clean about it"
    for name in ("negative_judgement", "objection", "doubt"):
        if name in found and (
            _only_within(CUES[name], _DISCLAIMS, probe)  # "I am not saying it is worse."
            # "I was ready to just answer "not possible", but decided I could try ...": a
            # reaction the writer tells as held back, for what follows the "but".
            or _only_within(CUES[name], _HELD_BACK, probe)
        ):
            found.discard(name)
    if (
        found & {"negative_judgement", "doubt"}
        and _STATUS_QUO.search(probe)
        and not _POINTS_AT_PROPOSAL.search(probe)
        and not _HARM_DONE.search(probe)
    ):
        # "Currently it is not possible to ...", "the current rules are too hard to use",
        # "unable to add servers into the profile section is a pain", "The current situation
        # ... has confused more than one user": fault found with what is, which is what a
        # proposal sets out to fix ("currently this rule breaks X" is not, nor is "it would
        # break anyone relying on the current ordering": the change's harm).
        found = (found - {"negative_judgement", "doubt"}) | {"status_quo"}
    if _INTERPRETS.search(probe):
        # "The way I read this proposal, it isn't saying we can't break APIs": what the
        # proposal says, read back, judges nothing.
        found -= set(OBJECTION_FORMS)
    if "counter_proposal" in found and _only_within(COUNTER_PROPOSAL, _PICKS_AN_OPTION, probe):
        # "I prefer A as well": choosing among the options a proposal offers answers it.
        found.discard("counter_proposal")
    if "counter_proposal" in found and _only_within(COUNTER_PROPOSAL, _SPEAKS_AS, probe):
        # "Wen-Hsiu here, writing for the Steering Council rather than for myself.": how
        # the writer speaks, not what they propose.
        found.discard("counter_proposal")
    if "counter_proposal" in found and _only_within(COUNTER_PROPOSAL, _ALREADY_SAYS, probe):
        # "the new section already describes it as the supported way, rather than as
        # something that happens to work": what the proposal does now, told back.
        found.discard("counter_proposal")
    if "counter_proposal" in found and _only_within(COUNTER_PROPOSAL, _TELLS_A_SCENARIO, probe):
        # "Instead of checkout, you decide to merge the branch": what someone does in a
        # scenario the writer walks through, not what the writer proposes.
        found.discard("counter_proposal")
    if "caution" in found and _only_within(CAUTION, _POINTS_OUT, probe):
        # "You will note that the PR references in ...": pointing a thing out. A caution
        # names what to beware of ("keep in mind", "be careful").
        found.discard("caution")
    if "doubt" in found and _WONDER_SUGGESTS.search(probe) and _only_within(DOUBT, _WONDER, probe):
        # "I wonder, could the internals be altered to ...": a suggestion put gently.
        found = (found - {"doubt"}) | {"counter_proposal"}
    if _QUOTATION.match(text):
        # A sentence wholly in quotation marks cites someone; it is not the writer's claim.
        found -= set(OBJECTION_FORMS)
        found.add("quotation")
    return frozenset(found)


_PROCESS_MOVE = re.compile(
    r"\b(?:start|go\s+to|move\s+to|enter|kick\s+off|begin|call|open)\s+(?:the\s+|a\s+)?"
    r"(?:formal\s+|official\s+|final\s+|actual\s+)?(?:fcp|vote"
    r"|voting|final\s+comment\s+period|\[vote\])\b"
    # "Could we put this on the agenda for the April call?": where to decide, not what.
    r"|\b(?:put|add|bring)\s+(?:this|it|that)\s+(?:up\s+)?(?:on|to)\s+(?:the\s+)?(?:\w+\s+){0,3}?"
    r"agenda\b"
    # "Please keep replies in this topic rather than opening new ones": where to talk.
    r"|\b(?:keep|post|put|continue|move)\s+(?:\w+\s+){0,2}?(?:replies|discussion|comments|posts"
    r"|feedback|questions)\s+(?:here|in\s+(?:this|the|one)\s+(?:topic|thread|issue))\b"
)
_HEDGES_OWN_IDEA = re.compile(
    r"\bnot\s+(?:\w+\s+)?sure\s+(?:if|whether)\s+(?:it'?s\s+|it\s+is\s+|this\s+is\s+|that'?s\s+)?"
    r"(?:possible|feasible|doable|a\s+good\s+idea|workable)\s*(?:,\s*|\s*\.{2,}\s*|\s+)but\b"
)
_WHETHER_CLAUSE = re.compile(r"\b(?:the\s+)?(?:question\s+(?:is|remains)\s+)?whether\b[^.;?!]*")
# A sentence that opens with its +1: "+1 for ...", "Generally +1", "Strongly in favour."
OPENS_PLUS_ONE = re.compile(r"^(?:\w+\s+)?(?:\+1\b|in\s+favou?r\b)")
_OVERCOME = re.compile(
    r"\b(?:(?:i|we)\s+(?:was|were)\s+(?:a\s+(?:bit|little)\s+|initially\s+|originally\s+|also\s+)?"
    r"(?:worried|concerned|skeptical|sceptical|nervous|unsure|hesitant|wary)"
    r"|(?:i|we)\s+(?:had|shared)\s+(?:the\s+same\s+|a\s+|some\s+|similar\s+)?(?:worry|worries|concerns?"
    r"|doubts?|reservations?)"
    # "My only worry going in was boot ordering, but that turned out to be a non-issue".
    r"|\bmy\s+(?:only\s+|main\s+|one\s+|biggest\s+|first\s+)?(?:worry|concern|fear|doubt)\s+"
    r"(?:going\s+in|at\s+first|initially|originally)\s+was)\b[^.;?!]*?\b(?:but|until|though)\b"
)
_GRANTS_ANOTHERS = re.compile(
    r"^(?:(?:yes|ok|okay|sure|well|true),?\s+)?(?:that(?:'s|\s+is)|it(?:'s|\s+is)|this\s+is)\s+a\s+"
    r"(?:fair|valid|good|reasonable|legitimate|real)\s+(?:worry|concern|objection)\b"
    r"[^.;]*\b(?:but|though|however)\b"
    # "Lin's point about naming the LTS owner early is a good one, but it can wait".
    r"|^(?:[\w.-]+'s|your|their|his|her)\s+(?:point|concern|worry|objection)\s+(?:about\s+[^,;.]+\s+)?"
    r"is\s+a\s+(?:fair|valid|good|reasonable)\s+one\b[^.;]*\b(?:but|though|however)\b"
)
# "Daniel, you're right that the proposal was too glib there.", "Good catch, and you're
# right that this must not be left implicit": the writer grants the one they answer
# their point, finding no fault of their own (unless a "but" goes on to one).
_GRANTS_YOU = re.compile(
    r"^(?:(?:so|and|yes|ok|okay|well|sure)\s*,?\s+|@?[\w.-]+\s*[,:]\s+|on\s+[^,;.]{1,40}?\s+)?"
    r"(?:(?:good|fair)\s+(?:catch|point)\s*,?\s+(?:and\s+)?)?you(?:'re|\s+are)\s+(?:absolutely\s+|quite\s+"
    r"|totally\s+|completely\s+)?right\b(?![^.;]*\b(?:but|however|though|although)\b)"
)
_SETTLES_OWN = re.compile(
    r"\b(?:address(?:es)?|answers?|resolves?|settles?|covers?|allays?|takes?\s+care\s+of)\s+"
    r"(?:(?:most|all|much|some)\s+of\s+)?(?:(?:my|our)\s+(?:\w+\s+)?(?:"
    + MY_WORRY_NOUNS
    + r"|points?)\b"
    r"|what\s+i\s+was\s+(?:worried|concerned)\s+about\b)"
    # "Thanks, with that patch my main worry goes away."
    r"|" + WORRY_GOES_AWAY
)
# "..., but not my worry about the plugins": something is still open beside it.
_STILL_OPEN = re.compile(r"\bbut\s+not\b|\bexcept\b|\bstill\b|\bhowever\b")
# A question put in the negative leads its answer: "Quick question: isn't this going to
# break Windows?" ("..., with no case folding?" only checks a reading).
_ASKS_NEGATIVELY = re.compile(
    r"\b(?:isn't|aren't|wasn't|doesn't|don't|didn't|won't|wouldn't|can't|couldn't|shouldn't"
    r"|hasn't|haven't)\s+(?:this|that|it|there|we|you|they|the|these|those)\b"
)
_JUST_ASKING = re.compile(
    # "Separately, and only out of curiosity: ...": a lead-in of a few words first; "Priya,
    # one question so I understand the scope: ...": the one asked, named first.
    r"^(?:@?[\w.-]+,\s+)?(?:(?:separately|also|and|but|finally|lastly)[\s,]+(?:and\s+)?)?(?:only\s+|purely\s+)?"
    r"(?:just\s+(?:checking|curious|to\s+(?:check|confirm|clarify|be\s+sure|make\s+sure"
    r"|double-?check))|out\s+of\s+curiosity|for\s+my\s+(?:own\s+)?understanding"
    r"|to\s+clarify|(?:a\s+)?clarifying\s+question|\(just\s+(?:a\s+)?question(?=\))"
    r"|one\s+question\s+so\s+(?:that\s+)?i\s+understand"
    r"|just\s+so\s+(?:that\s+)?(?:i|we)\s+(?:understand|know)"
    # "Quick question: ...", "Also a simple question: which version ...?": the writer
    # calls it small.
    # ("Possibly a silly question: what happens to the repo?")
    r"|(?:(?:also|and|one\s+more|another)\s*,?\s+)?(?:(?:possibly|maybe|probably|perhaps)\s+)?"
    r"(?:an?\s+|one\s+)?(?:quick|simple|small|side|naive|minor|short|unrelated|separate|silly|dumb"
    r"|stupid|basic)\s+(?:clarification\s+|clarifying\s+|follow-up\s+)?question)\b"
    # "Quick one before I forget: what's the equivalent of ...?"
    r"|^(?:(?:also|and|one\s+more|another)\s*,?\s+)?(?:a\s+)?(?:quick|small|short)\s+one\b(?=[^?]*:)"
    # A question its writer files under a heading: "Rollout question: ...?", "Question on
    # the API surface: does copy() survive?".
    # ("Honest question: what does Gradle give us?" is put pointedly.)
    r"|^(?!(?:an?\s+)?(?:honest|serious|genuine|real|fair|hard|obvious|big|important|key)\b)"
    r"(?:[\w-]+,?\s+)?(?:a\s+)?questions?(?:\s+(?:on|about|re|regarding|for|before|from)\s+[^:?]{1,60}"
    # "Question, not an objection: ...", "Question, just to understand the scope: ...".
    r"|,\s+(?:not\s+an?\s+(?:objection|concern|complaint)|just\s+to\s+[^:?]{1,40}"
    r"|for\s+my\s+(?:own\s+)?understanding))?\s*:"
    r"|^(?:this\s+is\s+)?not\s+an?\s+(?:objection|concern|complaint)[,:;]?\s+(?:just\s+)?"
    r"(?:a\s+question|curious|asking|wondering)\b"
    # "Question before I form an opinion: ...": the writer has not judged yet.
    r"|\bbefore\s+i\s+(?:form\s+(?:an|my)\s+opinion|weigh\s+in|make\s+up\s+my\s+mind|take\s+a\s+side"
    r"|decide|vote)\b"
)
# A question that offers its answers to choose from asks which one holds: "Does the window
# apply to the optional dependencies too, or only the core ones?", "Is the 0.4% number
# from the mirror manager or from the CDN logs?". ("Is this really worth it, or are we
# just adding complexity?" argues, and a "why" challenges.)
_ASKS_WHICH = re.compile(
    # "When are drops decided, at feature freeze or at release time?"
    r"^(?:when|which)\b[^?]*,\s*(?:at|in|on|by|from|for)?\s*[^?,]+\s+or\s+[^?]+\?$|"
    r"^(?:[\w-]+(?:\s+[\w.-]+)?\s*:\s+)?(?:(?:also|and|so|then|separately)\s*,?\s+)?(?:is|are|does|do|did|will|was|were|has|have)\s+"
    r"(?![^?]*\b(?:why|really|just|even|simply|actually)\b)[^?]*\s+or\s+[^?]+\?$"
)
_RESTATES = re.compile(
    r"^(?:or\s+|so\s+|and\s+)?(?:in\s+other\s+words|to\s+put\s+it\s+(?:another\s+way|differently"
    r"|simply|shortly)|put\s+(?:differently|another\s+way)|that\s+is\s+to\s+say)\b"
)
# "I agree with Becket that maybe we can re-evaluate ...", "+1 to Jark's point": a point
# someone else in the thread made, taken up. (Not "I agree with you, but ...": the turn
# is the writer's own.)
_SECONDS_ANOTHER = re.compile(
    r"^(?:and\s+|so\s+)?(?:i\s+(?:also\s+|fully\s+|totally\s+|completely\s+|strongly\s+|do\s+)?"
    r"agree\s+with|\+1\s+(?:to|on))\s+(?!(?:the|this|that|it|all|everything|most|you|your|him|her|them)\b)"
    # ("+1 to v2.", "+1 to option B": the proposal's revision or option, not a person.)
    r"(?!(?:v\d+|rev(?:ision)?\s*\d+|version\s*\d+|proposal|draft|plan|rfc|option|idea|approach)\b)"
    r"@?(?P<name>[\w-]+(?:\.[\w-]+)*)(?:'s)?(?:\s+(?:point|comment|concern|suggestion|view|remark))?"
    r"\s*(?:(?:that|on|about|here|regarding)\b|[,:;.]|$)(?!.*\b(?:but|however|though|although)\b)"
)


def says_it_only_asks(unit: Unit) -> bool:
    """A question its writer marks as only asking ("Out of curiosity, ...", "Quick
    question: ...") or that offers its answers to choose from ("..., or only the core
    ones?")."""
    return unit.is_question and _only_asks(unit.probe)


def _only_asks(probe: str) -> bool:
    """The writer says the question only asks, or it offers its answers to choose from."""
    return bool(_JUST_ASKING.search(probe) or _ASKS_WHICH.match(probe))


# What a sentence says to bring another matter than the one before it: "But one more
# thing.", "Separately, patch 3 drops ...", "Another problem: ...".
_TURN = (
    r"separately|unrelated(?:ly)?|on\s+(?:a|an)\s+(?:different|other|unrelated|separate)\s+note"
    r"|on\s+another\s+note|one\s+(?:more|other|last)\s+(?:thing|point|question|concern)"
    r"|another\s+(?:thing|point|question|concern|issue|problem|matter)"
    r"|a\s+(?:separate|different)\s+(?:point|issue|matter|thing)"
    # "+1 on the direction. ... One thing though, and I know naming is a bikeshed."
    r"|one\s+(?:small\s+|minor\s+|big\s+)?(?:thing|point|question),?\s+though\b"
)
_OPENING = r"^(?:(?:but|and|also)\s*,?\s+)?"
_TURNS_ELSEWHERE = re.compile(_OPENING + rf"(?:{_TURN})\b")
# ... or the next of several: "Also, don't we want ...?", "Secondly, ...".
_ANOTHER_POINT = re.compile(
    _OPENING + rf"(?:also|additionally|secondly|thirdly|lastly|finally|{_TURN})\b"
)


def turns_elsewhere(unit: Unit) -> bool:
    """Whether a sentence opens another matter than the one before it: read past the
    acknowledgement before it ("OK, thank you. ... / But one more thing. ...")."""
    return _TURNS_ELSEWHERE.match(unit.probe) is not None


def adds_another_point(unit: Unit) -> bool:
    """Whether a sentence says it brings a point of its own, another matter or the next
    of several: it starts a point, not the one before it."""
    return _ANOTHER_POINT.match(unit.probe) is not None


def heads_a_question(unit: Unit) -> bool:
    """A sentence that says a question follows: "First, a question: the feedstock builds
    win-32 as well." (the question is the next sentence)."""
    return not unit.is_question and _JUST_ASKING.search(unit.probe) is not None


def seconded_name(unit: Unit) -> str | None:
    """Whom "I agree with Becket that ..." agrees with, as written (casefolded)."""
    found = _SECONDS_ANOTHER.search(unit.probe)
    return found.group("name") if found else None


_ASKS_THEIR_PROBLEM = re.compile(
    r"^(?:so\s+)?(?:is|was|are)\s+(?:your|their|his|her)\s+(?:\w+\s+)?(?:problem|issue|concern"
    r"|worry)s?\b"
)
_ASKS_PERMISSION = re.compile(r"\b(?:problem|issue|objection)s?\s+with\s+(?:me|us)\s+\w+ing\b")
_ANSWERS_OTHERS = re.compile(
    r"^(?:for\s+(?:those|anyone|everyone|people)\s+(?:asking|wondering|curious)|to\s+answer\s+(?:\w+'s\s+"
    r"|your\s+|the\s+)?question|in\s+answer\s+to)\b"
)
_OFFERS_HELP = re.compile(
    r"\b(?:how|where)\s+(?:can|could|may)\s+(?:i|we)\s+help\b|\b(?:can|could|may)\s+i\s+help\b"
    r"|\bwhat\s+can\s+i\s+do\s+to\s+help\b|\b(?:is\s+there\s+)?anything\s+(?:else\s+)?i\s+can\s+do\s+to\s+help\b"
    # An offer put as a question: "Maybe my team can help to maintain Studio?"
    r"|^(?:(?:maybe|perhaps)\s+)?(?:i|we|my\s+(?:team|company|colleagues)|our\s+(?:team|company))"
    r"\s+(?:can|could)\s+help\b"
)
# Asking the way forward ("So how to proceed?", "How do you want to proceed?", "What
# are the next steps?"): a signpost to what comes next, not a question put to the proposal.
_ASKS_THE_WAY = re.compile(
    r"\bhow\s+(?:to|should\s+we|shall\s+we|do\s+we|can\s+we|do\s+you\s+(?:want|intend|plan)\s+to"
    r"|would\s+you\s+like\s+to)\s+(?:proceed|move\s+(?:forward|on)|go\s+forward|continue)\b"
    r"|\bwhat\s+(?:are|would\s+be)\s+the\s+next\s+steps?\b"
)
# The logistics of the work, not its merits: what the asker should do ("Which branch
# should I test this on?"), its tracking ("What's the JIRA number?"), its status ("Is
# this ready for review?"), others' trials ("Has anyone tried it on Windows?"), hands
# ("Who else wants to help?"), meetings ("Is the call on Thursday?") and help ("Any idea?").
_ASKS_LOGISTICS = re.compile(
    r"\b(?:should|can|could|do|may|shall)\s+i\s+(?:test|try|use|run|check|look|start|file|open"
    r"|send|ping|review|build|pick)\b"
    r"|^(?:which|what)\s+(?:branch|commit|tag|fork|repo(?:sitory)?)\s+(?:has|holds|contains|is|are|should"
    r"|do|does)\b"
    # "What's the plan for the C# bindings?": asking what is planned, not doubting it.
    r"|^(?:(?:so|and|also),?\s+)?what(?:'s|\s+is)\s+the\s+plan\s+(?:for|with)\b"
    r"|^(?:what(?:'s|\s+is)|which\s+is)\s+the\s+(?:jira|issue|ticket|bug|pr|pull\s+request)"
    r"(?:\s+(?:number|id|link|url))?\b"
    r"|^(?:is|are)\s+(?:this|it|these|they)\s+(?:\w+\s+)?ready\s+(?:for|to)\s+(?:review|merge|be\s+merged"
    r"|land|test)"
    r"|^(?:has|did|have)\s+(?:anyone|anybody|someone|somebody)\s+(?:else\s+)?(?:already\s+)?(?:tried"
    r"|tested|used|seen|run|checked|looked|built)\b"
    r"|^who\s+else\b|\b(?:anyone|anybody|someone)\s+(?:else\s+)?(?:wants?|willing|able|interested)"
    r"\s+to\s+(?:help|take|pick|work)\b"
    r"|^(?:is|are)\s+the\s+(?:meeting|call|sync|hangout|standup)\b"
    # Asking for help with a failure: "Any idea?", "Any clue what causes it?".
    r"|^any\s+(?:idea|clue|hint|pointer)s?\b"
    # The writer's own part: "is it okay if I send my comments by the 14th?"; where the
    # work is tracked: "Can we track this on a project board?".
    r"|\bis\s+it\s+(?:ok(?:ay)?|fine|alright|all\s+right)\s+(?:if\s+i|for\s+me)\b"
    r"|\btrack\s+(?:this|it|these|them|progress|the\s+\w+)\s+(?:on|in|with|via|through)\b"
    # Asking the list: "Does anyone know if the Rust side has a mapping?".
    r"|^(?:does|do)\s+(?:anyone|anybody|someone|somebody)\s+(?:here\s+)?know\b"
    # Its dates and paperwork: "Do we have a date for the release candidate yet?",
    # "Should this also go in the CHANGELOG?".
    r"|^(?:do|did)\s+we\s+have\s+(?:a|an|any)\s+(?:date|timeline|schedule|eta|release\s+date)\b"
    r"|^should\s+(?:this|it|that)\s+(?:also\s+)?(?:go|be\s+(?:listed|mentioned|noted|added))\s+(?:in|into|to"
    r"|under)\b"
)
# "Why should I use this over X?" asks for the merits, whatever else it asks.
_ASKS_WHY = re.compile(r"\bwhy\b|\bhow\s+come\b")
_ASKS_FOR_POINTERS = re.compile(
    r"(?:^|[,;]\s*)(?:can|could|would)\s+(?:you|someone|somebody|anyone)\s+(?:please\s+)?(?:summari[sz]e"
    r"|point\s+(?:me|us)|share|send|post|tell\s+(?:me|us)"
    # "Could you add a link to the branch in the RFC?": a pointer for readers.
    r"|(?:add|include|attach)\s+(?:a\s+|the\s+)?(?:links?|pointers?|references?|urls?)\b"
    # The chores of a pull request: "Could you rebase on main when you get a chance?"
    r"|rebase|squash|sign|re-?run|retrigger|fix\s+the\s+(?:lint|formatting|conflicts?)|add\s+me)\b"
    r"|^(?:and\s+)?did\s+you\s+(?:also\s+|already\s+)?(?:try|configure|set|check|run|install"
    r"|enable|disable|clean|update)\b"
    # Where to find it: "Is the benchmark profile published somewhere?"
    r"|\b(?:published|available|posted|documented|online|uploaded|checked\s+in)\s+(?:somewhere|anywhere)"
    r"\s*\?"
)
# Offering to explain: what might be unclear is the writer's own text, not the proposal.
_INVITES_QUESTIONS = re.compile(
    r"\b(?:let\s+(?:me|us)\s+know|feel\s+free\s+to\s+ask|(?:happy|glad)\s+to\s+(?:clarify|explain)"
    r"|(?:don't|do\s+not)\s+hesitate\s+to\s+(?:ask|reach\s+out|ping))\b"
    r"[^.?!]*\b(?:unclear|confusing|questions?)\b"
)
_QUOTATION = re.compile(r'^\s*["“„«][^"“”„«»]+["”»]\s*[.!?]?\s*$')
_POSTED_WRONG = re.compile(_POSTING_WENT_WRONG)
# A fault word negated: "not hard", "isn't that complicated", "don't feel bad".
_FAULT_DENIED = re.compile(
    r"\b(?:not|never|isn't|aren't|wasn't|weren't|won't\s+be|wouldn't\s+be|shouldn't\s+be"
    r"|don't\s+feel|do\s+not\s+feel|doesn't\s+(?:seem|look|sound)(?:\s+to\s+be)?"
    # "I don't want to block this": a fault disowned ("we would not want to lose" fears one).
    r"|(?:don't|do\s+not)\s+want\s+to(?=\s+block))\s+"
    r"(?:(?:too|that|so|very|really|particularly|overly|all\s+that|a|an|any|much\s+of\s+a|big"
    rf"|real|terribly|especially)\s+){{0,3}}(?:{_FAULT_WORDS})\b"
    # "so email users lose nothing".
    rf"|\b(?:{_FAULT_WORDS})\s+nothing\b"
    # "No rush, take your time": patience offered, not haste found.
    r"|\bno\s+(?:big\s+)?rush\b"
    # "If it's under the output base now, no problem from my side."
    r"|\bno\s+problem\s+(?:from|on|for)\s+(?:my|our)\s+(?:side|end|part)\b|\bno\s+problem\s+for\s+(?:me|us)\b"
)
# A concessive clause before the main one: "even if that syntax is ugly, ...". A trailing
# "..., although it is complex" is a reservation and is not matched: a clause must follow.
_GRANTED = re.compile(
    r"\b(?:even\s+if|even\s+though|although|albeit|granted)\b[^,;:.?!]*,(?=\s*\w)"
    # A cost the writer accepts: "I can live with the break."
    r"|\b(?:i|we)\s+(?:can|could)\s+live\s+with\b[^,;:.?!]*"
)
_NOT_OPPOSING = re.compile(
    r"\bi(?:'d|\s+would)\s+not\s+(?:oppose|object|mind|disagree|block|be\s+(?:against|opposed))\b"
)
# Saying what one does not claim: the judgement in it is disowned.
_DISCLAIMS = re.compile(
    r"\b(?:i'?m|i\s+am|i\s+was)\s+(?:just\s+)?not\s+(?:saying|suggesting|claiming|implying"
    r"|arguing)\b[^,;]*|\bi\s+(?:did\s+not|didn't)\s+mean\b[^,;]*"
)
_HELD_BACK = re.compile(
    r"\b(?:i|we)\s+(?:was|were)\s+(?:(?:just|almost|half)\s+)?(?:ready|going|about|tempted)\s+to\s+"
    r"(?:just\s+)?(?:say|answer|reply|respond|write|object|argue|call\s+it)\b[^;.?!]*?(?=\bbut\b)"
)
# What is, as against what is proposed.
_STATUS_QUO = re.compile(
    r"\b(?:currently|today|nowadays|at\s+the\s+moment|right\s+now|at\s+present|these\s+days"
    r"|the\s+current|current\s+(?:rules|behaviou?r|state|situation|approach|way|process|system"
    r"|implementation|version)|i\s+often|i\s+(?:always\s+|still\s+)?struggle)\b"
)
# The harm a change does, which is no fault found with what is.
_HARM_DONE = re.compile(
    r"\b(?:would|will|could|might)\s+(?:\w+\s+)?(?:break|regress|hurt)\b|\b(?:doubles?|triples?)\s+the\b"
)
_INTERPRETS = re.compile(
    r"^(?:the\s+way\s+i\s+(?:read|understand)|as\s+i\s+(?:read|understand)|my\s+(?:reading"
    r"|understanding)\s+(?:is|of))\b"
)
# An option named by its label: "prefer A", "prefer option 2", "prefer the latter" (not
# "prefer a separate file": a letter is a label only where the clause ends or goes on).
_PICKS_AN_OPTION = re.compile(
    r"\bprefer\s+(?:option\s+)?(?:(?:[a-d]|[1-9])(?=\s*(?:[.,;!)]|$|\s+(?:to|over|as|and|or|too"
    r"|here)\b))|the\s+(?:first|second|third|former|latter)\b)"
)
_TELLS_A_SCENARIO = re.compile(
    r"^instead\s+of\s+[^,]{1,60},\s+(?:you|they|he|she|the\s+user|someone)\s+"
    r"(?!(?:should|could|can|might|may|would|need|must|ought)\b)\w+"
)
# A consolation: "..., at least it bitrots outside core and doesn't block anyone's CI".
_CONSOLES = re.compile(r",\s*at\s+least\s+(?:it|that|this|they|we|you)\b[^.;]*")
# How the writer speaks, set against how else they might: "writing for the Council rather
# than for myself", "asked me to answer the legal questions directly rather than relay them".
_SPEAKS_AS = re.compile(
    r"\b(?:writ(?:e|ing)|speak(?:ing)?|answer(?:ing)?|repl(?:y|ying)|post(?:ing)?)\b[^.;?!]*?"
    r"\brather\s+than\b[^.;?!]*"
)
# What the proposal (as revised) does already, told back, to the end of the sentence.
_ALREADY_SAYS = re.compile(
    r"\b(?:already|now)\s+(?:describes|says|treats|presents|lists|documents|calls|uses|does|spells\s+out"
    r"|recommends)\b[^.;?!]*"
)
# "Or does it do both well?" after a question: the same question, asked on.
_GOES_ON_ASKING = re.compile(r"^(?:or|and)\b")
# A question that offers the answers to the one before it: "..., or later?"
_OFFERS_ANSWERS = re.compile(r",\s*or\b[^?]*\?$")


def _asks_on(unit: Unit) -> bool:
    """Whether a question goes on asking the one before it: it opens with "or"/"and", or
    offers that question's answers to choose from."""
    return bool(_GOES_ON_ASKING.match(unit.probe) or _OFFERS_ANSWERS.search(unit.probe))


_POINTS_OUT = re.compile(r"\b(?:you\s+(?:will|may|might|can)\s+)?note\s+that\b")
_WONDER = re.compile(r"\bi\s+(?:do\s+)?wonder\b")
_WONDER_SUGGESTS = re.compile(
    _WONDER.pattern
    + r"[^?]*?\b(?:could|would|should|can)\s+(?:we|you|it|the|this|that|they|there)\b"
)


def _only_within(cue: re.Pattern[str], spans: re.Pattern[str], probe: str) -> bool:
    """Whether a cue's words occur only inside ``spans``: there, but denied or granted."""
    return bool(spans.search(probe)) and not cue.search(spans.sub(" ", probe))


def features_of(
    units: tuple[Unit, ...],
    index: int,
    context: PostContext,
    intro_is_concerns: bool,
    cues: tuple[frozenset[str], ...] | None = None,
) -> dict[str, float]:
    """The features of ``units[index]``: its own cues, its neighbours', its place and its post.

    ``cues`` are :func:`cues_of` of every unit, when the caller has them already.
    """
    if cues is None:
        cues = tuple(cues_of(u) for u in units)
    unit = units[index]
    own = cues[index]
    if index == 0 and _REFUSAL.match(unit.probe) and not context.parent_asks_yes_no:
        own = own | {"refusal"}  # "No. That needs a model bump." refuses what it answers
    if "seconding" in own and seconded_name(unit) in context.proposer_names:
        own = (own - {"seconding"}) | {"approval"}  # "I agree with Becket", who proposed it
    if "seconding" in own and context.parent_objects:
        own = own | {"worry"}  # "I share the exact thought" after an objection: the same worry
    before = cues[index - 1] if index > 0 else frozenset()
    if unit.is_question and "information_question" in before and _asks_on(unit):
        # "Is it used more as A or B? Or does it do both well?", "What's the plan for the
        # C# bindings? Same renames in the same release, or later?": the same question,
        # asked on.
        own = (own - set(OBJECTION_FORMS)) | {"information_question"}
    after = cues[index + 1] if index + 1 < len(units) else frozenset()
    same_point_before = index > 0 and units[index - 1].point == unit.point
    same_point_after = index + 1 < len(units) and units[index + 1].point == unit.point
    forms = own & set(OBJECTION_FORMS)
    features: dict[str, float] = {name: 1.0 for name in own}
    features.update(
        {
            "bias": 1.0,
            "question": float(unit.is_question),
            "forms": min(len(forms), 3) / 3,
            "no_form": float(not forms),
            "short": float(unit.words <= 4),
            "long": float(unit.words >= 25),
            "first_in_post": float(index == 0),
            "last_in_post": float(index == len(units) - 1),
            "first_in_paragraph": float(unit.first_in_paragraph),
            "list_item": float(unit.item is not None),
            "introduced_as_concerns": float(unit.introduced and intro_is_concerns),
            "introduced_otherwise": float(unit.introduced and not intro_is_concerns),
            "introduces_concerns": float(unit.introduces_list and intro_is_concerns),
            "form_before_in_point": float(
                same_point_before and bool(before & set(OBJECTION_FORMS))
            ),
            "form_after_in_point": float(same_point_after and bool(after & set(OBJECTION_FORMS))),
            # "I like it. But ...": agreement just before, in the same paragraph; a
            # "+1." that closes one paragraph does not colour the next one's ideas.
            "approval_before": float(
                not unit.first_in_paragraph and bool(before & {"approval", "thanks"})
            ),
            "by_proposer": float(context.by_proposer),
            "in_proposal": float(context.is_proposal),
            "replies_to_proposer": float(context.replies_to_proposer),
            "parent_asks": float(context.parent_asks),
            "parent_objects": float(context.parent_objects),
            "first_from_author": float(context.first_from_author),
            "inline_on_proposer": float(context.quotes_parent and context.replies_to_proposer),
            "review_comment": float(context.review_comment),
            "in_vote": float(context.in_vote),
            "one_sentence_post": float(context.units == 1),
            "proposer_objects_to_suggestion": float(
                bool(forms) and context.by_proposer and context.parent_proposes
            ),
            # Interactions a linear reader cannot form on its own.
            # Not a question about the process ("Can we go to FCP?"): that moves it on.
            "question_to_proposal": float(
                unit.is_question and not context.by_proposer and not own & {"denial", "meta"}
            ),
            "form_by_proposer": float(bool(forms) and context.by_proposer),
            "form_answering_question": float(bool(forms) and context.parent_asks),
            "approval_without_contrast": float(
                ("approval" in own or "thanks" in own) and "contrast" not in own
            ),
            "review_form": float(bool(forms) and context.review_comment),
            # "How about X?", "I propose one at <link>": a way forward that finds no
            # fault, in the sentence or beside it in its point, and sets nothing against.
            "suggests_only": float(
                _suggests_only(
                    unit,
                    own,
                    (before if same_point_before else frozenset())
                    | (after if same_point_after else frozenset()),
                )
            ),
            # "Yes, I think that is sensible. ...": a post that opens agreeing builds on
            # what it answers; its doubts are more often its own sketch's caveats.
            "post_opens_agreeing": float(
                index > 0
                and bool(cues[0] & {"approval", "acknowledgement"})
                and "contrast" not in cues[0]
            ),
        }
    )
    return features


# What a suggestion sets against the proposal: "instead", "rather than", "why not",
# "a better name", "I'd prefer", "remove the loader".
_SETS_AGAINST = re.compile(
    r"\binstead\b|\brather\b|\bwhy\s+not\b|\bbetter\b|\bprefer|\balternatively\b"
    r"|\b(?:remove|drop|avoid|replace)\b"
)
_FAULTS = frozenset(OBJECTION_FORMS) - {"counter_proposal"}


def _suggests_only(unit: Unit, own: frozenset[str], beside: frozenset[str]) -> bool:
    return (
        "counter_proposal" in own
        and not (own | beside) & _FAULTS
        and not _SETS_AGAINST.search(unit.probe)
    )


def post_features(
    units: tuple[Unit, ...],
    probabilities: tuple[float, ...],
    context: PostContext,
    cues: tuple[frozenset[str], ...] | None = None,
) -> dict[str, float]:
    """What a reader weighs to decide whether a post raises anything at all.

    The strongest sentence counts most; then who wrote it to whom, how it opens
    (thanks, approval, "yes"), and whether it answers a question.
    """
    best = max(probabilities, default=0.0)
    every = list(cues) if cues is not None else [cues_of(u) for u in units]
    opening = every[0] if every else frozenset()
    forms = sum(bool(c & set(OBJECTION_FORMS)) for c in every)
    return {
        "bias": 1.0,
        "best_sentence": _logit(best),
        "strong_sentences": min(sum(p >= 0.5 for p in probabilities), 4) / 4,
        "sentences_with_forms": min(forms, 4) / 4,
        "opens_approving": float(bool(opening & {"approval", "thanks"})),
        "opens_acknowledging": float("acknowledgement" in opening),
        "approves_without_but": float(
            any("approval" in c for c in every) and not any("contrast" in c for c in every)
        ),
        "asks": float(any(u.is_question for u in units)),
        "plans": float(any("plan" in c for c in every)),
        "meta": float(any("meta" in c for c in every)),
        "short_post": float(len(units) <= 2),
        "long_post": float(len(units) >= 12),
        "by_proposer": float(context.by_proposer),
        "replies_to_proposer": float(context.replies_to_proposer),
        "parent_asks": float(context.parent_asks),
        "parent_objects": float(context.parent_objects),
        "parent_proposes": float(context.parent_proposes),
        "proposer_on_suggestion": float(context.by_proposer and context.parent_proposes),
        "inline_on_proposer": float(context.quotes_parent and context.replies_to_proposer),
        "first_from_author": float(context.first_from_author),
        "proposer_on_objection": float(context.by_proposer and context.parent_objects),
        "review_comment": float(context.review_comment),
        "in_vote": float(context.in_vote),
        "lists_concerns": float(
            any(u.introduces_list and introduces_concerns_at(units, i) for i, u in enumerate(units))
        ),
    }


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def introduces_concerns(unit: Unit, before: Sequence[Unit] = ()) -> bool:
    """A sentence that introduces a list as concerns, problems, issues or questions.

    ``before`` are the sentences ahead of it in its paragraph: "I have reservations
    about this plan. In order of how much they would hurt:" introduces its list as the
    reservations the sentence before names. "Perhaps there is another idea that would
    avoid this issue:" introduces ways out: the issue it names is one its items remedy,
    not one they raise.
    """
    if not unit.introduces_list or _OFFERS_OPTIONS.search(unit.probe):
        return False  # "We could do a couple of things:" lists ways out, not faults
    if _ONLY_QUESTIONS.search(unit.probe):
        return False  # "Two questions, not objections:" lists what the writer asks
    return (
        _names_concerns(unit)
        or _RESERVATION_INTRO.search(unit.probe) is not None
        or (bool(_POINTS_BACK.search(unit.probe)) and any(_names_concerns(u) for u in before))
        or (bool(_GIVES_REASONS.search(unit.probe)) and any(cues_of(u) & _FAULTS for u in before))
    )


def introduces_concerns_at(units: Sequence[Unit], index: int) -> bool:
    """:func:`introduces_concerns` for ``units[index]``, with the sentences ahead of it in
    its paragraph."""
    unit = units[index]
    return introduces_concerns(unit, [u for u in units[:index] if u.point == unit.point])


def _names_concerns(unit: Unit) -> bool:
    return bool(CONCERN_NOUNS.search(_REMEDIED.sub(" ", unit.probe)))


# An intro that speaks of what the sentence before it named: "In order of how much they
# would hurt:", "Here they are:", "Briefly, these:".
_POINTS_BACK = re.compile(r"\b(?:they|them|these|those|each|both)\b")


# An intro that says its items only ask: "Two questions, not objections:", "Just a couple
# of clarifying questions:".
_ONLY_QUESTIONS = re.compile(
    r"\bnot\s+(?:an?\s+)?(?:objections?|concerns?|complaints?|criticisms?)\b"
    # "Two questions from release engineering, neither of them an objection:"
    r"|\b(?:neither|none)\s+(?:of\s+(?:them|these|those|which)\s+)?(?:is\s+|are\s+)?(?:an?\s+)?"
    r"(?:objections?|concerns?|complaints?|criticisms?|blockers?)\b"
    r"|\b(?:just|only|purely)\s+(?:a\s+(?:few|couple\s+of)\s+|some\s+|two\s+|three\s+)?(?:clarifying\s+)?questions\b"
    r"|\bclarifying\s+questions\b|\bquestions?\s+for\s+clarification\b"
    # "Two questions, mostly so I understand the scope:": what they are for, said.
    r"|\bso\s+(?:that\s+)?i\s+(?:can\s+)?understand\b|\bfor\s+my\s+(?:own\s+)?understanding\b"
    r"|\bout\s+of\s+curiosity\b"
)


# An intro to the reasons for an objection made just before it: "I don't think we should
# add this at all. ... To recap:", "-1 from me. Reasons:".
_GIVES_REASONS = re.compile(
    r"^(?:to\s+recap|to\s+summari[sz]e|in\s+short|in\s+brief|briefly|in\s+a\s+nutshell|(?:my|the)\s+reasons?"
    r"(?:\s+(?:are|is|being))?|reasons?|why|because|here(?:'s|\s+is)\s+why)\s*:\s*$"
)


# An intro that offers ways out: "We could do a couple of things:", "Two options:". ("My
# concerns with both options:" still introduces concerns.)
_OFFERS_OPTIONS = re.compile(
    r"\b(?:we|you|one)\s+could\s+(?:do|try)\b|\b(?:two|three|a\s+few|some|several|the)\s+(?:options|alternatives)"
    r"\s*(?:are|would\s+be|i\s+see)?\s*:|\bways?\s+(?:out|forward)\b"
)


# "Overall I like it, but:" over a list: what follows are its reservations.
_RESERVATION_INTRO = re.compile(
    r"\b(?:but|however|though|except(?:\s+that)?)\s*:\s*$"
    # What a reviewer asks of the proposal before it goes in: "I'm asking for:", "What
    # I'd want before the flip:", "My conditions:".
    r"|(?:\b(?:i'm|i\s+am|we're|we\s+are)\s+(?:only\s+|just\s+)?asking\s+for"
    r"|\bi(?:'d|\s+would)\s+(?:(?:still|really)\s+)?(?:ask\s+for|want|need|require)"
    r"|\b(?:my|our)\s+(?:asks|requests|conditions|requirements))\b[^.?!]*:\s*$"
    # Why a reviewer holds the proposal back: "I'm requesting changes because the proposal
    # isn't yet in a state I can recommend to the committee:", "I can't support it as is:".
    r"|\b(?:request(?:ing|ed)?\s+changes|(?:can't|cannot|can\s+not|couldn't|could\s+not)\s+(?:yet\s+)?"
    r"(?:support|recommend|approve|accept|second|endorse))\b[^.?!]*:\s*$"
)


_REMEDIED = re.compile(
    r"\b(?:avoid|solve|fix|address|resolve|work\s+around|get\s+around|eliminate|remove)s?\s+"
    r"(?:(?:this|that|the|these|those|such|all|both)\s+)?(?:\w+\s+)?(?:concerns?|issues?|problems?"
    r"|questions?|worries|risks?|drawbacks?|downsides?)\b"
)
