"""Prose concerns: cues, one concern per point, and their life in a thread's ledger."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Config
from bot.core.concern_cues import CUES, OBJECTION_FORMS, PostContext, cues_of, features_of
from bot.core.concern_model import ConcernModel
from bot.core.concerns import (
    Concern,
    ConcernSource,
    ConcernState,
    Ledger,
    LedgerSettings,
    build_ledger,
    findings_of,
    make_title,
    opens_proposal,
    read_post,
    same_topic,
    slugify,
    unique_id,
)
from bot.core.mail import Envelope, parse_mail
from bot.core.people import People
from bot.core.prose import units_of
from bot.core.rules import BotIdentity, refusal_reason
from bot.core.summary import proposal_of, summarize
from bot.core.text import extract_mentions
from bot.features.concerns import render_summary
from bot.model import Person, Post, Source
from tests.mailgen import ARRIVAL, raw_mail

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ALICE = Person("Alice Archer", "alice@example.org")
BOB = Person("Bob Baker", "bob@example.org")
CAROL = Person("Carol Chen", "carol@example.org")
PROPOSAL = "Hi all,\n\nI propose that we replace the XML config with TOML in 2.0.\n\nThoughts?"


def post(
    number: int,
    author: Person,
    text: str,
    *,
    reply_to: int | None = None,
    quoted: tuple[str, ...] = (),
    hours: int | None = None,
) -> Post:
    key = f"<p{number}@example.org>"
    parent = f"<p{reply_to}@example.org>" if reply_to is not None else None
    return Post(
        source=Source.MAIL,
        key=key,
        message_id=key,
        thread_key="<p1@example.org>",
        author=author,
        created_at=T0 + timedelta(hours=number if hours is None else hours),
        subject="[RFC] TOML config" if number == 1 else "Re: [RFC] TOML config",
        text=text,
        quoted=quoted,
        in_reply_to=parent,
        references=(parent,) if parent else (),
    )


def root() -> Post:
    return post(1, ALICE, PROPOSAL)


def findings(text: str, author: Person = BOB, replying_to: Post | None = None) -> list[str]:
    """The texts of the points detected in one reply (to the proposal, or to ``replying_to``)."""
    parent = root() if replying_to is None else replying_to
    posts = [parent] if parent.key == root().key else [root(), parent]
    number = 2 if len(posts) == 1 else 3
    reply = post(number, author, text, reply_to=int(parent.key[2:-13]))
    found = ledger(*posts, reply).concerns
    return [c.text for c in found if c.source is ConcernSource.DETECTED and c.post == reply.key]


def ledger(*posts: Post, now: datetime | None = None) -> Ledger:
    return build_ledger("<p1@example.org>", posts, now or T0 + timedelta(days=30))


# --------------------------------------------------------------------------
# Cues
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I am concerned that the migration breaks every existing deployment.",
        "I'm a bit worried about the size of the new dependency.",
        "My main concern is the cost of migrating existing users.",
        "I worry this makes the release process slower.",
        "I have one fear: plugins that parse the XML themselves.",
        "I'm not sure it makes sense to do this in a minor release.",
        "-1 because it breaks binary compatibility.",
        "I don't see the need for a second format.",
        "The problem with this is that TOML has no schema language.",
        "The only issue I see is the tooling for IDEs.",
        "Feasible, but I am not a fan.",
        "It is weird to me that the loader has to know both formats.",
        "Keep in mind that many users generate this file with scripts.",
        "We should think about whether the effort is worth it.",
        "I really don't like this approach.",
        "This won't scale to a thousand modules.",
        "The big drawback there is that every clone shares one object store.",
        "I see one potential big risk: idea ownership.",
        "I've never seen code that accidentally did unsafe things in such a block.",
        "I've personally never seen code that needed the new lint.",
        "BTW, this breaks the build on every platform without a TOML parser.",
        "I'd take that adoption number with a pinch of salt.",
        "You are overthinking the release workflow.",
        "It should be clearer which votes were cast and which are binding.",
        "The question is whether there is enough evidence of a practical problem.",
        "I do not feel the draft addresses the remarks made earlier: neither remark is addressed.",
        "There should be a consensus on the new names before merging.",
        "Before deprecating it, we must have tooling in place to enforce the conventions.",
        "I think maintainers is a better standard than code owners.",
        "Also we should ask the candidates about their plans, isn't it?",
        "So one of the issues with that is multiple versions sharing one settings file.",
        "That could end up duplicating the local repository cache.",
        "IMHO, there is zero reason to teach the loader what branches already do.",
        "I'm not saying the loader is wrong, but its error messages are confusing.",
        "I am confused about why the loader needs a second format.",
        "I'd prefer a separate file for the plugin settings.",
        "I am actually leaning toward keeping XML and reading TOML on top of it.",
        "It has some rough edges, though.",
        "Scanning every clone for its objects is still not foolproof.",
        "I really think auto-deploy of snapshots is an anti-pattern.",
        "Otherwise I really hate the idea.",
    ],
)
def test_prose_cues_raise_one_concern(text: str):
    assert findings(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        # Forms no labelled thread used, written for communities we have not seen (README,
        # "Objection idioms"). Each failed before these cues.
        "I'd push back on the naming here; lazy already means something else.",
        "Requiring a network connection at build time is a non-starter for distributions.",
        "The RFC doesn't address how existing deployments migrate.",
        "This adds a lot of surface area for very little gain.",
        "The security implications of this have not been thought through.",
        "This conflicts with the deprecation policy we adopted last year.",
        "Count me as a -1 until the performance numbers are in.",
        "I'm a -1 on this as written.",
        "That's a showstopper for anyone running on ARM.",
        "I'm not a big fan of the proposed syntax.",
        "I'm lukewarm on this.",
        "The proposal is silent on backwards compatibility.",
        "I struggle to see the benefit over the status quo.",
        "I would hold off on this until the new resolver lands.",
        "Please don't merge this yet.",
        "This needs more discussion before it goes in.",
        "I'd argue against making this mandatory.",
        "I'm not comfortable shipping this without a security review.",
        "This seems to go against the principle of least surprise.",
        "That's going to confuse new users.",
        "This would make bisecting much harder.",
        "I really don't want to see yet another build flag.",
        "This is going to be a maintenance nightmare.",
        "I'm not seeing a compelling use case here.",
        "The use case seems pretty niche.",
        "We'd be locking ourselves into this design forever.",
        "It seems odd to special-case this one type.",
        "The timeline seems unrealistic.",
        "This undermines the guarantees we give to users.",
        "This doesn't pull its weight.",
        "Strongly opposed.",
        "This belongs in a separate RFC.",
        "I think we need a deprecation period first.",
        "This makes me nervous from a security standpoint.",
        "This looks like it would break anyone relying on the current ordering.",
        "This duplicates functionality that already exists in the plugin API.",
        "The RFC glosses over the hardest part, which is conflict resolution.",
        "Please reconsider the decision to drop Python 3.8 support.",
        "The RFC should explain what happens when the cache is full.",
        "The proposed API leaks implementation details.",
        "The deprecation window of one release is far too short.",
        "I think the migration plan is too optimistic.",
        "There is nothing in the proposal about how maintainers resolve conflicts.",
        "I suspect this will be a source of subtle bugs.",
        "The rationale doesn't convince me.",
        "This would make the tool unusable offline.",
        "Thanks for the write-up. My main issue is the reliance on a single maintainer.",
        "I have to disagree with the claim that nobody uses the legacy API.",
        "Strong objection from me: the bot should never push to the release branch.",
        "I can't vote for this while the migration guide is still a TODO.",
        "If we adopt this, packagers would have to carry a patch to keep the old path.",
        "Any committer can publish without a vote, which is not how the foundation works.",
        "This effectively makes the Windows build a second-class citizen.",
        "Making the new API async-only leaves the synchronous callers with no migration path.",
        "The retention period of seven days is much shorter than what auditors require.",
        "Forcing contributors to sign commits will turn away drive-by documentation fixes.",
        "Dropping the mailing list would cut off people who only use email.",
        "Please keep the old flag as an alias for at least one release.",
        "This doesn't work for people behind a corporate proxy.",
        "Storing the cache in the home directory will fill up small root partitions.",
        "The design puts network calls on the startup path, so the tool will hang.",
        "This removes the ability to pin a version, which several large users depend on.",
        "The RFC claims it is compatible, but the example in section 5 would no longer compile.",
        "Requiring 2FA for all committers is fine, but doing it with two weeks' notice is not.",
        "I'd hold the vote until the incubator report is out.",
        "This seems to assume that every contributor works in UTC office hours.",
        "I think the deprecation should be announced at least one major version ahead.",
        "We already struggle to review the current volume; a second tree doubles the work.",
        # A reviewer's condition, said as what they want before it goes in.
        "I won't hold the +2 over it, but I want an SMP job before this ships in a release.",
        "But at the very least I'd want numbers from our own archive, not the ones from other"
        " distributions.",
        "I'd still really prefer numbers before the merge, not after.",
        # A cost stated plainly: what breaks, falls behind or is taken away.
        "If there are no ppc64le wheels on PyPI, the library becomes uninstallable for our 300"
        " users overnight.",
        "If the sandbox still lives under /tmp by default, a lot of CI setups will fall over the"
        " day they upgrade.",
        "Our write-heavy clusters are already compaction-bound, so I'd expect compactions to fall"
        " further behind.",
        "One release of the legacy output is not a lot.",
        "With the 32-bit code gone from 5.0 we can't even follow main with our own CI any more.",
        "Please don't invent another YAML-ish dialect.",
        # A point the writer says the thread has missed.
        "One thing nobody has mentioned yet: emeritus or not, these accounts keep commit access"
        " to the repos.",
        # Harm foreseen, in no word of judgement.
        "If it fires for every dependency during an install, users will get a screen full of"
        " warnings about packages they don't control.",
        "That is going to land on plugin authors as angry reviews, not on the engine.",
        "With a new minor every 10 weeks, a given minor would stop getting fixes after twenty"
        " weeks.",
        "So as it stands the shim doesn't help the cases it's meant for.",
        # What it fails to do, and an argument that does not hold.
        "Point 1 does nothing at all about the attack you cite as the motivation.",
        "This is exactly where I think the coherence argument in section 5 falls apart.",
        # What the proposal must say or do first, whom it does not fit, what nobody ran.
        "I'd like the RFC to say who does the tooling work.",
        "Fix them first, then deprecate.",
        "One group this doesn't fit: translators.",
        "We will be shipping big-endian builds nobody has run.",
        # Harm foreseen in idioms, and a +1 on a condition.
        "This is going to produce a wave of drive-by adoptions.",
        "Without an activity requirement the flag just gets reset and we're back where we"
        " started a year later.",
        "LIMIT without ORDER BY in a cron job is asking for an incident at 3am.",
        "So: +1 to the feature if ORDER BY is mandatory, -0 without it.",
    ],
)
def test_common_forms_of_objection_raise_one_concern(text: str):
    # Each case is one objection, shown whole; a thanks before it is not part of it.
    assert findings(text) == [_SHOWN_APART.get(text, text)]


_SHOWN_APART = {
    "Thanks for the write-up. My main issue is the reliance on a single maintainer.": (
        "My main issue is the reliance on a single maintainer."
    ),
}


@pytest.mark.parametrize(
    "text",
    [
        # Not now.
        "I think we should wait until the 1.x line is retired before we switch formats.",
        "Can we hold this until after the 2.0 release? There is too much in flight already.",
        "This seems premature to me; nobody has asked for TOML yet.",
        "It's too early to decide this, the new parser is not even stable.",
        "Let's revisit this for 3.0, not now.",
        "I'd rather we postpone this to the next major version.",
        "We have more urgent problems to fix first, like the broken release scripts.",
        "Not for 2.0 please. It could go into 3.0 once the migration tool exists.",
        "Maybe later, but right now the plugin authors need stability more than a new format.",
        "I would defer this until we have feedback from the users list.",
        "Shouldn't we first fix the existing config bugs?",
        "This is not the right time for such a change.",
        # Not here.
        "This feels like plugin level functionality.",
        "This belongs in a separate plugin, not in core.",
        "I think this should live outside the core, as an extension.",
        "This is out of scope for the project.",
        "Shouldn't this be a third-party library rather than part of the distribution?",
        "That sounds like a job for a user-space tool, not for the build itself.",
        "This really belongs in the documentation, not in the code.",
        "Core is the wrong place for this.",
    ],
)
def test_not_now_and_not_here_are_objections(text: str):
    # Held-out probes (README, "Held-out probes, stop 39"): written before the code.
    assert findings(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        # Waiting on the process, or on someone, objects to nothing.
        "Let's wait until Friday for more feedback before calling the vote.",
        "I'll wait for CI to go green and then merge.",
        "We can postpone the call to next week, I'm travelling.",
        "No rush, take your time with the review.",
        "I will look at it after the release.",
        "Let's give it a week before we start the vote.",
        "Not for 2 weeks, I am travelling.",
        "It could be for about 5 minutes of work.",
        # Where a thing is, said as a fact.
        "This belongs to the 2.0 milestone.",
        "The parser lives in a separate module already.",
        "Out of scope for this thread, but thanks for the pointer to the docs.",
        "I moved the helper into its own plugin as you suggested.",
        "The code belongs to the config package.",
    ],
)
def test_waiting_on_the_process_and_saying_where_a_thing_lives_raise_nothing(text: str):
    assert findings(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # bench/data/replies/objecting-e.txt, read unseen first (README, "Set e").
        "I'd be more comfortable if the XML reader stayed as a supported path for a year.",
        "Strongly against making this the default before there is a migration guide.",
        "The RFC never says what happens to the XSD-based validation in IDEs.",
        "The benchmark numbers don't support the claim that TOML parsing is faster.",
        "Sorry to be the grumpy one, but this is a lot of churn for very little user benefit.",
        "Two things bother me here about the migration tool.",
    ],
)
def test_conditions_for_agreeing_and_what_the_proposal_leaves_out_are_objections(text: str):
    assert findings(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        # bench/data/replies/objecting-f.txt's misses, read unseen first (README, "Set f"),
        # each written again in other words.
        "The part about auto-converting on first run worries me.",
        "The new default scares me a little.",
        "Speaking for the Debian side, we can't ship a build that needs an unpackaged parser.",
        "This would make the XSD useless for validation in IDEs.",
        "Hashing a different file format invalidates every cache entry.",
        "The proposed key names collide with the existing environment overrides.",
        "This conflicts with RFC 112, which promised a stable schema through 2.x.",
        "Objection: the RFC changes the public API of ConfigReader in a minor version.",
        "Please don't make TOML the only option.",
        "Performance regressed by 30% in my test with the prototype branch.",
    ],
)
def test_harm_to_what_exists_and_points_headed_as_objections_are_objections(text: str):
    assert findings(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "The question is whether we start the vote on Monday or on Tuesday.",
        "I was worried about comments getting lost at first, but the converter keeps them.",
        "Could you add a link to the prototype branch in the RFC?",
        "I'm not sure I'll have time to review the PR this week.",
        "Just checking: does this also cover the settings file?",
        "Nothing about this worries me.",
        "We can't ship 2.0 without this, so +1.",
        "I renamed the tags to avoid clashes with the existing ones.",
        "Please don't hesitate to ask if anything is unclear.",
        "Please do not top-post on this list.",
        "To clarify, the converter runs offline.",
        "There are no conflicts with the other open RFCs.",
        # Threads written blind (bench/data/threads/a and b), in other words.
        "Quick question: will it report progress (database, relation, blocks done)?",
        "Also a simple question: which TOML library version do you plan to use?",
        "If the converter stays optional, my worry about old configs is mostly gone.",
        "Could we put this on the agenda for the April maintainers' call?",
        "I withdraw the interoperability part of my objection.",
        "I'll drop my -1 on Gerrit once the next patch set is up.",
        "Which release are you aiming at, 3.4 or 3.5?",
        "A readable error instead of a black canvas addresses my concern.",
        "That addresses most of what I was worried about.",
        "That's a fair worry, but I'd gently push back on how big it is.",
        "Separately, and only out of curiosity: would the loader also read YAML?",
        "Rollout question: are you thinking of switching the default in 2.0 directly?",
        "Question on the API surface: does the old reader survive in 2.0?",
        "First, a process note: this changes section 3 of our bylaws.",
        # A question that offers its answers to choose from asks which one holds.
        "Does the two-year window cover the optional plugins too, or only the core ones?",
        "Is the 3% figure from the download counter or from the update pings?",
        "Section 4: will the converter keep comments, or are they dropped on the way?",
        "Is the benchmark profile for those runs published somewhere? I'd like to rerun it.",
        "(just a question) Is the schema part of this, or is it plain TOML? The RFC doesn't say"
        " either way.",
        "Unrelated question for @alice: does the converter include plugins? We use them a lot.",
        "When in the release cycle are formats dropped, at feature freeze or at release time?"
        " (Purely so I know when to look.)",
        "Alice, one question so I understand the scope: is this only about the main file, or"
        " does it change the plugin settings too?",
        "Quick clarification question: is the cut a fixed date, or ten weeks after the last"
        " release?",
        "First, a question: the distribution builds 32-bit packages as well. Is that ours to"
        " decide, or is it up to its maintainers?",
        "Separately, just so we know what to plan for: will 3.0 still build on the old"
        " compiler, or will it need the new one?",
        "Maybe a silly question: what happens to the old mailing list archives?",
        # Stop 50's sets bz and ca: the writer says it is no objection.
        "Question, not an objection: would the migrate command still be available after this?",
        "Question, just to understand the scope: do ACLs move into the log as well, or not?",
        "Does the sponsored plan have any size limit? Just checking, I don't know.",
        "Not a concern, just curious: would plugin windows take focus, or are they display-only?",
        # A moderator's note runs the topic; it sets nothing against the proposal.
        "Quick housekeeping note, moderator hat on: the enforcement half of this is really a"
        " policy for the index, so I'd rather it went to its own topic.",
        "Mod note: I've split the 12 replies about the old API into their own topic.",
        # Where to talk, from a moderator or anyone: not a counter-proposal.
        "Please keep the discussion in this thread rather than starting new ones on the tracker.",
        # Ways out to choose from, not faults.
        'We could do a couple of things:\nA) remove the phrasing "concurrent"\nB) state that'
        " drafts need a thread on the list first.",
        # An endorsement with its reasons: the fault it names is the one the proposal fixes.
        "+1, the XML merge conflicts have bitten us in every release we cut.",
        "Generally +1 from me, the XML schema dance has cost us at least two contributors"
        " that I know of personally.",
        # What follows a question asked only to know is why it is asked.
        "Out of curiosity, do we know which formats people use? I remember the survey asked,"
        " but I don't think the results were ever posted.",
    ],
)
def test_look_alikes_of_harm_done_and_of_headed_objections_raise_nothing(text: str):
    assert findings(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # bench/data/replies/objecting-g.txt's misses (a set a helper wrote without seeing
        # the code; README, "Set g"), each written again in other words.
        "We tried much the same thing in 2019 and had to roll it back within a month.",
        "The new date handling is going to bite anyone who stores timestamps.",
        "The converter would silently strip every comment in the file.",
        "Without a pinned spec version, configs will behave differently across our tools.",
        "I wouldn't approve it in that shape.",
        "Our legal team won't sign off on a new dependency this late.",
        "There's no way the migration lands properly before the freeze.",
        "Slip it to 2.x, please.",
    ],
)
def test_experience_and_plain_consequences_are_objections(text: str):
    assert findings(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "Quick question: isn't this going to break every Windows build?",
        "I'll be honest, I'm not sure how this plays with our plugin loader.",
    ],
)
def test_a_pointed_question_called_quick_and_a_doubt_how_it_fares_are_concerns(text: str):
    assert findings(text) == [text]


def test_points_under_bold_headings_a_count_introduces_are_a_concern_each():
    # A forum writer's list: "**Backports.**" and "**Plugin ABI.**" head its items.
    text = (
        "Mostly in favour, but there are two things I'd want answered first.\n\n"
        "**Backports.** Who is actually going to do them for 24 months? Two people"
        " backport fixes today, and both are tired.\n\n"
        "**Plugin ABI.** If the ABI can change every four months, every plugin vendor"
        " tests against three versions a year."
    )
    found = findings(text)
    assert len(found) == 2
    assert "Who is actually going to do them for 24 months?" in found[0]
    assert "every plugin vendor tests against three versions a year" in found[1]


@pytest.mark.parametrize(
    "text",
    [
        "Should we start the formal vote next week?",
        "Which TOML version are we targeting?",
        "Is it okay if I send my comments by the 14th?",
        "Does anyone know if the Rust side already has a mapping for this?",
        "Can we track this on a project board?",
        "Who's going to shepherd this RFC? Happy to do it if nobody else wants to.",
        "There's no way to configure this today.",
        "We tried this on our staging cluster and it worked fine.",
    ],
)
def test_questions_on_logistics_and_offers_of_help_raise_nothing(text: str):
    assert findings(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # bench/data/replies/objecting-h.txt's misses (another proposal, another helper who
        # saw no code; README, "Set h"), each written again in other words.
        "Strong objection: our charter says only a justified veto can revert a change.",
        "NAK from me on this series.",
        "Meh. Two places to check means nobody checks either.",
        "In ten years nobody will be able to find these threads.",
        "Most of us in Europe won't even have seen it before the window closes.",
        "With a weekly digest the decision is made before I can say anything.",
        "Moving it there would remove me from the discussion entirely.",
        "Requiring an account shuts out contributors behind strict firewalls.",
        "People will quietly stop following design work.",
        "A web forum does none of that.",
        "Getting the tool approved would take months.",
        "The forum is blocked by our corporate proxy.",
        "Lazy consensus only works if everyone reads the forum.",
        "The foundation's policy is pretty clear that the list is the place for decisions.",
        "Has anyone checked whether this is even permitted?",
        "Please confirm the rule isn't retroactive, because as written it could be.",
        "The -1 is for the revert clause, not for the venue.",
        "A governance change needs a formal vote, not a comment thread.",
        "Forum search is dreadful.",
        "For the rest of us it's one more barrier.",
    ],
)
def test_who_it_leaves_out_and_what_it_fails_to_do_are_objections(text: str):
    assert findings(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "Where would the archive live?",
        "When would the new process start?",
        "Which category would design threads go in?",
        "Does this cover the sub-projects? Just want to know which files to update.",
        "The problem is real, and this looks like a sensible way out of it.",
        "Nobody will notice the switch.",
        "The policy says we need three binding votes.",
        "+1 as written.",
    ],
)
def test_questions_about_where_and_when_and_a_problem_the_proposal_solves_raise_nothing(
    text: str,
):
    assert findings(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # bench/data/replies/objecting-i.txt's misses (a third proposal and helper; README,
        # "Set i"), each written again in other words.
        "Dropping it means we either pin 3.x forever or rewrite our plugin.",
        "In notebooks the loop is already running, so 'just use async' isn't an answer.",
        "Loading the new stack added ~200 ms to every cold start in our tests.",
        "Removal strands us on the old release with no security fixes.",
        "We'd have to switch libraries for the course.",
        "That is a lot of extra work landing on distributions.",
        "Half the reverse-dependencies won't port in time.",
        "My team still can't use it because of gevent.",
        "Not keen.",
        "The last project I know that did this lost two big downstream users.",
        "Notebook users will hit a RuntimeError on the first call.",
        "I'd like to hear the case for why this is worth it.",
    ],
)
def test_costs_measured_and_users_driven_away_are_objections(text: str):
    assert findings(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "Which release would the warning land in?",
        "Who's reviewing the PR? Happy to be a second pair of eyes.",
        "Do we have a date for the release candidate yet?",
        "Should this also go in the changelog?",
        "I had the same worry about Django, but async views cover our case now.",
        "Will there be a blog post? I can help with the copy.",
        "I'll need help from the docs team to write the guide.",
    ],
)
def test_questions_about_the_paperwork_and_worries_since_settled_raise_nothing(text: str):
    assert findings(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # bench/data/replies/objecting-k.txt's misses (a build-tool switch; README, "Set
        # k"), each written again in other words.
        "In practice this means we stop shipping updates for the old line.",
        "Two weeks is a bit short for a change this size.",
        "We moved to the new tool in 2020 and went back to the old one a year later.",
        "Please don't start the vote just because nobody replied.",
        "The build fails on Windows with a path error.",
        "Calling the branch 'working' is a bit of a stretch.",
        "The CI side is missing from the proposal.",
        "Rewriting the checklist is weeks of work that nobody has scoped.",
        "Without a remote cache the speed-up is marginal.",
        "I'd rather you didn't call a vote yet.",
        "Half the modules lack their test sources, so no, not yet.",
        "We would be going backwards on supply-chain checks.",
        "+1 in principle.\n\nBut not via a deadline in the middle of the holidays.",
    ],
)
def test_plain_costs_and_not_yet_are_objections(text: str):
    assert findings(text) == [text.split("\n\n")[-1]]


@pytest.mark.parametrize(
    "text",
    [
        "Where's the branch? Can you post a link?",
        "Which JDK version does the build require?",
        "What's the minimum JDK needed to run the build?",
        "Is there a problem with me running the branch on our CI?",
        "For those asking: a -1 on a procedural vote isn't a veto.",
        "I think the branch URL got cut off in your mail?",
        "My concern from last week is resolved after the call.",
        "Will the vote be on dev@ or private@?",
        "But not when using the mirror, as it turns out.",
    ],
)
def test_questions_of_leave_and_where_and_answers_to_others_raise_nothing(text: str):
    assert findings(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "The open question is whether plugins can read both formats.",
        "It is unclear to me whether the loader handles includes.",
        "I wonder whether TOML can express the profile inheritance at all.",
        "We should also think about whether the old format is still needed.",
        "What's not clear is how the migration tool handles comments.",
        "I'd like to understand why we need a second format at all.",
        "It remains to be seen whether users want this.",
        "There is also the question of who maintains the converter.",
        "My question is how this interacts with the IDE integrations.",
        "It's not obvious how plugins would read the new settings.",
    ],
)
def test_an_open_question_stated_rather_than_asked_is_a_concern(text: str):
    assert findings(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "I wonder whether anyone else wants to help with the docs.",
        "I asked whether the build passes on Windows, and it does.",
        "Not sure whether I can make the call tomorrow.",
        "Let me know whether you want me to review it.",
        "I'll check whether the tests pass.",
    ],
)
def test_wondering_about_the_work_or_ones_own_diary_raises_nothing(text: str):
    assert findings(text) == []


def test_a_long_point_is_shown_from_the_sentence_that_states_it():
    # The stated objection opens what is shown, though a later sentence reads likelier.
    [concern] = detected(
        "I am actually not very happy with such an interface. The premise is that stashes"
        " are meant to be shared. But this is not the case. Stashes are strictly personal."
        " If you use stashes for long-lived shared states, then you are doing something"
        " wrong. You should be using branches instead."
    )
    assert concern.text.startswith("I am actually not very happy with such an interface.")


@pytest.mark.parametrize(
    "question",
    [
        "Why should I use this over the existing cache?",
        "How would this work for users behind a proxy?",
        "What happens to existing configs when the default changes?",
        "Isn't this going to double the build time?",
        "Have we considered the impact on downstream packagers?",
        "Who is going to maintain this after the GSoC ends?",
        "Do we really need a second config format?",
        "What's the migration story for people on 2.x?",
    ],
)
def test_a_question_put_to_the_proposal_is_a_concern(question: str):
    assert findings(question) == [question]


def test_a_sentence_going_on_after_dots_is_read_from_its_first_word():
    [concern] = detected("Branches do this already, so...\n\n... why do you need convenience?")
    assert concern.cue == "challenge_question"


@pytest.mark.parametrize(
    "text",
    [
        "No concerns from me, +1.",
        "Any objections?",
        # Asking about the work's logistics, not its merits (README, "Detection").
        "Which branch should I test this on?",
        "What JVM is this? Try the latest Java 8 if not already using it.",
        "Which branch has the prototype?",
        "I see ubuntu. But which one?",
        "What's the JIRA number for this?",
        "Is the meeting on Thursday?",
        "Has anyone tried it on Windows yet? I can test on Linux tomorrow.",
        "Is this ready for review?",
        "Who else wants to help with the docs?",
        "Any idea?",
        "If you have concerns, please say so before Friday.",
        "Not sure what it takes to cut the release.",
        "Not sure exactly the best solution, but old artifacts stay on central for years.",
        "I'm wondering if the code from the other compiler could help with bootstrapping.",
        "Yeah, I think returning -1 is the safe thing to do when the check fails.",
        "If you are happy with the rough edges, then I do not have a problem myself with it.",
        "Your concern about IDE tooling is valid; I added a plugin.",
        "Why -1 on the loader?",
        "Should I worry about this warning in the build?",
        "Then ok, out of scope for now.",
        "I don't know why this does not work any more.",
        "Or give a -1 and tell me what else you expect.",
        "Don't worry, the old format keeps working.",
        "That makes sense, thanks.",
        "I see. Then the loader stays as it is.",
        "As far as I am concerned, the new loader is fine.",
        "That's a shame, but it's good enough for a first release.",
        "Not sure if it's what you're after, but there was a patch for this last year.",
        "Shall we start the FCP?",
        "Is there a cross compiler that can target NonStop?",
        "What is the name of the C++17 compiler that you use on NonStop?",
        "How do you want to proceed to choose the best display?",
        # A scenario walked through: what "you" do in it is not proposed.
        'Instead of "git checkout", you decide to merge the branch, where you have an'
        " ignored file.",
        "Within your company, is it used more as a batch replacement or for streams? Or does it"
        " do both equally well?",
        "Currently, we discuss only candidates here, isn't it?",
        # Checking one's own reading of the story asks to be corrected, not answered.
        "Am I telling the story right?",
        "So did I get the plan right?",
        "I fully understand the concern of the maintenance overhead.",
        "How can I help here?",
        "Is your problem that you don't want those going to Nexus staging?",
        "It's just a copy of the previous commit, so I don't think it's a problem.",
        "Sidebar: what non-controversial things are you thinking of here?",
        "Nit: the second example has a typo.",
        "Nit. Underscores are avoided in config names.",
        "(nit) the second example has a typo.",
        "Minor nit, but the variable name is misleading.",
        "Nitpick: this should be spelled the other way.",
        # The posting went wrong, not the proposal.
        "Perhaps they sent a wrong message after writing the excellent idea-review?",
        "I think this was posted to the wrong list.",
        "That was my mistake, my bad.",
        "Thoughts on how to avoid issues here?",
        "I suspect it wouldn't be too hard to get it working with Clang.",
        "Maybe we should have a --dry-run option, so you can test it without enabling it.",
        "Yeah, and we could also have a hook to run the test your own way.",
        "It might be nice to have a mechanism that updates the shared store instead.",
        "Any plan to update the aggregator file?",
        "Any updates on the release aggregator? Is there anything I can do to help?",
        "This is cool, Andy.\n\nWhich rights do you need?",
        "What causes the branches and all those duplicated commits?",
        "Can you please summarize what needs to be done, or point me the right direction?",
        "Did you also configure your proxy in the settings.xml?",
        "Aside from the slight hassle of enabling it, this feature is great.",
        "I hacked together a setup last week that doesn't suffer from that problem.",
        '"We can solve any problem by introducing an extra level of indirection."',
        # A fault denied, a fault granted on the way to a verdict, an objection denied.
        "Porting the loader to the new API is not hard.",
        # A judgement disowned; a thing pointed out.
        "I am not saying it is better or worse, though.",
        "You will note that the PR references in the mail are not links.",
        # Fault found with what is: the proposal's motivation, not an objection to it.
        "Currently it is not possible to mix pom-less and plain modules in one reactor.",
        "I often move between projects, and having to redo my mirror settings each time is a pain.",
        # Choosing among the options the proposal offers answers it.
        "I think I prefer A to B, for the sake of clarity and simplicity.",
        # The proposal read back.
        "The way I read this proposal it isn't saying we can't break APIs, just to be careful.",
        # A hard link is a kind of link, not a judgement.
        "So yeah, a perfectly reasonable approach, if you don't mind the hard link requirement.",
        "If you have different needs, do not feel bad about having to encode differently.",
        "Coming up with a special syntax, even if that syntax is ugly and cumbersome to"
        " type, would be perfectly OK.",
        "If we were to have the precious class, I would not oppose teaching git clean about"
        " it, too.",
        "+1",
        "Ok, I was confused by the different takes on the 3.0.0 release.",
        # Look-alikes of the forms in test_common_forms_of_objection_raise_one_concern.
        "I rebased and resolved the conflicts with main.",
        "We use a different tag format to avoid clashes with the other repository.",
        "Slightly less than that on faster disks, slightly more than that on slower ones.",
        "Which version of the compiler are you using?",
        "I don't want to block this, so go ahead.",
        "The new release fixes the showstopper bug from 3.1.",
        "Could you rebase on main when you get a chance?",
        "Let me know if anything is unclear.",
        "Any volunteers to write the migration guide?",
        "There was a -1 from Bob in the earlier thread, but he withdrew it.",
        "I'm a +1 on this.",
        "I like the new syntax too, since it reads like the old one.",
        "The old loader was slower and harder to debug, which is why we rewrote it.",
        "The RFC addresses all of the feedback from the last round.",
        "The forum will mirror every post to the mailing list, so email users lose nothing.",
        "The migration tool rewrites the manifests automatically, so plugin authors don't have to.",
        "As of Maven 3.3.0 the model is no longer run-time mutable.",
        "We'll hold the vote open for a week because of the holidays.",
        "Please keep the object-store code under contrib/ so it can be switched off.",
        # A +1 whose fault is with what the proposal replaces; harm the change prevents.
        "+1 for the status enum, the errno thing is really confusing for us.",
        "+1, this is what we've been doing informally anyway, and having it written down means"
        " we stop relitigating it every release.",
        "This will fix the crashes we see on ARM.",
        # The writer's own trouble with what exists, and what should be done about it: a
        # wish weighed, not the proposal challenged.
        "Another problem I struggle with is flaky tests and their retries. Should a test"
        " runner retry failures by itself? Should we introduce a quarantine list?",
        # An "in favour" and the fault of what the proposal replaces.
        "Strongly in favour. The double registration is also why our router benchmarks look"
        " so bad next to everyone else's.",
        "The current situation where a fix is in 3.4.7 but not in 3.5.2 has confused more than"
        " one user.",
        # The problem word, denied.
        "Fedora is no problem, rawhide is on GCC 15 and every supported Fedora release is well"
        " past 11.",
        # An aside its writer marks as one.
        'Tangent: if "frozen" is becoming a status, two other modules are in much the same'
        " state. Should we write the freeze policy down once?",
        # A failure told, and the proposal credited with the fix.
        "We hit this in production last year: a broken upstream returned a 3 GB body to a"
        " health checker and the pod was OOM-killed every few minutes until someone noticed."
        " Would have been a one-line fix with this.",
        # Asking a reviewer for a look, and an obstacle denied.
        "@carol when you have time, do you think the new example in the guide is sufficient?",
        "But the point is, I don't think there's a real reason that the loader can't wrap the"
        " existing XML reader.",
        # An information question asked on with the answers to choose from.
        "What's the plan for the C# bindings? Same renames in the same release, or later?",
        # A housekeeping note, and questions that say they only ask.
        "Small housekeeping note: please use reactions on the issue instead of +1 comments"
        " so the thread stays readable.",
        "One question before we get to a vote: do we have any numbers on what JVMs people"
        " actually run?",
        "Also, just so I understand: does any of this affect const evaluation, or is that"
        " already always checked?",
        # Asking where the concerns stand.
        "Have all remaining concerns about this proposal been addressed?",
        # A -0 withdrawn for a +1 on the answer's terms.
        "So I'm changing my position: I withdraw my -0 and I'm +1, as long as the label"
        " scheme in the sandbox is the one we actually adopt.",
        # The chair speaking as chair, for the whole post.
        "Chair hat on. We have a standing formal objection that the objector says further"
        " discussion won't resolve.\n\nA simple majority decides, and I'll open the vote on"
        " Monday. If you think the question is worded unfairly, it is a real problem, say so"
        " before then.",
        # A question its writer says is not an objection.
        "Question for clarification, not an objection: what happens to packages that need"
        " the old reader but aren't plugins themselves? Won't they break?",
        # A remark on how the matter is run, marked as one.
        "Procedural: I'm travelling that week with very patchy connectivity. Could the vote"
        " stay open until the 21st? I'd rather not vote on something this big from a phone.",
        "Chair hat on. We have a standing formal objection that the objector says further"
        " discussion won't resolve, so under the charter this goes to a vote.",
        "Process note from the steering group: this is still a pitch, so nothing here is a"
        " decision either way; the revised draft is the thing to object to.",
    ],
)
def test_look_alikes_raise_nothing(text: str):
    assert findings(text) == []


@pytest.mark.parametrize(
    ("sentence", "reads_as"),
    [
        # A building block is a thing; "they block graduation" finds fault.
        ("Nothing is stopping you from building something around this building block.", None),
        ("An unsafe block in an unsafe fn should need no comment.", None),
        ("They block graduation from the Incubator.", "negative_judgement"),
        # "Add any comments below" asks nothing; "Any comments?" does.
        ("I add any comments below the --- line.", None),
        ("Do you have any comments on the new layout?", "information_question"),
        # What a vote adopts is the proposal: "the draft resolution", "the charter".
        ("I do not feel the draft resolution addresses the remarks made.", "refers_to_proposal"),
        ("The charter should say which languages the PMC covers.", "refers_to_proposal"),
        # Fault found with what is, even in "the profile section"; not with "this rule".
        ("I often can't add servers into the profile section, which is a pain.", None),
        ("Currently this rule breaks the release of every plugin.", "negative_judgement"),
        # A wrong message posted is about the list; one the program shows is a fault.
        ("The dialog shows a wrong message when the file is missing.", "negative_judgement"),
        ("Perhaps they sent a wrong message to the list.", "meta"),
    ],
)
def test_a_word_is_read_in_its_sense(sentence: str, reads_as: str | None):
    [unit] = units_of(sentence)
    found = cues_of(unit)
    if reads_as is None:
        assert not found & {"negative_judgement", "information_question"}
    else:
        assert reads_as in found


@pytest.mark.parametrize(
    ("text", "after_approval"),
    [
        # "I like it. But ...": the agreement colours what follows it in its paragraph.
        ("I like the idea. But the loader has to know both formats.", True),
        # A "+1" that closes a paragraph does not make the next paragraph's fallback a "but".
        (
            "So just a +1.\n\nIf that doesn't work for whatever reason maybe we can amend"
            " the template.",
            False,
        ),
    ],
)
def test_an_approval_colours_only_its_own_paragraph(text: str, after_approval: bool):
    units = units_of(text)
    features = features_of(units, len(units) - 1, PostContext(), intro_is_concerns=False)
    assert features["approval_before"] == float(after_approval)


def detected(text: str, author: Person = BOB) -> list[Concern]:
    """The concerns the ledger records for one reply to the proposal."""
    reply = post(2, author, text, reply_to=1)
    return [c for c in ledger(root(), reply).concerns if c.source is ConcernSource.DETECTED]


def test_a_bare_minus_one_takes_its_reason_from_the_next_lines():
    text = "-1\nchecksums are checksums, not security\nuse signatures for security"
    [found] = detected(text)
    # The lower-case lines go on the sentence the first one starts (the mail was wrapped).
    assert found.sentences == (
        "-1",
        "checksums are checksums, not security use signatures for security",
    )
    assert found.title.startswith("Checksums are checksums, not security")


def test_pointed_questions_count_only_when_put_to_someone_else():
    question = "Who is going to maintain the TOML parser?"
    assert findings(question) == [question]
    assert findings("What's the objective? YAML already works.") == [
        "What's the objective? YAML already works."
    ]
    # Asked of oneself, or in a proposal, a question is thinking aloud.
    assert findings(question, author=ALICE) == []
    assert ledger(post(1, ALICE, question)).concerns == ()
    # Questions asking for information are not challenges.
    assert findings("Any update on the release date?") == []


def test_a_sentence_saying_it_adds_another_point_starts_a_concern_of_its_own():
    text = (
        "So files don't say their format until they are loaded? That makes tooling harder? "
        "Also, don't we want to keep the XML schema around as a record?"
    )
    assert findings(text) == [
        "So files don't say their format until they are loaded? That makes tooling harder?",
        "Also, don't we want to keep the XML schema around as a record?",
    ]


def test_what_its_writer_marks_as_a_nit_is_no_concern():
    items = (
        "\n\n- The loader reads the old file twice, which is wasteful.\n"
        "- The name `cfg2` is misleading.\n\nOtherwise it looks good."
    )
    assert findings("Nits:" + items) == []
    assert "The loader reads the old file twice, which is wasteful." in findings(
        "A few concerns:" + items
    )
    # A nit beside a real point: the point stands.
    assert findings(
        "Minor nit, but the name `cfg2` is misleading.\n\n"
        "My real worry is that the loader reads the old file twice."
    ) == ["My real worry is that the loader reads the old file twice."]


def test_a_caveat_on_the_writers_own_alternative_is_no_concern():
    # The way out is the writer's, and so is the drawback they find in it.
    assert (
        findings(
            "I like the direction.\n\nYou could try to cache the parsed file, but then you"
            " have to invalidate it on every write. Which is complex and still not foolproof."
        )
        == []
    )
    assert (
        findings(
            "As an alternative, we could ship the old loader for one more release.\n\n"
            "Note that this is not a long-term solution, though, and I am leery of keeping it."
        )
        == []
    )
    # Back on the proposal, the fault is a concern again.
    assert findings(
        "Alternatively, we could keep XML for now.\n\n"
        "The proposal breaks every existing config, though, which worries me."
    ) == ["The proposal breaks every existing config, though, which worries me."]


def test_that_being_said_turns_against_what_came_before():
    text = (
        "I am fine with shipping it behind a flag first.\n\n"
        "That being said, I believe this only serves to delay a decision that needs to be made."
    )
    assert findings(text) == [
        "That being said, I believe this only serves to delay a decision that needs to be made."
    ]


def test_granting_a_suggestion_and_turning_against_it_is_a_concern():
    suggestion = post(2, CAROL, "We could merge the loader into core.", reply_to=1)
    text = (
        "Looking at the diagram, the loader is a separate box.\n\n"
        "Merging it into core is an interesting option, but I think the loader is "
        "isolated enough to deserve its own artifact."
    )
    assert findings(text, replying_to=suggestion) == [
        "Merging it into core is an interesting option, but I think the loader is isolated "
        "enough to deserve its own artifact."
    ]


def test_a_flat_no_refuses_a_statement_but_answers_a_question():
    assert findings("No. That needs a model version bump.") == [
        "No. That needs a model version bump."
    ]
    for question in ("This is like MNG-6118, right?", "Is this MNG-6118?", "Any objections?"):
        asked = post(1, ALICE, question)
        assert findings("no: MNG-6118 is about something else", replying_to=asked) == []


def test_code_and_commands_are_not_prose():
    text = (
        "```\n# I am concerned that this example is contrived\n```\n"
        "@quorum concern perf: I worry about write latency\n"
    )
    assert findings(text) == []


# --------------------------------------------------------------------------
# One concern per point
# --------------------------------------------------------------------------


def test_two_softeners_before_disagree_still_disagree():
    text = (
        "This seems like a change without much real-world code that would benefit. I also tend"
        " to disagree with the idea of minimizing the scope of the block."
    )
    [concern] = ledger(root(), post(2, BOB, text, reply_to=1)).concerns
    assert concern.title == "I also tend to disagree with the idea"
    assert concern.text == text  # shown with the reason its paragraph gives
    assert concern.cue == "worry"  # what the reader is shown as the why


def test_seconding_an_objection_raises_it_again_as_ones_own():
    raised = post(2, BOB, "I am worried that the loader turns itself off after an upgrade.")
    seconded = post(
        3,
        CAROL,
        "I share the exact thought, and would also want to know the answers.",
        reply_to=2,
    )
    assert [c.raised_by for c in ledger(root(), raised, seconded).concerns] == [BOB, CAROL]


def test_agreeing_with_an_objector_by_name_raises_the_objection_again():
    raised = post(2, BOB, "I am worried that the loader turns itself off after an upgrade.")
    seconded = post(3, CAROL, "I agree with Bob that the loader is fragile.", reply_to=2)
    assert [c.raised_by for c in ledger(root(), raised, seconded).concerns] == [BOB, CAROL]


def test_agreeing_with_the_proposer_by_name_raises_nothing():
    raised = post(2, BOB, "I am worried that the loader turns itself off after an upgrade.")
    sided = post(
        3,
        CAROL,
        "I agree with Alice that maybe we can revisit the loader once TOML has landed.",
        reply_to=2,
    )
    assert [c.raised_by for c in ledger(root(), raised, sided).concerns] == [BOB]


def test_seconding_an_approval_raises_nothing():
    approved = post(2, BOB, "This looks great, TOML is much easier to read.")
    seconded = post(3, CAROL, "I share the exact thought, nice work.", reply_to=2)
    assert ledger(root(), approved, seconded).concerns == ()


def test_a_point_put_another_way_is_the_same_point():
    text = (
        "I am worried that the vote needs too many rounds.\n\n"
        "Or to put it another way, I'd like to optimize for the happy path."
    )
    # One point, shown with the paragraph that says it again.
    [found] = findings(text)
    assert found.startswith("I am worried that the vote needs too many rounds.")


def test_asking_the_way_forward_before_ones_own_answer_is_no_point():
    text = (
        "I am not sure I see the value of such a strict schema.\n\n"
        "So how to proceed? I can rebase this onto the old branch, or alternatively "
        "we could finish the old branch first and follow up here."
    )
    assert findings(text) == ["I am not sure I see the value of such a strict schema."]


def test_cue_sentences_on_one_line_are_one_point():
    text = "Who is going to do this? Nobody did the last port. I doubt it happens."
    assert len(findings(text)) == 1


def test_each_paragraph_with_a_cue_is_a_point_of_its_own():
    text = (
        "Who is going to do this? I doubt it happens.\n\n"
        "Consider that the old plugins need attention first.\n\n"
        "The problem with this is that IDEs do not support TOML."
    )
    assert findings(text) == [
        "Who is going to do this? I doubt it happens.",
        "Consider that the old plugins need attention first.",
        "The problem with this is that IDEs do not support TOML.",
    ]


def test_each_item_of_a_summarized_concern_list_is_one_concern():
    text = (
        "Thanks for writing this up. I would summarize my concerns as follows:\n\n"
        "1. The migration tool does not exist yet.\n"
        "2. Plugins read the XML directly,\n"
        "   and would all need a release.\n"
        "3. Two formats double the documentation.\n\n"
        "Happy to help with the tool. I also worry about the release date."
    )
    found = detected(text)
    assert [f.text for f in found] == [
        "The migration tool does not exist yet.",
        "Plugins read the XML directly, and would all need a release.",
        "Two formats double the documentation.",
        "I also worry about the release date.",
    ]
    assert found[1].title == "Plugins read the XML directly"


@pytest.mark.parametrize(
    ("text", "points"),
    [
        # Written for lists nobody labelled (README, "Lists of concerns").
        (
            "A few issues with this proposal:\n\n(a) it breaks the plugin API\n"
            "(b) nobody has volunteered to maintain it\n(c) the benchmarks are missing\n",
            [
                "it breaks the plugin API",
                "nobody has volunteered to maintain it",
                "the benchmarks are missing",
            ],
        ),
        (
            "Some drawbacks:\n\n* Startup gets slower by about 200ms.\n"
            "* Windows support is unclear.\n",
            ["Startup gets slower by about 200ms.", "Windows support is unclear."],
        ),
        (
            "I see three problems here.\n\nFirst, the schema change is not backwards"
            " compatible.\n\nSecond, the rollout plan skips the canary stage.\n\n"
            "Third, there is no way to roll back.\n",
            [
                "First, the schema change is not backwards compatible.",
                "Second, the rollout plan skips the canary stage.",
                "Third, there is no way to roll back.",
            ],
        ),
        (
            "Overall I like it, but:\n\n#. The name clashes with an existing module.\n"
            "#. The docs do not mention the new default.\n",
            [
                "The name clashes with an existing module.",
                "The docs do not mention the new default.",
            ],
        ),
        (
            "My main objections:\n\nI. Cost: running the extra CI job doubles our monthly"
            " bill.\nII. Complexity: contributors need two toolchains.\n",
            [
                "Cost: running the extra CI job doubles our monthly bill.",
                "Complexity: contributors need two toolchains.",
            ],
        ),
    ],
)
def test_every_item_of_a_list_of_concerns_is_a_point_however_it_is_written(
    text: str, points: list[str]
):
    assert findings(text) == points


@pytest.mark.parametrize(
    ("objection", "suggestion"),
    [
        (
            "I am worried that the loader breaks old plugins.",
            "I would suggest that we ship the loader in a separate artifact instead.",
        ),
        (
            "Why does the loader have to break old plugins?",
            "Alternatively, we could ship the loader in a separate artifact.",
        ),
    ],
)
def test_a_suggestion_made_beside_an_objection_is_not_a_second_concern(
    objection: str, suggestion: str
):
    text = f"{objection}\n\n{suggestion}\n\nThanks for writing this up, the rest looks good."
    assert findings(text) == [objection]


def test_a_list_introduced_as_ways_around_an_issue_raises_no_concern_per_item():
    fear = "I have only one fear: the loader's API changes and we must release three times."
    text = (
        f"{fear}\n\n"
        "Perhaps there is another simplification idea that would avoid this issue:\n"
        "- merge the demos into the loader's master, since they are never released\n"
        "- keep the Ant tasks in a branch of their own\n"
    )
    assert findings(text) == [fear]


def test_a_bare_stance_beside_the_point_it_sums_up_is_not_a_second_concern():
    point = "I'm concerned that keeping the loader inside one company puts newcomers off."
    assert findings(f"{point}\n\nFor now, I'm not so sure.") == [point]
    # Alone, the stance is the post's point.
    assert findings("For now, I'm not so sure.") == ["For now, I'm not so sure."]


def test_wondering_whether_something_could_be_done_suggests_rather_than_doubts():
    reply = post(2, BOB, "I wonder, since the scopes are free text, could the loader read a list?")
    [concern] = ledger(root(), reply).concerns
    assert concern.cue == "counter_proposal"


def test_a_cue_inside_a_list_item_takes_the_whole_item():
    text = "Two options:\n\n1. Move the loader into core. That ties the releases. I am not a fan.\n"
    assert findings(text) == ["Move the loader into core. That ties the releases. I am not a fan."]


def test_the_same_point_made_again_later_is_a_repeat_not_a_new_concern():
    first = post(2, BOB, "I have only one fear: releasing the loader and the plugins together.")
    again = post(4, BOB, "In summary, -1 to releasing the loader and the plugins together.")
    other = post(5, BOB, "I am also concerned that the docs are not ready.")
    concerns = ledger(root(), first, post(3, ALICE, "Noted.", reply_to=2), again, other).concerns
    assert [c.post for c in concerns] == ["<p2@example.org>", "<p5@example.org>"]
    assert concerns[0].repeated_in == ("<p4@example.org>",)


def test_a_point_its_writer_says_they_made_before_is_a_repeat_whatever_its_words():
    first = post(2, BOB, "I have only one fear: an API change forces a release of every plugin.")
    again = post(4, BOB, "As I said earlier: +1 to merge the demos, -1 to merge the Ant tasks.")
    concerns = ledger(root(), first, post(3, ALICE, "Noted.", reply_to=2), again).concerns
    assert [c.post for c in concerns] == ["<p2@example.org>"]
    assert concerns[0].repeated_in == ("<p4@example.org>",)
    # Said first here ("as I said in the JIRA"), it is a point of its own.
    elsewhere = post(2, BOB, "As I said in the JIRA, -1 to merge the Ant tasks.")
    assert [c.post for c in ledger(root(), elsewhere).concerns] == ["<p2@example.org>"]


def test_agreement_then_an_opinion_turned_against_the_practice_is_an_objection():
    objection = (
        "However, I think that the recent practice of discussing proposals on a private list"
        " is highly problematic."
    )
    text = (
        "I agree that this is a concern. I also think it is important to give the advocates"
        f" space.\n\n{objection} The board may decide, but the discussion needs to be"
        " visible.\n\nMy preference would be to ask the advocates which public list they want"
        " to use. As far as I am concerned, they would be welcome to use this list."
    )
    # Said in answer to Carol's worry, and opening with agreement: a post that reads as
    # support, except for the one sentence a chair must not miss.
    worry = post(2, CAROL, "I am worried that nobody outside the board sees the proposals.")
    assert findings(text, replying_to=worry) == [
        f"{objection} The board may decide, but the discussion needs to be visible."
    ]


def test_a_point_whose_shown_text_neither_objects_nor_asks_is_no_concern():
    # The question moves the process on; the likelier-sounding remark beside it approves.
    proposal = post(1, ALICE, "I propose that we stabilise try_borrow as it is.")
    reply = post(
        2,
        BOB,
        "The error types do have a lifetime parameter now. Can we go to FCP and bikeshed"
        " the naming in that period? (I think the naming is fine.)",
        reply_to=1,
    )
    assert ledger(proposal, reply).concerns == ()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # The same subject, another point.
        (
            "I am worried that the loader reads every plugin descriptor at startup.",
            "I am also worried that plugin descriptors stay on the surefire test classpath,"
            " which changes behaviour.",
        ),
        # A long new point sharing a few words with a short earlier one.
        (
            "I am worried about keeping the Ant tasks in a branch until one day.",
            "The only issue I see is the mix of the resolver on one host and the Ant tasks on"
            " another, with mirrors, notifications and permissions set up twice: one day it moves.",
        ),
    ],
)
def test_a_second_point_by_the_same_person_is_a_concern_of_its_own(first: str, second: str):
    raised, again = post(2, BOB, first), post(4, BOB, second)
    concerns = ledger(root(), raised, post(3, ALICE, "Noted.", reply_to=2), again).concerns
    assert [c.post for c in concerns] == ["<p2@example.org>", "<p4@example.org>"]
    assert concerns[0].repeated_in == ()


# --------------------------------------------------------------------------
# The ledger: answered, resolved, withdrawn
# --------------------------------------------------------------------------


def test_answered_then_resolved_by_its_author_links_both_posts():
    raised = post(
        2, BOB, "I am concerned that the migration breaks existing deployments.", reply_to=1
    )
    answer = post(3, ALICE, "The loader reads both formats for two releases.", reply_to=2)
    accepted = post(4, BOB, "Fair enough, that addresses my concern.", reply_to=3)
    [concern] = ledger(root(), raised, answer, accepted).concerns
    assert concern.state is ConcernState.RESOLVED
    assert concern.source is ConcernSource.DETECTED
    assert concern.post == "<p2@example.org>"
    assert [a.post for a in concern.answered_by] == ["<p3@example.org>"]
    assert concern.resolved_by is not None
    assert (concern.resolved_by.post, concern.resolved_by.author) == (
        "<p4@example.org>",
        "Bob Baker",
    )


def test_a_long_answer_settles_only_the_point_a_paragraph_takes_up():
    plugins = post(2, BOB, "I am concerned that the migration breaks the old plugins.", reply_to=1)
    startup = post(3, CAROL, "I am worried that parsing both formats slows startup.", reply_to=1)
    answer = post(
        4,
        ALICE,
        "Thanks both, answers inline.\n\n"
        "+1 on a migration guide for the old plugins; I will write it.\n\n"
        "Startup: parsing happens once per build, and the cache keeps it.\n\n"
        "More on the loader next week, once the prototype runs on the big builds.",
        reply_to=1,
    )
    concerns = {c.raised_by.display: c for c in ledger(root(), plugins, startup, answer).concerns}
    assert concerns["Bob Baker"].state is ConcernState.RESOLVED
    assert concerns["Bob Baker"].resolution == "adopted"
    assert concerns["Carol Chen"].state is ConcernState.ANSWERED


def test_the_proposers_change_in_reply_to_a_point_settles_that_point_not_the_older_one():
    older = post(2, BOB, "I am concerned that the migration breaks old plugins.", reply_to=1)
    newer = post(
        3, CAROL, "We should wait until the TOML parser is stable to drop XML.", reply_to=2
    )
    # Top-posted above both points, as flink's FLIP-321 answer was: the change is in its
    # second paragraph, and shares no words with the point it takes up.
    answer = post(
        4,
        ALICE,
        "Hi Bob and Carol,\n\nThanks for the replies. Yes, that was always the plan.\n\n"
        "It is a fair point that the condition belongs in the RFC. I just added that to the"
        " document. This is more of a clarification than a change.\n\n"
        "If we agree, I'll start a vote in two days.",
        reply_to=3,
        quoted=(newer.text, older.text),
    )
    answer = replace(answer, quote_at=(20, 21))
    concerns = {c.raised_by.display: c for c in ledger(root(), older, newer, answer).concerns}
    assert concerns["Carol Chen"].state is ConcernState.RESOLVED
    assert concerns["Carol Chen"].resolution == "adopted"
    assert concerns["Bob Baker"].state is ConcernState.ANSWERED
    assert [a.post for a in concerns["Bob Baker"].answered_by][-1] == answer.key


def _after_the_proposers_answer(answer: str) -> Concern:
    """Bob's concern, once Alice (the proposer) answers it with ``answer``."""
    raised = post(2, BOB, "I am concerned that the migration breaks old plugins.", reply_to=1)
    [concern] = ledger(root(), raised, post(3, ALICE, answer, reply_to=2)).concerns
    return concern


