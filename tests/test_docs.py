"""The docs: a short README pointing into docs/, links that resolve inside the repository, and a map that names every module."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = (
    "architecture",
    "cli",
    "configuration",
    "corpus",
    "tools",
    "retrieval",
    "agent",
    "api",
    "web",
    "deployment",
    "scaling",
    "embedded-model",
    "evaluation",
    "benchmarks",
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
LAYERS = ("corpus", "retrieval", "tools", "agent", "embedded", "api")


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE):
        found.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return found


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def test_readme_is_short_and_points_into_every_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150, "README.md is the front page: move details into docs/"
    for command in ("make run", "make test"):
        assert f"\n{command}  " in readme or f"\n{command}    " in readme, f"README.md must show `{command}`"
    for page in PAGES:
        assert f"(docs/{page}.md)" in readme, f"README.md does not link docs/{page}.md"
        assert (DOCS / f"{page}.md").is_file()


def test_links_stay_inside_the_repository_and_resolve():
    for doc in documents():
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            where = f"{doc.relative_to(ROOT)} links {target}"
            assert not re.match(r"[a-z]+:", target), f"{where}: no links outside the repository"
            path, _, anchor = target.partition("#")
            resolved = (doc.parent / path).resolve() if path else doc
            assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{where}: no such file in the repository"
            if anchor and resolved.suffix == ".md":
                assert anchor in anchors(resolved.read_text(encoding="utf-8")), f"{where}: no such heading"


def test_the_map_names_every_module_in_its_layer():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## (\w+)/:.*?\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL))
    assert set(sections) == set(LAYERS)
    for layer in LAYERS:
        for module in sorted((ROOT / layer).rglob("*.py")):
            parts = module.relative_to(ROOT / layer).parts
            if module.name in {"__init__.py", "__main__.py"} or "migrations" in parts or parts[0] in {"cli", "prompts"}:
                continue
            assert f"`{module.name}`" in sections[layer] or f"`{'/'.join(parts)}`" in sections[layer], (
                f"docs/architecture.md does not place {layer}/{'/'.join(parts)} in its {layer}/ table"
            )
