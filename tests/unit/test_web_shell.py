"""The web app has one shell, one API client, one status map and one stylesheet of status colours
(issue #15). Every page (web/*.html) starts through web/js/shell.js (header, sign-in, tenant chip,
error and status regions), talks to the API only through web/js/api.js, prints and colours every
status through web/js/status.js, and takes every status colour from web/css/status.css.

These tests read the files (no browser): they fail when a page stops using one of the shared
modules, when a second fetch() client, a second status map or a second set of status colours
appears, or when a page starts its own sign-in, tenant chip or error region again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
JS = WEB / "js"
CSS = WEB / "css"
PAGES = sorted(WEB.glob("*.html"))
STATUSES = ("excellent", "healthy", "attention", "warning", "critical", "unknown")
LABELS = tuple(s.capitalize() for s in STATUSES)
TOKEN = re.compile(r"var\(--(?:" + "|".join(STATUSES) + r")(?:-tint|-fill)?[,)]")

# the only fetch() calls that are not the API client, each with its reason
OTHER_FETCHES = {
    "shell.js": "config.json, the deployment's static settings (before the API is known)",
    "auth.js": "the Cognito Hosted UI token endpoint (not the API)",
}
# the shell's parts: only shell.js imports them, every page gets them through the shell
SHELL_PARTS = ("auth.js", "render/login.js", "render/alerts.js")


def js_files() -> list[Path]:
    return sorted(JS.rglob("*.js"))


def rel(path: Path) -> str:
    return path.relative_to(JS).as_posix()


def imports(path: Path) -> set[Path]:
    text = path.read_text()
    specs = re.findall(r'^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"', text, flags=re.M | re.S)
    return {(path.parent / spec).resolve() for spec in specs}


def module_graph(entry: Path) -> set[Path]:
    seen: set[Path] = set()
    todo = [entry.resolve()]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(imports(module) - seen)
    return seen


def page_module(page: Path) -> Path:
    scripts = re.findall(r'<script type="module" src="([^"]+)"', page.read_text())
    assert len(scripts) == 1, f"{page.name}: one module script, got {scripts}"
    return (WEB / scripts[0]).resolve()


def css_rules(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    return [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text)]


def test_there_are_the_four_pages() -> None:
    assert {p.name for p in PAGES} == {"index.html", "monitoring.html", "rollup.html", "admin.html"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_has_the_shell_skeleton_and_the_status_stylesheet(page: Path) -> None:
    html = page.read_text()
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert sheets[:2] == ["css/status.css", "css/cockpit.css"], (page.name, sheets)
    assert '<header id="site-header" class="site-header"></header>' in html, "the shell renders the header"
    for region in ('id="skip-link"', 'id="error-alert"', 'id="status"', 'id="main"'):
        assert region in html, (page.name, region)
    assert "@import" not in (CSS / "cockpit.css").read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_starts_through_the_shell_and_uses_the_client_and_the_status_map(page: Path) -> None:
    entry = page_module(page)
    text = entry.read_text()
    assert re.search(r'import \{[^}]*\bstartShell\b[^}]*\} from "(\.\./|\./)shell\.js"', text), entry.name
    assert "startShell({" in text, f"{rel(entry)} does not start the shell"
    graph = {rel(m) for m in module_graph(entry)}
    for shared in ("shell.js", "api.js", "status.js"):
        assert shared in graph, f"{page.name} does not use {shared}"


def test_only_the_shell_imports_its_parts() -> None:
    for path in js_files():
        used = {rel(m) for m in imports(path) if m.is_relative_to(JS)}
        if rel(path) == "api.js":
            assert not used, "api.js imports nothing"
        elif rel(path) != "shell.js":
            wrong = used & set(SHELL_PARTS)
            assert not wrong, f"{rel(path)} imports {sorted(wrong)}: use shell.js"


def test_no_page_starts_its_own_sign_in_tenant_chip_or_error_region() -> None:
    own = {
        'fetch("config.json"': "loads config.json",
        "configureApi(": "configures the API client",
        '"tenant-chip"': "renders a tenant chip",
        '"login-user"': "renders a sign-in list",
        '"error-alert"': "writes the error region",
        "sessionStorage.": "handles the token",
    }
    homes = {
        'fetch("config.json"': {"shell.js"},
        "configureApi(": {"shell.js", "api.js"},
        '"tenant-chip"': {"shell.js"},
        '"login-user"': {"render/login.js"},
        '"error-alert"': {"render/alerts.js"},
        "sessionStorage.": {"auth.js"},
    }
    for path in js_files():
        text = path.read_text()
        for needle, what in own.items():
            if needle in text:
                assert rel(path) in homes[needle], f"{rel(path)} {what}: that is the shell's job"


def test_one_fetch_client() -> None:
    for path in js_files():
        text = path.read_text()
        assert "XMLHttpRequest" not in text and "new Request(" not in text, rel(path)
        calls = len(re.findall(r"\bfetch\(", text))
        if rel(path) == "api.js":
            assert calls == 1, "api.js has one request function"
        elif rel(path) in OTHER_FETCHES:
            assert calls == 1, f"{rel(path)}: {OTHER_FETCHES[rel(path)]}"
        else:
            assert calls == 0, f"{rel(path)} calls fetch(): use web/js/api.js"
        if rel(path) != "api.js":
            assert "Bearer" not in text and "Authorization" not in text, f"{rel(path)} sends the token itself"


def test_one_status_map() -> None:
    """Only status.js spells the statuses' labels, icons and classes."""
    for path in js_files():
        if rel(path) == "status.js":
            continue
        text = path.read_text()
        keys = set(re.findall(r"\b(" + "|".join(STATUSES) + r")\s*:", text))
        assert len(keys) < 3, f"{rel(path)} maps statuses itself ({sorted(keys)}): use status.js"
        labels = {w for w in LABELS if re.search(rf'"{w}"', text)}
        assert len(labels) < 3, f"{rel(path)} spells status labels ({sorted(labels)}): use status.js"
        for built in ("status-${", "status-text-${", "status-border-${", "status-badge status-"):
            assert built not in text, f"{rel(path)} builds a status class ({built}): use status.js"


