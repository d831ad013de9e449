"""Filings straight from SEC EDGAR: resolve a ticker or CIK, pick filings from the submissions JSON, download, ingest."""

from corpus.edgar.errors import EdgarError, EdgarForbidden, EdgarSetupError, EdgarUnavailable, NoFilings, UnknownCompany
from corpus.edgar.fetch import FetchReport, fetch_filings, parse_forms, parse_years
from corpus.edgar.settings import EdgarSettings

__all__ = [
    "EdgarError",
    "EdgarForbidden",
    "EdgarSettings",
    "EdgarSetupError",
    "EdgarUnavailable",
    "FetchReport",
    "NoFilings",
    "UnknownCompany",
    "fetch_filings",
    "parse_forms",
    "parse_years",
]
