"""The dashboard in a real browser (headless Chromium, scripts off): pages render, filters work, and on
an emulator world of the corpus's real PRs the blockers shown match the review state the bot derives."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait
from starlette.applications import Starlette

from bot.dashboard import web
from bot.dashboard.demo import REPO as DEMO_REPO
from bot.dashboard.demo import sample_contributions, seed
from bot.dashboard.store import Store
from bot.review.workflow import derive_for
from bot.service.app import create_app
from bot.triage.run import read_config
from tests.dashboard.browser import chrome, screenshot, serving
from tests.dashboard.harness import REPO, World, clean_leaf
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    browser = chrome()
    yield browser
    browser.quit()


def follow(driver: Any, by: str, what: str) -> None:
    """Click a link or button and wait until the next page has replaced this one (a busy machine is slow)."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, what).click()
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(page))


def rows(driver: Any) -> dict[int, dict[str, str]]:
    """The PR table as the browser shows it: number -> state and blockers text."""
    out = {}
    for tr in driver.find_elements(By.CSS_SELECTOR, "#prs tbody tr[data-number]"):
        out[int(tr.get_attribute("data-number"))] = {
            "state": tr.find_element(By.CSS_SELECTOR, "td.state .name").text,
            "blockers": tr.find_element(By.CSS_SELECTOR, "td.blockers").text}
    return out


def test_pages_render_and_filters_work_without_javascript(driver: Any, tmp_path: Path) -> None:
    store = Store(tmp_path / "dashboard.sqlite3")
    seed(store, sample_contributions(), time.time())
    with serving(Starlette(routes=web.routes(store))) as url:
        driver.get(url + "/")
        assert driver.title.startswith("Pull requests")
        shown = rows(driver)
        assert len(shown) == 6 and driver.find_element(By.CSS_SELECTOR, "svg title").text.startswith("Open")
        assert "triage failed" in shown[1]["blockers"]  # the sample contribution has errors
        screenshot(driver, "demo-pull-requests")
        Select(driver.find_element(By.NAME, "state")).select_by_visible_text("checks failing")
        follow(driver, By.CSS_SELECTOR, "form.filters button")
        assert "state=checks+failing" in driver.current_url
        assert set(rows(driver)) == {1} and all(r["state"] == "checks failing" for r in rows(driver).values())
        driver.get(url + "/?author=contributor-3")
        assert set(rows(driver)) == {3}
        driver.get(url + "/?path=compositional_skills/linguistics/idioms")
        assert set(rows(driver)) == {6}
        follow(driver, By.LINK_TEXT, "Queue and workers")
        assert driver.find_element(By.ID, "count-failed").text == "1"
        assert "502 Bad Gateway" in driver.find_element(By.ID, "failed").text
        screenshot(driver, "demo-queue")
        follow(driver, By.LINK_TEXT, "Weekly build")
        assert "rejected" in driver.find_element(By.ID, "builds").text
        follow(driver, By.LINK_TEXT, "Similar open PRs")
        assert DEMO_REPO in driver.page_source or "No two open pull requests" in driver.page_source


def corpus_pulls(corpus: Path, count: int) -> list[tuple[str, dict[str, str]]]:
    """The first COUNT real upstream PRs that changed qna files: (PR number, files)."""
    found = []
    for line in (corpus / "taxonomy-prs" / "index.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        pr, _, _, _, _, qna, _ = line.split("\t")
        root = corpus / "taxonomy-prs" / pr
        files = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
                 for p in root.rglob("*") if p.is_file()}
        if qna and files:
            found.append((pr, files))
        if len(found) == count:
            break
    return found


CONFIG = """\
review:
  maintainers: [mona, max]
  approvers: [ada]
  triagers: [tina]
"""


@pytest.mark.corpus
def test_corpus_prs_on_the_emulator_show_the_derived_review_state(
        driver: Any, github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path, corpus: Path) -> None:
    for login in ("mona", "max", "ada", "tina", "carla", "dan"):
        github_emulator.add_user(login)
    github_emulator.add_team(ORG, "maintainers", ["mona", "max"])
    world = World.make(github_emulator, github_app, tmp_path, corpus, CONFIG,
                       skip=("pii", "topic", "llm-text"))  # the duplicate check runs: similar PRs are grouped
    numbers = [world.open(f"upstream-{pr}", files, f"upstream{int(pr) % 5}", title=f"upstream #{pr}")
               for pr, files in corpus_pulls(corpus, 8)]
    twin_a = world.open("carla/twins", clean_leaf("compositional_skills/linguistics/twins"), "carla")
    twin_b = world.open("dan/twins", clean_leaf("compositional_skills/linguistics/twins_too"), "dan")
    world.say("mona", twin_a, "/lgtm")
    world.say("max", twin_a, "/lgtm")
    world.say("mona", twin_b, "/lgtm")
    world.say("max", twin_b, "/hold")
    world.say("mona", numbers[0], "/lgtm")
    web_app = create_app("s", world.service.queue, world.service.router, store=world.store, dashboard=True)
    with serving(web_app) as url:
        calls = len(github_emulator.calls())
        driver.get(url + "/")
        shown = rows(driver)
        screenshot(driver, "corpus-pull-requests")
        assert set(shown) == {*numbers, twin_a, twin_b}
        for page in ("/similar", "/queue", "/builds", "/?state=checks+failing"):
            driver.get(url + page)
        assert len(github_emulator.calls()) == calls  # page views never call GitHub
        forge = world.service.github.forge(REPO, None)
        for number, seen in shown.items():
            pr = forge.pull_request(number)
            state, conclusion = derive_for(forge, pr, read_config(forge, pr), forge.issue_comments(number))
            lgtm = f"{len(state.lgtms)}/{state.required_lgtms} LGTM"
            assert (lgtm in seen["blockers"]) == (not state.enough_lgtms), (number, seen)
            for user in (v.user for v in state.lgtms):
                assert not state.enough_lgtms or user not in seen["blockers"]
            assert ("on hold by" in seen["blockers"]) == bool(state.holds), (number, seen)
            assert ("triage failed" in seen["blockers"]) == (conclusion == "failure"), (number, seen, conclusion)
            assert ("no /approve yet" in seen["blockers"]) == (not state.approvals)
        assert "on hold by max" in shown[twin_b]["blockers"] and "1/2 LGTM: mona" in shown[twin_b]["blockers"]
        assert "LGTM" not in shown[twin_a]["blockers"]  # two maintainers gave theirs
        driver.get(url + "/similar")
        screenshot(driver, "corpus-similar")
        groups = [{int(tr.get_attribute("data-number")) for tr in g.find_elements(By.CSS_SELECTOR, "tr[data-number]")}
                  for g in driver.find_elements(By.CSS_SELECTOR, "section.group")]
        assert any({twin_a, twin_b} <= g for g in groups), groups
        driver.get(url + "/queue")
        screenshot(driver, "corpus-queue")
        assert int(driver.find_element(By.ID, "count-done").text) > 0
        assert "pull_request.opened" in driver.find_element(By.ID, "deliveries").text