@pytest.mark.parametrize(
    "answer",
    [
        # The proposer agrees outright, however much more they go on to say.
        "Thanks for the reply. I completely agree with you. The two options assumed we could not"
        " maintain the old loader for long. We should try everything to keep it. It is a lot of"
        " work. Let us plan for it in the next release.",
        "Yes, we should add a migration guide for the old format.",
        "As suggested, I added a section on migrating plugins.",
        "Thanks for the feedback. I reconsidered the design based on your comments: the loader"
        " no longer rewrites files.",
        "Returning an error is the safe thing. But I am ok to add a warning too.",
        "Thanks, I agree with your point after looking more closely. I had overstated what"
        " this adds. For a single case, the current code already works. The rest is in the"
        " guide. More soon.",
        "Thank you for such a detailed response! Everything you mention makes a lot of sense."
        " We do not want to break old plugins. To that end, I will talk to the plugin authors."
        " We also plan a guide. More next week.",
        # Conceding the fault, or finding the point reasonable.
        "Yeah, that does seem fuzzy in retrospect. Maybe the migration should wait a release?",
        "Sounds reasonable to me, the old plugins matter.",
        # The proposal says so already.
        "Yes as mentioned in the migration section.",
    ],
)
def test_the_proposer_taking_a_point_up_resolves_it(answer: str):
    concern = _after_the_proposers_answer(answer)
    assert concern.state is ConcernState.RESOLVED
    assert concern.resolution == "adopted"


