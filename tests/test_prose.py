"""A post's own words as a reader sees them: paragraphs, list items, sentences."""

from __future__ import annotations

import pytest

from bot.core.prose import units_of


def texts(text: str) -> list[str]:
    return [unit.text for unit in units_of(text)]


def test_wrapped_lines_are_one_sentence_and_end_punctuation_splits():
    text = "I am not sure this belongs in core, e.g. the loader\nwould need it too. Who owns it?"
    assert texts(text) == [
        "I am not sure this belongs in core, e.g. the loader would need it too.",
        "Who owns it?",
    ]


def test_a_word_left_alone_on_a_line_by_a_re_wrap_is_the_same_sentence():
    text = (
        "The overlap where gcc is\nsupported\nand Rust is supported is likely high.\n+1\nHmm\nFine."
    )
    assert texts(text) == [
        "The overlap where gcc is supported and Rust is supported is likely high.",
        "+1",
        "Hmm",
        "Fine.",
    ]


def test_question_marks_inside_a_quotation_do_not_end_the_sentence():
    text = (
        'Scenarios would have been helped if we had not just "tracked? ignored?\n'
        'unignored?" but also a fourth kind. Is that "precious"? Yes!'
    )
    assert texts(text) == [
        'Scenarios would have been helped if we had not just "tracked? ignored? unignored?"'
        " but also a fourth kind.",
        'Is that "precious"?',
        "Yes!",
    ]


@pytest.mark.parametrize(
    "label", ["1.", "2)", "-", "*", "•", "(a)", "a)", "D0.", "B1:", "(iii)", "II.", "iv.", "#."]
)
def test_list_labels_of_every_kind_open_an_item(label: str):
    text = f"My concerns:\n\n{label} The migration tool does\n   not exist yet.\n"
    [intro, item] = units_of(text)
    assert intro.introduces_list
    assert item.introduced
    assert item.label == label.strip()
    assert item.text == "The migration tool does not exist yet."


@pytest.mark.parametrize("mark", ["P. S.", "P.S.", "P.S.:", "PS:", "PS", "P.P.S.", "N.B.", "NB:"])
def test_a_postscript_mark_is_neither_a_list_item_nor_a_sentence(mark: str):
    # Sergey Fedorov's mail in Git's Rust thread: "P. S. I have contributed to mrustc".
    units = units_of(f"I do not object.\n\n{mark} I have contributed to mrustc. Though I think so.")
    assert [unit.text for unit in units] == [
        "I do not object.",
        "I have contributed to mrustc.",
        "Though I think so.",
    ]
    assert all(unit.item is None for unit in units)


def test_words_that_only_start_like_a_postscript_mark_are_kept():
    assert texts("PSA: the mirror moves.") == ["PSA: the mirror moves."]
    assert texts("NBA scores are not build scores.") == ["NBA scores are not build scores."]


def test_paragraphs_counted_first_second_third_are_the_items_of_the_count():
    text = (
        "I see three problems here.\n\n"
        "First, the schema change is not backwards compatible.\n\n"
        "Second, the rollout plan skips the canary stage.\n\n"
        "Third, there is no way to roll back.\n\n"
        "Otherwise it looks fine."
    )
    intro, *items, last = units_of(text)
    assert intro.introduces_list
    assert [(u.label, u.introduced) for u in items] == [
        ("First", True),
        ("Second", True),
        ("Third", True),
    ]
    assert items[0].text == "First, the schema change is not backwards compatible."
    assert not last.introduced


def test_a_count_its_writers_client_wrapped_still_counts_the_paragraphs_after_it():
    text = (
        "Two related points on the Designated Experts, whom the draft relies on\n"
        "quite heavily.\n\n"
        "First, availability. Expert Review queues have sat for months.\n\n"
        "Second, conflicts of interest. The experts work for implementers."
    )
    intro, *items = units_of(text)
    assert intro.introduces_list
    assert [u.label for u in items if u.introduced] == ["First", "First", "Second", "Second"]


def test_numbered_paragraphs_under_a_count_ending_in_a_full_stop_are_its_items():
    text = (
        "Two things from me.\n\n"
        "1) Blast radius. A bad segment header takes out every shard's writes.\n\n"
        "2) The tiering plugin reads the WAL directly. It will break on day one."
    )
    intro, *items = units_of(text)
    assert intro.introduces_list
    assert all(u.introduced for u in items)
    # "..., for two reasons." gives its own reasons: what follows argues it.
    argued = units_of("I object, for two reasons.\n\n1. It splits the ecosystem.\n\n2. IPR.")
    assert not argued[0].introduces_list


