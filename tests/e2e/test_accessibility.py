"""Every page, logged out and in, and after the form states people meet: checked by axe-core,
and loaded without console errors or Content-Security-Policy violations."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import sign_up

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING_IMPACTS = {"serious", "critical"}

# Collects every CSP violation of the document, from before its first script runs.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(
        `${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
        + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def open_welcome(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    expect(page.get_by_role("link", name="Create your account")).to_be_visible()


def open_login(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def open_register(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/register")
    expect(page.get_by_role("button", name="Create account")).to_be_visible()


def open_home(page: Page, base_url: str) -> None:
    sign_up(page, base_url)
    page.goto(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya")


def open_settings(page: Page, base_url: str) -> None:
    sign_up(page, base_url)
    page.goto(f"{base_url}/settings")
    expect(page.get_by_role("button", name="Save profile")).to_be_visible()


def open_settings_with_an_error(page: Page, base_url: str) -> None:
    open_settings(page, base_url)
    page.get_by_label("Graduation year").fill("1800")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#e-graduation_year")).to_be_visible()


def open_api_keys(page: Page, base_url: str) -> None:
    sign_up(page, base_url)
    page.goto(f"{base_url}/settings/api-keys")
    expect(page.get_by_role("button", name="Create key")).to_be_visible()


def open_api_keys_with_a_new_key(page: Page, base_url: str) -> None:
    open_api_keys(page, base_url)
    page.get_by_label("Key name").fill("Laptop script")
    page.get_by_label("profile:read").check()
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key-secret")).to_be_visible()


def open_question_bank_with_an_own_question(page: Page, base_url: str) -> None:
    sign_up(page, base_url)
    page.goto(f"{base_url}/questions")
    page.get_by_role("textbox", name="Question").fill("What do you wish you had known in your first year?")
    page.get_by_role("button", name="Add question").click()
    expect(page.get_by_role("status")).to_contain_text("Added to Position/Career Path")
    expect(page.get_by_text("What is a typical work day like for you?")).to_be_visible()


PAGES: dict[str, Callable[[Page, str], None]] = {
    "welcome": open_welcome,
    "login": open_login,
    "register": open_register,
    "home": open_home,
    "settings": open_settings,
    "settings-after-a-validation-error": open_settings_with_an_error,
    "api-keys": open_api_keys,
    "api-keys-after-creating-a-key": open_api_keys_with_a_new_key,
    "question-bank": open_question_bank_with_an_own_question,
}
# A validation error is a 422 on purpose; Chromium and htmx both log that request as an error.
EXPECTED_CONSOLE_ERRORS = {
    "settings-after-a-validation-error": re.compile(r"status of 422 |Error Code 422 from /api/v1/me"),
}


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {' '.join(node['target'])}  {node['html']}"
                     for node in violation["nodes"])
    return "\n".join(lines)


@pytest.mark.parametrize("open_page", PAGES.values(), ids=PAGES.keys())
def test_page_has_no_serious_accessibility_violations(
    page: Page, base_url: str, open_page: Callable[[Page, str], None]
) -> None:
    # Injected through the DevTools protocol, axe-core runs under the app's real CSP.
    open_page(page, base_url)
    violations = Axe().run(page, options=WCAG_AA).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, "axe found:\n" + describe(blocking)


@pytest.mark.parametrize("state", PAGES)
def test_page_loads_without_console_errors_or_csp_violations(
    page: Page, base_url: str, state: str
) -> None:
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.on("console", record)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    PAGES[state](page, base_url)

    assert page.evaluate("window.__cspViolations") == []
    expected = EXPECTED_CONSOLE_ERRORS.get(state)
    assert [e for e in errors if not (expected and expected.search(e))] == []


# What sticks out past a phone's width, for the failure message.
WIDEST = """() => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 5).map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`
                          + ` ${Math.round(e.getBoundingClientRect().width)}px`)"""


def assert_accessible_on_a_phone_too(page: Page, base_url: str, pages: dict[str, str]) -> None:
    """No serious or critical axe violation on any of ``pages`` (name: path), and none of them
    scrolls sideways on a 390px phone."""
    found = {}
    for name, path in pages.items():
        page.goto(f"{base_url}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        violations = Axe().run(page, options=WCAG_AA).response["violations"]
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            found[name] = describe(blocking)
    assert not found, "axe found:\n" + "\n".join(f"{n} ({pages[n]}):\n{d}" for n, d in found.items())

    page.set_viewport_size({"width": 390, "height": 844})
    too_wide = {}
    for path in pages.values():
        page.goto(f"{base_url}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 391:
            too_wide[path] = (width, page.evaluate(WIDEST))
    assert too_wide == {}, f"wider than a 390px phone: {too_wide}"