@pytest.mark.parametrize(
    "answer",
    [
        "I agree that the migration matters. But I think the loader must rewrite files anyway.",
        "You are right that it is work, but I do not think we should keep the old loader.",
        # Turning the ask down, whatever is offered instead.
        "Bob, on the plugins: I did look at keeping the old loader. It costs about 20% at"
        " startup, so I don't think we can keep it for everyone. What I can do is add a"
        " section to the upgrade guide. I know that's not quite what you asked for.",
    ],
)
def test_the_proposer_agreeing_in_part_and_arguing_on_does_not_resolve(answer: str):
    concern = _after_the_proposers_answer(answer)
    assert concern.state is ConcernState.ANSWERED


def _after_the_raisers_reply(reply: str) -> Concern:
    """Bob's concern, once Alice answers it and Bob replies to her answer with ``reply``
    (which may raise a point of its own: "Thanks, but I still think ...")."""
    raised = post(2, BOB, "I am concerned that the migration breaks old plugins.", reply_to=1)
    answer = post(3, ALICE, "The loader reads both formats for two releases.", reply_to=2)
    found = ledger(root(), raised, answer, post(4, BOB, reply, reply_to=3)).concerns
    [concern] = [c for c in found if c.post == raised.key]
    return concern


@pytest.mark.parametrize(
    "acceptance",
    [
        "Good point, I didn't mean to argue against the proposal.",
        "That's a shame, but it's good enough for a first release.",
        "Sounds reasonable to me.",
        "Thanks for the clarification, I missed that.",
        "Fair enough.",
        "OK, that makes sense. Withdrawn.",
        "You convinced me.",
        "I stand corrected.",
        "Got it, thanks. No objection then.",
        "That addresses my concern.",
        "I'm fine with that then.",
        "Works for me.",
        "Ah, I missed that part of the proposal. All good.",
        "OK, I can live with that.",
        # Threads written blind (bench/data/threads), in other words.
        "Named owners cover my worry about the plugins.",
        "With the converter, my worry about old plugins is mostly gone.",
        "Thanks, both of my points are addressed.",
        "The loader answer is fine by me.",
        "The converter was the missing piece for us. Consider me on board.",
        "That's what we needed.",
        "That rule is what I was hoping for.",
        "A converter, of course. That settles it for me, thanks.",
        "With the converter, the plugin team has no objection to v2.",
        "Deprecation warnings in 2.9 is exactly what I was asking for, thanks.",
        "The chaining semantics in the updated text look right to me, resolving my thread.",
        "The new section answers both of my questions, thanks.",
        "Thanks, that's all I wanted there.",
        "The two-release window covers my use case. Thanks for taking it on.",
        "Reading both formats for a while works for me, thanks.",
        "With the two-release window, I'm +1.",
        "Those numbers convince me.",
        "I am very happy with that.",
        "Ah, I was going off the 1.x behaviour. If it reads both now, no problem from my side.",
        "That covers the plugins I know of. OK from me.",
        # Stop 43's sets (r, s, t and the ones read before them).
        "The loader covers what our harness was catching, so no objection from us any more.",
        "One year is OK for us.",
        "Fine then, the old plugins were never supported anyway.",
        "LGTM now.",
        "I accept there's no way around that.",
        "You're right, that was fixed in 2022. Ignore me.",
        "I'm happy on that one.",
        "I can live with the break.",
        "The double-read takes care of what I was worried about.",
        "Reading both formats is exactly what I was after.",
        # Stop 49's sets (bm, bn and the read ones' resolved labels).
        "Thanks, that answers the plugin question.",
        "That solves my problem, thanks!",
        "Good to know, so please ignore my point 2.",
        "With both formats read I have no objection.",
        "Huh, didn't know about that. Withdrawn.",
        "Looks good. I can write the converter's docs if you like.",
        "Two releases would work for us.",
        "I'm fine on that point.",
        "With the loader, two releases is OK for our plugins.",
        "My earlier worry about old plugins is handled by the loader.",
        # Stop 50's set by.
        "OK, I did not know the loader reads both, then my concern is much smaller.",
        "Support for two releases is more than I expected, thank you.",
        "Your numbers reassured me more than I expected.",
        "Separate loader covers it, thanks.",
        "Ah, TIL about the trailers. That covers it for me, thanks.",
        "Reading both formats, and the warning: that's what I had in mind.",
        "And if infra is happy with the storage, so am I.",
        # Stop 51's set cl.
        "Re-ran the plugin tests on the branch. Happy with that. Consider my concern addressed.",
    ],
)
def test_the_raiser_accepting_the_answer_resolves_it(acceptance: str):
    concern = _after_the_raisers_reply(acceptance)
    assert concern.state is ConcernState.RESOLVED
    assert concern.resolution == "accepted"


@pytest.mark.parametrize(
    "reply",
    [
        "Thanks, but I still think the loader should not rewrite files.",
        "OK, but that doesn't address the plugins that parse XML themselves.",
        "Fair point, however the old plugins will still break.",
        "I understand, yet I remain worried about the plugins.",
        # An opening that accepts settles nothing when the rest argues on.
        "Thanks for the explanation. I still worry that the plugins parse the XML.",
        "Works for me. The plugins that parse the XML themselves still break, I fear.",
    ],
)
def test_the_raiser_arguing_on_does_not_resolve(reply: str):
    assert _after_the_raisers_reply(reply).state is ConcernState.ANSWERED


@pytest.mark.parametrize(
    "reply",
    [
        "With the two-release window, I'm +1 on the idea but the plugins still break.",
        "Reading both formats does not work for me.",
        "LGTM, but the plugins still break.",
        "Two releases is not OK for us.",
        "Looks good on paper, but the plugins still break.",
        "I have no objection to the loader, but the plugins that parse XML still break.",
    ],
)
def test_the_raiser_saying_it_still_fails_them_does_not_resolve(reply: str):
    assert _after_the_raisers_reply(reply).state is ConcernState.ANSWERED


def test_concerns_about_the_options_listed_are_still_concerns():
    text = (
        "My concerns with both options:\n\n"
        "1. Keeping XML breaks the plugin API in 3.0 anyway.\n"
        "2. Dropping XML leaves every plugin author with a migration."
    )
    assert len(findings(text)) == 2


def test_numbered_points_under_a_count_are_a_concern_each():
    text = (
        "Two things from me.\n\n"
        "1) Blast radius. We see a handful of checksum errors a month on old disks. With one"
        " shared log, a torn header could take out the recent writes of every module.\n\n"
        "2) The cache plugin that a lot of people use reads the XML directly to decide when"
        " a module has gone cold. It's going to break on day one."
    )
    found = findings(text)
    assert len(found) == 2, found
    assert found[1].endswith("It's going to break on day one.")


def test_the_items_of_a_counted_list_are_points_however_mildly_the_post_reads():
    text = (
        "Mostly +1. I maintain a plugin that still supports 1.x. Two things:\n\n"
        "1. Please announce each format change one release ahead. If 2.1 just shows up"
        " reading TOML only, my 1.x CI starts silently installing 2.0 and I only notice when"
        " a test fails.\n"
        "2. When in the release cycle are formats dropped, at feature freeze or at release"
        " time? (Purely so I know when to look.)"
    )
    found = findings(text)
    assert len(found) == 1, found
    assert found[0].startswith("Please announce each format change one release ahead.")


def test_a_point_after_a_plus_one_paragraph_is_a_concern():
    text = (
        "+1 on the idea. We run a converter of our own across 400 repositories.\n\n"
        "One lesson from that: keeping the old file only in memory is a mistake. Whatever"
        " we end up with, the original has to survive a crash of the converter."
    )
    assert len(findings(text)) == 1


def test_a_question_announced_as_one_in_a_count_is_asked_not_raised():
    text = (
        "Two things.\n\n"
        "First, a question: the distribution builds 32-bit packages as well. Is that ours to"
        " decide, or is it up to its maintainers? I honestly don't know how that works.\n\n"
        "Second, about keeping the 32-bit code paths until 2.2: I'm not a fan. If nobody"
        " tests them, those paths will rot quietly."
    )
    found = findings(text)
    assert len(found) == 1, found
    assert found[0].startswith("Second, about keeping the 32-bit code paths")