def test_status_colour_tokens_are_defined_once() -> None:
    defined = {
        path.name
        for path in CSS.glob("*.css")
        for _ in re.finditer(r"--(?:" + "|".join(STATUSES) + r")(?:-tint|-fill)?\s*:", path.read_text())
    }
    assert defined == {"status.css"}


def state_words() -> set[str]:
    """The words a page colours: the statuses and the states status.js maps (STATE_STATUS)."""
    js = (JS / "status.js").read_text()
    table = re.search(r"const STATE_STATUS = \{(.*?)\};", js, flags=re.S)
    assert table, "status.js maps the states it colours in STATE_STATUS"
    return (
        set(STATUSES) | set(re.findall(r"^\s*(\w+):", table.group(1), flags=re.M)) | {"none", "bad", "good"}
    )


def test_no_second_status_colour_set() -> None:
    """A colour per status or per state word (`.x-critical`, `.pill-failed`, `.freshness-stale`) lives
    in status.css; other stylesheets read --status / --status-tint / --status-fill / --tone, which the
    element's status class (status.js) sets. A single fixed-meaning use (the error alert is critical,
    a partial-coverage note is attention) is no set."""
    token_hex = set(re.findall(r"#[0-9a-fA-F]{6}\b", (CSS / "status.css").read_text()))
    words = state_words()
    for path in sorted(CSS.glob("*.css")):
        if path.name == "status.css":
            continue
        text = path.read_text()
        copied = {h for h in re.findall(r"#[0-9a-fA-F]{6}\b", text) if h in token_hex}
        assert not copied, f"{path.name} copies status colours {sorted(copied)}"
        words_by_base: dict[str, set[str]] = {}
        for selector, body in css_rules(path):
            for cls in re.findall(r"\.([a-z][\w-]*)", selector):
                if cls.startswith("status-"):
                    continue  # status.css's own class, as a qualifier
                status = next((s for s in STATUSES if cls.endswith(f"-{s}")), None)
                assert status is None, (
                    f"{path.name}: .{cls} is a status class of its own; use status-{status}"
                )
                base, _, word = cls.rpartition("-")
                if base and word in words and TOKEN.search(body):
                    words_by_base.setdefault(base, set()).add(word)
        sets = {base: sorted(w) for base, w in words_by_base.items() if len(w) > 1}
        assert not sets, f"{path.name} colours states itself: {sets}; map them in status.js (stateClass)"


def test_the_status_stylesheet_has_every_status() -> None:
    text = (CSS / "status.css").read_text()
    for status in STATUSES:
        for cls in (f".status-{status}", f".status-text-{status}", f".status-border-{status}"):
            assert cls in text, cls
    js = (JS / "status.js").read_text()
    assert all(f'{s}: "{s.capitalize()}"' in js for s in STATUSES)
