"""How the rendering fixtures here were made (run by hand, never by the tests).

The third draft's Safety and Security section (../shared/corpus, Markdown made from the
code-of-practice.ai page) rendered to HTML by markdown-it, then printed to PDF by headless
Chromium with its default running header (date, page title) and footer (URL, page count):
the same text as an HTML page and as a PDF, two real renderings whose diff must hold no
change of content.

    python tests/data/renderings/make.py ../shared/corpus/gpai-cop-safety-security/third-draft-2025-03-11.md
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from markdown_it import MarkdownIt

HERE = Path(__file__).parent
STYLE = "body{font-family:serif;max-width:45em;margin:auto} table,td,th{border:1px solid #999;border-collapse:collapse}"


def main(source: str) -> None:
    body = MarkdownIt("commonmark").enable("table").render(Path(source).read_text(encoding="utf-8"))
    html = HERE / "safety-security-third-draft.html"
    html.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>Third draft safety-security</title>"
                    f"<style>{STYLE}</style></head><body>{body}</body></html>", encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--print-to-pdf={HERE / 'safety-security-third-draft.pdf'}",
                        html.resolve().as_uri()], check=True)


if __name__ == "__main__":
    main(sys.argv[1])