def test_the_proposer_saying_yes_to_a_suggestion_takes_it_up_and_raises_nothing():
    suggestion = post(
        2,
        CAROL,
        "Could we:\n1. warn on import in 1.9,\n2. stop early with a clear message in 2.0?",
        reply_to=1,
    )
    answer = post(
        3,
        ALICE,
        "Yes to all three. I've added them to the draft.\n\n"
        "Bob, on your points:\n\n"
        "- Plugins: their maintainers decide what they build. I've told them, but it's not"
        " ours to switch off.\n"
        "- Old code paths: you've convinced me. Keeping untested code around is exactly how"
        " we ended up with the shims nobody dared to delete.",
        reply_to=2,
    )
    raised = ledger(root(), suggestion, answer).concerns
    assert [c for c in raised if c.raised_by == ALICE] == []


def test_a_change_promised_to_someone_else_by_name_settles_nothing_of_the_raisers():
    raised = post(2, BOB, "I am concerned that the migration breaks old plugins.", reply_to=1)
    tested = post(3, CAROL, "I tried the converter on 40 repositories: all fine.", reply_to=1)
    answer = post(
        4,
        ALICE,
        "Carol, thank you for testing, that's reassuring. I'll add your numbers to the doc.\n\n"
        "Bob, on the plugins: I did look at keeping the old loader. It costs about 20% at"
        " startup, so I don't think we can keep it for everyone. What I can offer is a"
        " section on it in the upgrade guide.\n\nI'll leave this open until Friday.",
        reply_to=2,
    )
    [concern] = ledger(root(), raised, tested, answer).concerns
    assert concern.state is ConcernState.ANSWERED


def test_the_raiser_saying_the_change_is_no_fix_for_them_reopens_it():
    raised = post(2, BOB, "I am concerned that the migration breaks old plugins.", reply_to=1)
    adopted = post(3, ALICE, "Good point, I've updated the doc with a plugin section.", reply_to=2)
    assert ledger(root(), raised, adopted).concerns[0].state is ConcernState.RESOLVED
    again = post(
        4,
        BOB,
        "Documenting it is better than nothing, but it's not really a fix for us.",
        reply_to=3,
    )
    [concern] = ledger(root(), raised, adopted, again).concerns
    assert concern.state is ConcernState.ANSWERED


def test_on_a_flat_thread_the_raisers_thanks_settle_what_was_answered_last():
    # On a GitHub issue or a forum topic every comment answers the opening post: the
    # replies do not say which answer an acceptance is about.
    raised = post(2, BOB, "I am concerned that the migration breaks old plugins.", reply_to=1)
    answer = post(3, ALICE, "The loader now reads both formats for two releases.", reply_to=1)
    thanks = post(4, BOB, "Reading both formats is exactly what I was asking for.", reply_to=1)
    [concern] = ledger(root(), raised, answer, thanks).concerns
    assert concern.state is ConcernState.RESOLVED
    assert concern.resolved_by is not None
    assert concern.resolved_by.post == thanks.key


def test_an_opening_that_accepts_settles_the_point_before_a_new_one_is_raised():
    concern = _after_the_raisers_reply(
        "Thanks, that works for me. What I'm less sure about is the IDE plugins: they"
        " parse the XML themselves, and I worry they will break."
    )
    assert concern.state is ConcernState.RESOLVED


def test_the_raiser_accepting_the_proposers_revision_settles_their_point():
    # The revision answers the round in reply to whichever mail came last (Carol's);
    # Bob accepts it under the revision, not under anything that answered him.
    raised = post(2, BOB, "I am concerned that the migration breaks old plugins.", reply_to=1)
    other = post(3, CAROL, "I worry that the release notes will not name the release.", reply_to=1)
    revision = post(
        4,
        ALICE,
        "Thanks both. I've put up v2: the release notes name the release that drops it.",
        reply_to=3,
    )
    accepted = post(5, BOB, "Old plugins working for two releases works for me.", reply_to=4)
    found = ledger(root(), raised, other, revision, accepted).concerns
    [bobs] = [c for c in found if c.post == raised.key]
    assert bobs.state is ConcernState.RESOLVED
    assert bobs.resolved_by is not None
    assert bobs.resolved_by.post == accepted.key


def test_a_review_approving_the_pull_request_settles_its_writers_points():
    bob = Person("bob-baker", "bob@example.org")  # a GitHub mirror names its login
    raised = post(2, bob, "I am concerned that the migration breaks old plugins.", reply_to=1)
    later = post(3, bob, "I also worry that the docs still describe the old format.", reply_to=1)
    answer = post(4, ALICE, "The loader reads both formats, and the docs say so now.", reply_to=1)
    review = "@bob-baker approved this pull request.\n\nThanks."
    found = ledger(root(), raised, later, answer, post(5, bob, review, reply_to=1)).concerns
    assert [c.state for c in found] == [ConcernState.RESOLVED] * 2
    # Someone else writing the line approves nothing of Bob's.
    found = ledger(root(), raised, later, answer, post(5, CAROL, review, reply_to=1)).concerns
    assert ConcernState.RESOLVED not in {c.state for c in found}


def test_the_proposer_granting_a_point_answers_it_even_when_it_came_with_a_way_out():
    # Bob objects and asks for a remedy; the proposer's "Fair, ..." under it answers his
    # concerns, it does not review an idea of his (which could raise concerns of hers).
    raised = post(
        2,
        BOB,
        "Broadly in favour, but two things.\n\n"
        "JDK 8 only got TLS 1.3 in 8u261, and many users pin older builds. Those clients"
        " would fail to connect to a 4.0 server, and I'd rather we didn't find that out"
        " from a flood of issues after 4.0 ships.\n\n"
        "If we flip this, the error has to say what happened.",
        reply_to=1,
    )
    answer = post(
        3,
        ALICE,
        "Fair, I was thinking of JDK 11+. Two things I can do about it:\n\n"
        "- The 3.9 warning already fires on the server side for exactly those clients, so"
        " operators get a full minor release of notice in their own logs.\n"
        '- I\'ll add a "before you upgrade" section to the 4.0 guide with the cutoff'
        " spelled out.\n\n"
        "Good point on the error, and honestly that one is a bug whether or not this RFC"
        " goes in. I've added it to the doc as a prerequisite.",
        reply_to=2,
    )
    found = ledger(root(), raised, answer).concerns
    assert {c.raised_by for c in found} == {BOB}


def test_the_proposer_reviewing_a_suggestion_raises_nothing_in_a_paragraph_granting_a_point():
    # Weighing someone's suggestion, the proposer finds fault as any reviewer would; a
    # paragraph of theirs that opens by granting a point takes it up instead.
    text = (
        "Confirming: the build target stays for multilib, and checks keep running in it.\n\n"
        "On the timing, you're both right that seven weeks is too short. I've changed the"
        " target to Misumena 15, and I'll get a note into the 14 release notes."
    )
    reply = post(3, ALICE, text, reply_to=2)
    reviewing = PostContext(proposer_reviewing=True, units=2)
    assert findings_of(reply, read_post(reply, reviewing)) == ()
    faulting = text.replace("On the timing, you're both right that", "On the timing,")
    reply = post(3, ALICE, faulting, reply_to=2)
    assert len(findings_of(reply, read_post(reply, reviewing))) == 1


def test_a_worry_its_writer_says_is_handled_raises_nothing():
    said = post(
        2, BOB, "My earlier worry about repacking mirrors is handled by the digest.", reply_to=1
    )
    assert ledger(root(), said).concerns == ()


def test_the_part_a_reviewer_is_least_comfortable_with_is_their_concern():
    text = (
        "This is the part I'm least comfortable with. Local compaction is code we've"
        " debugged for years, and a second one fails silently."
    )
    [found] = findings(text)
    assert "least comfortable" in found


def test_counting_more_than_expected_accepts_nothing():
    raised = post(2, BOB, "I worry that plugins parse the XML themselves.", reply_to=1)
    answer = post(3, ALICE, "Here is the list of plugins that do.", reply_to=2)
    counted = post(
        4, BOB, "About 25 of the 41 parse it, which is more than I expected.", reply_to=3
    )
    [concern] = ledger(root(), raised, answer, counted).concerns
    assert concern.state is ConcernState.ANSWERED


def test_answered_but_not_accepted_stays_answered():
    raised = post(2, BOB, "I worry that plugins parse the XML themselves.", reply_to=1)
    answer = post(3, ALICE, "They can keep doing so for a while.", reply_to=2)
    shrug = post(4, CAROL, "Fair enough.", reply_to=3)  # not Bob: accepts nothing for him
    [concern] = ledger(root(), raised, answer, shrug).concerns
    assert concern.state is ConcernState.ANSWERED
    assert concern.resolved_by is None


def test_an_unanswered_concern_stays_open_and_the_raisers_own_follow_up_is_no_answer():
    raised = post(2, BOB, "I worry that plugins parse the XML themselves.", reply_to=1)
    more = post(3, BOB, "Also the IDE plugins.", reply_to=2)
    [concern] = ledger(root(), raised, more).concerns
    assert concern.state is ConcernState.OPEN
    assert concern.answered_by == ()


def test_quoting_the_concern_answers_it_even_from_elsewhere_in_the_thread():
    raw = raw_mail(
        "That is why the converter exists.\n\n"
        "On Mon, 2 Nov 2026, Bob Baker <bob@example.org> wrote:\n"
        "> I worry that plugins parse the XML themselves.\n",
        sender="Carol Chen <carol@example.org>",
        message_id="<p3@example.org>",
        date="Mon, 02 Nov 2026 12:00:00 +0000",
        extra="In-Reply-To: <p1@example.org>",
    )
    carol = parse_mail(raw, Envelope(ARRIVAL))
    raised = post(2, BOB, "I worry that plugins parse the XML themselves.", reply_to=1)
    [concern] = ledger(root(), raised, carol).concerns
    assert [a.author for a in concern.answered_by] == ["Carol Chen"]


@pytest.mark.parametrize(
    ("raised", "answer", "quoted"),
    [
        (
            "I worry about the migration cost.\n\nConsider that IDEs lack TOML support.",
            "The converter handles it.",
            "I worry about the migration cost.",
        ),
        # A re-wrapped quote is still recognised by most of its words, but "it", "is",
        # "the", "we" are in every quote: only words of four letters or more tell.
        (
            "We do not think it is the way to go, and we are in a hurry.\n\n"
            "It is not the way we do it in the team, and we are not sure it is.",
            "The review is scheduled for Monday anyway.",
            "We do not think it is the way to go, and we are in a hurry.",
        ),
    ],
)
def test_an_inline_reply_answers_only_the_points_it_quotes(raised: str, answer: str, quoted: str):
    points = post(2, BOB, raised, reply_to=1)
    reply = post(3, CAROL, answer, reply_to=2, quoted=(quoted,))
    first, second = ledger(root(), points, reply).concerns
    assert first.state is ConcernState.ANSWERED
    assert second.state is ConcernState.OPEN


def test_a_later_plus_one_from_the_raiser_resolves_their_concerns():
    raised = post(2, BOB, "I am concerned that the migration breaks deployments.", reply_to=1)
    answer = post(3, ALICE, "The loader reads both formats.", reply_to=2)
    vote = post(4, BOB, "+1", reply_to=1)
    [concern] = ledger(root(), raised, answer, vote).concerns
    assert concern.state is ConcernState.RESOLVED
    assert concern.resolved_by is not None
    assert concern.resolved_by.post == "<p4@example.org>"


def test_defending_against_a_concern_answers_it_and_raises_nothing_new():
    raised = post(2, BOB, "I have a worry for the parser on Java 21.", reply_to=1)
    rebuttal = post(
        3, ALICE, "To be honest I worry as much for the parser on Java 21 with XML.", reply_to=2
    )
    [concern] = ledger(root(), raised, rebuttal).concerns
    assert concern.raised_by == BOB
    assert [a.author for a in concern.answered_by] == ["Alice Archer"]


def test_a_drawback_named_in_a_reply_to_a_concern_is_a_new_concern():
    raised = post(2, BOB, "I am worried that sharing the object store across clones is slow.")
    reply = post(
        3,
        CAROL,
        "Yes, that is one way to do it. The big drawback there is that sharing the object"
        " store only works for clones on the same filesystem.",
        reply_to=2,
    )
    concerns = ledger(root(), raised, reply).concerns
    assert [(c.raised_by.display, c.post) for c in concerns] == [
        ("Bob Baker", "<p2@example.org>"),
        ("Carol Chen", "<p3@example.org>"),
    ]


def test_the_proposer_taking_up_a_point_in_a_paragraph_of_a_long_answer_resolves_that_point():
    # An inline answer: the paragraph on the migration agrees in its second sentence.
    raised = post(
        2,
        BOB,
        "I am concerned that the migration breaks old plugins.\n\n"
        "I also worry that TOML tables confuse new users.",
        reply_to=1,
    )
    answer = post(
        3,
        ALICE,
        "Thanks for the review.\n\n"
        "The migration of old plugins is a real risk. Will change the plan to keep both"
        " loaders.\n\n"
        "TOML tables are what every other tool uses, so new users know them already.\n\n"
        "More next week.",
        reply_to=2,
    )
    states = {c.text: c.state for c in ledger(root(), raised, answer).concerns}
    assert states == {
        "I am concerned that the migration breaks old plugins.": ConcernState.RESOLVED,
        "I also worry that TOML tables confuse new users.": ConcernState.ANSWERED,
    }


@pytest.mark.parametrize(
    ("raised", "answer", "state"),
    [
        # The answer shares no word a topic is made of with the point ("needs", "-m"):
        # that it answers this point and no other says what it commits to change.
        (
            'The patch mostly looks good, except:\n\nThis needs "-m", doesn\'t it?',
            "Thanks for the review.\n\n"
            '> This needs "-m", doesn\'t it?\n\n'
            'Yeah, this definitely needs "-m".  Will change.\n\n'
            "I'll send the next round tomorrow.",
            ConcernState.RESOLVED,
        ),
        # Agreeing with a part of the point and arguing on settles nothing.
        (
            "I am not happy with such an interface: stashes are strictly personal.",
            "I agree that stashes should remain short-lived work in progress, not branches.\n\n"
            "The use case I have in mind is narrower: handing unfinished work to a colleague."
            " Today this takes four commands. The porcelain would make it one. It stores"
            " nothing new on the server.",
            ConcernState.ANSWERED,
        ),
    ],
)
def test_an_answer_to_one_point_alone_settles_it_by_committing_to_a_change(
    raised: str, answer: str, state: ConcernState
):
    [concern] = ledger(root(), post(2, BOB, raised), post(3, ALICE, answer, reply_to=2)).concerns
    assert concern.state is state


def test_the_proposer_taking_up_a_reviewers_idea_owns_its_caveats():
    # Bob suggests another design; Alice, who proposed, takes it up and works it out.
    # Her caveats on it are a sketch author's, not a review of Bob's suggestion.
    suggestion = post(2, BOB, "What about a separate file for the plugin settings instead?")
    taken_up = post(
        3,
        ALICE,
        "I liked the idea of a separate file, and investigated how to do it.\n\n"
        "Unfortunately, the old plugins can't just read the new file. I am worried that"
        " they would need a release of their own.",
        reply_to=2,
    )
    assert [c.raised_by for c in ledger(root(), suggestion, taken_up).concerns] == [BOB]


def test_the_proposer_opening_with_an_objection_to_a_participants_idea_raises_a_concern():
    # A wish list: Bob adds an item without arguing against anything. Alice, who opened
    # the thread, objects to his item: that is a concern about it, hers to raise.
    wish = post(2, BOB, "Required:\n - every setting can go in a profile.\n\nIt would help me.")
    review = post(
        3,
        ALICE,
        "So one of the issues with that is multiple versions of the tool.\n\n"
        "Once the settings schema changes, older versions cannot share the file.",
        reply_to=2,
    )
    [concern] = ledger(root(), wish, review).concerns
    assert (concern.raised_by, concern.post) == (ALICE, "<p3@example.org>")
    # Answering a question about her own proposal is no review: the issue she names
    # there is the one Bob asked about, and she raises nothing of her own.
    question = post(2, BOB, "How do older versions read the new settings?")
    answer = post(3, ALICE, review.text, reply_to=2)
    assert [c.raised_by for c in ledger(root(), question, answer).concerns] == [BOB]


def test_the_proposer_writing_under_a_review_of_a_participants_idea_reviews_it_too():
    # Bob wishes for zip packaging; Carol challenges his wish. Alice, who proposed,
    # answers Carol with an objection of her own to Bob's wish: not a defence of her
    # proposal (nobody challenged it), so a concern, hers to raise.
    wish = post(2, BOB, "I wish we had a built-in 'archive' packaging type.", reply_to=1)
    challenge = post(3, CAROL, "Do you have some demos of such packagings?", reply_to=2)
    review = post(
        4,
        ALICE,
        "This feels like plugin level functionality. I am unclear how this needs core changes.",
        reply_to=3,
    )
    raised = [(c.raised_by, c.post) for c in ledger(root(), wish, challenge, review).concerns]
    assert (ALICE, "<p4@example.org>") in raised
    # Under a challenge of her own proposal the same words answer it.
    question = post(2, BOB, "Do you have some demos of the new format?", reply_to=1)
    answer = post(3, ALICE, review.text, reply_to=2)
    assert [c.raised_by for c in ledger(root(), question, answer).concerns] == [BOB]


def test_a_way_out_the_proposer_floats_while_reviewing_is_no_concern():
    # Alice weighs Bob's suggestion: her objection to it is a concern; the option she
    # floats as a question beside it grows her proposal and objects to nothing.
    suggestion = post(2, BOB, "What about moving the resolver into the core tree?", reply_to=1)
    review = post(
        3,
        ALICE,
        "1. I am against moving the resolver into core: it makes every release much"
        " harder.\n\n"
        "2. I am not sure if possible but could we move the provider into the resolver"
        " project instead?",
        reply_to=2,
    )
    [concern] = [c for c in ledger(root(), suggestion, review).concerns if c.raised_by == ALICE]
    assert "much harder" in concern.text


@pytest.mark.parametrize(
    "text",
    [
        "And scripting is the path to the dark side of imperative builds.",
        "Two config formats in one release is a recipe for disaster.",
        "Allowing expressions in the config opens a can of worms.",
    ],
)
def test_idioms_for_a_bad_end_are_objections(text: str):
    assert findings(text) == [text]


# Settling a concern gives weight: the directory decides who said "fair enough".
DIRECTORY = People({"Bob Baker": ("bob@example.org",), "Alice Archer": ("alice@example.org",)})


def _ledger_with_directory(*posts: Post) -> Ledger:
    settings = LedgerSettings(people=DIRECTORY)
    return build_ledger("<p1@example.org>", posts, T0 + timedelta(days=30), settings)


def test_a_revision_summary_answers_each_person_it_names_in_an_item():
    # Each raised under a part of the series; the summary answers the cover letter.
    part = post(2, ALICE, "[PATCH 2/4] Use MSI-X as the only delivery path.", reply_to=1)
    bob_raised = post(3, BOB, "I worry that plugins parse the XML themselves.", reply_to=2)
    carol_raised = post(
        4, CAROL, "The doc is wrong: PCIe requires MSI or MSI-X, not MSI-X alone.", reply_to=2
    )
    summary = post(
        5,
        ALICE,
        "Thanks everyone. Here is what I plan for v2:\n\n"
        "- Bob: the loader will read both formats for two releases.\n"
        "- Carol is right that the doc text is wrong; v2 says what PCIe requires.\n",
        reply_to=1,
    )
    found = ledger(root(), part, bob_raised, carol_raised, summary).concerns
    assert {c.raised_by for c in found} == {BOB, CAROL}
    assert all(c.answered_by and c.answered_by[0].post == summary.key for c in found)


def test_only_the_raiser_by_address_can_accept_an_answer():
    raised = post(2, BOB, "I am concerned that the migration breaks old plugins.", reply_to=1)
    answer = post(3, ALICE, "The loader reads both formats for two releases.", reply_to=2)
    forged = post(4, Person("Bob Baker", "mallory@evil.example"), "Fair enough.", reply_to=3)
    [concern] = _ledger_with_directory(root(), raised, answer, forged).concerns
    assert concern.state is ConcernState.ANSWERED
    genuine = post(4, BOB, "Fair enough.", reply_to=3)
    [concern] = _ledger_with_directory(root(), raised, answer, genuine).concerns
    assert concern.state is ConcernState.RESOLVED


def test_only_the_proposer_by_address_can_adopt_a_point():
    raised = post(2, BOB, "I am concerned that the migration breaks old plugins.", reply_to=1)
    forged = post(
        3, Person("Alice Archer", "mallory@evil.example"), "Good point, will do.", reply_to=2
    )
    [concern] = _ledger_with_directory(root(), raised, forged).concerns
    assert concern.state is not ConcernState.RESOLVED
    genuine = post(3, ALICE, "Good point, will do.", reply_to=2)
    [concern] = _ledger_with_directory(root(), raised, genuine).concerns
    assert concern.resolution == "adopted"


def _review_comment(number: int, author: Person, text: str) -> Post:
    """A GitHub review comment as mirrored: flat (it replies to the pull request) and
    quoting the diff hunk it was written on."""
    hunk = "@@ -1,6 +1,64 @@\n # Config\n+Files are TOML from 2.0 on."
    login = author.name.split()[0].lower()
    return post(
        number,
        author,
        f"@{login} commented on this pull request.\n\nIn README.md:\n\n{text}",
        reply_to=1,
        quoted=(hunk,),
    )


def test_in_a_flat_review_thread_the_raiser_accepts_on_the_same_hunk():
    raised = _review_comment(2, BOB, "I am concerned that the migration breaks old plugins.")
    answer = _review_comment(3, ALICE, "The loader reads both formats for two releases.")
    accepted = _review_comment(4, BOB, "Fair enough, that makes sense.")
    [concern] = ledger(root(), raised, answer, accepted).concerns
    assert concern.state is ConcernState.RESOLVED


