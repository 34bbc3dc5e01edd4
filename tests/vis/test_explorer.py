"""Tests for the explorer page (a photo's index.html), in a real headless Chromium.

The browser test is skipped with its reason when Chromium is missing; `.ci/run`
installs Debian's chromium package so that CI runs it.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vis.cli import main
from vis.explorer import ExplorerLayer, explorer_html

DOG = Path(__file__).resolve().parents[2] / "images" / "dog.jpg"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# flags this machine needs: no sandbox as root, and no background network traffic
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
]


def test_page_embeds_data_and_lists_figures_statically() -> None:
    sprite = np.zeros((10, 21, 3), np.uint8)
    layer = ExplorerLayer(
        "conv</script>",
        (2, 6, 6),
        sprite,
        2,
        2,
        (6, 8),
        "range",
        [{"index": 0, "mean": 0.0, "max": 0.0}] * 2,
    )
    page = explorer_html(
        "a & b",
        np.zeros((4, 4, 3), np.uint8),
        [layer],
        [],
        figures=[{"file": "my figure.png", "caption": "x < y", "section": "Layers"}],
    )
    assert "<title>a &amp; b</title>" in page
    assert 'src="my%20figure.png"' in page and "x &lt; y" in page
    assert "conv</script>" not in page  # a layer name cannot end the script early
    assert "data:image/png;base64," in page and "http" not in page.split("<script>")[1]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run adds it)")
def test_explorer_in_headless_chromium(cached_model, quick_figures, tmp_path) -> None:
    options = ["--focus", "380,240,567,420", "--quiet"]
    assert main([str(DOG), "--out", str(tmp_path), *options]) == 0
    page = (tmp_path / "dog" / "index.html").as_uri() + "#layer=stages.6&channel=144"
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]

    # the DOM after the script ran: the chosen layer, channel, focus scores
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, *profile, "--dump-dom", page],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "stages.6: 320 channels of 7×10" in dom
    assert "stages.6 channel 144 (mean" in dom
    assert "<td>144</td><td>0.766</td>" in dom  # the best focus channel, as measured
    assert dom.count("<button") == 9  # one per recorded layer
    assert 'data-drawn="stages.6:144"' in dom  # the enlarged tile was drawn

    # the screenshot: the channel grid in blue-white-red, and the photo beside it
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            *profile,
            "--window-size=1400,900",
            f"--screenshot={shot}",
            page,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    red = (r > 150) & (g < 110) & (b < 110)
    blue = (b > 150) & (r < 110)
    assert red.sum() > 200 and blue.sum() > 200
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    assert colours > 2000  # the photo's many colours, not a blank page
