"""Render HTML templates to PDF with weasyprint. Text stays text (fonts are embedded), so a PDF reader can search
and copy the Chinese; the CJK font comes from fontconfig (Noto Sans/Serif CJK SC, or any installed CJK font)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
CJK_FONTS = '"Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimSun", sans-serif'


def render_html(template: str, **context: Any) -> str:
    return _env.get_template(template).render(cjk_fonts=CJK_FONTS, **context)


def render_pdf(template: str, **context: Any) -> bytes:
    """The template rendered as a PDF document."""
    return html_to_pdf(render_html(template, **context), base_url=str(TEMPLATES))


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """An HTML document as PDF: the one place that loads weasyprint."""
    from weasyprint import HTML  # noqa: PLC0415 - weasyprint takes ~1.5 s to import; only processes that print load it
    pdf: bytes = HTML(string=html, base_url=base_url).write_pdf()
    return pdf