def test_the_raiser_owning_a_mistake_settles_the_point_and_may_ask_something_new():
    raised = _review_comment(2, BOB, "I am concerned that files do not say their format.")
    answer = _review_comment(3, ALICE, "The template already gives every file a format line.")
    conceded = _review_comment(
        4, BOB, "ah sorry, my bad. But I worry that nobody keeps that line current."
    )
    concerns = ledger(root(), raised, answer, conceded).concerns
    assert concerns[0].state is ConcernState.RESOLVED
    assert concerns[0].resolution == "accepted"
    # ... and what it goes on to ask is a concern of its own, still open.
    assert [c.state for c in concerns[1:]] == [ConcernState.OPEN]


def test_a_review_comment_answers_its_lines_not_the_conversation():
    # Bob asks in the conversation; Carol raises a point on the diff. Alice's next word
    # is a review comment on Carol's lines: it answers Carol's point, and Bob's waits.
    asked = post(2, BOB, "I am concerned that nobody owns the migration tooling.", reply_to=1)
    on_lines = _review_comment(3, CAROL, "I am not sure TOML tables read well for plugins.")
    answer = _review_comment(4, ALICE, "Tables are what every plugin already reads in Cargo.")
    states = {c.raised_by: c.state for c in ledger(root(), asked, on_lines, answer).concerns}
    assert states == {BOB: ConcernState.OPEN, CAROL: ConcernState.ANSWERED}


def test_in_a_flat_thread_whom_a_concern_is_put_to_answers_it_next():
    # GitHub comments all reply to the issue; Bob puts his point to Carol by name.
    raised = post(2, BOB, "Carol, I am not sure the loader can read both formats.", reply_to=1)
    bystander = post(3, Person("Dan Dorn", "dan@example.org"), "The docs build is red.", reply_to=1)
    [concern] = ledger(root(), raised, bystander).concerns
    assert concern.state is ConcernState.OPEN
    carol = post(4, CAROL, "It reads both for two releases, then warns.", reply_to=1)
    [concern] = ledger(root(), raised, bystander, carol).concerns
    assert [a.author for a in concern.answered_by] == [CAROL.display]


@pytest.mark.parametrize(
    ("quote_at", "state"), [(1, ConcernState.ANSWERED), (0, ConcernState.OPEN)]
)
def test_a_reply_above_the_old_mail_answers_all_of_it(quote_at: int, state: ConcernState):
    # Carol keeps only the mail's first line below her answer: she answers the mail.
    # Written under that line instead, her answer is to that line alone.
    raised = post(
        2,
        BOB,
        "I like the plan overall.\n\nI am concerned that the migration breaks old plugins.",
        reply_to=1,
    )
    reply = post(
        3,
        CAROL,
        "We checked: old plugins keep working, the loader reads both.",
        reply_to=2,
        quoted=("I like the plan overall.",),
    )
    reply = replace(reply, quote_at=(quote_at,))
    [concern] = ledger(root(), raised, reply).concerns
    assert concern.state is state


def test_a_drawback_named_and_accepted_in_one_breath_is_settled_as_it_is_raised():
    text = (
        "For me the main drawback is that the signing key must be retrievable.\n\n"
        "That's a shame, but it's good enough for alpha."
    )
    [concern] = ledger(root(), post(2, BOB, text, reply_to=1)).concerns
    assert (concern.state, concern.resolution) == (ConcernState.RESOLVED, "accepted")
    # Named and left standing, it stays open.
    alone = "For me the main drawback is that the signing key must be retrievable."
    [concern] = ledger(root(), post(2, BOB, alone, reply_to=1)).concerns
    assert concern.state is ConcernState.OPEN


def test_the_proposer_giving_in_to_a_decision_settles_it():
    decision = post(
        2,
        BOB,
        "The team discussed this RFC. I am not sure there is enough motivation to add the"
        " syntax now, so we are postponing it.",
        reply_to=1,
    )
    [concern] = ledger(
        root(), decision, post(3, ALICE, "@bob That's a shame :(", reply_to=2)
    ).concerns
    assert concern.state is ConcernState.RESOLVED


@pytest.mark.parametrize("reply", ["+1", "Same worry here.", "Thanks!", "Thanks for raising this."])
def test_agreeing_or_thanking_answers_no_concern_even_quoting_it(reply: str):
    concern = "I am worried that the TOML loader breaks every existing plugin."
    raised = post(2, BOB, concern, reply_to=1)
    quoting = post(3, CAROL, reply, reply_to=2, quoted=(concern,))
    # ("Same worry here." raises it again as Carol's own: see the test above.)
    [found] = [c for c in ledger(root(), raised, quoting).concerns if c.raised_by == BOB]
    assert found.state is ConcernState.OPEN


def test_the_one_whose_idea_a_concern_objects_to_concedes_it_by_agreeing():
    idea = post(2, CAROL, "We could call them code owners instead of experts.", reply_to=1)
    concern = "I think experts is a better standard than code owners."
    raised = post(3, BOB, concern, reply_to=2)
    agreed = post(4, CAROL, "Sounds reasonable to me.", reply_to=3, quoted=(concern,))
    [found] = ledger(root(), idea, raised, agreed).concerns
    assert found.state is ConcernState.RESOLVED


def test_seconding_a_concern_does_not_answer_it():
    raised = post(2, BOB, "I am concerned that the migration breaks old plugins.", reply_to=1)
    seconded = post(3, CAROL, "+1, I agree with Bob on this.", reply_to=2)
    [concern] = ledger(root(), raised, seconded).concerns
    assert concern.state is ConcernState.OPEN
    # Agreeing, then saying why the point is taken care of, answers it ...
    fixed = post(
        3,
        CAROL,
        "+1. The migration was the worry here. The loader now reads both formats, and old"
        " plugins pass every test.",
        reply_to=2,
    )
    [concern] = ledger(root(), raised, fixed).concerns
    assert concern.state is ConcernState.ANSWERED
    # ... and so does agreeing and then arguing the other way.
    answered = post(
        3,
        CAROL,
        "I agree it matters, but the loader reads both formats for two releases.",
        reply_to=2,
    )
    [concern] = ledger(root(), raised, answered).concerns
    assert concern.state is ConcernState.ANSWERED


# Carol suggests something in answer to the proposal; Bob objects to Carol's idea.
_CAROLS_IDEA = "Maybe we could also keep a JSON variant of the config for tools."
_BOBS_OBJECTION = "I am concerned that a third format doubles what every plugin must read."


@pytest.mark.parametrize(
    "concession",
    ["Sure, and I don't even claim it's a viable idea.", "Fair enough, let's drop it."],
)
def test_whose_idea_a_concern_objects_to_may_concede_it(concession: str):
    idea = post(2, CAROL, _CAROLS_IDEA, reply_to=1)
    raised = post(3, BOB, _BOBS_OBJECTION, reply_to=2)
    conceded = post(4, CAROL, concession, reply_to=3)
    [concern] = ledger(root(), idea, raised, conceded).concerns
    assert concern.state is ConcernState.RESOLVED
    assert concern.resolution == "conceded"


def test_a_concession_that_argues_back_settles_nothing():
    idea = post(2, CAROL, _CAROLS_IDEA, reply_to=1)
    raised = post(3, BOB, _BOBS_OBJECTION, reply_to=2)
    argued = post(4, CAROL, "Sure, but I think tools need it more than plugins do.", reply_to=3)
    [concern] = ledger(root(), idea, raised, argued).concerns
    assert concern.state is ConcernState.ANSWERED


def test_only_whose_idea_it_is_concedes_it_by_address():
    idea = post(2, CAROL, _CAROLS_IDEA, reply_to=1)
    raised = post(3, BOB, _BOBS_OBJECTION, reply_to=2)
    forged = post(4, Person("Carol Chen", "mallory@evil.example"), "Fair enough.", reply_to=3)
    directory = People(
        {
            "Bob Baker": ("bob@example.org",),
            "Alice Archer": ("alice@example.org",),
            "Carol Chen": ("carol@example.org",),
        }
    )
    settings = LedgerSettings(people=directory)
    posts = (root(), idea, raised, forged)
    [concern] = build_ledger("<p1@example.org>", posts, T0 + timedelta(days=30), settings).concerns
    assert concern.state is ConcernState.ANSWERED
    # A bystander agreeing concedes nothing: the idea is not theirs.
    bystander = post(4, Person("Dan Dale", "dan@example.org"), "Fair enough.", reply_to=3)
    [concern] = ledger(root(), idea, raised, bystander).concerns
    assert concern.state is not ConcernState.RESOLVED


def test_on_a_pull_request_the_comment_a_concern_answers_is_the_hunks_earlier_one():
    idea = _review_comment(2, CAROL, "We could call these code owners rather than experts.")
    raised = _review_comment(
        3, BOB, "I think experts is a better standard: code owners leaves out other parts."
    )
    conceded = _review_comment(4, CAROL, "Sounds reasonable to me.")
    [bobs] = [c for c in ledger(root(), idea, raised, conceded).concerns if c.raised_by == BOB]
    assert bobs.resolution == "conceded"


def test_the_proposers_commitment_right_under_a_quote_of_a_concern_settles_it():
    from bot.core.text import split_body

    raised = post(2, BOB, "I am concerned that nobody can enable the cache globally.")
    other = post(3, CAROL, "I am worried that the test leaves temporary files behind.")
    body = (
        "Hi,\n\n> I am concerned that nobody can enable the cache globally.\n\n"
        "Ok, we are happy to do that (including implementing it) :-)\n\n"
        "> I am worried that the test leaves temporary files behind.\n\n"
        "Those files live under the system's temporary directory. The OS cleans it."
        " Nothing stays in the work tree. We checked on three systems.\n"
    )
    split = split_body(body)
    assert split.quote_at == (1, 2)  # non-blank new lines ("Hi,", ...) above each quote
    answer = replace(
        post(4, ALICE, split.new, reply_to=2), quoted=split.quoted, quote_at=split.quote_at
    )
    states = {c.raised_by: c.state for c in ledger(root(), raised, other, answer).concerns}
    # The commitment sits under Bob's point only; Carol's is answered, not taken up.
    assert states == {BOB: ConcernState.RESOLVED, CAROL: ConcernState.ANSWERED}


@pytest.mark.parametrize(
    "again",
    [
        "I'm still not convinced people will bother when it counts, but I won't hold this up.",
        "So I'm not sure that really answers it, but I'll file the Windows case rather than"
        " hold the RFC up.",
        "I'm not convinced it buys back what we give up, but I'll take it and not block this.",
        "2% of sessions is still a lot of people. Still -1 for the web target.",
        "A warning is better than nothing. I'd still prefer a hard error, a warning is too"
        " easy to miss.",
    ],
)
def test_still_unconvinced_under_an_answer_is_the_same_concern_again(again: str):
    raised = post(2, BOB, "I am worried that nobody will run the converter before upgrading.")
    answer = post(3, ALICE, "The loader converts on first run, so nobody has to.", reply_to=2)
    reply = post(4, BOB, again, reply_to=3)
    [concern] = ledger(root(), raised, answer, reply).concerns
    assert concern.post == raised.key
    assert concern.repeated_in == (reply.key,)
    # Before anyone answered, the same words raise a concern of their own.
    assert findings("I'm still not convinced anyone will run the converter.") != []


def test_a_review_tools_name_for_the_proposer_is_the_proposer():
    # Gerrit mails each reviewer's comments as "Name (Code Review)" from its own address.
    gerrit = Person("Alice Archer (Code Review)", "")
    raised = post(2, BOB, "I am worried that the loader doubles the startup time.")
    answer = post(
        3, gerrit, "It only runs once. I am worried the first run is slow on big files.", reply_to=2
    )
    concerns = ledger(root(), raised, answer).concerns
    assert [c.raised_by for c in concerns] == [BOB]
    assert concerns[0].answered


def test_a_summary_that_names_whose_points_they_are_raises_none_of_them():
    # A chair sums the thread up: each point carries its raiser's name.
    raised = post(2, BOB, "I am worried that the loader doubles the startup time.")
    other = post(3, CAROL, "I am worried that the converter drops every comment.")
    summary = post(
        4,
        Person("Dana Diaz", "dana@example.org"),
        "Support is broad. Alice and Carol are in favour; Bob won't block but worries about"
        " the loader, which he thinks is a real problem for CI.\n\n"
        "Where we stand:\n\n"
        "- Startup time (Bob): the loader doubles it, which is a real problem for CI.\n"
        "- Comments (Carol): the converter drops every comment, which breaks configs.\n",
        reply_to=1,
    )
    concerns = ledger(root(), raised, other, summary).concerns
    assert [c.raised_by for c in concerns] == [BOB, CAROL]
    # One point naming someone is the writer's own point, made with a nod to them.
    own = post(
        5,
        Person("Dana Diaz", "dana@example.org"),
        "I worry the converter (Carol's idea) is too slow for big files.",
        reply_to=1,
    )
    assert Person("Dana Diaz", "dana@example.org") in [
        c.raised_by for c in ledger(root(), raised, other, own).concerns
    ]


def test_the_proposer_answering_several_people_at_once_raises_nothing():
    raised = post(2, BOB, "Most of us only know Python, and the loader would be in Rust.")
    wish = post(3, CAROL, "Could we keep a pure Python loader for debugging?", reply_to=1)
    answer = replace(
        post(
            4,
            ALICE,
            "Good points. We keep the Python loader as a reference. On speed: not in scope"
            " for now, but nothing prevents a faster path later.",
            reply_to=3,
        ),
        quoted=(
            "Most of us only know Python, and the loader would be in Rust.",
            "Could we keep a pure Python loader for debugging?",
        ),
    )
    concerns = ledger(root(), raised, wish, answer).concerns
    assert ALICE not in [c.raised_by for c in concerns]


def test_the_proposer_answering_three_people_in_one_mail_answers_each():
    # Inline, under a line of each one's mail that is not the concern's own sentence.
    bob = post(2, BOB, "With this design a node cannot go back. That worries me a lot.")
    carol = post(3, CAROL, "I am worried that startup after a crash gets slower.")
    answer = replace(
        post(4, ALICE, "Agreed, I added a setting for that.\n\nI'll post numbers.", reply_to=3),
        quoted=("With this design a node cannot go back.", "startup after a crash gets slower"),
        quote_at=(0, 1),
    )
    concerns = ledger(root(), bob, carol, answer).concerns
    assert [c.raised_by for c in concerns] == [BOB, CAROL]
    assert all(c.answered for c in concerns)


def test_a_paragraph_put_to_the_raiser_that_changes_the_document_adopts_their_point():
    raised = post(2, BOB, "I am worried about CI logs: the spinner floods them.", reply_to=1)
    answer = post(
        3,
        ALICE,
        "@carol: the flag is opt-in first.\n\n@bob: good point, the draft only talked about"
        " terminals. It's spelled out in the doc now.",
        reply_to=1,
    )
    [concern] = ledger(
        root(), replace(raised, author=Person("bob", "bob@example.org")), answer
    ).concerns
    assert concern.state is ConcernState.RESOLVED
    assert concern.resolution == "adopted"
    # The raiser saying it again afterwards leaves it answered, not settled.
    again = post(
        4,
        Person("bob", "bob@example.org"),
        "Thanks. I still think CI logs will suffer.",
        reply_to=3,
    )
    [reopened] = ledger(
        root(), replace(raised, author=Person("bob", "bob@example.org")), answer, again
    ).concerns
    assert reopened.state is ConcernState.ANSWERED


def test_reporting_a_task_done_does_not_accept_an_answer():
    raised = post(2, BOB, "I am worried that the Ant tasks end up on another git host.")
    answer = post(3, CAROL, "Can someone create the ant tasks repository on that host?", reply_to=2)
    done = post(4, BOB, "ok, done: https://github.com/example/ant-tasks", reply_to=3)
    [concern] = ledger(root(), raised, answer, done).concerns
    assert concern.state is ConcernState.ANSWERED


@pytest.mark.parametrize(
    "claim",
    [
        "I updated the RFC to say that the loader reads both formats.",
        "I've just pushed a number of commits addressing the first round of reviews.",
        # The "I" left out, as a reply answering several people does.
        "Good catch, it didn't. Updated the RFC.",
    ],
)
def test_with_the_root_missing_whoever_speaks_of_the_rfc_as_theirs_is_its_proposer(claim: str):
    # A mirror that starts late: the proposal's root is not in the store.
    author = post(
        2,
        ALICE,
        f"{claim} My only concern is that it's not obvious which format a file is in.",
        reply_to=1,
    )
    other = post(3, BOB, "I am worried that the loader doubles the startup time.", reply_to=1)
    concerns = ledger(author, other).concerns
    assert [c.raised_by for c in concerns] == [BOB]


@pytest.mark.parametrize(
    "naming",
    [
        "@alice Thanks for the RFC! The team discussed it this week.",
        "Thanks @alice for this proposal. The team discussed it this week.",
        "Thanks for the write-up, @alice! The team discussed it this week.",
    ],
)
def test_with_the_root_missing_whoever_is_thanked_for_the_rfc_is_its_proposer(naming: str):
    # A GitHub mirror that starts late: the author's login is only known from the thanks.
    author = Person("alice", "alice@users.noreply.github.com")
    thanks = post(2, CAROL, naming, reply_to=1)
    caveat = post(3, author, "My only concern is that it's not obvious which format is used.")
    other = post(4, BOB, "I am worried that the loader doubles the startup time.", reply_to=1)
    assert [c.raised_by for c in ledger(thanks, caveat, other).concerns] == [BOB]


def test_a_reply_whose_client_dropped_its_references_is_no_proposal():
    # "Re:" in the subject, no In-Reply-To or References: the mirror's first message
    # looks like a root, but it answers the RFC it names.
    orphan = _thread_starter(
        "<p2@example.org>",
        BOB,
        "Re: [RFC] TOML config",
        "I am worried that making TOML mandatory breaks every platform without a parser.",
    )
    concerns = build_ledger(orphan.thread_key, [orphan], T0 + timedelta(days=1)).concerns
    assert [c.raised_by for c in concerns] == [BOB]


def test_with_the_root_missing_every_participant_may_raise_concerns():
    first = post(2, ALICE, "My only concern is that it's not obvious which format a file is in.")
    other = post(3, BOB, "I am worried that the loader doubles the startup time.", reply_to=1)
    concerns = ledger(first, other).concerns
    assert [c.raised_by for c in concerns] == [ALICE, BOB]


def test_a_pull_request_opened_through_gitbox_is_the_proposal_not_a_concern():
    # GitBox relays the opening under a Message-ID of its own; the thread is the pull
    # request's, and what the opening says is its case, not an objection to anything.
    raw = raw_mail(
        "don-vip opened a new pull request #9: upgrade to ASM 6.0 (final)\n"
        "URL: https://github.com/apache/maven-plugin-tools/pull/9\n\n"
        "   The ALPHA dependency causes problems to projects using Enforcer rules.\n",
        subject="[GitHub] don-vip opened a new pull request #9: upgrade to ASM 6.0 (final)",
        message_id="<151259914783.10059.2232475506107635290.gitbox@gitbox.apache.org>",
        sender="GitBox <git@apache.org>",
    )
    opening = parse_mail(raw, Envelope(ARRIVAL))
    assert opening.thread_key == "<apache/maven-plugin-tools/pull/9@github.com>"
    assert opens_proposal(opening)
    concerns = build_ledger(opening.thread_key, [opening], ARRIVAL).concerns
    assert concerns == ()


def test_a_pull_request_gitbox_relays_since_2023_is_the_proposal_and_comments_object():
    def mail(login: str, subject: str, body: str, number: int) -> Post:
        raw = raw_mail(
            body,
            subject=subject,
            message_id=f"<PR-482-{number}@gitbox.apache.org>",
            sender=f'"{login} (via GitHub)" <git@apache.org>',
        )
        return parse_mail(raw, Envelope(ARRIVAL + timedelta(hours=number)))

    opening = mail(
        "alice-k",
        "[PR] Change the default read timeout to 60 seconds (widget)",
        "alice-k opened a new pull request, #482:\n"
        "URL: https://github.com/apache/widget/pull/482\n\n"
        "   This is a problem today: a hung server blocks every client forever.\n",
        0,
    )
    comment = mail(
        "bob-w",
        "Re: [PR] Change the default read timeout to 60 seconds (widget)",
        "bob-w commented on PR #482:\n"
        "URL: https://github.com/apache/widget/pull/482#issuecomment-1\n\n"
        "   I'm worried this silently breaks long-running analytical queries.\n",
        1,
    )
    assert opens_proposal(opening)
    concerns = build_ledger(opening.thread_key, [opening, comment], ARRIVAL).concerns
    # Both came from git@apache.org; the login tells the proposer from the objector.
    assert [c.raised_by.name for c in concerns] == ["bob-w"]


def test_a_gitbox_comment_marked_auto_submitted_is_still_read_and_never_answered():
    # GitBox may mark what it relays Auto-Submitted, as a forum's mailing-list mode does:
    # the mark keeps the bot from answering a person's comment, not from reading it.
    def mail(login: str, subject: str, body: str, number: int) -> Post:
        raw = raw_mail(
            body,
            subject=subject,
            message_id=f"<PR-2187-{number}@gitbox.apache.org>",
            sender=f'"{login} (via GitHub)" <git@apache.org>',
            extra="Auto-Submitted: auto-generated",
        )
        return parse_mail(raw, Envelope(ARRIVAL + timedelta(hours=number)))

    opening = mail(
        "hkarlsson",
        "[PR] Replace Dropwizard Metrics with Micrometer (usnea)",
        "hkarlsson opened a new pull request, #2187:\n\n"
        "   This replaces Dropwizard Metrics with Micrometer.\n\n"
        "URL: https://github.com/apache/usnea/pull/2187\n",
        0,
    )
    comment = mail(
        "mbrandt-dev",
        "Re: [PR] Replace Dropwizard Metrics with Micrometer (usnea)",
        "mbrandt-dev commented on PR #2187:\n\n"
        "   My main worry is the renames: alerts on the old names just go quiet.\n\n"
        "URL: https://github.com/apache/usnea/pull/2187#issuecomment-1\n",
        1,
    )
    concerns = build_ledger(opening.thread_key, [opening, comment], ARRIVAL).concerns
    assert [c.raised_by.name for c in concerns] == ["mbrandt-dev"]
    assert refusal_reason(comment, BotIdentity(frozenset({"quorum@example.org"}))) is not None


