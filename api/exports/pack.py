"""Every export format from one content: the file of each, and the pack (a ZIP of them all and the cited page images)."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

from api.exports.content import Content
from api.exports.markdown import to_markdown
from api.exports.pdf import to_pdf
from api.exports.word import to_docx
from api.exports.workbook import write_xlsx

MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
FORMATS = tuple(MEDIA_TYPES)
Images = Mapping[tuple[str, int], bytes]


def file_name(content: Content, fmt: str) -> str:
    return f"sleuth-{content.run_id[:36]}.{fmt}"


def build(fmt: str, content: Content, images: Images | None, folder: Path) -> Path:
    """Write the export in `fmt` into `folder` and return its path (run in an export process: see api/exports/pool.py)."""
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"no export format {fmt!r}; formats: {', '.join(FORMATS)}")
    path = folder / file_name(content, fmt)
    if fmt == "md":
        path.write_text(to_markdown(content), encoding="utf-8")
    elif fmt == "docx":
        path.write_bytes(to_docx(content))
    elif fmt == "pdf":
        path.write_bytes(to_pdf(content, images))
    elif fmt == "xlsx":
        write_xlsx(content, path)
    else:
        write_zip(content, images, path)
    return path


def write_zip(content: Content, images: Images | None, path: Path) -> Path:
    """The pack: the memo in Markdown, DOCX and PDF, the evidence XLSX, and the cited page images as PNGs."""
    stem = path.stem
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as pack:
        pack.writestr(f"{stem}.md", to_markdown(content))
        pack.writestr(f"{stem}.docx", to_docx(content))
        pack.writestr(f"{stem}.pdf", to_pdf(content, images))
        xlsx = write_xlsx(content, path.parent / f"{stem}.xlsx")
        pack.write(xlsx, f"{stem}.xlsx")
        xlsx.unlink()
        for doc_id, page in content.pages:
            if images and (doc_id, page) in images:
                pack.writestr(f"pages/{doc_id}_p{page}.png", images[(doc_id, page)], compress_type=zipfile.ZIP_STORED)
    return path
