"""Already covered, kept here with the other attacks: a PR never changes the rules it is judged by.

Forged, changed and replayed deliveries and oversized bodies: `tests/bot/test_intake.py`
(`test_unsigned_wrongly_signed_and_changed_body_are_rejected`,
`test_redelivery_is_recognised_and_not_queued_twice`, `test_oversized_delivery_is_rejected_before_it_is_read`,
`test_oversized_streamed_delivery_is_cut_off`).
"""

from __future__ import annotations

from tests.review.test_scenarios import AUTHOR, CONFIG, REPO, Scene, contribution


def test_a_pull_request_cannot_make_its_own_author_friends_maintainers(scene: Scene) -> None:
    relaxed = CONFIG.replace("maintainers: [alice, bob, octo-org/reviewers]", "maintainers: [sam, tess]") \
        .replace("required_lgtms: 2", "required_lgtms: 1")
    files = {**contribution("\n"), ".github/taxonomist.yml": relaxed}
    pushed = scene.gh.push_to_pull(REPO, scene.number, files, author=AUTHOR)
    scene.triaged(scene.hooks.pull_request(REPO, scene.number, "synchronize", before=pushed["before"]))
    comment, _ = scene.say("sam", "/lgtm")
    assert scene.status() == ("pending", "0/2 LGTM")  # the base branch's rules: sam is no maintainer
    assert "only maintainers may `/lgtm`" in scene.reply_to(comment)[0]
