"""Settings of EDGAR fetching (SLEUTH_EDGAR_ environment variables or a .env file)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EdgarSettings(BaseSettings):
    """Who we say we are to the SEC, how fast we ask, where EDGAR is (tests point it at a local fake)."""

    model_config = SettingsConfigDict(env_prefix="SLEUTH_EDGAR_", env_file=".env", extra="ignore")

    user_agent: str | None = Field(
        None, description="Your name and e-mail, e.g. 'Jane Doe jane.doe@example.com' (the SEC's fair-access rule)."
    )
    www_url: str = Field("https://www.sec.gov", description="EDGAR's archive host (company_tickers.json, filings).")
    data_url: str = Field("https://data.sec.gov", description="EDGAR's data API host (submissions JSON).")
    requests_per_second: float = Field(10.0, gt=0, le=10, description="Most requests per second (the SEC allows 10).")
    timeout_s: float = Field(60.0, gt=0, le=600, description="Time limit of one request.")
    max_retries: int = Field(5, ge=0, le=10, description="Retries on 429, 5xx and network errors (exponential backoff).")
    backoff_s: float = Field(
        1.0, ge=0, le=60, description="First backoff wait; doubles per retry (a Retry-After header wins, up to 60 s)."
    )
    max_file_mb: int = Field(200, ge=1, le=2000, description="Largest document downloaded.")
    max_filings: int = Field(
        400, ge=1, le=10_000, description="Most filings one fetch may select (narrow forms or years past it)."
    )
