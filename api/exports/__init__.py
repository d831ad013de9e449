"""Exports of finished runs: Markdown, DOCX, PDF, the XLSX evidence pack, and the ZIP of them all."""

from api.exports.content import Content, RunInfo, content_of
from api.exports.pack import FORMATS, MEDIA_TYPES, build, file_name
from api.exports.settings import ExportSettings

__all__ = ["FORMATS", "MEDIA_TYPES", "Content", "ExportSettings", "RunInfo", "build", "content_of", "file_name"]
