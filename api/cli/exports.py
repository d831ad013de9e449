"""`sleuth export RUN_ID --format pdf -o FILE`: a finished run as Markdown, DOCX, PDF, the XLSX evidence pack, or a ZIP."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import app, run_store


@app.command("export")
def export_command(
    run_id: Annotated[str, typer.Argument(help="The run's id (GET /v1/runs, or the web UI's run page).")],
    format: Annotated[
        str, typer.Option("--format", "-f", help="md, docx, pdf, xlsx (the evidence pack) or zip (all of them).")
    ] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: sleuth-RUN_ID.FORMAT here).")
    ] = None,
    pages: Annotated[
        bool | None, typer.Option("--pages/--no-pages", help="Append the cited page images (PDF: off by default; ZIP: on).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Where the page-image links point (default: http://SLEUTH_API_HOST:SLEUTH_API_PORT).")
    ] = None,
) -> None:
    """Export a finished run from this machine's run store (every run, as an admin sees them); every figure cited."""
    from api.exports import FORMATS, RunInfo, build, content_of
    from api.exports.sources import CatalogSources
    from api.run_store import ACTIVE
    from api.settings import get_settings

    fmt = format.strip().lower()
    if fmt not in FORMATS:
        typer.echo(f"error: export format {format!r} is not offered; formats: {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    corpus, store = run_store()
    try:
        run = store.get(run_id[:64])
        if run is None:
            typer.echo(f"error: no run {run_id[:64]!r} in this run store; list runs with GET /v1/runs", err=True)
            raise typer.Exit(1)
        if run.status in ACTIVE:
            typer.echo(f"error: run {run.id} is {run.status}: export it once it has finished", err=True)
            raise typer.Exit(1)
        url = base_url or f"http://{settings.api.host}:{settings.api.port}"
        content = content_of(RunInfo.of(run), CatalogSources(corpus), url, settings.export)
        with_pages = pages if pages is not None else fmt == "zip"
        images = _page_images(corpus, content, settings.api.page_dpi) if with_pages and fmt in ("pdf", "zip") else {}
        with tempfile.TemporaryDirectory(prefix="sleuth-export-") as folder:
            made = build(fmt, content, images, Path(folder))
            target = output or Path(made.name)
            target.write_bytes(made.read_bytes())
    except typer.Exit:
        raise  # a RuntimeError too, in click
    except OSError as exc:
        typer.echo(f"error: cannot write the export: {exc}", err=True)
        raise typer.Exit(2) from None
    except RuntimeError as exc:  # the PDF writer's missing libraries
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        corpus.close()
    typer.echo(f"wrote {target} ({target.stat().st_size:,} bytes; {len(content.notes)} sources, {len(content.figures)} figures)")
    for cut in content.cuts:
        typer.echo(f"note: {cut}", err=True)


def _page_images(corpus, content, dpi: int) -> dict[tuple[str, int], bytes]:  # noqa: ANN001
    """The cited PDF pages as PNGs, rendered here (the CLI has no render processes); a page that fails is named in the file."""
    from corpus.errors import CorpusError
    from corpus.page_image import PageNotRendered, render_page

    images, missed = {}, []
    for doc_id, page in content.pages:
        try:
            original = corpus.originals.path(corpus.get(doc_id).content_hash)
            images[(doc_id, page)] = render_page(original, page, dpi=dpi, max_side_px=2400, max_pixels=6_000_000).png
        except (CorpusError, ValueError, OSError, PageNotRendered) as exc:
            missed.append(f"{doc_id} p.{page} ({exc})")
    if missed:
        content.cuts.append(f"{len(missed)} cited page images could not be added: {'; '.join(missed)[:2000]}")
    return images