def _thread_starter(key: str, author: Person, subject: str, text: str) -> Post:
    """A mail that replies to nothing, so it keys its own thread."""
    return Post(
        source=Source.MAIL,
        key=key,
        message_id=key,
        thread_key=key,
        author=author,
        created_at=T0,
        subject=subject,
        text=text,
    )


def _issue_root(subject: str, text: str) -> Post:
    author = Person("ljharb", "ljharb@users.noreply.github.com")
    return _thread_starter("<tc39/proposal-wavy-dot/issues/6@github.com>", author, subject, text)


def test_an_issue_filed_on_a_proposal_repository_is_feedback_that_can_raise_concerns():
    # The mirror's subject names the repository ("proposal-wavy-dot"); the issue itself
    # proposes nothing, it questions the proposal.
    issue = _issue_root(
        "[tc39/proposal-wavy-dot] Why not add methods first, and gain adoption, before syntax?",
        "I am worried that the syntax lands before anyone uses the methods.",
    )
    concerns = build_ledger(issue.thread_key, [issue], T0 + timedelta(days=1)).concerns
    assert [c.raised_by.name for c in concerns] == ["ljharb"]


def test_an_issue_on_a_proposal_repository_that_says_it_proposes_is_a_proposal():
    issue = _issue_root(
        "[tc39/proposal-wavy-dot] Proposal: methods before syntax",
        "I am worried that the syntax lands before anyone uses the methods, so I propose methods.",
    )
    assert build_ledger(issue.thread_key, [issue], T0 + timedelta(days=1)).concerns == ()


def test_the_proposal_itself_raises_no_concerns():
    proposal = post(1, ALICE, "My concern with XML is its verbosity, so I propose TOML.")
    assert ledger(proposal).concerns == ()


def test_posts_after_now_are_not_seen():
    raised = post(2, BOB, "I worry that plugins parse the XML themselves.", reply_to=1)
    assert ledger(root(), raised, now=T0 + timedelta(hours=1)).concerns == ()
    assert len(ledger(root(), raised, now=T0 + timedelta(hours=2)).concerns) == 1


def test_auto_submitted_and_bot_posts_are_not_read():
    bot = Person("Quorum", "quorum@example.org")
    status = post(2, bot, "I am concerned that nobody answered Bob.", reply_to=1)
    settings = LedgerSettings(bot_addresses=frozenset({"quorum@example.org"}))
    assert (
        build_ledger(
            "<p1@example.org>", [root(), status], T0 + timedelta(days=1), settings
        ).concerns
        == ()
    )


def test_command_and_prose_concerns_live_in_one_ledger():
    text = "@quorum concern perf: the index doubles write latency\n\nI also worry about the docs."
    concerns = ledger(root(), post(2, BOB, text, reply_to=1)).concerns
    assert [(c.id, c.source) for c in concerns] == [
        ("perf", ConcernSource.COMMAND),
        ("the-docs", ConcernSource.DETECTED),
    ]


def test_ids_are_unique_within_a_thread_and_stable():
    first = post(2, BOB, "I worry about the docs.", reply_to=1)
    second = post(3, CAROL, "I worry about the docs.", reply_to=1)
    ids = [c.id for c in ledger(root(), first, second).concerns]
    assert ids == ["the-docs", "the-docs-2"]
    assert ids == [
        c.id for c in ledger(root(), second, first).concerns
    ]  # input order is irrelevant
    assert unique_id("x", ["x", "x-2"]) == "x-3"


def test_to_dict_is_plain_json():
    raised = post(2, BOB, "I am concerned that the migration breaks deployments.", reply_to=1)
    data = json.loads(json.dumps(ledger(root(), raised).to_dict()))
    [concern] = data["concerns"]
    assert concern["state"] == "open"
    assert concern["raised_by"] == "Bob Baker"
    assert concern["post"] == "<p2@example.org>"
    assert concern["source"] == "detected"


# --------------------------------------------------------------------------
# Titles and topics
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        (
            "I am concerned that the migration breaks every existing deployment.",
            "The migration breaks every existing deployment",
        ),
        ("Who is going to do this?", "Who is going to do this?"),
        (
            "It is weird to me that ant-tasks depends on the provider.",
            "Ant-tasks depends on the provider",
        ),
        ("So one of the issues with that is multiple Maven versions.", "Multiple Maven versions"),
    ],
)
def test_titles_are_short_and_drop_the_cue(sentence: str, title: str):
    cue = "concerned" if "concerned" in sentence else "odd" if "weird" in sentence else ""
    assert make_title(sentence, cue=cue) == title


def test_titles_never_exceed_eight_words():
    long = "I worry that " + " ".join(f"word{i}" for i in range(30))
    assert len(make_title(long).split()) <= 8
    assert slugify("Ünïcode & punctuation: fine!") == "unicode-punctuation-fine"


def test_topic_overlap_ignores_cue_words_and_subject_words():
    assert not same_topic("I worry about speed.", "I worry about docs.")
    assert same_topic("groovy with Java 9", "Groovy and Java 9 support", frozenset())
    assert not same_topic("groovy with Java 9", "Groovy and Java 9", frozenset({"groovy", "java"}))


# --------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------


def test_the_proposal_skips_greetings_and_prefers_proposing_sentences():
    assert proposal_of(root()) == "I propose that we replace the XML config with TOML in 2.0."
    plain = post(
        1,
        ALICE,
        "Hello team,\n\nThe build takes an hour. It runs every test twice.\n\nRegards,\nAlice",
    )
    assert proposal_of(plain) == "The build takes an hour. It runs every test twice."


def test_summary_lists_open_and_resolved_concerns_with_who_when_and_answers():
    posts = [
        root(),
        post(2, BOB, "I am concerned that the migration breaks deployments.", reply_to=1),
        post(3, ALICE, "The loader reads both formats.", reply_to=2),
        post(4, BOB, "Fair enough, that addresses my concern.", reply_to=3),
        post(5, CAROL, "The problem with this is that IDEs lack TOML support.", reply_to=1),
    ]
    now = T0 + timedelta(days=3)
    summary = summarize(
        "[RFC] TOML config", posts, build_ledger("<p1@example.org>", posts, now), now
    )
    assert summary.proposer == "Alice Archer"
    assert [c.raised_by for c in summary.open_concerns] == ["Carol Chen"]
    [open_one] = summary.open_concerns
    assert (open_one.answered, open_one.open_days, open_one.link) == (False, 2, "<p5@example.org>")
    [resolved] = summary.resolved_concerns
    assert (resolved.answered_by, resolved.resolved_by) == (("Alice Archer",), "Bob Baker")
    assert [(p.name, p.posts, p.concerns_raised) for p in summary.participants] == [
        ("Alice Archer", 2, 0),
        ("Bob Baker", 2, 1),
        ("Carol Chen", 1, 1),
    ]
    text = render_summary(summary, Config())
    assert "Proposed by Alice Archer on 2026-11-02 10:00 UTC:" in text
    assert "Open concerns (1):" in text
    assert "not answered yet; open 2 days" in text
    assert "answered by Alice Archer; resolved by Bob Baker" in text
    json.dumps(summary.to_dict())


def test_reply_quoting_only_the_concerned_clause_answers_it():
    concern = (
        "I like the direction, but I am concerned that the migration doubles our test matrix,"
        " and nobody has volunteered to keep its CI green."
    )
    posts = [
        root(),
        post(2, BOB, concern, reply_to=1),
        post(
            3,
            CAROL,
            "I can run those tests nightly on the spare runner.",
            reply_to=2,
            quoted=("I am concerned that the migration doubles our test matrix",),
        ),
    ]
    ledger = build_ledger("<p1@example.org>", posts, T0 + timedelta(days=1))
    [found] = ledger.concerns
    assert found.state is ConcernState.ANSWERED
    assert [ref.author for ref in found.answered_by] == ["Carol Chen"]


def _forum_mail(number: int, who: str, text: str, reply_to: int | None = None) -> Post:
    """A forum's mailing-list-mode copy of a post: sent from the forum's own address,
    marked auto-submitted, the author named only in the display name."""
    topic = "<topic/95@forum.example.org>"
    message_id = topic if number == 1 else f"<topic/95/{number}@forum.example.org>"
    threading = "" if reply_to is None else f"\nIn-Reply-To: {topic}\nReferences: {topic}"
    raw = raw_mail(
        f"{text}\n\n---\n[Visit Topic](https://forum.example.org/t/95/{number}) or reply to"
        " this email to respond.\n\nYou are receiving this because you enabled mailing list"
        " mode.\n",
        subject="[Example Forum] [RFCs] RFC: Replace the XML config with TOML",
        sender=f"{who} via Example Forum <forum@forum.example.org>",
        message_id=message_id,
        date=f"Mon, 02 Nov 2026 {9 + number:02d}:00:00 +0000",
        extra="Reply-To: Example Forum <reply+4f2a@forum.example.org>\n"
        f"Auto-Submitted: auto-generated{threading}",
    )
    return replace(parse_mail(raw, Envelope(ARRIVAL)), thread_key=topic)  # as the store threads it


def test_a_forum_relaying_every_post_from_its_own_address_still_has_many_voices():
    proposal = _forum_mail(1, "Alice Archer", "I propose that we replace the XML config.")
    objection = _forum_mail(
        2, "Bob Baker", "I am worried that plugins parse the XML themselves.", reply_to=1
    )
    [concern] = build_ledger(proposal.key, [proposal, objection], T0 + timedelta(days=2)).concerns
    assert concern.raised_by.name == "Bob Baker via Example Forum"  # as its From shows him
    assert concern.text == "I am worried that plugins parse the XML themselves."


def test_people_a_review_tool_sends_for_from_its_one_address_stay_apart():
    tool = "gerrit@review.example.org"
    proposal = post(1, Person("Alice Archer (Code Review)", tool), PROPOSAL)
    objection = post(
        2, Person("Bob Baker (Code Review)", tool), "I worry that plugins break.", reply_to=1
    )
    [concern] = ledger(proposal, objection).concerns
    assert concern.raised_by.name == "Bob Baker (Code Review)"
    # One person under a shorter name from their own address is still one voice: their
    # follow-up does not answer their own concern.
    bob = Person("Bob Baker", "bob@example.org")
    raised = post(2, bob, "I worry that plugins break.", reply_to=1)
    more = post(3, Person("Bob", "bob@example.org"), "And the IDE plugins too.", reply_to=2)
    [mine] = ledger(root(), raised, more).concerns
    assert mine.answered_by == ()


# --------------------------------------------------------------------------
# Points a reader takes whole (stop 42: the written threads' misses, in other words)
# --------------------------------------------------------------------------


def test_a_worry_announced_then_told_after_a_quote_is_one_concern_with_its_substance():
    # The quote ("> Nothing changes for configs that already exist.") sat between them.
    text = (
        "+1 in principle, but one thing bothers me.\n\n"
        "Is that really so? A config written by 1.x without a format line is read by "
        "whatever the default is when it is loaded, so upgrading silently switches it "
        "to TOML parsing and every such file fails on the first restart."
    )
    assert findings(text) == [
        "+1 in principle, but one thing bothers me. Is that really so? A config written"
        " by 1.x without a format line is read by whatever the default is when it is"
        " loaded, so upgrading silently switches it to TOML parsing and every such file"
        " fails on the first restart."
    ]


def test_a_point_is_shown_with_the_reasons_its_paragraph_gives():
    text = (
        "Related: even with the cache, TOML means many more files per plugin than the "
        "single XML did. We have had build agents hit the open file limit with far "
        "fewer. If this becomes the default, the packaged limits need to go up too, or "
        'we\'ll get a wave of "too many open files" reports on the user list.'
    )
    (found,) = findings(text)
    assert found.startswith("Related: even with the cache, TOML means many more files")
    assert found.endswith('a wave of "too many open files" reports on the user list.')


def test_a_stated_cost_outranks_the_question_that_asks_for_its_evidence():
    text = (
        "Our largest build has about 9,000 modules. Today loading their XML takes 4 s. "
        "Parsing 9,000 TOML files on every build is going to hurt, and people run "
        "builds dozens of times a day.\n\n"
        "Do you have numbers for anything big? The largest example in the RFC has 40."
    )
    report = post(2, CAROL, "I tried the converter on our repo and it worked.", reply_to=1)
    found = findings(text, replying_to=report)
    assert any("is going to hurt" in text for text in found), found


def _raised_then(later: str) -> list[Concern]:
    """Bob objects, Alice answers, Bob writes ``later``: the concerns in the ledger."""
    objection = post(
        2, BOB, "I am worried that TOML has no way to express the inherited profiles.", reply_to=1
    )
    answer = post(3, ALICE, "The converter flattens them; see the new section 4.", reply_to=2)
    again = post(4, BOB, later, reply_to=3)
    return list(ledger(root(), objection, answer, again).concerns)


@pytest.mark.parametrize(
    "later",
    [
        "Thanks for the section. That said, I won't block if the upgrade guide is loud about it.",
        "I still think flattening is a mistake we'll pay for, but I've said my piece.",
        "I'm keeping the objection: flattening the profiles is still wrong for us.",
        "Flattening is still wrong, for the reasons I gave.",
    ],
)
def test_a_raiser_weighing_their_point_raises_no_other(later: str):
    (concern,) = _raised_then(later)
    assert concern.raised_by == BOB
    assert concern.repeated_in == ("<p4@example.org>",)


GIVING_WAY = [
    "I still think a two-year window is too short, and I'd have preferred three. But I won't"
    " block it.",
    "Two releases of warnings is still tight for us. Not thrilled, but I understand why you"
    " don't want 3.0 carrying the old reader.",
    "If the old reader moves to a plugin rather than the core, I can live with that.",
    "My view hasn't changed, and I'd vote against it on a show of hands. But with the"
    " converter tests Alice describes, I won't keep fighting it if others want it.",
    "The converter plus the plugin shim covers us, as long as it's documented on day one"
    " rather than discovered by users in a broken build.",
]


@pytest.mark.parametrize("later", GIVING_WAY)
def test_giving_way_on_a_return_to_the_thread_raises_nothing(later: str):
    """Carol spoke before (+1); back after the answers, she names what still bothers her
    and gives way in the same breath: her part closes, no point opens."""
    first = post(2, CAROL, "+1 from me, the XML reader is a pain.", reply_to=1)
    answer = post(3, ALICE, "Plugins get two releases of warnings first.", reply_to=1)
    back = post(4, CAROL, later, reply_to=3)
    assert [c.text for c in ledger(root(), first, answer, back).concerns] == []


@pytest.mark.parametrize("first_word", GIVING_WAY[:2])
def test_giving_way_in_a_first_post_still_names_the_point(first_word: str):
    assert len(findings(first_word, author=CAROL)) == 1


def test_a_point_kept_after_giving_way_is_raised():
    first = post(2, CAROL, "+1 from me, the XML reader is a pain.", reply_to=1)
    back = post(
        3,
        CAROL,
        "I won't hold the release over it, but the converter is untested on the configs we"
        " ship, and I want that fixed before the XML reader goes.",
        reply_to=1,
    )
    assert len(ledger(root(), first, back).concerns) == 1


def test_saying_ones_points_are_no_blockers_adds_no_point_of_its_own():
    text = (
        "Two things.\n\n"
        "Deleting the XML reader in the same release breaks every plugin that writes "
        "its own settings, and their authors aren't on this list.\n\n"
        "I'm also worried that the TOML library needs Java 17, which some shops don't"
        " allow on build hosts.\n\n"
        "Neither is a blocker in principle, but I'd like to see both covered in the doc "
        "before we commit."
    )
    found = findings(text)
    assert len(found) == 2, found
    assert not any("Neither is a blocker" in text for text in found)


@pytest.mark.parametrize(
    "sentence",
    [
        "Bob, you're right that the proposal was too glib there.",
        "Good catch, and you're right that this must not be left implicit.",
        "So you're right that for large builds XML is the slower default.",
    ],
)
def test_granting_whom_one_answers_their_point_finds_no_fault(sentence: str):
    [unit] = units_of(sentence)
    assert not cues_of(unit) & set(OBJECTION_FORMS)


def test_granting_a_point_with_a_but_still_finds_the_fault_after_it():
    [unit] = units_of("You're right that it is simpler, but it breaks every plugin.")
    assert cues_of(unit) & set(OBJECTION_FORMS)


def test_a_remedy_asked_after_the_writers_own_fear_is_part_of_it():
    text = (
        "I like the idea of simplification.\n\n"
        "I have only one fear: what happens when the API changes in an incompatible way,"
        " then we must release the resolver, then the provider, then the ant tasks.\n\n"
        'What about creating a "withProvider" module where we could put the ant tasks and'
        " the demos? In case of such a breaking change, we would just have to skip this"
        " module for the release that breaks the API."
    )
    [fear] = findings(text)
    assert "only one fear" in fear
    # Asked as whether it is possible, the way out is the remedy too.
    problem = (
        "We use the library in two places where this is a problem.\n\n"
        "On our embedded product there is no heap at all. With the new constructor only, we"
        " cannot use 3.0 on this target, we have to stay on 2.x forever.\n\n"
    )
    asked = "Is it possible to keep the opaque type but let the caller provide memory?"
    assert not [f for f in findings(problem + asked) if asked in f]
    assert findings(asked) == [asked]
    # Asked on its own, the same way out is a point: it proposes otherwise.
    [alone] = findings(text.split("\n\n")[2])
    assert "withProvider" in alone


def test_a_reaction_told_as_held_back_finds_no_fault():
    held_back = (
        'On the second option, I was ready to just answer "not possible", but decided I could'
        " try at high level before answering."
    )
    [unit] = units_of(held_back)
    assert not cues_of(unit) & set(OBJECTION_FORMS)
    # What follows the "but" still counts.
    [unit] = units_of("I was going to say this is fine, but then I noticed it breaks Windows.")
    assert "negative_judgement" in cues_of(unit)


def test_a_point_announced_as_missed_takes_the_paragraph_that_says_it():
    announced = "Something nobody has brought up yet: documentation translations."
    told = (
        "The Japanese, Brazilian Portuguese and German manuals are already a full release"
        " behind. With three releases a year the translated docs will basically never match"
        " the version people are actually running."
    )
    assert findings(f"{announced}\n\n{told}") == [f"{announced} {told}"]


def test_a_list_introduced_as_the_reservations_of_the_sentence_before_is_one_point_each():
    text = (
        "I'm not against a formatter in principle, but I have reservations about this plan."
        " In order of how much they would hurt:\n\n"
        "1. Maintenance branches. Once main is reformatted, nearly every cherry-pick from main"
        " to 3.4 will conflict.\n\n"
        "2. The JDK. The formatter reaches into compiler internals, so every new JDK has a"
        " window in which the build doesn't work."
    )
    assert findings(text) == [
        "Maintenance branches. Once main is reformatted, nearly every cherry-pick from main to"
        " 3.4 will conflict.",
        "The JDK. The formatter reaches into compiler internals, so every new JDK has a window"
        " in which the build doesn't work.",
    ]


def test_an_ask_is_shown_with_the_reason_told_in_the_paragraph_before_it():
    reason = (
        "If we change the electorate and the voting method this close to the election, people"
        " who were planning to run will be working under rules that changed under them."
    )
    ask = "Can this apply from the 2025 election instead?"
    assert findings(f"Timing question.\n\n{reason}\n\n{ask}") == [f"{reason} {ask}"]
    # The whole of a paragraph told plainly, its weaker sentences too.
    told = (
        "These kiosks are installed in customers' buildings with 5 to 8 year service"
        " contracts. We can't swap the hardware."
    )
    keep = "Is there any chance of keeping GLES2 as a community module, instead of deleting it?"
    [shown] = findings(f"Different corner of the world: we build kiosks.\n\n{told}\n\n{keep}")
    assert shown == f"{told} {keep}"
    # A paragraph that only says what must be done is such an ask too (stop 51's set cq).
    packaging = (
        "Debian runs the test suite against the installed package. If the tests stop"
        " shipping in the package we need them from the sdist, and right now the sdist"
        " doesn't include the fixtures, so the package tests would just stop working."
    )
    must = "Please make sure `tests/` and the fixtures end up in the sdist."
    assert findings(f"{packaging}\n\n{must}") == [f"{packaging} {must}"]


@pytest.mark.parametrize(
    ("heading", "told"),
    [
        (
            "Question about permissions, because this one would hit us hard.",
            "Our most active triager isn't a committer. In JIRA he sets components and closes"
            " duplicates; on GitHub someone without write access can't label, assign or close.",
        ),
        # Problems announced with what they are with (stop 46).
        (
            "Overall I like the direction, but I have two problems with the migration story.",
            "If 3.0 is the release after 2.4, one release of warnings is far too short: users"
            " who skip a release will never see them before the old format stops loading.",
        ),
    ],
)
def test_a_heading_takes_the_paragraph_it_heads(heading: str, told: str):
    assert findings(f"{heading}\n\n{told}") == [f"{heading} {told}"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("No selftest in the series.", "No selftest in the series."),
        # The same trouble, with the question put to the proposal.
        (
            "Currently it is not possible to pin a plugin version. Should the RFC not fix"
            " that too?",
            "Currently it is not possible to pin a plugin version. Should the RFC not fix"
            " that too?",
        ),
        (
            "I'm generally in favour, but the release process needs to be sorted out before we"
            " flip the switch.",
            "I'm generally in favour, but the release process needs to be sorted out before we"
            " flip the switch.",
        ),
        # A +1 held back ("Mostly") with a condition after it is no endorsement.
        (
            "Mostly +1. Two-year terms are a long time for volunteers, and the charter has no"
            " rule for filling a seat. The proposal should say what happens when someone steps"
            " down.",
            "Two-year terms are a long time for volunteers, and the charter has no rule for"
            " filling a seat. The proposal should say what happens when someone steps down.",
        ),
    ],
)
def test_what_is_missing_or_must_come_first_is_a_concern(text: str, shown: str):
    assert findings(text) == [shown]


