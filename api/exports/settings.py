"""Bounds of exports (SLEUTH_EXPORT_ variables): processes, time, text, figures and appended page images."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExportSettings(BaseSettings):
    """How exports of runs (Markdown, DOCX, PDF, XLSX, ZIP) are bounded in time, size and concurrency."""

    model_config = SettingsConfigDict(env_prefix="SLEUTH_EXPORT_", env_file=".env", extra="ignore")

    workers: int = Field(
        2, ge=1, le=32, description="Export processes per server process (PDF typesetting is CPU-heavy); more exports wait."
    )
    max_waiting: int = Field(8, ge=0, le=1000, description="Exports that may wait for a free export process; past it 503.")
    timeout_s: float = Field(
        120.0, gt=0, le=1800, description="Longest one export may take in its process; past it the process is stopped (504)."
    )
    memory_mb: int = Field(2048, ge=256, le=65536, description="Memory limit of an export process, in MB.")
    max_text_chars: int = Field(
        200_000,
        ge=1000,
        le=20_000_000,
        description="Answer or memo text an export holds (200,000: a ~50-page PDF in ~35 s on 2 cores); past it the text is cut and says so.",
    )
    max_figures: int = Field(
        2000, ge=10, le=100_000, description="Figure rows in the evidence pack; past it the rest are left out, said so."
    )
    max_page_images: int = Field(
        20,
        ge=0,
        le=500,
        description="Cited page images appended to a PDF or put in a ZIP pack; past it the rest are listed, not shown.",
    )
