"""Settings of the corpus layer (SLEUTH_ environment variables or a .env file)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CorpusSettings(BaseSettings):
    """Where filings' text and the catalog live."""

    model_config = SettingsConfigDict(env_prefix="SLEUTH_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Data directory: text store, catalog (SQLite default) and indexes.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the catalog; default sqlite:///<data_dir>/sleuth.db. PostgreSQL: postgresql+psycopg://user@host/db."
    )
    ingest_workers: int = Field(0, ge=0, description="Processes extracting filings in parallel; 0 means one per CPU core.")
    ingest_timeout_s: float = Field(600.0, ge=0, description="Wall-clock limit to extract one file, in its worker process (0: none).")
    ingest_max_memory_mb: int = Field(4096, ge=0, description="Address-space limit of each extraction worker process, in MB (0: none).")
    ingest_max_pages: int = Field(10_000, ge=1, description="Most pages one file may have; a longer PDF is refused before extraction.")

    @property
    def text_dir(self) -> Path:
        """One UTF-8 text file per document, searchable with ripgrep."""
        return self.data_dir / "text"

    @property
    def pages_dir(self) -> Path:
        """One JSON line -> page map per document, beside the text store."""
        return self.data_dir / "pages"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sleuth.db').resolve()}"

    @property
    def workers(self) -> int:
        return self.ingest_workers or os.cpu_count() or 1
