"""`make bench`'s fault run, small: a whole app against a forum, Slack and a mail server
that misbehave, checked for what a user would notice (a post missing, a reminder twice).

The benchmark is not run by CI; this is, so that it cannot stop measuring unseen again
(it had stored none of the forum's posts since forum polling became a scheduled job)."""

from __future__ import annotations

from bench import faults


def test_under_faults_every_post_is_stored_once_and_no_reminder_arrives_twice():
    result = faults.run(quick=True, rate=0.2, seed=1)
    # Each of the forum's 50 posts and the list's 10 mails stored exactly once; every
    # reminder sent or "uncertain", none arrived twice; the forum's budget held.
    assert result.problems == []
    # Past the first day's catch-up summary, each overdue question's own reminders go
    # out, through faults on all three channels.
    assert result.actions["sent"] + result.actions["uncertain"] > 10
    assert all(sum(injected.values()) for injected in result.faults.values())
    assert result.budget <= faults.REQUESTS_PER_MINUTE
