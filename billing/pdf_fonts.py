"""The font statements embed: a TrueType font with Chinese glyphs, subset by reportlab.

reportlab embeds TrueType (glyf) outlines only, so Noto CJK's OpenType/CFF files will not do;
Debian's fonts-wqy-microhei is the first candidate (.ci/run installs it).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# TrueType fonts with Chinese glyphs, in the order tried (Debian fonts-wqy-microhei first;
# .ci/run installs it). reportlab embeds a subset of the glyphs used.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)
CJK_FONT = "ServitizeCJK"


def cjk_font_path(configured: Path | None = None) -> Path:
    """The configured font, else the first candidate installed; RuntimeError saying what
    to install when there is none."""
    for path in (configured, *FONT_CANDIDATES):
        if path is not None and path.is_file():
            return path
    raise RuntimeError(
        "no TrueType font with Chinese glyphs found: install Debian's fonts-wqy-microhei "
        "or set SERVITIZE_BILLING_PDF_FONT to a .ttf/.ttc file"
    )


@cache
def cjk_font(path: Path) -> str:
    """Register the font once (normal, bold and italic are the same face); its name."""
    pdfmetrics.registerFont(TTFont(CJK_FONT, str(path), subfontIndex=0))
    # <b> and the canvas's initial font use the same embedded face (no Helvetica reference)
    pdfmetrics.registerFontFamily(
        CJK_FONT, normal=CJK_FONT, bold=CJK_FONT, italic=CJK_FONT, boldItalic=CJK_FONT
    )
    return CJK_FONT
