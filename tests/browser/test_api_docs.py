"""/docs in Chromium, under the real Content Security Policy: Swagger UI, served from the
installed package and started by /static/docs.js, lists every operation of /openapi.json and
nothing on the page breaks the policy (no inline script or style, nothing from elsewhere)."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, expect

# Collects every CSP violation the page reports, from before its first script runs.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_docs_list_every_operation_with_no_csp_violation(page: Page) -> None:
    console: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            console.append(message.text)

    page.on("console", keep)
    page.on("pageerror", lambda error: console.append(str(error)))
    page.add_init_script(RECORD_VIOLATIONS)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    response = page.goto("/docs")
    assert response is not None and response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy

    document = page.request.get("/openapi.json").json()
    operations = [
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    ]
    blocks = page.locator(".opblock")
    expect(blocks).to_have_count(len(operations))
    shown = [
        (block.locator(".opblock-summary-method").inner_text(), block.get_attribute("id"))
        for block in blocks.all()
    ]
    assert sorted(method for method, _ in shown) == sorted(method for method, _ in operations)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {p.replace("\u200b", "") for p in paths} == {path for _, path in operations}

    assert page.evaluate("window.__cspViolations") == []
    assert console == [], console
    origin = page.url.split("/docs")[0]
    assert all(url.startswith(origin) or url.startswith("data:") for url in requested), requested