def test_paragraphs_headed_in_bold_under_a_count_are_its_items():
    text = (
        "There are two things I'd want answered.\n\n"
        "**Backports.** Who does them?\n\n"
        "**Plugin ABI:** Vendors test three versions a year.\n\n"
        "Otherwise it looks fine."
    )
    intro, *items, last = units_of(text)
    assert intro.introduces_list
    assert [(u.text, u.item, u.introduced) for u in items] == [
        ("**Backports.**", 0, True),
        ("Who does them?", 0, True),
        ("**Plugin ABI:** Vendors test three versions a year.", 0, True),
    ]
    assert items[0].paragraph != items[2].paragraph
    assert not last.introduced
    # Without the count above them, bold headings are only paragraphs.
    alone = units_of("**Backports.** Who does them?\n\n**Docs.** Who writes them?")
    assert all(u.item is None and not u.introduced for u in alone)


def test_gerrits_preamble_and_the_code_line_a_comment_sits_on_are_not_prose():
    text = (
        "Hana Okafor has posted comments on this change. ( https://review.example.org/c/1 )\n\n"
        "Change subject: net/conntab: lockless lookups\n"
        "......................................................................\n\n"
        "Patch Set 1: Code-Review-1\n\n(2 comments)\n\n"
        "https://review.example.org/c/1/1/net/conntab.c\nFile net/conntab.c:\n\n"
        "https://review.example.org/c/1/1/net/conntab.c@120\n"
        "Line 120: \t\tif (e->state == CONN_ESTABLISHED)\n"
        "This load can be satisfied before the acquire.\n"
    )
    assert texts(text) == ["This load can be satisfied before the acquire."]


def test_paragraphs_opening_with_a_short_label_under_a_count_are_its_items():
    text = (
        "Two things, one big and one small.\n\n"
        "Big: a year between deprecation and removal is short.\n\n"
        "Small: please log the warning once per connection.\n\n"
        "Note: without the count above, this is only a paragraph."
    )
    intro, big, small, note = units_of(text)
    assert intro.introduces_list
    assert (big.item, big.introduced, small.item, small.introduced) == (0, True, 0, True)
    assert big.paragraph != small.paragraph
    assert note.item is None
    assert not note.introduced


def test_a_first_paragraph_without_a_count_above_it_is_no_list():
    units = units_of("First, thanks for the write-up.\n\nSecond, I like the API.")
    assert all(u.item is None and not u.introduced for u in units)


def test_items_separated_by_blank_lines_and_examples_stay_one_introduced_list():
    text = (
        "I see two problems with this:\n\n"
        "1. Repos are named by directory:\n\n"
        "       mv project new-name\n\n"
        "2. Nothing records which repos share objects.\n\n"
        "Otherwise it looks fine."
    )
    units = units_of(text)
    assert [u.text for u in units if u.introduced] == [
        "Repos are named by directory:",
        "Nothing records which repos share objects.",
    ]
    assert not units[-1].introduced
    assert len({u.point for u in units if u.introduced}) == 2


def test_code_patches_commands_and_github_preambles_are_not_prose():
    text = (
        "@bob commented on this pull request.\n\n"
        "In docs/rfc/README.md:\n\n"
        "```suggestion\nI worry this is wrong\n```\n"
        "@quorum concern perf: slow\n"
        "@rfcbot concern naming\n"
        "It works great right now to do:\n\n"
        "  cd $REP2\n  git gc\n\n"
        "Fine by me.\n\n"
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n"
    )
    assert texts(text) == ["It works great right now to do:", "Fine by me."]


def test_the_armour_of_a_clear_signed_mail_is_not_prose():
    # Phillip Susi's mail in Git's relink thread was signed: "Hash: SHA1" and the
    # signature's base64 lines were read as his sentences.
    text = (
        "-----BEGIN PGP SIGNED MESSAGE-----\n"
        "Hash: SHA1\n"
        "\n"
        "I still use relink on my mirrors.\n"
        "-----BEGIN PGP SIGNATURE-----\n"
        "Version: GnuPG v1.4.11 (GNU/Linux)\n"
        "\n"
        "iEYEARECAAYFAk7LAcgACgkQJ4UciIs+XuKzrQCeIb2Tb3D+nqDlF5bBD8vkQy/t\n"
        "4sQAniEbL2kZK2wvY+y4tvd+QDRh1G85\n"
        "=QHQ5\n"
        "-----END PGP SIGNATURE-----\n"
    )
    assert texts(text) == ["I still use relink on my mirrors."]


def test_pasted_xml_is_not_prose_but_a_sentence_naming_a_tag_is():
    text = (
        "We could write it like this:\n"
        "<dependency>\n"
        "  <gav>com.thoughtworks.xstream:xstream:1.4.10</gav>\n"
        "</dependency>\n"
        "or\n"
        '<dependency gav="com.thoughtworks.xstream:xstream:1.4.10"/>\n'
        "\n"
        "<version> is not enough on its own.\n"
    )
    assert texts(text) == [
        "We could write it like this:",
        "or",
        "<version> is not enough on its own.",
    ]


