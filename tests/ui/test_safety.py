"""Safety and habits of the UI: CSRF, escaping, security headers, themes, shareable URLs."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect
from tests.ui.conftest import Demo


def test_a_form_post_without_the_csrf_token_is_refused(demo: Demo) -> None:
    with httpx.Client(base_url=demo.url) as client:
        client.get("/")  # gets the cookie, but a forged form does not know the token
        answer = client.post("/ui/experiments/create", data={"name": "forged"})
        assert answer.status_code == 403
        assert "security token" in answer.text
        token = client.cookies["heron_csrf"]
        cross_site = client.post(
            "/ui/experiments/create",
            data={"name": "forged", "csrf_token": token},
            headers={"Origin": "https://evil.example"},
        )
        assert cross_site.status_code == 403
        not_ascii = client.post("/ui/experiments/create", data={"name": "x", "csrf_token": "é"})
        assert not_ascii.status_code == 403
        # A NUL in a field: refused on every database (PostgreSQL stores none in text).
        nul = client.post("/ui/experiments/create", data={"name": "nul\x00x", "csrf_token": token})
        assert nul.status_code == 400
        assert "No experiment name contains" in client.get("/", params={"q": "nul"}).text
        listing = client.get("/", params={"q": "forged"})
        assert "No experiment name contains" in listing.text


def test_the_csrf_cookie_is_http_only_and_same_site(demo: Demo) -> None:
    answer = httpx.get(demo.url + "/")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_pages_carry_a_strict_content_security_policy(demo: Demo) -> None:
    answer = httpx.get(f"{demo.url}/experiments/{demo.experiment_id}")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_redirects_after_a_form_stay_on_this_site(demo: Demo) -> None:
    with httpx.Client(base_url=demo.url) as client:
        client.get("/")
        token = client.cookies["heron_csrf"]
        answer = client.post(
            f"/ui/experiments/{demo.empty_experiment_id}/restore",
            data={"csrf_token": token, "next": "//evil.example/"},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/"


def test_unknown_things_get_clear_error_pages(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.url}/experiments/424242")
    expect(page.locator(".alert.error")).to_contain_text("RESOURCE_DOES_NOT_EXIST")
    page.goto(f"{demo.url}/runs/{'0' * 32}")
    expect(page.locator(".alert.error")).to_contain_text("RESOURCE_DOES_NOT_EXIST")


def test_dark_and_light_themes(page: Any, demo: Demo, screenshot: Any) -> None:
    page.goto(f"{demo.url}/experiments/{demo.experiment_id}")
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.get_by_role("button", name="Switch between light and dark theme").click()
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert light != dark
    screenshot(page, "experiment-dark")
    page.reload()  # the choice is remembered
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == dark


def test_keyboard_focus_is_visible(page: Any, demo: Demo) -> None:
    page.goto(demo.url + "/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_pages_answer_odd_input_with_a_page_not_a_500(demo: Demo) -> None:
    """Found by fuzzing the UI: each once gave a 500."""
    long_text = "A" * 50_001  # a LIKE pattern longer than SQLite takes
    odd = [
        "/experiments/%C2%B2",  # a digit int() does not read
        "/experiments/%D9%A3",  # one it reads as 3: still not an experiment id
        f"/?q={long_text}",
        f"/models?q={long_text}",
        f"/experiments/{demo.experiment_id}/traces?q={long_text}",
    ]
    for path in odd:
        status = httpx.get(demo.url + path).status_code
        assert status in (200, 400, 404), (path[:40], status)
    assert httpx.get(demo.url + "/experiments/%D9%A3").status_code == 404
    filters = " AND ".join(["metrics.a > 1"] * 1000)  # deeper than SQLite nests an expression
    page = httpx.get(f"{demo.url}/experiments/{demo.experiment_id}", params={"filter": filters})
    assert page.status_code == 200  # the runs table shows the filter's error
    assert "at most 100 conditions" in page.text
