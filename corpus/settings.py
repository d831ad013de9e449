"""Settings of the corpus layer (SLEUTH_CORPUS_ variables or a .env file; SLEUTH_DATA_DIR, SLEUTH_DATABASE_URL service-wide)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, AliasGenerator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def section_config(prefix: str, *, old_prefix: str) -> SettingsConfigDict:
    """Settings read as PREFIX<FIELD>, and still as OLD_PREFIX<FIELD>, the name they had before their section got its prefix."""

    def names(field: str) -> AliasChoices:
        return AliasChoices(f"{prefix}{field}".upper(), f"{old_prefix}{field}".upper())

    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=".env",
        extra="ignore",
        alias_generator=AliasGenerator(validation_alias=names),
        validate_by_name=True,
        validate_by_alias=True,
    )


class CorpusSettings(BaseSettings):
    """Where filings' text and the catalog live."""

    model_config = section_config("SLEUTH_CORPUS_", old_prefix="SLEUTH_")

    # Every layer finds its files under the data directory and the catalog's database: service-wide names, no section prefix.
    data_dir: Path = Field(
        Path("data"),
        validation_alias="SLEUTH_DATA_DIR",
        description="Data directory: text store, catalog (SQLite default) and indexes.",
    )
    database_url: str | None = Field(
        None,
        validation_alias="SLEUTH_DATABASE_URL",
        description="SQLAlchemy URL of the catalog; default sqlite:///<data_dir>/sleuth.db. PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    ingest_workers: int = Field(0, ge=0, description="Processes extracting filings in parallel; 0 means one per CPU core.")
    ingest_timeout_s: float = Field(
        600.0, ge=0, description="Wall-clock limit to extract one file, in its worker process (0: none)."
    )
    ingest_max_memory_mb: int = Field(
        4096, ge=0, description="Address-space limit of each extraction worker process, in MB (0: none)."
    )
    ingest_max_pages: int = Field(
        10_000, ge=1, description="Most pages one file may have; a longer PDF is refused before extraction."
    )

    @property
    def text_dir(self) -> Path:
        """One UTF-8 text file per document, searchable with ripgrep."""
        return self.data_dir / "text"

    @property
    def pages_dir(self) -> Path:
        """One JSON line -> page map per document, beside the text store."""
        return self.data_dir / "pages"

    @property
    def originals_dir(self) -> Path:
        """The original file of every document, named by its sha256 (page images are rendered from it)."""
        return self.data_dir / "originals"

    @property
    def page_images_dir(self) -> Path:
        """Rendered page images, cached per original (sha256) and page."""
        return self.data_dir / "page-images"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sleuth.db').resolve()}"

    @property
    def workers(self) -> int:
        return self.ingest_workers or os.cpu_count() or 1
