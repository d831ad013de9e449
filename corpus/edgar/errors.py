"""What can go wrong talking to EDGAR, each with a message that says what to do."""

from __future__ import annotations

from corpus.errors import CorpusError

HOW_TO_SET_UA = 'export SLEUTH_EDGAR_USER_AGENT="Jane Doe jane.doe@example.com"'


class EdgarError(CorpusError):
    """Base class: a fetch from EDGAR that cannot go on."""


class EdgarSetupError(EdgarError):
    """The request is not valid before anything is sent: no User-Agent, bad forms or years."""


class EdgarForbidden(EdgarError):
    """EDGAR answered 403: a missing or generic User-Agent (or a client that went past 10 requests/s)."""


class EdgarUnavailable(EdgarError):
    """EDGAR could not be reached, or kept answering 429/5xx after the retries."""


class UnknownCompany(EdgarError):
    """No ticker or CIK like this on EDGAR; `suggestions` lists close tickers."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f"; close ones: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"unknown ticker {query!r}: EDGAR's ticker list has no such company{hint}. A CIK (digits) works too")


class NoFilings(EdgarError):
    """The company has no filing of the requested forms in the requested years."""
