"""What reviewers' decisions teach, in a real browser: the calibration chart and the noisy rules on
the statistics page in light and dark mode, and a learned confidence with what it rests on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.test_browser import (  # its fixtures: one way to start a server and watch a page
    browser,  # noqa: F401
    screenshot,
    server,  # noqa: F401
    uploaded_review,
    watched,  # noqa: F401
)

pytestmark = pytest.mark.browser

NOTE = "# Executive summary\n\n" + "\n\n".join(
    f"Step {n} of the recovery is owned by TBD and finishes on TBD." for n in range(1, 7)
)


def decide(running, review_id: str, finding_id: str, action: str) -> None:
    url = running.url(f"/api/v1/reviews/{review_id}/findings/{finding_id}/decision")
    assert running.api.post(url, json={"action": action}).status_code == 200


def colour(page, selector: str, prop: str) -> str:
    return page.locator(selector).first.evaluate(f"(e) => getComputedStyle(e).{prop}")


def test_calibration_and_noisy_rules_in_light_and_dark_then_a_learned_confidence(
    watched,  # noqa: F811
    server,  # noqa: F811
):
    review_id = uploaded_review(server, NOTE.encode(), "placeholders.md")
    findings = server.api.get(server.url(f"/api/v1/reviews/{review_id}")).json()["findings"]
    placeholders = [f for f in findings if f["rule"] == "placeholder"]
    assert len(placeholders) >= 10
    for f in placeholders[:10]:
        decide(server, review_id, f["id"], "reject")
    others = [f for f in findings if f["rule"] != "placeholder"]
    for f in others[:2]:
        decide(server, review_id, f["id"], "accept")
    stats = server.api.get(server.url("/api/v1/stats")).json()
    page = watched.page
    page.goto(server.url("/stats"))

    for theme in ("light", "dark"):
        if theme == "dark":
            page.locator("#theme-toggle").click()
            assert page.evaluate("document.documentElement.getAttribute('data-theme')") == "dark"
        chart = page.locator("#calibration-svg")
        expect(chart).to_be_visible()
        bands = [b for b in stats["calibration"]["bands"] if b["decided"]]
        assert chart.locator("rect.calibration-bar").count() == len(bands)
        card = page.locator("section[aria-labelledby=calibration-heading]")
        background = card.evaluate("(e) => getComputedStyle(e).backgroundColor")
        assert colour(page, "rect.calibration-bar", "fill") not in (background, "none")
        assert colour(page, ".calibration-ideal", "stroke") not in (background, "none")
        expect(page.locator("#brier-score")).to_contain_text(f"{stats['calibration']['brier']:.3f}")
        noisy = page.locator("#noisy-rules li.noisy-rule", has_text="placeholder")
        expect(noisy).to_contain_text("accepted 0 of 10")
        expect(noisy.locator(".noisy-examples li").first).to_contain_text("Rejected")
        screenshot(page, f"stats-learning-{theme}", full_page=True)

    button = page.locator('#noisy-rules button[data-rule="placeholder"]')
    button.click()
    expect(button).to_have_text("Unmute")
    assert "placeholder" in server.api.get(server.url("/api/v1/stats")).json()["muted_rules"]
    button.click()
    expect(button).to_have_text("Mute")

    again = uploaded_review(server, NOTE.encode(), "placeholders-again.md")
    page.goto(server.url(f"/reviews/{again}"))
    card = page.locator("#finding-list .finding", has_text="TBD").first
    configured = placeholders[0]["confidence"]
    learned = round((10 * configured + 0) / (10 + 10), 3)
    expect(card.locator(".confidence").first).to_have_text(f"{round(learned * 100)}% confidence")
    expect(card.locator(".confidence-basis")).to_have_text(
        f"{round(configured * 100)}% configured · accepted 0 of 10"
    )