def test_greetings_sign_offs_and_signatures_are_not_prose():
    text = "Hi all,\n\nI doubt the date holds.\n\nThanks,\n\nJiangjie (Becket) Qin\n"
    assert texts(text) == ["I doubt the date holds."]
    assert texts("Can they not already?\n\n-Miles\n") == ["Can they not already?"]


def test_thanks_at_the_top_of_a_short_mail_is_no_sign_off():
    # Arnaud Héritier on dev@maven, 2017-11-06: the point comes after the thanks.
    text = (
        "Awesome work Hervé\nThanks a lot\n\n"
        "For archetypes split I don't know. Technically we should split them and\n"
        "they could have different lifecycles.\n\nCheers\nArnaud\n"
    )
    assert texts(text) == [
        "Awesome work Hervé",
        "Thanks a lot",
        "For archetypes split I don't know.",
        "Technically we should split them and they could have different lifecycles.",
    ]


def test_a_legal_footer_without_a_signature_mark_is_not_prose():
    text = (
        "Sounds good to me.\n\nJane\n\n"
        "The information contained in this message is confidential. If you are not the\n"
        "intended recipient, you must not use, copy or disclose it. We cannot accept\n"
        "liability for any loss or damage caused by viruses.\n"
    )
    assert texts(text) == ["Sounds good to me."]


@pytest.mark.parametrize(
    "log",
    [
        "error[E0308]: mismatched types\n  --> src/main.rs:4:18\n   |\n"
        '4  |     let x: i32 = "a";\n   |            ---   ^^^ expected `i32`, found `&str`',
        'Exception in thread "main" java.lang.IllegalStateException: this should never happen\n'
        "    at org.example.Loader.load(Loader.java:42)\n    ... 12 more",
        "java.lang.IllegalStateException: Failed to load plugin, which is broken",
        "Traceback (most recent call last):\n"
        '  File "loader.py", line 5, in load\n'
        '    raise RuntimeError("this is broken and should not happen")\n'
        "RuntimeError: this is broken and should not happen",
    ],
)
def test_compiler_output_and_exceptions_are_not_prose(log: str):
    assert texts(f"I tried the branch:\n\n{log}\n\nThat is on main, fwiw.\n") == [
        "I tried the branch:",
        "That is on main, fwiw.",
    ]


def test_attribution_lines_in_other_languages_are_not_prose():
    text = (
        "I agree with the plan.\n\n"
        "Becket Qin <becket....@gmail.com>于2023年6月22日 周四16:02写道:\n"
        "чт, 24 окт. 2019 г. в 03:39, Nikita Ivanov <niva...@gridgain.com>:\n"
    )
    assert texts(text) == ["I agree with the plan."]


def test_a_ballot_template_and_the_gitbox_pull_request_template_are_not_prose():
    text = (
        "Overall makes sense to me.\n\n"
        "[ ] +1 - adopt this policy.\n"
        "[ ] -1 - do not adopt this policy.\n\n"
        "You can merge this pull request into a Git repository by running:\n"
        "Alternatively you can review and apply these changes as the patch at:\n"
    )
    assert texts(text) == ["Overall makes sense to me."]


def test_the_gitbox_event_line_link_and_fork_note_are_not_prose():
    # The PR's title ("Fixed wrong page title") is not the commenter's words.
    comment = (
        "hboutemy commented on issue #27: Fixed wrong page title for Dependency Convergence\n"
        "URL: https://github.com/apache/maven-enforcer/pull/27#issuecomment-341901250\n\n"
        "   sorry, this was automatically closed when migrating to Git\n"
    )
    assert texts(comment) == ["sorry, this was automatically closed when migrating to Git"]
    closed = (
        "asfgit closed pull request #20: use the graph API instead of the tree API\n"
        "URL: https://github.com/apache/maven-enforcer/pull/20\n\n"
        "This is a PR merged from a forked repository.\n"
        "As GitHub hides the original diff on merge, it is displayed below for\n"
        "the sake of provenance:\n"
    )
    assert texts(closed) == []


