"""Settings shows, as the student types, the sentence every draft will open with."""

from playwright.sync_api import Page, expect


def test_the_career_sentence_follows_what_the_student_types(
    signed_in_page: Page, base_url: str,
) -> None:
    page = signed_in_page
    page.goto(f"{base_url}/settings")
    sentence = page.locator("#career-sentence-text")
    expect(sentence).to_contain_text("[your school]")

    page.locator("#f-school").fill("Concordia University, St. Paul")
    page.locator("#f-major").fill("biology")
    goal = page.locator("#f-career_goal")
    for typed, shown in (("work in healthcare consulting", "working in healthcare consulting"),
                         ("a nurse", "becoming a nurse"),
                         ("nursing", "pursuing a career in nursing"),
                         ("UX research", "pursuing a career in UX research")):
        goal.fill(typed)
        expect(sentence).to_have_text(
            "I am a student at Concordia University, St. Paul majoring in biology, in hopes of "
            f"{shown}.")

    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#career-sentence-text")).to_contain_text("pursuing a career in UX research")
