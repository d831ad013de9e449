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
    from api.settings import get_settings

    settings = get_settings().api
    host, port, workers = host or settings.host, port or settings.port, workers or settings.workers
    corpus, store = run_store()
    try:
        keys = store.active_key_count()
    finally:
        corpus.close()
    config = uvicorn.Config(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=settings.access_log,
    )
    try:
        sock = config.bind_socket()  # the address actually bound decides, not the name asked for ("" is every interface)
    except SystemExit:
        typer.echo(f"error: could not bind {host or '(every interface)'}:{port}; see the message above", err=True)
        raise typer.Exit(2) from None
    bound, bound_port = sock.getsockname()[:2]
    if not is_loopback(bound) and keys == 0:
        sock.close()
        typer.echo(
            f"error: refusing to serve on {host or '(every interface)'} ({bound}) with no API key: anyone who can reach it could "
            "use it. Create a key with `sleuth keys create NAME --admin` (then send 'Authorization: Bearer <key>'), or bind to "
            "127.0.0.1.",
            err=True,
        )
        raise typer.Exit(2)
    os.environ["SLEUTH_API_HOST"], os.environ["SLEUTH_API_PORT"] = host, str(bound_port)
    get_settings.cache_clear()  # the app (this process or its workers) reads the address actually bound
    shown = f"[{bound}]" if ":" in bound else bound
    typer.echo(
        f"sleuth: starting on http://{shown}:{bound_port}/ (API under /v1, docs at /docs; {'API keys required' if keys else 'open: loopback only'})",
        err=True,
    )
    server = uvicorn.Server(config)
    if config.workers > 1:  # as uvicorn.run does it, on the socket checked above
        import inspect

        from uvicorn.supervisors import Multiprocess

        older = "target" in inspect.signature(Multiprocess).parameters
        (Multiprocess(config, target=server.run, sockets=[sock]) if older else Multiprocess(config, sockets=[sock])).run()
    else:
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        if not server.started:
            raise typer.Exit(3)


keys_app = typer.Typer(
    help="API keys: `Authorization: Bearer <key>`; once any key exists, every request needs one. Admin keys "
    "(--admin) manage documents and see every run; user keys see their own runs.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what the key is for, e.g. 'reporting-service'.")],
    admin: Annotated[
        bool, typer.Option("--admin", help="May upload, replace and delete documents and sees every user's runs.")
    ] = False,
) -> None:
    """Create a key; it is printed once (only its hash is stored). A key sees only its own runs unless it is an admin key."""
    if not 1 <= len(name.strip()) <= 100:
        typer.echo("error: give the key a name of 1-100 characters", err=True)
        raise typer.Exit(2)
    corpus, store = run_store()
    try:
        key, secret = store.create_key(name.strip(), admin=admin)
    finally:
        corpus.close()
    typer.echo(secret)
    role = "admin" if key.admin else "user"
    typer.echo(f"{role} key {key.id} ({key.name}, {key.prefix}...) created; store it now: it cannot be shown again", err=True)


@keys_app.command("list")
def keys_list() -> None:
    """Keys with their id, prefix, role (admin or user), state and last use (never the key itself)."""
    corpus, store = run_store()
    try:
        keys = store.keys()
    finally:
        corpus.close()
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        used = f"last used {k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used"
        typer.echo(f"{k.id}\t{k.prefix}...\t{k.name}\t{'admin' if k.admin else 'user'}\t{state}\t{used}")
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
