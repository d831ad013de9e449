"""`sleuth settings` and the generated reference pages: docs/configuration.md from the settings, docs/cli.md from `--help`."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from api.cli.common import app
from api.settings import Settings, get_settings

HELP_WIDTH = 100  # docs/cli.md must not depend on the terminal it was generated in
# The settings a deployment nearly always sets, shown first: (section, field).
ESSENTIAL: tuple[tuple[str, str], ...] = (
    ("llm", "base_url"),
    ("llm", "model"),
    ("llm", "api_key"),
    ("llm", "context_tokens"),
    ("corpus", "data_dir"),
    ("corpus", "database_url"),
    ("api", "host"),
    ("api", "port"),
    ("edgar", "user_agent"),
    ("retrieval", "index_url"),
)
SECRET_FIELDS = {"api_key", "index_token", "rerank_api_key"}
REGENERATE = {
    "configuration": "python -m api.cli settings --markdown > docs/configuration.md",
    "cli": "python -m api.cli cli-reference > docs/cli.md",
}


def section_classes() -> dict[str, type[BaseSettings]]:
    """Section name -> its settings class, in the order of Settings."""
    return {name: field.annotation for name, field in Settings.model_fields.items()}  # type: ignore[misc]


def env_names(cls: type[BaseSettings], name: str, field: FieldInfo) -> list[str]:
    """The variables a field is read from, the current name first (older names after it still work)."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    return [f"{cls.model_config.get('env_prefix', '')}{name}".upper()]


def default_text(field: FieldInfo) -> str:
    """The default as a reader would write it in the environment (factories other than empty containers are computed at start)."""
    if field.default_factory is not None:
        return f"`{field.default_factory()!r}`" if field.default_factory in (dict, list) else "computed at start"
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return '`""` (empty)'
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(cls: type[BaseSettings], name: str, field: FieldInfo) -> str:
    current, *older = env_names(cls, name, field)
    variable = f"`{current}`" + (f" (also `{'`, `'.join(older)}`)" if older else "")
    return f"| {variable} | {_cell(default_text(field))} | {_cell(field.description or '')} |"


def configuration_markdown() -> str:
    """docs/configuration.md: every setting with its variable, default and description, the ten most set ones first."""
    sections = section_classes()
    lines = [
        "# Configuration",
        "",
        f"<!-- Generated from the settings' descriptions by `{REGENERATE['configuration']}`; edit the descriptions, not this page. -->",
        "",
        "Sleuth reads its settings from environment variables, or from a `.env` file in the directory it starts in (the "
        "environment wins). Each section belongs to one layer and reads the variables of its prefix, except `SLEUTH_DATA_DIR` "
        "and `SLEUTH_DATABASE_URL`, which every layer uses. `sleuth settings` prints "
        "the values a command would use, secrets hidden. Every process reads them once, at start (`get_settings()` in "
        "`api/settings.py`).",
        "",
        "## The ten you will set",
        "",
        "| variable | default | what it does |",
        "|---|---|---|",
    ]
    for section, name in ESSENTIAL:
        cls = sections[section]
        lines.append(_row(cls, name, cls.model_fields[name]))
    lines += ["", "## Sections", ""]
    for section, cls in sections.items():
        lines.append(f"- [`{section}`](#{section}): {Settings.model_fields[section].description}")
    for section, cls in sections.items():
        path = cls.__module__.replace(".", "/") + ".py"
        prefix = cls.model_config.get("env_prefix", "")
        about = f"{Settings.model_fields[section].description} `{cls.__name__}` in `{path}`, prefix `{prefix}`."
        lines += ["", f"## {section}", "", about, ""]
        lines += ["| variable | default | description |", "|---|---|---|"]
        lines += [_row(cls, name, field) for name, field in cls.model_fields.items()]
    renamed = [
        (older, names[0])
        for cls in sections.values()
        for name, field in cls.model_fields.items()
        for names in [env_names(cls, name, field)]
        for older in names[1:]
    ]
    if renamed:
        lines += [
            "",
            "## Older names",
            "",
            "These variables were renamed when their section got its own prefix; the old names still "
            "work (the new name wins when both are set).",
            "",
            "| old name | current name |",
            "|---|---|",
        ]
        lines += [f"| `{old}` | `{new}` |" for old, new in renamed]
    return "\n".join(lines) + "\n"


def _shown(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in SECRET_FIELDS and value not in ("", "not-needed"):
        return "***"
    text = str(value)
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", text) if name == "database_url" else text


def _plain_help(command: Any, ctx: Any) -> str:
    command.rich_markup_mode = None  # click's plain layout: no colours, no box drawing, the width fixed by the context
    return command.get_help(ctx)


def _context(command: Any, name: str, parent: Any) -> Any:
    return command.context_class(command, info_name=name, parent=parent, terminal_width=HELP_WIDTH, max_content_width=HELP_WIDTH)


def cli_markdown() -> str:
    """docs/cli.md: the `--help` of `sleuth` and of every command, as click prints it at a fixed width."""
    root = typer.main.get_command(app)
    blocks: list[tuple[str, str]] = []

    def walk(command: Any, ctx: Any, path: str) -> None:
        blocks.append((path, _plain_help(command, ctx)))
        if hasattr(command, "list_commands"):
            for name in sorted(command.list_commands(ctx)):
                sub = command.get_command(ctx, name)
                if not sub.hidden:
                    walk(sub, _context(sub, name, ctx), f"{path} {name}")

    walk(root, _context(root, "sleuth", None), "sleuth")
    lines = [
        "# Command line",
        "",
        f"<!-- Generated from the commands' help by `{REGENERATE['cli']}`; edit the help texts, not this page. -->",
        "",
        "`make run` installs the `sleuth` command into `.venv/bin`. Every command reads the settings of "
        "[configuration.md](configuration.md); `sleuth COMMAND --help` prints what follows.",
        "",
    ]
    lines += [f"- [`{path}`](#{path.replace(' ', '-')})" for path, _ in blocks[1:]]
    for path, text in blocks:
        lines += ["", f"## {path}", "", "```text", text.rstrip(), "```"]
    return "\n".join(lines) + "\n"


@app.command("settings")
def settings_command(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the configuration reference (docs/configuration.md).")
    ] = False,
) -> None:
    """Print every setting as VARIABLE=value, as this command sees them (environment and .env; secrets hidden)."""
    if markdown:
        typer.echo(configuration_markdown(), nl=False)
        return
    current = get_settings()
    for section, cls in section_classes().items():
        values = getattr(current, section)
        for name, field in cls.model_fields.items():
            typer.echo(f"{env_names(cls, name, field)[0]}={_shown(name, getattr(values, name))}")


@app.command("cli-reference", hidden=True)
def cli_reference() -> None:
    """Print the command-line reference (docs/cli.md): every command's --help."""
    typer.echo(cli_markdown(), nl=False)
