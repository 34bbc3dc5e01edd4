"""The gallery's HTML pages: one per photo, and `index.html` linking them all.

Plain static HTML, no scripts, so a gallery folder can be opened from disk, zipped
or copied onto a slide machine. The root index is rebuilt from what is on disk.
"""

import json
import os
import tempfile
from html import escape
from pathlib import Path
from urllib.parse import quote

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1400px; color: #222; }
figure { margin: 1.5em 0; }
img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.95em; color: #444; margin-top: 0.3em; }
li.photo { display: inline-block; width: 320px; margin: 0 1em 1.5em 0;
           vertical-align: top; }
"""


def page(title: str, body: list[str]) -> str:
    head = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    )
    return head + "\n".join(body) + "\n</body>\n</html>\n"


def write_text(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it into place."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_root_index(out: Path) -> Path:
    """`out/index.html` linking every gallery found in `out`, sorted by folder name."""
    items = []
    for folder in sorted(p for p in out.iterdir() if not p.name.startswith(".")):
        summary_path = folder / "summary.json"
        if not summary_path.is_file():
            continue
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
            top = summary["predictions"][0]
            label = f"{top['label']}: {top['probability']:.1%}"
        except (ValueError, KeyError, IndexError, TypeError):
            continue  # not a photo's gallery (gallery/regression shares the folder)
        link = quote(folder.name)
        thumbnail = (
            f'<img src="{link}/overview.png" alt="overview">'
            if (folder / "overview.png").is_file()
            else ""
        )
        items.append(
            f'<li class="photo"><a href="{link}/index.html">{thumbnail}<br>'
            f"{escape(folder.name)}</a><br>{escape(label)}</li>"
        )
    body = ["<h1>Activation galleries</h1>", "<ul>", *items, "</ul>"]
    path = out / "index.html"
    write_text(path, page("Activation galleries", body))
    return path