@pytest.mark.parametrize(
    ("answers", "carol"),
    [
        # "I updated the RFC" takes up every point the mail answers.
        (
            "Thanks all. I updated the RFC with the following changes:\n\n"
            '1. @Jisoo added section "Rollback". Switching back is a config change and a'
            " rolling restart.\n\n"
            "2. @Carol old clients keep working through 3.1, and the release notes say so.\n",
            ConcernState.RESOLVED,
        ),
        # An item put to the raiser that says what was added takes up her point alone.
        (
            "Thanks all, answers below.\n\n"
            '1. @Jisoo added section "Rollback". Switching back is a config change and a'
            " rolling restart.\n\n"
            "2. @Carol I disagree: old clients are a small minority, and they can stay on"
            " 2.x.\n",
            ConcernState.ANSWERED,
        ),
    ],
)
def test_a_list_of_changes_settles_the_point_put_to_its_raiser_by_first_name(
    answers: str, carol: ConcernState
):
    jisoo = Person("Jisoo Park", "jisoo.park@example.kr")
    raised = post(
        2, jisoo, "I am worried there is no way to roll back after the switch.", reply_to=1
    )
    raised_too = post(3, CAROL, "I am concerned that old clients lose the node list.", reply_to=1)
    # The reply answers Carol's mail, and names Jisoo by the first name her From shows.
    reply = replace(post(4, ALICE, answers, reply_to=3), mentions=extract_mentions(answers))
    found = {c.raised_by: c for c in ledger(root(), raised, raised_too, reply).concerns}
    assert (found[jisoo].state, found[jisoo].resolution) == (ConcernState.RESOLVED, "adopted")
    assert found[CAROL].state is carol


def test_the_proposers_summary_settles_the_points_its_items_adopt_by_name():
    kasper = Person("Kasper Lund", "kasper@example.org")
    raised = [
        post(
            2, kasper, "I am worried that removing it before the 8.2 tag breaks errata.", reply_to=1
        ),
        post(3, CAROL, "I am concerned that nobody has looked at the ports tree yet.", reply_to=1),
        post(4, BOB, "I am worried the MAC driver is shared with the armv7 boards.", reply_to=1),
    ]
    summary = post(
        5,
        ALICE,
        "Thanks all. Where this ended up:\n\n"
        " - Nothing gets committed until 8.2 is tagged, per Kasper.\n"
        " - Carol's point about the ports tree is still open; I'll ask on ports@.\n"
        " - The MAC driver moves to a shared directory first.\n",
        reply_to=1,
    )
    found = {c.raised_by: c for c in ledger(root(), *raised, summary).concerns}
    assert (found[kasper].state, found[kasper].resolution) == (ConcernState.RESOLVED, "adopted")
    assert found[kasper].resolved_by is not None
    # An item that keeps a point open settles nothing; an item naming nobody adopts the
    # one open point it is about.
    assert found[CAROL].state is not ConcernState.RESOLVED
    assert (found[BOB].state, found[BOB].resolution) == (ConcernState.RESOLVED, "adopted")
    # ... and settles nothing when two open points are about it.
    dan_dorn = Person("Dan Dorn", "dan@example.org")
    worry = "I am worried a shared directory for the MAC driver breaks armv7."
    also = post(6, dan_dorn, worry, reply_to=1)
    summary_after = post(7, ALICE, summary.text, reply_to=1)
    found = {c.raised_by: c for c in ledger(root(), *raised, also, summary_after).concerns}
    assert found[BOB].state is not ConcernState.RESOLVED
    assert found[dan_dorn].state is not ConcernState.RESOLVED
    # Only the proposer's summary speaks for the proposal.
    dan = replace(summary, author=Person("Dan Dorn", "dan@example.org"))
    found = {c.raised_by: c for c in ledger(root(), *raised, dan).concerns}
    assert found[kasper].state is not ConcernState.RESOLVED


@pytest.mark.parametrize(
    "text",
    [
        "I'd want to see at least one non-x86 target before we change the default for everyone.",
        "I'm not against a baseline bump, but 15.4 looks like it was picked to fit the numbers.",
        "So the average is fine but the tail isn't.",
        "This one is a real bug, I think.",
        "Plain accesses for both is a data race; please use READ_ONCE() at least.",
        "Patch 3 drops nmi_watchdog=panic and nmi_watchdog=nopanic with no deprecation period.",
        'A redirect map never sees the anchor, so "every old URL keeps working" isn\'t true here.',
        "The Grafana plugin is good for metrics, but it has not the job topology view.",
        "Honest question: what does Gradle give us that Maven doesn't?",
    ],
)
def test_a_reviewers_condition_a_defect_named_and_a_removal_without_notice_are_objections(
    text: str,
):
    assert findings(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "I'm not against the idea for desktop and server targets, to be clear.",
        "My only worry going in was boot ordering, but that turned out to be a non-issue.",
        "If it's on the blocker list and you're doing the abstraction, fine by me.",
        "Question before I form an opinion: does this touch the server output, or the client?",
    ],
)
def test_a_grant_a_worry_since_settled_a_tracker_word_and_a_question_before_judging_raise_nothing(
    text: str,
):
    assert findings(text) == []


def test_a_list_of_what_a_reviewer_asks_for_is_a_point_each():
    text = (
        "Speaking as the person who triages the miscompiles downstream.\n\n"
        "I'm asking for:\n\n"
        "1. a mass rebuild of a distribution with the series applied\n"
        "2. the flip to land early in a cycle, so there is time to find what breaks\n"
    )
    assert findings(text) == [
        "a mass rebuild of a distribution with the series applied",
        "the flip to land early in a cycle, so there is time to find what breaks",
    ]


def _review(event: str, text: str) -> str:
    return f"@bob {event} this pull request.\n\nIn docs/design.md:\n\n{text}"


def test_a_review_that_requests_changes_objects_whatever_words_its_comment_uses():
    comment = (
        "We spent most of last year getting secrets out of the config file. This puts a "
        "long-lived key back in it, in plain text. Please read it from the environment."
    )
    hunk = '+[storage]\n+secret_key = "..."'
    requested = post(2, BOB, _review("requested changes on", comment), reply_to=1, quoted=(hunk,))
    commented = post(2, BOB, _review("commented on", comment), reply_to=1, quoted=(hunk,))
    [concern] = [c for c in ledger(root(), requested).concerns if c.post == requested.key]
    assert "long-lived key back in it" in concern.text
    # The same words in a review that only comments are read as any reply is.
    assert [c for c in ledger(root(), commented).concerns if c.post == commented.key] == []


def test_a_patch_review_makes_a_remark_under_each_hunk_it_quotes():
    # A point threshold no second point of a post clears: only the rule that a remark
    # under each quoted hunk is a point of its own can show the second one.
    strict = LedgerSettings(model=ConcernModel(point_threshold=0.9999))
    race = "Plain accesses for both is a data race; please use READ_ONCE() at least."
    bug = "This one is a real bug, I think. The CPU joins the mask before its timer has fired."
    first = "+\tnow = per_cpu(hrtimer_interrupts, next_cpu);\n+\tsaved = per_cpu(saved, next_cpu);"
    second = "+\tif (cpumask_test_cpu(cpu, &watchdog_cpumask))\n+\t\tcpumask_set_cpu(cpu, &cpus);"

    def remarks(quoted: tuple[str, ...], quote_at: tuple[int, ...]) -> list[str]:
        review = replace(
            post(2, BOB, f"{race}\n\n{bug}", reply_to=1, quoted=quoted), quote_at=quote_at
        )
        found = build_ledger("<p1@example.org>", [root(), review], T0 + timedelta(days=30), strict)
        return [c.text for c in found.concerns if c.post == review.key]

    assert remarks((first, second), (0, 1)) == [race, bug]
    # A hunk quoted from its header is a hunk, however many unchanged lines it shows.
    header = '@@ -41,6 +41,7 @@ __all__ = [\n     "Response",\n     "JSONResponse",\n+    "defer",'
    assert remarks((first, header), (0, 1)) == [race, bug]
    # One hunk, or two quoted paragraphs of prose: one argument, shown once.
    assert remarks((f"{first}\n{second}",), (0,)) == [race]
    assert remarks(("We drop the perf detector.", "It is old."), (0, 1)) == [race]


@pytest.mark.parametrize(
    "text",
    [
        "Just to confirm I'm reading it right: names are compared as octets, with no case folding?",
        "Not stale, this is meant for the 5.0 milestone. Please don't let the bot close it.",
        "Maybe my team can help to maintain Studio?",
        "Let's bikeshed the metric names in the implementation PR rather than here.",
        "Also, is there a tracking issue with the full list of old and new names?",
        "What's the plan for the C# bindings?",
        "Lin's point about naming the LTS owner early is a good one, but it can wait a release.",
    ],
)
def test_checking_a_reading_and_keeping_an_issue_open_raise_nothing(text: str):
    assert findings(text) == []


@pytest.mark.parametrize(
    ("text", "point"),
    [
        (
            "+1.\n\nSeparately, patch 3 drops nmi_watchdog=panic with no deprecation period. "
            "Those are in plenty of people's bootloader configs.",
            "Separately, patch 3 drops nmi_watchdog=panic with no deprecation period.",
        ),
        (
            "OK, thank you. If the panel is the condition, I have no objection.\n\n"
            "But one more thing. If it is like normal, 6 months or so, this is too short for us.",
            "this is too short for us.",
        ),
        (
            "+1 on the direction, the XML path really is a bug farm.\n\n"
            "One thing though, and I know naming is a bikeshed. `load_toml` reads as if it"
            " loaded any TOML file, and users will pass it the wrong ones.",
            "users will pass it the wrong ones.",
        ),
    ],
)
def test_an_acknowledgement_does_not_speak_for_the_matter_its_writer_turns_to(
    text: str, point: str
):
    # A post threshold no post clears: only the matter turned to can be shown.
    strict = LedgerSettings(model=ConcernModel(post_threshold=0.9999))
    reply = post(2, BOB, text, reply_to=1)
    found = build_ledger("<p1@example.org>", [root(), reply], T0 + timedelta(days=30), strict)
    [concern] = [c for c in found.concerns if c.post == reply.key]
    assert point in concern.text
    # Without the turn, the acknowledgement speaks for the post.
    plain_text = text.replace("Separately, p", "P").replace("But one more thing. ", "")
    plain = post(2, BOB, plain_text.replace("One thing though, and I", "I"))
    found = build_ledger("<p1@example.org>", [root(), plain], T0 + timedelta(days=30), strict)
    assert [c for c in found.concerns if c.post == plain.key] == []


def test_the_proposer_conceding_under_a_quote_of_the_point_adopts_it():
    raised = post(
        2,
        BOB,
        "This is the part I don't like. The single-core boards silently lose hard-lockup"
        " detection altogether.",
        reply_to=1,
    )
    quote = raised.text
    answer = post(
        3,
        ALICE,
        "Fair. I was too eager with patch 3. For v2 the perf detector stays a Kconfig"
        " choice, and UP configs keep exactly what they have today.",
        reply_to=2,
        quoted=(quote,),
    )
    answer = replace(answer, quote_at=(0,))
    [concern] = ledger(root(), raised, answer).concerns
    assert (concern.state, concern.resolution) == (ConcernState.RESOLVED, "adopted")


def _after_bobs_worry(text: str) -> list[Concern]:
    """Bob worries; Carol (not the proposer) writes ``text`` under Bob's post."""
    worry = post(
        2, BOB, "I'm worried the TOML reader needs 60 MB of memory on our hosts.", reply_to=1
    )
    reply = post(3, CAROL, text, reply_to=2)
    return [c for c in ledger(root(), worry, reply).concerns if c.post == reply.key]


@pytest.mark.parametrize(
    "text",
    [
        "Bob, the reader takes its buffer size from a setting, so you can drop it to 8 MB in"
        " one line. Wouldn't that solve it for your hosts?",
        "@bob I don't think the 60 MB is a real problem: it's a worst case nobody hits, and I"
        " doubt the old XML reader was any better.",
    ],
)
def test_turning_to_another_participant_answers_them_and_raises_nothing(text: str):
    assert _after_bobs_worry(text) == []


def test_the_paragraph_after_turning_to_someone_speaks_for_itself():
    text = (
        "Bob, the reader takes its buffer size from a setting, so you can drop it to 8 MB.\n\n"
        "My own issue is the converter: it silently drops every comment in the XML file,"
        " and our configs are mostly comments."
    )
    (concern,) = _after_bobs_worry(text)
    assert "silently drops every comment" in concern.text


@pytest.mark.parametrize(
    "text",
    [
        # The reasons for an objection just made, listed under "To recap:".
        "I don't think we should add this at all. We've turned it down three times before,"
        " and I don't see what has changed since. To recap:\n\n"
        "* It isn't in the standard, and once we ship it we can never take it back.\n\n"
        "* Without an ORDER BY the rows it touches are whatever the scan finds first.\n",
        # Why a reviewer requests changes, listed.
        "Thanks, the revision is a real improvement. I'm requesting changes because the"
        " proposal isn't yet in a state I can recommend to the committee:\n\n"
        "1. There is no specification of the typing rules. Section 4 describes the feature"
        " by example only.\n\n"
        '2. The Implementation Plan section just says "TBD". Too many accepted proposals'
        " sat unimplemented for years.\n",
    ],
)
def test_the_reasons_listed_under_an_objection_are_a_point_each(text: str):
    found = findings(text)
    assert len([f for f in found if "standard" in f or "typing rules" in f]) == 1, found
    assert len([f for f in found if "ORDER BY" in f or "TBD" in f]) == 1, found


FORMAL_OBJECTION = (
    "I'm registering a formal objection to this proposal under section 5.3 of the charter.\n\n"
    "1. **Breakage.** Countless tutorials and CI configs assume the tool is on disk right"
    " after install. The shim turns a local binary into a network fetch.\n\n"
    "2. **Supply chain.** We'd be moving the trust boundary from our release process to a"
    " runtime download, and I haven't seen a threat model for that.\n\n"
    "3. **Process.** A change that touches every single user should go through a"
    " deprecation cycle with a warning, not land in one major release.\n\n"
    "I'm willing to withdraw the objection if (2) gets a verification design and (3) gets"
    " a deprecation period. I don't see a fix for (1) short of not doing this.\n"
)


def test_the_grounds_listed_under_a_declared_objection_are_a_point_each():
    found = findings(FORMAL_OBJECTION)
    for ground in ("network fetch", "threat model", "deprecation cycle"):
        assert len([f for f in found if ground in f]) == 1, (ground, found)


def test_a_paragraph_weighing_the_listed_points_by_number_makes_none():
    assert not [f for f in findings(FORMAL_OBJECTION) if "withdraw the objection" in f]


def test_an_item_beside_a_listed_concern_is_a_point_of_its_own():
    text = (
        "Speaking as the maintainer of the three biggest plugins:\n\n"
        "1. Our vendor directory is 180 MB, and upstream bumps dependencies in nearly every"
        " release, so that's a new 35 MB tarball in the cache every month, for one plugin."
        " Has anyone asked infra whether the cache can take that?\n\n"
        "2. The converter failed on our replace directives when I tried it in April, and I"
        " worry that we'll be stuck on the opt-out forever.\n"
    )
    found = findings(text)
    assert len([f for f in found if "35 MB tarball" in f]) == 1, found
    assert len([f for f in found if "opt-out forever" in f]) == 1, found


@pytest.mark.parametrize(
    "intro", ["Two questions, not objections:", "Two questions, mostly so I understand the scope:"]
)
def test_questions_listed_as_not_objections_raise_nothing(intro: str):
    text = (
        f"{intro}\n\n"
        "- Does the migration tool also touch the scene files? A lot of our signal"
        " connections live in scenes, not in scripts.\n"
        "- What's the plan for the C# bindings? Same renames in the same release, or later?\n"
    )
    assert findings(text) == []


@pytest.mark.parametrize(
    "answer",
    [
        "Happy to add a --keep-xml flag for one release, and a note in the upgrade guide.",
        "Fair. I've switched the default back to the XML reader for 2.0; TOML is opt-in.",
    ],
)
def test_the_proposer_committing_to_a_change_in_other_words_adopts_the_point(answer: str):
    worry = post(2, BOB, "I am worried that plugins parse the XML config themselves.", reply_to=1)
    reply = post(3, ALICE, answer, reply_to=2)
    (concern,) = ledger(root(), worry, reply).concerns
    assert concern.state is ConcernState.RESOLVED
    assert concern.resolution == "adopted"


def test_a_worry_that_goes_away_settles_the_raisers_point():
    (concern,) = _raised_then("Thanks, with that section my main worry goes away.")
    assert concern.state is ConcernState.RESOLVED
    assert concern.resolution == "accepted"


# --------------------------------------------------------------------------
# A point and what it leads into (stop 46: sets ak and am, read after their blind measure)
# --------------------------------------------------------------------------


def test_a_stance_of_one_sentence_is_shown_with_the_paragraph_that_gives_its_reasons():
    stance = "I'm skeptical, mostly because of the first-argument rule."
    reasons = (
        "Half of our loader functions take the file second. Piping a path into them"
        " passes it as the other argument, and the error mentions neither."
    )
    [found] = findings(f"{stance}\n\n{reasons}")
    assert found == f"{stance} {reasons}"
    # A paragraph that ends on a colon leads into what follows it, too.
    lead = "Problem: short trip counts. We have a lot of code shaped like this:"
    shape = "A loop over eight to twenty items, where the new check costs more than the loop."
    assert [f for f in findings(f"{lead}\n\n{shape}") if lead in f] == [f"{lead} {shape}"]
    # A paragraph saying something new of the proposal is no reason of the one before.
    worry = "I am worried that this doubles the memory footprint."
    claim = "This creates a second source of truth for the version number."
    assert findings(f"{worry}\n\n{claim}") == [worry]
    # Under a quote of another mail, the next paragraph answers that, not the stance.
    other = "The rest of the plan, the two releases of warnings, reads fine to me."
    reply = replace(
        post(2, BOB, f"{stance}\n\n{other}", reply_to=1, quoted=("We warn for two releases.",)),
        quote_at=(1,),
    )
    [concern] = [c for c in ledger(root(), reply).concerns if c.post == reply.key]
    assert concern.text == stance


def test_a_question_of_its_own_paragraph_shows_the_problem_it_asks_about():
    problem = (
        "Right now every person who understands the importer works for one company. If"
        " they change priorities, the PMC is left holding code nobody else can maintain."
    )
    asked = "What would it take to get two or three people from elsewhere reviewing it?"
    [found] = findings(f"{problem}\n\n{asked}")
    assert "left holding code nobody else can maintain" in found
    assert found.endswith(asked)


def test_in_a_review_that_requests_changes_each_hunks_remark_is_a_point():
    first = "+on:\n+  pull_request_target:\n+    types: [opened]"
    second = "+      matrix:\n+        os: [ubuntu-latest]"
    footgun = (
        "This combination is the classic foot-gun. The workflow runs with a write token,"
        " and then we check out and execute the author's code."
    )
    lost = "We lose the big-endian jobs completely with this, and they caught two bugs."
    text = (
        f"@bob requested changes on this pull request.\n\nIn .github/workflows/test.yml:"
        f"\n\n{footgun}\n\nIn .github/workflows/test.yml:\n\n{lost}"
    )
    review = replace(post(2, BOB, text, reply_to=1, quoted=(first, second)), quote_at=(2, 4))
    found = [c.text for c in ledger(root(), review).concerns if c.post == review.key]
    assert any("classic foot-gun" in f for f in found), found
    assert any("lose the big-endian jobs" in f for f in found), found


def test_a_review_that_requests_changes_keeps_each_remark_whole_and_not_its_summary():
    hunks = (
        '-SESSION_SERIALIZER = "PickleSerializer"\n+SESSION_SERIALIZER = "JSONSerializer"',
        "+class JSONSerializer:\n+    def dumps(self, obj):",
        "+class PickleSerializer:\n+    def __init__(self):\n+        warnings.warn(...)",
    )
    summary = (
        "I'm in favour of the direction, but I don't think it can go in as it stands."
        " Three things; the first one is a blocker for me."
    )
    logged_out = "Every existing session fails to decode after deploy: everyone is logged out."
    typed = "Apps that put a datetime in the session now get a TypeError at response time."
    warned = (
        "This runs on every request, since the backend builds the serializer per request."
        " Anyone who keeps pickle on purpose gets a warning per request in their logs."
        " Warn once at startup instead?"
    )
    text = (
        f"@bob requested changes on this pull request.\n\n{summary}\n\nIn settings.py:\n\n"
        f"{logged_out}\n\nIn signing.py:\n\n{typed}\n\nIn signing.py:\n\n{warned}"
    )
    review = replace(post(2, BOB, text, reply_to=1, quoted=hunks), quote_at=(3, 5, 7))
    found = [c.text for c in ledger(root(), review).concerns if c.post == review.key]
    assert len(found) == 3, found
    assert "logged out" in found[0]
    assert "TypeError" in found[1]
    # The fault stated plainly is the remark; the way out asked after it is part of it.
    assert "warning per request in their logs" in found[2]


def test_a_gerrit_review_voting_minus_one_requests_changes_as_githubs_does():
    def review(vote: str) -> str:
        return (
            f"Patch Set 1: {vote}\n\n(1 comment)\n\nFile docs/design/0042-shared-wal.md:\n\n"
            "PS1, Line 104: A segment is recycled once all tables have checkpointed past it.\n"
            "So a single idle table that never checkpoints pins every segment after its last"
            " checkpoint, forever.\n"
        )

    [found] = findings(review("Code-Review-1"))
    assert found.startswith("So a single idle table")
    assert findings(review("Code-Review+1")) == []


def test_a_way_out_asked_after_the_fault_it_mends_is_part_of_that_point():
    fault = (
        "On riscv, and on arm64 without pseudo-NMI, that is what the perf detector does:"
        " removing it leaves those machines with no hard-lockup detection at all."
    )
    asked = "Could the perf detector stay, at least on those architectures, until then?"
    [found] = findings(f"{fault}\n\n{asked}")
    assert "no hard-lockup detection" in found
    assert findings(asked) == [asked]


@pytest.mark.parametrize(
    "text",
    [
        "This is the bit I'd push on. Configs written by 1.x have no format line at all.",
        "This is where I get off the train: the loader must not guess a file's format.",
        "I'd just like the migration plan written down somewhere before this gets merged.",
    ],
)
def test_pushing_on_the_quoted_part_and_a_condition_before_it_is_merged_are_objections(
    text: str,
):
    assert len(findings(text)) == 1


