"""`sleuth mcp`: Sleuth's tools and research over MCP on stdin/stdout, for MCP clients that start it as a subprocess."""

from __future__ import annotations

from api.cli.common import app, open_corpus


@app.command()
def mcp() -> None:
    """Serve the agent's tools (list_documents, glob, grep, outline, read, search) and `research` over MCP (stdio)."""
    import logging
    import sys

    import anyio

    from api.mcp_server import serve_stdio

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)  # stdout carries the protocol: nothing else may go there
    corpus = open_corpus()
    try:
        anyio.run(serve_stdio, corpus)
    except KeyboardInterrupt:
        pass
    finally:
        corpus.close()