def test_gitbox_review_comments_keep_the_reviewers_words_not_the_hunk_they_quote():
    # Since 2023 GitBox quotes the code a review comment is on between rules of "#"; the
    # hunk's "@@" starts no patch, and what follows "Review Comment:" is the reviewer's.
    comment = (
        "carol-m commented on code in PR #482:\n"
        "URL: https://github.com/apache/widget/pull/482#discussion_r1977000002\n\n\n"
        "##########\nsrc/widget/client.py:\n##########\n"
        "@@ -40,7 +40,7 @@ class Client:\n-    read_timeout = None\n+    read_timeout = 60\n\n"
        "Review Comment:\n   This should be configurable per query.\n\n\n\n"
        "##########\nsrc/widget/pool.py:\n##########\n@@ -9,3 +9,3 @@\n-    size = 4\n\n"
        "Review Comment:\n   The pool size is unrelated, please split it out.\n"
    )
    assert texts(comment) == [
        "This should be configurable per query.",
        "The pool size is unrelated, please split it out.",
    ]
    opened = (
        "alice-k opened a new pull request, #482:\n"
        "URL: https://github.com/apache/widget/pull/482\n\n"
        "   This changes the default read timeout to 60 seconds.\n"
    )
    assert texts(opened) == ["This changes the default read timeout to 60 seconds."]


def test_pasted_build_output_is_not_prose():
    text = (
        "The build fails for me:\n\n"
        "[ERROR] Found a problem with test-scoped dependency org.hamcrest:hamcrest-core\n"
        "2017-11-05 17:57:27,123 WARN could not resolve the plugin\n"
        "Caused by: java.lang.IllegalStateException: no reactor\n"
        "    at org.apache.maven.Foo.bar(Foo.java:12)\n"
    )
    assert texts(text) == ["The build fails for me:"]


def test_a_pasted_commit_log_is_not_prose():
    """Robert Scholte's list of the commits lost in the Git migration (maven-dev, 2017-12,
    a month nobody labelled): "In fact test was wrong" is a commit's message, not his."""
    text = (
        "comparing svnlog with gitlog most of these commits are lost:\n\n"
        "moved to git\n----\n"
        "[maven-release-plugin] prepare release maven-javadoc-plugin-3.0.0\n----\n"
        "Skip several unittests for Java9\n----\n"
        "Improve TestJavadocReportTest#testTestJavadoc\n"
        "J8 warns and continues with missing dependency, J9 fails.\n"
        "In fact test was wrong: dependency should have been on classpath\n----\n"
        "MJAVADOC-502 Update DEFAULT_JAVA_API_LINKS\n----\n"
        "Switch from List to Collection\n\n"
        "Can someone restore them?\n"
    )
    assert texts(text) == [
        "comparing svnlog with gitlog most of these commits are lost:",
        "Can someone restore them?",
    ]


def test_a_rule_between_sections_ends_a_paragraph_and_keeps_what_follows():
    """A Markdown rule ("---") is not a signature: the section after it is still read,
    though it is among the last lines. The signature delimiter ("-- ") still ends prose."""
    text = "I like the idea.\n\n---\n\nBut the migration plan does not hold.\n"
    assert texts(text) == ["I like the idea.", "But the migration plan does not hold."]
    assert texts("I doubt it.\n\n-- \nAlice Archer\nApache Example PMC\n") == ["I doubt it."]
    assert texts("I doubt it.\n\n---\nAlice\n") == ["I doubt it."]


def test_a_paragraph_going_on_in_lower_case_after_an_example_is_the_same_point():
    text = (
        "One issue is that repos are named by directory, so this is fine:\n\n"
        "    mv project new-project-name\n\n"
        "but here it would break the link to the child."
    )
    units = units_of(text)
    assert units[0].point == units[-1].point


def test_gitlabs_notice_of_who_commented_where_is_not_prose():
    text = (
        "Wen Zhao started a new discussion on meson.build: https://gitlab.example.org/mr/412#note_7\n\n"
        "1.3 is newer than what any current LTS distro ships.\n"
    )
    assert [u.text for u in units_of(text)] == [
        "1.3 is newer than what any current LTS distro ships."
    ]
    assert units_of("Merge request !412 was reviewed by Oskar Lindqvist\n") == ()


def test_a_forums_byline_and_its_date_over_a_mailed_post_are_not_prose():
    text = (
        "[kwatanabe](https://forum.example.org/u/kwatanabe) Kenji Watanabe\n"
        "September 10\n\n"
        "Tripling the branches isn't something I'd sign off on.\n"
    )
    assert [u.text for u in units_of(text)] == [
        "Tripling the branches isn't something I'd sign off on."
    ]
    # A sentence that names a month is prose.
    assert [u.text for u in units_of("May I ask why?")] == ["May I ask why?"]


def test_a_forums_byline_of_name_handle_title_and_date_is_not_prose():
    text = (
        "Priya Raman (@priya.raman) · Core Developer · February 23\n\n"
        "I'm not sure the contractor side works for half of our core team.\n"
    )
    assert [u.text for u in units_of(text)] == [
        "I'm not sure the contractor side works for half of our core team."
    ]


def test_any_rfcbot_command_and_a_triagebots_concern_are_not_prose():
    text = "@rfcbot fcp merge\n@balestra-triagebot concern runner-cost\nFine by me.\n"
    assert [u.text for u in units_of(text)] == ["Fine by me."]
