"""`sleuth serve` and `sleuth keys`: the research API and its keys."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import app, run_store


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default SLEUTH_API_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SLEUTH_API_PORT, 8000).")] = None,
    workers: Annotated[int | None, typer.Option(help="Server processes (default SLEUTH_API_WORKERS, 1).")] = None,
) -> None:
    """Run the research API and the web UI; with no LLM endpoint set, the embedded model starts too."""
    import os

    import uvicorn

    from api.auth import is_loopback
    from api.settings import ApiSettings

    settings = ApiSettings()
    host, port, workers = host or settings.host, port or settings.port, workers or settings.workers
    corpus, store = run_store()
    try:
        keys = store.active_key_count()
    finally:
        corpus.close()
    if not is_loopback(host) and keys == 0:
        typer.echo(f"error: refusing to serve on {host} with no API key: anyone who can reach it could use it. Create a key with "
                   "`sleuth keys create NAME` (then send 'Authorization: Bearer <key>'), or bind to 127.0.0.1.", err=True)  # fmt: skip
        raise typer.Exit(2)
    os.environ["SLEUTH_API_HOST"], os.environ["SLEUTH_API_PORT"] = host, str(port)
    typer.echo(f"sleuth: starting on http://{host}:{port}/ (API under /v1, docs at /docs; {'API keys required' if keys else 'open: loopback only'})", err=True)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info", access_log=settings.access_log)


keys_app = typer.Typer(help="API keys: `Authorization: Bearer <key>`; once any key exists, every request needs one.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Argument(help="Who or what the key is for, e.g. 'reporting-service'.")]) -> None:
    """Create a key; it is printed once (only its hash is stored)."""
    if not 1 <= len(name.strip()) <= 100:
        typer.echo("error: give the key a name of 1-100 characters", err=True)
        raise typer.Exit(2)
    corpus, store = run_store()
    try:
        key, secret = store.create_key(name.strip())
    finally:
        corpus.close()
    typer.echo(secret)
    typer.echo(f"key {key.id} ({key.name}, {key.prefix}...) created; store it now: it cannot be shown again", err=True)


@keys_app.command("list")
def keys_list() -> None:
    """Keys with their id, prefix and state (never the key itself)."""
    corpus, store = run_store()
    try:
        keys = store.keys()
    finally:
        corpus.close()
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        used = f"last used {k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used"
        typer.echo(f"{k.id}\t{k.prefix}...\t{k.name}\t{state}\t{used}")
    if not keys:
        typer.echo("no keys: the API is open (loopback only); create one with `sleuth keys create NAME`", err=True)


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's id or prefix (see `sleuth keys list`).")]) -> None:
    """Revoke a key: requests with it get 401 from then on."""
    corpus, store = run_store()
    try:
        revoked = store.revoke(key)
    finally:
        corpus.close()
    if revoked is None:
        typer.echo(f"error: no active key {key!r}; see `sleuth keys list`", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked key {revoked.id} ({revoked.name})")