def test_in_a_flat_thread_a_reply_under_a_quote_of_someones_point_answers_it():
    complaint = "So my three-line fix for the loader will now sit for a month instead of two weeks."
    raised = post(2, BOB, complaint, reply_to=1)
    rebuttal = (
        "I get the frustration, but I don't think that follows. Most of the wait is for the"
        " first review; a second look at a small fix is quick."
    )

    def reply(quoted: str) -> Post:
        # Like every comment on an issue, it replies to the opening post.
        return replace(post(3, CAROL, rebuttal, reply_to=1, quoted=(quoted,)), quote_at=(0,))

    answer = reply(complaint)
    found = ledger(root(), raised, answer).concerns
    assert [c.raised_by for c in found] == [BOB]
    assert found[0].answered_by[0].post == answer.key
    # Under a quote of the proposal itself, the same words are Carol's own point.
    own = reply("I propose that we replace the XML config with TOML in 2.0.")
    assert CAROL in [c.raised_by for c in ledger(root(), raised, own).concerns]


@pytest.mark.parametrize(
    "text",
    [
        "+1 on the Python SDK. I'm -0 on moving the connectors out though; nobody will build them.",
        "I'd keep the reference docs with the code. Split apart, they drift behind it.",
    ],
)
def test_a_minus_zero_and_keeping_things_as_they_are_are_objections(text: str):
    assert len(findings(text)) == 1


def test_asking_what_is_gained_challenges_the_proposal():
    [unit] = units_of("What do we actually gain here?")
    assert "challenge_question" in cues_of(unit)


def test_a_closing_paragraph_weighing_both_points_makes_none_of_its_own():
    first = "The sandbox is a problem: our CI runners cannot run it without root."
    second = "The cache is a problem too: it breaks reproducible builds on every platform."
    weighing = "Neither of these comes up often, but when they do it's a real problem for us."
    found = findings(f"{first}\n\n{second}\n\n{weighing}")
    assert found == [first, second]


@pytest.mark.parametrize(
    "text",
    [
        # The asker says what the answer is for, after the question.
        "Would this also cover the settings file and the CLI flags? Just trying to understand"
        " the scope.",
        "What's the plan for 1.x once 2.0 is out? Will 1.x keep getting bug fixes, and for how"
        " long? That would help me plan the timing on our side.",
        "Does any of this change how the wheels are built? We pin the package in a couple of"
        " teaching environments and I'd like to know what to tell students.",
    ],
)
def test_a_question_its_asker_says_is_for_their_own_planning_raises_nothing(text: str):
    assert findings(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "The loader is world-readable. This needs a permission check at the very least.",
        "We can't just yank it in a minor release.",
        "It needs a deprecation notice in a release first and the actual removal in 3.0.",
        "Please make sure the installed file names match the old ones exactly.",
        "With this change there is literally no way to set a value from a plugin.",
        "The TOML parser runs the large-config benchmarks 30-35% slower than the XML one.",
        "Once the docs live in another repository they will drift behind the code.",
        "That is not a reason to grow the configuration format.",
        # Idioms for a cost or a reservation.
        "I'd honestly prefer all five seats filled by nomination, with no public campaign at all.",
        "Every one of those candidate lists is a screenshot waiting to happen.",
        "It also takes away tooling: memcheck has nothing left to report.",
        "Carrying that patch is one more thing to rebase every release.",
        "If we flip first and fix the tooling later, the next release manager is the one who pays"
        " for it.",
        "The eligibility rule leaves out most of the people who moderate the forum.",
        "A handle is not much protection once someone decides to dig.",
        "I'd really think twice before making committee membership this visible.",
        "If this goes in, I'd at least want a documented way to build without it.",
        "I have mixed feelings about this one.",
        # Stop 49's set bs.
        "Honestly zulip is one more app nobody has installed.",
        "I'd bet activity in the help channel drops by half and doesn't come back.",
        "Six weeks later they'll find a read-only workspace and think the project died.",
        # Stop 50's set ca.
        "This would mean pulling Meson from pip into the build root, which our release"
        " process doesn't allow.",
        "We had exactly this bug in the panel last year and it took two point releases to fix.",
        "+1 on the direction.\n\nBut I'd really like to see a deprecation step first.",
        # Stop 51's sets cl and cs: a "-1" that ends its sentence, a plea, sarcasm.
        "Reading both formats, fine. The loader rewriting files in step 2 -- please don't do that.",
        'Nothing says "thank you for testing" like a format change with a 30-day deadline.',
        "I'm not going to sign something that lets a vendor decide later what my code is.",
        "Starting the freeze two weeks before the holidays. Bold move.",
        "Tripling the branches to backport to isn't something I'd sign off on without more hands.",
        "Approving from the docs side. One request before the branch cut: the migration guide"
        " needs a worked example of a retry loop.",
        "The signing key lives on the old build host. If this lands as-is, we cannot cut 2.0.1.",
        "The new default is off for / and on for /home, which is going to be fun to debug.",
        "Appeals going to the same council that wrote the rule is marking your own homework.",
        "A MUST that any value satisfies is a SHOULD with extra steps.",
        "If the loader kept reading XML for a release, I'd be happier. Without that I'm -1.",
    ],
)
def test_common_ways_of_stating_a_cost_or_a_condition_are_concerns(text: str):
    assert len(findings(text)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "This takes away the need for a wrapper script.",
        "I'd much rather have this than the status quo.",  # prefers the proposal
        "It is not much work, I can do it.",
    ],
)
def test_the_same_words_taking_away_a_chore_or_preferring_the_proposal_raise_nothing(text: str):
    assert findings(text) == []


@pytest.mark.parametrize(
    ("lead", "reason"),
    [
        (
            '+1 from me, with one big "but".',
            "The current parser is lenient in ways nobody wrote down, and people's filters"
            " depend on that, so a stricter rewrite breaks them.",
        ),
        (
            "I have mixed feelings about this one.",
            "The security argument is real, but zero is a legitimate value for most variables,"
            " so the same bug quietly becomes wrong output instead of a crash.",
        ),
    ],
)
def test_a_reservation_announced_is_one_point_with_the_paragraph_it_announces(
    lead: str, reason: str
):
    [found] = findings(f"{lead}\n\n{reason}")
    assert found.startswith(lead)
    assert reason in found


@pytest.mark.parametrize(
    "text", ["Who is maintaining the TOML parser in the long term?", "Who reviews this?"]
)
def test_asking_who_is_maintaining_it_challenges_the_proposal(text: str):
    [unit] = units_of(text)
    assert "challenge_question" in cues_of(unit)


def test_that_is_no_reason_to_block_answers_rather_than_objects():
    [unit] = units_of("That is no reason to block this.")
    assert "objection" not in cues_of(unit)
    assert len(findings("That is not a reason to grow the configuration format.")) == 1


def test_a_sentence_opening_on_fixed_as_an_adjective_is_not_a_change_reported_done():
    text = (
        "Fixed release trains create a rush to merge right before the branch cut. People who"
        " would let a big PR sit another week will push to get it in."
    )
    [unit] = units_of(text.split(". ")[0] + ".")
    assert not cues_of(unit) & {"plan", "acknowledgement"}
    assert len(findings(text)) == 1
    for done in ("Fixed.", "Done, thanks.", "Updated the doc.", "Fixed in v3."):
        [unit] = units_of(done)
        assert {"plan", "acknowledgement"} <= cues_of(unit)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("We can't ship it in a source release at all.", "approval"),
        ("I am actually not very happy with such an interface.", "approval"),
        ("The cap I'm less happy with.", "approval"),
        ("Can we agree up front that the interpreters keep their flags?", "approval"),
        ("The bundled cc on those machines is K&R only.", "meta"),
        ("With auto-close we'd get a new duplicate topic every time.", "meta"),
        ("The RFC has no section on diagnostics, and it needs one before FCP.", "meta"),
        (
            "Since any progress at all resets the retries, the task never ends.",
            "information_question",
        ),
        (
            'Today it is a parse error with a nice "did you mean a closure?" hint.',
            "information_question",
        ),
        ("That is the same thing we can already do with branches.", "plan"),
        ("Right now user questions go to the users list.", "acknowledgement"),
    ],
)
def test_words_that_only_look_like_a_cue_do_not_carry_it(text: str, cue: str):
    [unit] = units_of(text)
    assert cue not in cues_of(unit)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("LGTM, ship it!", "approval"),
        ("I'm happy with this.", "approval"),
        ("cc @jdoe", "meta"),
        ("Closing as duplicate of #12.", "meta"),
        ("Any updates on this?", "information_question"),
        ("We can do that in a follow-up.", "plan"),
        ("Right, that makes sense.", "acknowledgement"),
    ],
)
def test_the_cues_those_words_resemble_still_read_as_before(text: str, cue: str):
    [unit] = units_of(text)
    assert cue in cues_of(unit)


@pytest.mark.parametrize(
    "again",
    [
        "Thanks for the ignore-revs file. My view is the same.\n\nStill -0.",
        "It doesn't touch the actual problem though: the web view ignores that file.",
    ],
)
def test_a_later_bare_ballot_or_a_complaint_that_the_answer_misses_the_problem_is_the_same_point(
    again: str,
):
    raised = post(
        2, BOB, "I am worried that a whole-tree reformat buries git blame history.", reply_to=1
    )
    answer = post(
        3, ALICE, "The ignore-revs file hides the reformat commit from blame.", reply_to=2
    )
    later = post(4, BOB, again, reply_to=3)
    found = ledger(root(), raised, answer, later).concerns
    assert [c.post for c in found] == [raised.key]
    assert later.key in found[0].repeated_in


@pytest.mark.parametrize(
    "stance",
    [
        "-0 from me for now, and I want to explain why, because I suspect I'm the odd one out.",
        "-0 for now, mostly because of something I've seen happen elsewhere.",
        "I'm in favour of moving to TOML, but I want us to be careful about how.",
    ],
)
def test_a_stance_that_says_its_reasons_come_next_is_one_point_with_them(stance: str):
    reasons = (
        "Fixed release trains create a rush to merge right before the branch cut. Big changes"
        " land two days before the cut and fill the first patch release with fixes."
    )
    assert findings(f"{stance}\n\n{reasons}") == [f"{stance} {reasons}"]


@pytest.mark.parametrize(
    "text",
    ["This is the part I have trouble with.", "I still have a hard time with the timing."],
)
def test_having_trouble_with_a_part_of_the_proposal_objects_to_it(text: str):
    [unit] = units_of(text)
    assert "objection" in cues_of(unit)


@pytest.mark.parametrize(
    "text",
    [
        # The questions, then a closing paragraph that says they object to nothing.
        "How does this fit with what the moderators already do? Do we keep handling"
        " spam ourselves? Or is the intention that everything goes to the new team?\n\n"
        "Not an objection, I just want to know what to tell the other mods.",
        # An intro that says its items object to nothing.
        "Two questions from release engineering, neither of them an objection:\n\n"
        "1. Would the converted files be uploaded like any other artifact, or is something"
        " new planned? I just need to know whether we have to do anything.\n\n"
        "2. The first minutes link gives me a 404.",
        # The writer calls the question small.
        "Quick one before I forget: what's the TOML spelling of the XML `include` element?",
        # Pointing the way to an old discussion, without a stance.
        "For what it's worth, this was argued at length in #590. I don't feel strongly"
        " about it, just pointing out that it was a deliberate choice.",
    ],
)
def test_questions_and_remarks_their_writer_says_object_to_nothing_raise_nothing(text: str):
    assert findings(text) == []


def test_a_closing_disclaimer_does_not_cover_a_fault_found_beside_the_questions():
    # A guard: the fault stays a point whatever the closing paragraph says.
    text = (
        "How do the old plugins load? The loader breaks every plugin that parses XML.\n\n"
        "Not an objection, I just want to know what to tell the plugin authors."
    )
    assert len(findings(text)) == 1


def test_sections_under_markdown_headings_after_a_count_are_one_point_each():
    text = (
        "Thanks for writing this up.\n"
        "I'm not against the direction, but there are a few things I'd like answered before"
        " this merges. Sorry, it got long.\n\n"
        "### 1. Upgrade semantics\n\n"
        "Almost nobody sets the format explicitly, because XML is the default. So in practice"
        " every upgraded install silently switches to TOML on its first start under 2.0.\n\n"
        "### 2. Plugins\n\n"
        "Plugins parse the XML themselves. Under TOML they fail at start-up.\n\n"
        "### 3. Tooling\n\n"
        "No IDE validates TOML against our schema, so typos go unnoticed until run time."
    )
    found = findings(text)
    assert len(found) == 3
    assert [f.split()[0] for f in found] == ["Almost", "Plugins", "No"]


def test_a_lead_that_says_it_will_describe_the_situation_is_one_point_with_what_follows():
    text = (
        "I look after the Windows builds, so I'll try to describe the situation there, which"
        " I suspect is somewhat different from what the proposal assumes, though I may well be"
        " wrong about how many people it affects.\n\n"
        "On Linux a TOML library is easy to come by. On Windows it is not, and several"
        " downstream users build our C core with MSVC alone, without any package manager.\n\n"
        "So removing the XML reader would in effect end support for those builds. I think"
        " that should be decided explicitly, and I would be rather uneasy about it happening"
        " as a side effect."
    )
    [found] = findings(text)
    assert found.startswith("I look after the Windows builds")
    assert "end support for those builds" in found


def test_telling_back_what_the_revised_proposal_already_says_raises_nothing():
    text = (
        "Thank you, this is helpful. I see that the new section already describes the"
        " converter as the supported way to migrate, rather than as something that merely"
        " happens to work. With that I am content with the proposal."
    )
    assert findings(text) == []


def test_the_paragraph_before_one_that_brings_another_point_is_a_point_too():
    first = (
        "Converting configs is draining in a way editing them is not, and on a small team"
        " one ugly migration can take two people out for a month."
    )
    second = (
        "Separately, and smaller: the two-release window is very easy to miss. I'm not"
        " saying anyone would, but I wouldn't design it so that it's easy."
    )
    found = findings(f"{first}\n\n{second}")
    assert len(found) == 2
    assert found[0].startswith("Converting configs is draining")
    # A question there may only ask: it is no point for coming before "Also".
    asked = findings(f"Currently we only discuss the format here, isn't it?\n\n{second}")
    assert len(asked) == 1


def test_a_problem_with_a_numbered_point_announced_last_in_its_paragraph_joins_the_next():
    lead = "I have a problem with point 1 though."
    reason = (
        "The loader is picked by the steering group. The steering group is four people,"
        " three of whom work for one vendor, so one vendor decides what every plugin reads."
    )
    [found] = findings(
        f"Thanks for drafting this. I'm in favour of a written process. {lead}\n\n{reason}"
    )
    assert found.startswith(lead)
    assert "three of whom work for one vendor" in found


def test_a_post_opened_with_the_project_leaders_hat_on_runs_the_process():
    text = (
        "Speaking with my project leader hat on for a moment.\n\n"
        "Priya: no. Voting rights are tied to membership, and nothing here touches it.\n\n"
        "Process-wise, this is a team policy, so I don't think it needs a general resolution."
        " I'd suggest Alice posts a v2 that collects the changes so far."
    )
    assert findings(text) == []
    # A packager's hat is no chair's: a packager raises a packager's concerns.
    packager = "With my packager hat on: the new loader breaks every distribution build."
    assert len(findings(packager)) == 1


@pytest.mark.parametrize(
    "text",
    [
        # A remark on how the discussion is run, marked so.
        "Meta: can we keep this on the list this time, rather than half on the list and half"
        " in PR comments?",
        # Taking the work on, and bounding the harm if it goes badly.
        "Mine, for the rest of the 1.x series. If it bitrots after that, at least it bitrots"
        " outside core and doesn't block anyone's CI.",
    ],
)
def test_a_meta_remark_and_a_consolation_raise_nothing(text: str):
    assert findings(text) == []


@pytest.mark.parametrize(
    "opening",
    [
        "Carol: no, the decision has not been made.",
        "Carol – no, the decision has not been made.",
    ],
)
def test_a_paragraph_opening_on_someones_name_or_question_answers_them(opening: str):
    raised = post(2, CAROL, "So the decision has already been made and we're consulted on wording?")
    answer = (
        f"{opening} The loader change is real, but the council will not adopt a format that"
        " half the plugin authors refuse. That would cost us more than any single plugin"
        " could give us."
    )
    reply = post(3, BOB, answer, reply_to=2)
    found = ledger(root(), raised, reply).concerns
    assert [c for c in found if c.post == reply.key] == []


def test_how_the_writer_speaks_rather_than_another_way_proposes_nothing():
    text = (
        "Bob here, writing for the steering council rather than for myself. The council"
        " has not decided anything yet."
    )
    assert findings(text) == []


def test_no_cue_matches_words_that_say_nothing():
    # A pattern with an empty alternative ("...|" + "...") matches every sentence, and
    # every post then raises concerns; none may match sentences that say nothing.
    for said in ("", "zzz qqq.", "The build runs on Tuesdays."):
        assert [name for name, cue in CUES.items() if cue.search(said.casefold())] == [], said


@pytest.mark.parametrize(
    "text",
    [
        "So in practice every upgraded install silently switches to TOML on its first start.",
        "Every security fix becomes a hand-port.",
        "On 2.0 every one of those plugins turns into a start-up error with no migration path.",
    ],
)
def test_a_consequence_for_every_one_of_a_kind_is_a_concern(text: str):
    assert len(findings(text)) == 1


# Stop 52: what blind set cu showed once its blind measure was taken.


def test_a_plus_one_to_the_revision_after_an_objection_seconds_nothing():
    raised = post(2, BOB, "I am worried that the loader turns itself off after an upgrade.")
    revised = post(3, ALICE, "v2 keeps the loader on and warns instead.", reply_to=2)
    for said in ("Thanks for checking with them.\n\n+1 to v2.", "+1 to option B."):
        # (In reply to the objection: naming the revision, it takes the proposer's side.)
        agreed = post(4, CAROL, said, reply_to=2)
        assert [c.raised_by for c in ledger(root(), raised, revised, agreed).concerns] == [BOB]


@pytest.mark.parametrize(
    "acceptance",
    [
        "Point 2 of v2 (every September release gets 5 years) resolves our objection.",
        "Please consider our earlier -1 withdrawn.",
    ],
)
def test_a_team_settling_its_own_objection_raises_nothing(acceptance: str):
    assert findings(acceptance) == []


def test_a_minus_one_alone_in_its_paragraph_is_one_point_with_the_reasons_after_it():
    text = (
        "-1 as written.\n\n"
        "Removing the hooks breaks the geo extension outright. It prunes at page level, and"
        " there is no equivalent on the new engine.\n"
    )
    [found] = findings(text)
    assert found.startswith("-1 as written. Removing the hooks breaks the geo extension")


@pytest.mark.parametrize(
    "text",
    [
        "I'm fine with Apache-2.0. I am not fine with the CLA.",
        "The fifty-line exemption, though. This part I think is simply not valid.",
    ],
)
def test_not_fine_with_a_part_or_calling_it_not_valid_is_a_concern(text: str):
    assert len(findings(text)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "I still think six months is too short, ping or no ping.",
        "The part I'd worry about is the asset library.",
        "The loader is nice, but it's not really a fix for us.",
        "'Help wanted' isn't a plan. We need a name before the removal.",
    ],
)
def test_a_worry_a_non_fix_and_a_non_plan_are_concerns(text: str):
    assert len(findings(text)) == 1


def test_a_nudge_is_meta_but_the_word_ping_in_a_rule_is_not():
    assert "meta" in cues_of(units_of("Ping @ann, any news on this?")[0])
    assert "meta" not in cues_of(units_of("Six months is too short, ping or no ping.")[0])


def test_the_proposer_granting_a_point_after_answering_a_question_beside_it():
    # Bob worries, suggests, and asks; Alice answers the question in a line, then grants
    # the point and offers remedies: no concern of hers against an idea of his.
    raised = post(
        2,
        BOB,
        "Does the beta stay at beta1?\n\n"
        "What worries me more is that the internal APIs would change twice as often. Could"
        " we keep hook signatures stable across the March releases?",
        reply_to=1,
    )
    answer = post(
        3,
        ALICE,
        "Stays at beta1.\n\n"
        "Fair, and I don't have a complete answer. Two things I can offer:\n\n"
        "1. we commit to not changing existing hook signatures in the March releases, so"
        " you never have to chase a broken hook twice a year;\n"
        "2. the release team publishes a CI matrix template.\n\n"
        "Would that be enough?",
        reply_to=2,
    )
    found = ledger(root(), raised, answer).concerns
    assert {c.raised_by for c in found} == {BOB}


@pytest.mark.parametrize(
    "text",
    [
        "Also, small request: could you send plain text to the list if your client allows it?",
        "Timeline question from the release side, since it affects the 4.8 plan: is the"
        " deprecation warning meant to land in 4.8.0?",
    ],
)
def test_a_request_about_the_mail_and_a_question_filed_under_a_heading_raise_nothing(text: str):
    assert findings(text) == []


def test_a_projects_own_triagebot_concern_is_read_with_the_paragraph_under_it():
    text = (
        "@balestra-triagebot concern runner-cost\n\n"
        "The donation is 12 months. After that, who pays for aarch64?\n"
    )
    [concern] = ledger(root(), post(2, BOB, text, reply_to=1)).concerns
    assert (concern.id, concern.source) == ("runner-cost", ConcernSource.COMMAND)
    assert "who pays for aarch64?" in concern.text
    # A handle of ours that ends in "bot" is ours, not another bot's: read once.
    settings = LedgerSettings(handle="quorumbot")
    ours = post(2, BOB, "@quorumbot concern perf: the index doubles write latency", reply_to=1)
    found = build_ledger("<p1@example.org>", [root(), ours], T0 + timedelta(days=1), settings)
    assert [c.id for c in found.concerns] == ["perf"]


def test_who_the_change_leaves_out_is_a_concern():
    assert len(findings("This excludes 1.20, which is what Debian 12 ships.")) == 1


def test_the_raisers_own_review_trailer_on_the_revision_settles_their_points():
    raised = post(2, BOB, "I am concerned that three of the four members work for one employer.")
    revised = post(3, ALICE, "v2 adds a rule: at most half from one employer.", reply_to=2)
    carried = post(4, ALICE, f"Reviewed-by: {BOB.name} <{BOB.address}>\n", reply_to=3)
    [concern] = [c for c in ledger(root(), raised, revised, carried).concerns]
    assert concern.state is not ConcernState.RESOLVED  # the author carrying Bob's trailer
    acked = post(
        5,
        BOB,
        f"For the series:\n\nReviewed-by: {BOB.name} <{BOB.address}>\n",
        reply_to=3,
    )
    [concern] = [c for c in ledger(root(), raised, revised, carried, acked).concerns]
    assert concern.state is ConcernState.RESOLVED
