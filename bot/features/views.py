"""Keeping the stored RFC and vote views up to date with what changed.

A refresh reads what changed since the last one (``bot.store.views``), works
out which RFC and vote views that reaches, recomputes just those with the pure
core (:func:`bot.core.rfcs.read_rfc`, :func:`bot.core.votes.report_vote`), and
stores them. A view whose ``due_at`` has passed is recomputed too: that is the
only work the clock causes. Nothing else is read, so a refresh after one new
post costs one thread's worth, however long the list's history.

It runs in two halves so that `quorum run` never holds its writer thread for
it: :func:`plan` reads (on the reader connection) and :func:`apply` writes the
results in one short transaction. The command line runs both on its own
connection before it reads (:func:`refresh`), so `quorum concerns` right
after `quorum import` shows what was imported.

The views depend on the code and on the configuration that computes them: a
fingerprint of both is stored, and when it differs every view is recomputed
(in bounded batches under `quorum run`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.config import Config
from bot.core.concern_model import DEFAULT_MODEL
from bot.core.rfcs import (
    RfcSettings,
    RfcView,
    StoredVote,
    VoteStanding,
    attention_order,
    read_rfc,
    topic_of,
)
from bot.core.votes import VoteReport, VoteState
from bot.features import module_views
from bot.features.concerns import extractor_identity, ledger_settings, proposed_for
from bot.features.settings import digest, per_config
from bot.model import Post, Thread, ThreadKind
from bot.store import Store, from_text, to_text
from bot.store import rfc_links as rfc_store
from bot.store import views as stored
from bot.store.views import RfcRow, VoteRow

logger = logging.getLogger(__name__)

# Bump when what a view holds, or how it is computed, changes: every view is then rebuilt.
# 2: an RFC view holds its ledger's replies to commands (the tick reads them there).
# 3: concerns are settled only by verified senders, and the proposer is found in more
#    ways (2026-12-03): ledgers computed before read differently.
# 4: a post a list or forum relays for a person is read as theirs, even when the relay
#    marks it Auto-Submitted; a GitBox event line is not prose; a GitHub discussion is
#    a mirror like an issue; an address people share names nobody (2026-12-03).
# 5: a pasted commit log and a Markdown rule read as what they are; asking the way
#    forward or for particulars raises nothing; "I agree with Becket that" takes up
#    Becket's point (2026-12-04). (A refit alone changes the model's part.)
# 6: "P. S.", a signature's armour and pasted XML are not prose; a word a re-wrap left
#    alone is its sentence's; "0 (binding): no time to test" is a ballot; a RESULT's
#    "Binding votes:" sections, "3 of which are binding" and "3 binding +1 (names)",
#    and "the vote is closed. It passes." are read (2026-12-04).
# 7: an approval closing one paragraph no longer colours the next; "Am I telling the
#    story right?" checks a reading, it raises nothing (2026-12-05).
# 8: GitBox's "[GitHub] x opened a new pull request #9" is its thread's proposal; "I
#    hate the idea", "an anti-pattern" object (2026-12-05).
# 9: a vote whose call is not stored follows its RESULT and is flagged; "any updates
#    on ...?" and "is there anything I can do to help?" ask, they raise nothing
#    (2026-12-05).
# 10: whose idea a concern objects to may concede it ("Hmmm sure.", "Sounds reasonable
#    to me" on the same lines of a pull request): resolved, "conceded" (2026-12-05).
# 11: a vote whose call is not stored is counted as stored again, not by its RESULT
#    (2026-12-05).
# 12: an inline reply's paragraph answers the quote right above it: a commitment there
#    settles that concern, a quote from an older mail answers it too (2026-12-05).
# 13: the proposer opening with an objection to a participant's post that neither
#    objects nor asks raises a concern about it (2026-12-05).
# 14: a review comment answers its lines, not the conversation's concerns; "+1, I
#    agree" to a concern seconds it and answers nothing (2026-12-05).
# 15: in a flat thread, whom a concern is put to answers it with their next comment
#    (2026-12-05).
# 16: a reply written above the old mail answers all of it, however little it kept
#    (2026-12-05).
# 17: a drawback named and accepted in one breath is settled as it is raised; the
#    proposer's "That's a shame" to a decision gives in to it (2026-12-05).
# 18: "I was confused by ..." owns a misunderstanding that is over; it doubts nothing
#    (2026-12-05).
# 19: agreeing seconds a concern only when that is all the reply says, or it piles on;
#    "+1. ... The loader now reads both formats" answers it (2026-12-05).
# 20: what its writer marks as a nit ("Minor nit, but ...", "(nit)", "Nits:") is no
#    concern (2026-12-05).
# 21: a posting gone wrong ("they sent a wrong message", "the wrong list") is a remark
#    about the list, not the proposal (2026-12-05).
# 22: the drawback a writer finds in the way out they offer themselves ("You could try
#    X, but then ...", "As an alternative ... Note that this is not ...") is no concern
#    (2026-12-05).
# 23: common objection idioms no labelled thread used ("non-starter", "I'd push back",
#    "doesn't address", "too optimistic", "I'm a -1"); a long point shown from the
#    sentence that states it (2026-12-06).
# 24: a second round of idioms: burdens put on others ("packagers would have to"), "not
#    how", "no migration path", "please keep", "would cut off" (2026-12-06).
# 25: a third: "will hang", "removes the ability to", "no longer compiles", "X is fine,
#    but Y is not", "hold the vote until", "assumes that every" (2026-12-06).
# 26: votes read denied values, changes of vote on a condition, interim counts, "(PMC)",
#    remarks after RESULT names, the caller's "passes if ...", times before a day; lists
#    of concerns in "#.", "II.", "First, ..." form; "+1", "Same worry here." and "Thanks!"
#    answer no concern; "Thanks a lot" near the top of a short mail cuts nothing; legal
#    footers are not prose; more bot logins; questions on logistics ask for information
#    (2026-12-06).
# 27: "not now" and "not here" are objections ("we should wait until ...", "belongs in a
#    plugin"); more ways a raiser accepts an answer ("Works for me.", "All good.");
#    "No rush" finds no haste; an open question stated ("my question is how ...") doubts;
#    a forum emoji keeps its code and a poll's options are not prose; refitted
#    (2026-12-06).
# 28: harm done to what exists ("invalidates every cache entry", "collides with", "would
#    make the XSD useless", "regressed by 30%"), "X worries me", "we can't ship ...",
#    "Objection: ...", "Please don't make ..." are objections; a worry told as past and
#    answered, "Just checking: ...?", process whether-questions, "add a link" and "not
#    sure I'll have time" are not; refitted (2026-12-06).
# 29: the proposer answering a review of someone else's idea reviews it too; a way out
#    they float there as a question is none; "not sure if possible, but could we ...?"
#    hedges one's own idea; "the dark side", "a can of worms"; refitted (2026-12-06).
# 30: experience offered as the objection ("we tried this and reverted it"), "going to
#    bite", "will behave differently", "silently strip", "wouldn't approve", "won't sign
#    off", "there's no way it lands"; questions on logistics ("which version are we
#    targeting?", "is it okay if I ...", "does anyone know ...", "track this on a
#    board", "start the formal vote") and a question beside an offer to do the work
#    raise nothing; refitted (2026-12-06).
# 31: a point its writer says they made before ("In summary, ...", "As I said, ...") is
#    a repeat of their latest concern, whatever its words (2026-12-06).
# 32: who a change leaves out ("nobody will be able to", "before I can say anything",
#    "shuts out contributors", "people will stop following"), what it fails to do ("does
#    none of that", "would take months", "only works if", "is blocked by"), rules it
#    breaks ("policy is clear that", "even permitted", "bypasses"), "as written it
#    could", "needs a vote, not a thread", "NAK", "Meh", "the -1 is for"; a denial takes
#    only the concern words it covers; where/when/which questions and a question with
#    the asker's reason beside it ask; "a way out of it" solves (2026-12-06).
# 33: costs measured ("added ~180 ms to cold start"), errors users will hit, "a lot of
#    extra work", "won't port in time", users lost, "strands us", "isn't an answer",
#    "we'd have to switch", "means we either ...", "Not keen", "not happening", "my team
#    can't use it"; "had the same worry, but ..." settles; questions on dates and the
#    changelog ask; more offers to help (2026-12-06).
# 34: "means we stop", "a bit short", "went back to", "please don't start the vote",
#    "fails on", "a stretch", "missing from the proposal", "nobody has scoped", "is
#    marginal", "I'd rather you didn't", "no, not yet", "going backwards", "But not via
#    ..."; asking leave ("any problem with me running ...?"), answering others ("For
#    those asking: ..."), "where's", "which version does it require", a link cut off,
#    "my concern from last week is resolved" and the vote's venue raise nothing
#    (2026-12-06).
# 35: bold-headed paragraphs under a count are a list of concerns; "quick question:",
#    "my worry ... is mostly gone", a meeting's agenda raise nothing; "not sure how this
#    plays with"; "Updated the RFC." names the proposer; "still not convinced" under an
#    answer is the raiser's concern again. Votes: a caller withdrawing
#    "..., so I'm withdrawing this vote", a call that voids late ballots, "In favour:" /
#    "Against:" results and "the motion carries", a count wrapped over two lines, a +1
#    under a quoted side question, a bare "Yes." (2026-12-06). Then: supercite quotes
#    ("GL> "), Gerrit's review mail, "I withdraw ... my objection", "drop my -1", "still
#    -1"; "+1000", "(bindend)", "+1 to what Agnes said", a self-declared non-binding
#    ballot binding nothing without a roster, "+1 binding:" result lines, names and
#    counts wrapped in a RESULT; "covers my worry", "fine by me", "on board", "what we
#    needed", "that settles it" accept an answer; titles without "**". A summary naming
#    whose points they are, the proposer answering several people at once, "addresses my
#    concern" beside a remedy, "that's a fair worry, but" raise nothing; "I withdraw my +1"
#    takes a ballot back; "my own +1" and "..., so a happy +1" are cast; a rule wrapped
#    before its value, "* -1: none", "approving votes" and "0 from x; no -1" results;
#    the proposer quoting a line of the raiser's mail answers it, a paragraph put to the
#    raiser ("@bob: good point, ...") that changes the document adopts their point, and
#    the raiser's "I still think ..." after that leaves it answered; "Big: ..." /
#    "Small: ..." paragraphs under a count are a list.
# 36: a point is shown with its paragraph; an announced worry joins the paragraph it
#    announces; a stated fault outranks the question for its evidence; a raiser's "I
#    won't block" is their concern again; granting a critic, alternative questions,
#    "published somewhere?", one-paragraph endorsements, chair summaries naming people,
#    "We could do a couple of things:" raise nothing; numbered paragraphs under "Two
#    things from me." are its items; a flat thread's acceptance settles the point answered
#    last; a paragraph put to someone else adopts nothing; "not really a fix for us"
#    reopens; a bare "Hello" is a greeting and a line of underscores a rule. A vote short
#    only of ballots a relay carried is "unverified", not "failed" (2026-12-06).
# 37: a way out asked after the writer's own fault is its remedy, and is shown with a
#    form-less reason before it; plain statements of cost, foreseen harm, reviewers'
#    conditions, headings and two-sentence list intros read as concerns; a writer's own
#    trouble followed by "Should ...?" weighs a wish; a +1 that faults
#    what the proposal replaces, a denied problem word and a marked aside raise nothing;
#    an open vote that only its relayed ballots would pass forecasts nothing; "no
#    objection from us any more", "LGTM now", "I can live with the break" accept, and
#    the proposer's summary settles the points it adopts by name (2026-12-07).
# 38: a review requesting changes objects; a remark under each quoted hunk of a patch is
#    a point; a paragraph opened as another matter ("But one more thing.") is read past
#    the acknowledgement before it; a reviewer's "I'm asking for:" list, a defect named,
#    a claim quoted and denied read as concerns; checking a reading, "Please don't let the
#    bot close it", deferring a detail elsewhere and "What's the plan for ...?" raise
#    nothing; "I'd still prefer" repeats the raiser's point; a summary item naming nobody
#    adopts the one open point it is about; an ask takes its whole reason paragraph
#    (2026-12-07, stop 44).
# 39: giving way on a return to the thread, a remark on how the matter is run, a
#    paragraph turning to someone who spoke before, questions listed as not objections
#    and asking where the concerns stand raise nothing; the reasons listed under an
#    objection, the grounds of a declared objection and a list item beside a listed
#    concern are points; "I'm keeping the objection" repeats the raiser's; Outlook's
#    quoted header block is recognised in its users' languages (2026-12-07, stop 45).
# 40: a one-sentence stance shows the paragraph of reasons after it; a pointed question
#    shows the problem above it; each hunk's remark in a review requesting changes is a
#    point, and a hunk quoted on its first line only is quoted whole; a way out asked
#    after a fault is its remedy; in a flat thread a reply under a quote of someone's
#    point answers it; a -0 in discussion objects (2026-12-07, stop 46).
# 41: a question whose asker says what the answer is for raises nothing; "this needs X at
#    the very least", "we can't just ...", "please make sure ...", "there is no way to
#    ...", "N% slower", "will drift behind" and "not a reason to" are concerns; a later
#    "Still -0." or "it doesn't touch the actual problem" is the writer's point again;
#    "Fixed trains ...", "we can't ship it", "not happy with", "the bundled cc" no longer
#    read as done, approval or process (2026-12-07, stop 47).
# 42: votes: a ballot split by artifact counts its source-release value; "**Result: the
#    proposal passes.**" announces; a RESULT counting more ballots than it names is
#    checked as a count; a RESULT may leave out a +1 or 0 that does not bind ("Not on the
#    TSC, but +1 from someone who ..." is cast, and says so); "In favour (+1):" lists; a
#    late ballot that a RESULT naming its ballots leaves out is not counted, the close
#    the RESULT states ("The vote closed ... at 17:00 UTC") deciding what is late
#    (2026-12-07, stop 47).
# 43: "I'd honestly prefer", "waiting to happen", "takes away tooling", "one more thing to
#    rebase", "the one who pays for it", "leaves out most of the people", "not much
#    protection", "think twice", "I'd at least want", "mixed feelings" and "Who reviews
#    this?" are concerns; "+1, with one big "but"." and "I have mixed feelings about this
#    one." lead into their paragraph (2026-12-07, stop 47).
# 44: the caller extending a vote in its thread moves its close (2026-12-07, stop 47).
# 45: an ambiguous ballot the RESULT names as +1 counts as +1, still marked; a RESULT's
#    "myself" is its sender; "so I'll move from -1 to 0" is cast now (2026-12-07, stop 48).
# 46: GitBox's mail since 2023 ("[PR] title (repo)", "jdoe opened a new pull request, #N:")
#    opens its pull request; a review comment's quoted hunk is not prose (stop 48).
# 47: a raiser settles a point by accepting the proposer's revision wherever it replied,
#    by an opening that accepts before a new point, or by approving the pull request;
#    more ways to say so ("that answers the X question", "Withdrawn.", "Looks good.");
#    GitHub's and GitBox's mail marked Auto-Submitted is read; a RESULT's tally laid
#    out in columns ("  +1  Ann, Bob", "   0  Carl") and "the proposal is adopted" are
#    read; a motion's "yes" / "no" / "abstain" ballots and result lines, a pull
#    request's approving review as a +1, "+1 from a downstream packager" as the
#    writer's; the proposer opening "Fair, ..." under an objection with a way out answers
#    it; ":+1:", "I abstain", one's own ticked checklist box, "I withdraw my -1, +1 now"
#    and a RESULT's "1 -0" or "5 council approvals (...)" are read; "..., but Nay from
#    me.", a RESULT's "Jon" for "John", and a vote kind's match words only as words
#    ("commit" not in "committee"); "my earlier worry about X is handled" settles;
#    "one more app nobody has installed", "drops by half", "think the project died";
#    "..., so I'm closing it." / "Result: passed.", "+1 from A, -1 from B" and "Binding
#    +1 (maintainers): ..." in a RESULT (2026-12-07, stop 49).
# 48: a ballot beside inline code, "0, <reason>", "I'm keeping the -1", "With X I'll be
#    +1" (waits), a wrapped "would / get my +1", "+1 from the packaging side", a forum
#    topic's "Vote: ..." title, a call's "**yes** or **no**", "In favour.", "Then yes
#    from me.", the caller's "I'm voting yes myself", a RESULT's count over bulleted names
#    and its remarks not read as names; a review requesting changes keeps each hunk's
#    remark whole and drops the summary that counts them; "the part I'm least
#    comfortable with" worries, "my concern is much smaller" settles; a count over
#    "First, ..." paragraphs that the client wrapped still counts them; "is more than I
#    expected" settles; "..., so I'm changing my vote to +0" after its reason, "I don't
#    want to give a full / +1", "the lazy consensus holds", "Vote summary: ..."; GitLab's
#    "X started a new discussion on F: <url>" is no prose; "which our release process
#    doesn't allow", "we had exactly this bug"; "Question, not an objection: ..." only
#    asks; the proposer reviewing a suggestion grants a point in a paragraph opening
#    "you're both right that ..."; a Gerrit "Code-Review-1" requests changes; a summary's
#    "- Sun-Hee: ...", "1. Marco: ...", "Anselm is right that", "(Rhodri)" answer
#    them; "I'd really like to see a deprecation step first"; "Just checking, I don't
#    know." after a question, a moderator's "Mod note:" / "moderator hat on"; "X covers
#    it", "that's what I had in mind", "..., so am I" settle (2026-12-07, stop 50).
# 49: "Abstain." alone is a 0; a call's legend "- **Approve** = +1" is no ballot (so the
#    caller's own "+1 from me" under it counts); "The voting period is over." announces,
#    its outcome read past the tally it lists ("..., so RFC 12 is accepted"); a
#    RESULT's "Approve (+1): ..." line, its count after the names ("so 6 of 8") not a
#    name, "Tally among maintainers:" marking what it lists binding (a +1 it leaves
#    out, claiming nothing, is then no error), and a ballot it says it took elsewhere
#    ("(sent to me directly)") reported but no error; a RESULT's sender counting their
#    own +1 is no error either; "..., but: NO.", "my vote is yes", "cast my own vote:
#    yes", "I'm changing my vote to YES" in a vote in words; "The vote closed on
#    Friday." and "The policy is adopted." announce; concerns: sections under Markdown
#    headings after a paragraph that counts them are one point each; questions closed by
#    "Not an objection, I just want to know ...", "neither of them an objection:", "Quick
#    one: ...?", "I don't feel strongly", "Meta: ..." and a "project leader hat" raise
#    nothing; "Consider my concern addressed." settles; "I'm -1." ends its sentence and
#    objects; "One thing though, ..." turns; the paragraph before "Separately, ..." is a
#    point when it finds fault; "I'll try to describe the situation" leads; "please don't
#    do that", "I wouldn't design it so", "I'm not going to sign", "isn't something I'd
#    sign off on", "Nothing says X like Y", "Bold move." object or judge; "already
#    describes it as X rather than Y", "writing for the Council rather than for myself"
#    and "..., at least it bitrots outside core" do not; "Kasia – ..." answers Kasia; a
#    lone "Please make sure ..." is shown with its reason; a forum's byline and a date
#    line are not prose (2026-12-07, stop 51).
# 50: votes: a call's own minimum of approving ballots where it asks for more than the
#    policy ("needs five of the seven of us"); "Yes from me as well.", "Then I vote yes:
#    <reason>" and "No, for the same reasons as Yuki." are ballots; a caller's ballot is
#    not made non-binding by the call's rule for everyone else's ("those votes are
#    non-binding"); a result's bullet naming one person ("* +1: Jonas Weber") is a
#    listing, not its sender's ballot; concerns: "+1 to v2." takes the revision's side and
#    seconds no objection; "resolves our objection" and "consider our earlier -1
#    withdrawn" settle; a forum byline "Name (@handle) · Title · February 23" is not
#    prose; a "-1 as written." alone in its paragraph is one point with the reasons the
#    next paragraph gives; "I am not fine with the CLA." and "the part I'd worry about"
#    worry; "simply not valid", "not really a fix for us" and "isn't a plan" judge; the
#    word "ping" in a rule ("ping or no ping") is no nudge; votes: a call's count under
#    any rule but lazy consensus ("a two-thirds majority ... so it needs **5** votes in
#    favour"); "a big yes from the packaging side", "changing my vote from No to
#    Abstain", a closing "Yes, with the understanding that ..." under a ballot that asks
#    nothing; "How to vote: reply with +1, 0 or -1" is no ballot; "+1 from a user" is
#    non-binding; a result's bold "**+1 (4):**" entries are read, and "the +1 from the
#    user side" names nobody; the proposer granting a point in the paragraph after a
#    one-line answer ("Stays at beta1." / "Fair, ...") takes it up, reviewing no idea;
#    "could you send plain text to the list" is about the mail, and "Timeline question
#    from the release side, ...: ...?" only asks; a project's own triagebot's "@x-bot
#    concern NAME" is read as rfcbot's, explained by the paragraph under it, and is the
#    one concern its words make; "This excludes 1.20" judges; the raiser's own
#    "Reviewed-by:" / "Acked-by:" trailer (by their address) settles their points as an
#    approving review does (2026-12-07, stop 52).
VIEWS_VERSION = 50
# Views `quorum run` recomputes per refresh; the rest stay dirty for the next one.
BATCH = 50
# Changes taken in that one short transaction deletes: 5,000 held the writer (and the
# deliveries waiting for it) for up to 150 ms under load at 100,000 messages.
FORGET_BATCH = 500


@per_config
def rfc_settings(config: Config) -> RfcSettings:
    section = config.rfcs
    defaults = RfcSettings()
    return RfcSettings(
        quiet_after=timedelta(days=section.quiet_after_days),
        blocking_for=timedelta(days=section.blocking_days),
        subject_patterns=(*defaults.subject_patterns, *section.subject_patterns),
        repositories=(*defaults.repositories, *section.repositories),
        lists=frozenset(name.strip("<> ").casefold() for name in section.lists),
        ledger=ledger_settings(config),
    )


@per_config
def fingerprint(config: Config) -> str:
    """What the views were computed with: this code and the parts of the config it reads."""
    sections = ("bot", "votes", "roster", "concerns", "rfcs", "identities", "trust", "modules")
    described = {name: config.model_dump(mode="json").get(name) for name in sections}
    described["views"] = VIEWS_VERSION
    described["model"] = DEFAULT_MODEL.described()
    # Only when on, so that a store whose extractor was never on keeps its fingerprint.
    extractor = extractor_identity(config)
    if extractor is not None:
        described["extractor"] = list(extractor)
    return digest(described)


@dataclass
class Plan:
    """What a refresh computed, for :func:`apply` to store."""

    seq: int
    fingerprint: str
    rfcs: list[RfcRow] = field(default_factory=list)
    votes: list[VoteRow] = field(default_factory=list)
    dropped_rfcs: list[str] = field(default_factory=list)
    dropped_votes: list[str] = field(default_factory=list)
    # Keys recomputed (or dropped), and keys left for a later refresh.
    done: dict[str, set[str]] = field(
        default_factory=lambda: {stored.RFC: set(), stored.VOTE: set()}
    )
    left: dict[str, set[str]] = field(
        default_factory=lambda: {stored.RFC: set(), stored.VOTE: set()}
    )
    # Views marked dirty that this plan did not read (they stay marked).
    unread: int = 0
    # The modules' stored evaluations that what changed reaches (bot.features.module_views).
    modules: module_views.ModulePlan | None = None

    @property
    def recomputed(self) -> int:
        return len(self.rfcs) + len(self.votes)

    @property
    def backlog(self) -> int:
        """How many views are still to recompute after this plan."""
        return sum(len(keys) for keys in self.left.values()) + self.unread


def plan(store: Store, config: Config, now: datetime, limit: int | None = None) -> Plan:
    """Recompute the views that changes, the clock or a new fingerprint reach (read only).

    It reads in steps (:meth:`~bot.store.Store.read_step`): what changed first, then
    each view's inputs, and computes each view between steps, so that no read
    transaction stays open for the seconds a large RFC's ledger takes. A view read
    in a later step sees a newer state than the changes taken in: the newer changes
    stay in the log (after ``seq``) and the next refresh recomputes it, as ever.
    """
    print_ = fingerprint(config)
    with store.read_step():
        rebuild = stored.meta(store, "fingerprint") != print_
        seq, changed = stored.changed_threads(store, int(stored.meta(store, "seq") or 0))
        touched = stored.reached_by(store, changed)
        moment = to_text(now)
        # Only as many marked views as one plan recomputes: the others stay marked as
        # they are. Reading (and marking again) every one of them in each batch made a
        # first build cost the square of the number of views (> 30 minutes at
        # 1,000,000 messages; py-spy: mark_dirty).
        dirty_votes = stored.dirty(store, stored.VOTE, limit)
        dirty_heads = stored.dirty(store, stored.RFC, limit)
        unread = 0
        if limit is not None:
            unread = stored.dirty_count(store) - len(dirty_votes) - len(dirty_heads)
        due_votes = stored.due(store, stored.VOTE, moment)
        due_heads = stored.due(store, stored.RFC, moment)
        votes = set(dirty_votes) | touched.votes
        heads = set(dirty_heads) | touched.heads
        if rebuild:
            votes |= stored.all_votes(store)
            heads |= stored.all_heads(store)
    result = Plan(seq=seq, fingerprint=print_, unread=unread)
    budget = [limit]
    fresh = _plan_votes(store, config, now, _due_first(due_votes, votes), budget, result)
    with store.read_step():
        for vote in fresh.values():
            heads.update(stored.rfc_heads_on_topic(store, topic_of(vote.subject), vote.rfc))
    _plan_rfcs(store, config, now, _due_first(due_heads, heads), fresh, budget, result)
    result.modules = module_views.plan(store, config, now, changed)
    return result


def sooner(one: datetime | None, other: datetime | None) -> datetime | None:
    """The earlier of two moments a view is due again; None is never.

    A view counts only the posts dated up to when it is computed (a ballot dated ahead
    by a sender's clock, a RESULT already stored when `quorum tick` goes back in time),
    so the first post dated after that is a moment it changes by the clock alone."""
    return min((m for m in (one, other) if m is not None), default=None)


def _due_first(due: list[str], others: set[str]) -> list[str]:
    """The views the clock made stale, then the others: a plan with a budget (a features
    tick's one batch) takes in what time changed before what mail changed."""
    first = sorted(set(due))
    return first + sorted(others.difference(first))


def apply(store: Store, result: Plan) -> None:
    """Store a plan's views in one transaction; what it left stays dirty."""
    with store.db.conn:
        stored.save_votes(store, result.votes, result.dropped_votes)
        stored.save_rfcs(store, result.rfcs, result.dropped_rfcs)
        for kind in (stored.VOTE, stored.RFC):
            stored.clear_dirty(store, kind, result.done[kind])
            stored.mark_dirty(store, kind, result.left[kind])
        if result.modules is not None:
            module_views.apply(store, result.modules)
        stored.set_meta(store, "seq", str(result.seq))
        stored.set_meta(store, "fingerprint", result.fingerprint)


def forget(store: Store) -> int:
    """Delete a batch of the changes the views have taken in (a short transaction of
    its own); how many. Call again while it returns ``FORGET_BATCH``."""
    with store.db.conn:
        return stored.forget_changes(store, int(stored.meta(store, "seq") or 0), FORGET_BATCH)


def forget_all(store: Store) -> None:
    while forget(store) == FORGET_BATCH:
        pass


def refresh(store: Store, config: Config, now: datetime, limit: int | None = None) -> Plan:
    """Plan and apply on one connection, in one plan (tests; small stores)."""
    result = plan(store, config, now, limit)
    apply(store, result)
    forget_all(store)
    return result


def catch_up(store: Store, config: Config, now: datetime) -> int:
    """Every stale view, a batch at a time, each batch committed: what a reading command
    runs first. Bounded memory on a long history, and an interrupted first build keeps
    what it did. Returns how many views were recomputed."""
    total = 0
    while True:
        result = plan(store, config, now, BATCH)
        apply(store, result)
        forget_all(store)
        total += result.recomputed
        if not result.backlog:
            return total


# -- votes ----------------------------------------------------------------------------


def _plan_votes(
    store: Store,
    config: Config,
    now: datetime,
    keys: list[str],
    budget: list[int | None],
    result: Plan,
) -> dict[str, VoteRow]:
    from bot.features.roster import people_for, roster_for  # they build on features.votes
    from bot.features.votes import report_of

    fresh: dict[str, VoteRow] = {}
    if not keys:
        return fresh
    with store.read_step():
        roster, people = roster_for(store, config), people_for(store, config)
    for key in keys:
        if not _spend(budget):
            result.left[stored.VOTE].add(key)
            continue
        result.done[stored.VOTE].add(key)
        with store.read_step():  # a vote is small: read and counted in one step
            thread = store.thread(key)
            if thread is None or thread.kind != ThreadKind.VOTE or thread.messages == 0:
                result.dropped_votes.append(key)
                continue
            report = report_of(store, config, thread, now, roster, people)
            row = _vote_row(store, thread, report, now)
        fresh[key] = row
        result.votes.append(row)
    return fresh


def _vote_row(store: Store, thread: Thread, report: VoteReport, now: datetime) -> VoteRow:
    closes = report.closes_at if report.state is VoteState.OPEN and report.closes_at > now else None
    ahead = stored.next_post_at(store, [thread.key, *thread.closed_by], to_text(now))
    due = sooner(closes, from_text(ahead) if ahead else None)
    return VoteRow(
        thread=thread.key,
        topic=topic_of(thread.subject),
        rfc=stored.group_of(store, thread.key),
        state=report.state.value,
        subject=report.subject,
        opened_at=to_text(report.opened_at),
        closes_at=to_text(report.closes_at),
        due_at=to_text(due) if due else None,
        would_pass=report.would_pass_now,
        payload=report.to_dict(),
    )


# -- RFCs -----------------------------------------------------------------------------


def _plan_rfcs(
    store: Store,
    config: Config,
    now: datetime,
    heads: list[str],
    fresh_votes: dict[str, VoteRow],
    budget: list[int | None],
    result: Plan,
) -> None:
    if not heads:
        return
    settings = rfc_settings(config)
    for head in heads:
        if not _spend(budget):
            result.left[stored.RFC].add(head)
            continue
        result.done[stored.RFC].add(head)
        with store.read_step():
            parts = stored.group_parts(store, head)
            posts = _posts(store, head, parts) if parts else []
            if not posts:
                result.dropped_rfcs.append(head)
                continue
            subject = next((p.subject for p in parts if p.key == head), parts[0].subject)
            standings = _standings(store, head, topic_of(subject), fresh_votes)
            proposed = proposed_for(store, config, posts)
        # The ledger is the long part, computed outside any read transaction.
        view = read_rfc(head, parts, posts, standings, now, settings, proposed=proposed)
        result.rfcs.append(rfc_row(view, posts, now))


def _posts(store: Store, head: str, parts: list[Thread]) -> list[Post]:
    if len(parts) == 1:
        return store.posts_in_thread(parts[0].key)
    wanted = {part.key for part in parts}
    return [post for post in rfc_store.posts_in_rfc(store, head) if post.thread_key in wanted]


def _standings(
    store: Store, head: str, topic: str, fresh: dict[str, VoteRow]
) -> list[VoteStanding]:
    """The votes linked to an RFC, as just recomputed or as stored."""
    # None: a vote whose standing is read from its stored view below.
    linked: dict[str, VoteRow | None] = {
        row.thread: row for row in fresh.values() if row.rfc == head or row.topic == topic
    }
    for thread in stored.votes_linked(store, head, topic):
        linked.setdefault(thread, None)
    standings: list[VoteStanding] = []
    stored_rows = {row[0]: row for row in stored.vote_standing(store, list(linked))}
    for thread, row in linked.items():
        if row is not None:
            standings.append(
                _standing(row.thread, row.state, row.opened_at, row.closes_at, row.would_pass)
            )
        elif thread in stored_rows:
            standings.append(_standing(*stored_rows[thread]))
    return standings


def _standing(
    thread: str, state: str, opened_at: str, closes_at: str, would_pass: object
) -> StoredVote:
    return StoredVote(
        thread=thread,
        state=VoteState(state),
        opened_at=from_text(opened_at),
        closes_at=from_text(closes_at),
        would_pass_now=None if would_pass is None else bool(would_pass),
    )


def rfc_row(view: RfcView, posts: Sequence[Post] = (), now: datetime | None = None) -> RfcRow:
    """The stored row of a view computed at ``now`` from ``posts``."""
    rank, at = attention_order(view)
    ahead = [p.created_at for p in posts if now is not None and p.created_at > now]
    due = sooner(view.due_at, min(ahead, default=None))
    payload = view.to_dict()
    payload["reason"] = view.reason
    payload["concern_list"] = [concern.to_dict() for concern in view.concerns]
    payload["replies"] = owed_replies(view, posts)
    return RfcRow(
        key=view.key,
        topic=topic_of(view.subject),
        is_rfc=view.is_rfc,
        listed=view.listed,
        state=view.state.value,
        subject=view.subject,
        first_at=to_text(view.first_at),
        last_at=to_text(view.last_at),
        due_at=to_text(due) if due else None,
        concerns=len(view.concerns),
        attention=rank,
        attention_at=at,
        payload=payload,
    )


def owed_replies(view: RfcView, posts: Sequence[Post]) -> list[dict[str, Any]]:
    """The ledger's replies to commands (help, malformed, refused), each with when its
    command was written: the features tick reads them here rather than build every
    recent discussion's ledger again (bot.features.concerns.command_replies)."""
    written = {post.key: post.created_at for post in posts}
    return [
        {
            "action": {**action.to_dict(), "about": list(action.about)},
            "written_at": to_text(written[action.target]) if action.target in written else None,
        }
        for action in view.ledger.actions
    ]


# -- helpers --------------------------------------------------------------------------


def _spend(budget: list[int | None]) -> bool:
    if budget[0] is None:
        return True
    if budget[0] <= 0:
        return False
    budget[0] -= 1
    return True
