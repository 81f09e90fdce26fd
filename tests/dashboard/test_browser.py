"""The dashboard in a real browser (headless Chromium, scripts off): pages render, filters work, and on
an emulator world of the corpus's real PRs the blockers shown match the review state the bot derives."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from starlette.applications import Starlette

from bot.dashboard import web
from bot.dashboard.demo import REPO as DEMO_REPO
from bot.dashboard.demo import sample_contributions, seed
from bot.dashboard.store import Store
from bot.review.workflow import derive_for
from bot.service.app import create_app
from bot.triage.run import read_config
from tests.dashboard.browser import ARTIFACTS, chrome, screenshot, serving
from tests.dashboard.harness import REPO, World, clean_leaf
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    browser = chrome()
    yield browser
    browser.quit()


def replaced(page: Any) -> Any:
    """A wait condition: `page` (the old page's root) is gone and the next page has loaded. Mid-navigation
    Chromium answers a question about the old node with a stale element or with "node does not belong to
    the document": both mean it is gone (selenium's `staleness_of` knows only the first)."""

    def loaded(driver: Any) -> bool:
        try:
            page.is_enabled()
        except WebDriverException:
            try:
                return driver.execute_script("return document.readyState") == "complete"
            except WebDriverException:
                return False
        return False

    return loaded


def follow(driver: Any, by: str, what: str) -> None:
    """Click a link or button and wait until the next page has replaced this one (a busy machine is slow)."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, what).click()
    WebDriverWait(driver, 30).until(replaced(page))


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




class Clicks:
    """A triager's clicks from `/`: each one follows a link or submits a form, and is counted."""

    def __init__(self, driver: Any, url: str) -> None:
        self.driver, self.url, self.count = driver, url, 0
        driver.get(url + "/")

    def click(self, by: str, what: str) -> None:
        follow(self.driver, by, what)
        self.count += 1

    def type(self, name: str, text: str) -> None:
        field = self.driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(text)


def at_width(driver: Any, width: int, height: int = 1000) -> dict[str, Any]:
    """Show the page as a screen WIDTH CSS pixels wide; returns the layout's metrics (scripts are off: CDP)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.refresh()
    return driver.execute_cdp_cmd("Page.getLayoutMetrics", {})


@pytest.mark.corpus
def test_the_four_triager_tasks_take_at_most_two_clicks_from_the_front_page(driver: Any, tmp_path: Path,
                                                                           corpus: Path) -> None:
    from bot.dashboard import views
    from bot.dashboard.demo import MAINTAINERS, corpus_contributions

    now = time.time()
    store = Store(tmp_path / "dashboard.sqlite3")
    seed(store, sample_contributions() + corpus_contributions(corpus, 150), now)
    prs = [views.view(r, now) for r in store.open_pulls()]
    by_state = {s: [p for p in prs if p.state is s] for s in views.PrState}
    me = MAINTAINERS[0]
    waiting = {p.row.number for p in prs if views.waiting_on(p, me)}
    groups = views.similar_groups(store.open_pulls())
    assert waiting and by_state[views.PrState.STALE] and by_state[views.PrState.READY] and groups
    with serving(Starlette(routes=web.routes(store))) as url:
        # 1. The PRs waiting on me: my login in "Waiting on me", one click.
        task = Clicks(driver, url)
        task.type("reviewer", me)
        task.click(By.ID, "go-reviewer")
        seen = rows(driver)
        assert set(seen) == set(sorted(waiting)[:50]) or len(seen) == 50, (set(seen), waiting)
        assert set(seen) <= waiting and task.count == 1
        # 2. The stale PRs: the state's count on the front page, one click.
        task = Clicks(driver, url)
        task.click(By.ID, "state-stale")
        assert {n for n, r in rows(driver).items() if r["state"] == "stale"} == {
            p.row.number for p in by_state[views.PrState.STALE]} and task.count == 1
        # 3. Why PR N is not merged: its number, one click; the row says what it waits for.
        for pr in (by_state[views.PrState.READY][0], by_state[views.PrState.WAITING_LGTMS][0]):
            task = Clicks(driver, url)
            task.type("number", str(pr.row.number))
            task.click(By.ID, "go-number")
            (shown,) = rows(driver).values()
            assert task.count == 1 and shown["state"] == pr.state_text
            assert ("Not merged yet" in shown["blockers"]) == (pr.state is views.PrState.READY)
            assert pr.state is views.PrState.READY or "LGTM" in shown["blockers"]
        # 4. The open PRs that teach the same thing as PR N: its number, then its similar link.
        number = groups[0].prs[0].number
        task = Clicks(driver, url)
        task.type("number", str(number))
        task.click(By.ID, "go-number")
        task.click(By.CSS_SELECTOR, f'tr[data-number="{number}"] a.similar')
        assert task.count == 2 and "/similar?pr=" in driver.current_url
        shown = {int(tr.get_attribute("data-number"))
                 for tr in driver.find_elements(By.CSS_SELECTOR, "section.group tr[data-number]")}
        expected = {r.number for g in groups if number in {p.number for p in g.prs} for r in g.prs}
        assert shown == expected and len(shown) > 1
        pairs = driver.find_elements(By.CSS_SELECTOR, "table.pairs tbody tr")
        assert pairs and all(tr.find_element(By.CSS_SELECTOR, "td.score").text for tr in pairs)
        # Readable on a phone: nothing to scroll sideways, state and blockers on screen; pictures for docs/.
        driver.get(url + "/")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        wide = at_width(driver, 1400)
        driver.save_screenshot(str(ARTIFACTS / "pull-requests-1400.png"))  # docs/img/dashboard-pull-requests-1400.png
        narrow = at_width(driver, 400)
        driver.save_screenshot(str(ARTIFACTS / "pull-requests-400.png"))
        assert narrow["cssContentSize"]["width"] <= 400 < wide["cssContentSize"]["width"], narrow["cssContentSize"]
        first = driver.find_element(By.CSS_SELECTOR, "#prs tbody tr[data-number]")
        for cell in ("td.state", "td.blockers"):
            box = first.find_element(By.CSS_SELECTOR, cell).rect
            assert box["x"] >= 0 and box["x"] + box["width"] <= 400 and box["width"] > 0, (cell, box)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
