"""One self-contained HTML page to explore a photo's activations, in the spirit of CNN
Explainer (Wang et al., TVCG 2020): pick a layer, see all its channels, hover one to
enlarge it and see it over the photo, with focus scores and dream images beside it.

Everything the page shows is embedded as data URIs, so it opens from disk with no
network. Each layer's channels travel as one sprite (a `make_grid` of every channel in
index order); the page's script cuts tiles out of it with a canvas.
"""

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import numpy as np
from PIL import Image

from .settings import Scale

if TYPE_CHECKING:
    from .sections import PhotoRun


@dataclass
class ExplorerLayer:
    name: str
    shape: tuple[int, int, int]  # C, H, W
    sprite: np.ndarray  # uint8 rows×cols×3: every channel in index order, colour-mapped
    columns: int  # tiles per sprite row
    padding: int  # pixels between tiles in the sprite
    tile: tuple[int, int]  # tile height and width in the sprite (maps may be enlarged)
    scale: str  # how the sprite was normalised, in words
    channels: list[dict]  # per channel: index, mean, max
    focus: list[dict] = field(default_factory=list)  # channel, iou, inside_share
    signed: bool = False  # blue-white-red (white = 0) rather than viridis (dark = 0)


def png_data_uri(pixels: np.ndarray) -> str:
    """A uint8 H×W×3 array as a `data:image/png;base64,…` URI."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def explorer_html(
    title: str,
    photo: np.ndarray,
    layers: list[ExplorerLayer],
    predictions: list[dict],
    dreams: list[dict] | None = None,
    figures: list[dict] | None = None,
) -> str:
    """The page as a string. `dreams` entries hold layer, channel and a uint8 image;
    `figures` entries (file, caption, section) are the gallery's PNGs beside it."""
    data = {
        "photo": png_data_uri(photo),
        "predictions": predictions,
        "layers": [
            {
                "name": layer.name,
                "shape": list(layer.shape),
                "sprite": png_data_uri(layer.sprite),
                "columns": layer.columns,
                "padding": layer.padding,
                "tile": list(layer.tile),
                "scale": layer.scale,
                "channels": layer.channels,
                "focus": layer.focus,
                # blend so that zero leaves the photo: white multiplies, dark screens
                "blend": "multiply" if layer.signed else "screen",
            }
            for layer in layers
        ],
        "dreams": [
            {
                "layer": d["layer"],
                "channel": d["channel"],
                "image": png_data_uri(d["image"]),
            }
            for d in dreams or []
        ],
    }
    # `</` inside a <script> block would end it early
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    static = "\n".join(
        f'<figure><h3>{html.escape(f["section"])}</h3><a href="{quote(f["file"])}">'
        f'<img src="{quote(f["file"])}" alt="{html.escape(f["caption"])}"></a>'
        f"<figcaption>{html.escape(f['caption'])}</figcaption></figure>"
        for f in figures or []
    )
    page = _TEMPLATE.replace("{{title}}", html.escape(title))
    return page.replace("{{figures}}", static).replace("{{data}}", payload)


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{title}}</title>
<style>
body { font: 15px system-ui, sans-serif; margin: 0; display: flex; color: #222; }
nav { width: 210px; padding: 12px; background: #f3f3f3; height: 100vh;
      overflow-y: auto; box-sizing: border-box; }
nav button { display: block; width: 100%; text-align: left; margin: 2px 0;
             padding: 5px 7px; border: 1px solid #ccc; background: #fff;
             cursor: pointer; font: inherit; }
nav button.active { background: #2b6cb0; color: #fff; border-color: #2b6cb0; }
main { flex: 1; padding: 12px 18px; overflow: auto; height: 100vh;
       box-sizing: border-box; }
#panel { width: 360px; padding: 12px; border-left: 1px solid #ddd; height: 100vh;
         overflow-y: auto; box-sizing: border-box; }
#sprite { image-rendering: pixelated; cursor: crosshair; max-width: 100%; }
canvas { image-rendering: pixelated; }
#over { position: relative; }
#over img, #over canvas { width: 100%; display: block; }
#over canvas { position: absolute; left: 0; top: 0; height: 100%; opacity: 0.9; }
table { border-collapse: collapse; }
td, th { padding: 2px 8px; text-align: right; }
.dream img { width: 150px; margin: 4px; }
figure { margin: 18px 0; }
figure img { max-width: 100%; }
</style></head>
<body>
<nav><h3>Layers</h3><div id="layers"></div><h3>Top-5</h3><div id="preds"></div></nav>
<main><p><a href="../index.html">All photos</a></p>
<h2 id="heading"></h2><p id="scale"></p><img id="sprite" alt="channels">
<h2>Figures</h2>{{figures}}</main>
<div id="panel">
  <h3 id="chosen">hover a channel</h3>
  <canvas id="zoom" width="320" height="320"></canvas>
  <p>over the photo</p>
  <div id="over"><img id="photo" alt="photo"><canvas id="overlay"></canvas></div>
  <h3>Focus scores</h3><div id="focus">no --focus region</div>
  <h3>Dream images</h3><div id="dreams" class="dream">none</div>
</div>
<script>
const DATA = {{data}};
const sprite = document.getElementById("sprite");
let layer = null;

function pick(name) {
  layer = DATA.layers.find(l => l.name === name) || DATA.layers[0];
  document.querySelectorAll("nav button").forEach(
    b => b.classList.toggle("active", b.dataset.name === layer.name));
  const [c, h, w] = layer.shape;
  document.getElementById("heading").textContent =
    `${layer.name}: ${c} channels of ${h}×${w}`;
  document.getElementById("scale").textContent = layer.scale;
  sprite.src = layer.sprite;
  document.getElementById("overlay").style.mixBlendMode = layer.blend;
  sprite.onload = () => {  // small maps drawn large, big ones within the page
    sprite.style.width = Math.min(900, Math.max(600, sprite.naturalWidth)) + "px";
  };
  const focus = document.getElementById("focus");
  focus.innerHTML = layer.focus.length ? "<table><tr><th>channel</th><th>IoU</th>" +
    "<th>inside</th></tr>" + layer.focus.map(f => `<tr><td>${f.channel}</td>` +
    `<td>${f.iou.toFixed(3)}</td><td>${f.inside_share.toFixed(3)}</td></tr>`).join("") +
    "</table>" : "no --focus region";
  const dreams = DATA.dreams.filter(d => d.layer === layer.name);
  document.getElementById("dreams").innerHTML = dreams.length ? dreams.map(d =>
    `<figure><img src="${d.image}" alt="dream"><figcaption>channel ${d.channel}` +
    `</figcaption></figure>`).join("") : "none for this layer";
}

function show(channel) {
  const c = layer.shape[0], [h, w] = layer.tile;
  if (channel < 0 || channel >= c) return;
  const p = layer.padding;
  const sx = p + (channel % layer.columns) * (w + p);
  const sy = p + Math.floor(channel / layer.columns) * (h + p);
  const stats = layer.channels[channel];
  document.getElementById("chosen").textContent = `${layer.name} channel ${channel}` +
    ` (mean ${stats.mean.toFixed(3)}, max ${stats.max.toFixed(3)})`;
  const img = new Image();
  img.onload = () => {
    for (const id of ["zoom", "overlay"]) {
      const canvas = document.getElementById(id);
      if (id === "zoom") canvas.height = Math.round(canvas.width * h / w);
      else { canvas.width = w; canvas.height = h; }
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = id === "overlay";
      ctx.drawImage(img, sx, sy, w, h, 0, 0, canvas.width, canvas.height);
    }
    document.getElementById("zoom").dataset.drawn = `${layer.name}:${channel}`;
  };
  img.src = layer.sprite;
}

sprite.addEventListener("mousemove", e => {
  const [h, w] = layer.tile;
  const k = sprite.naturalWidth / sprite.clientWidth;
  const col = Math.floor((e.offsetX * k - layer.padding / 2) / (w + layer.padding));
  const row = Math.floor((e.offsetY * k - layer.padding / 2) / (h + layer.padding));
  if (col < layer.columns) show(row * layer.columns + col);
});

const nav = document.getElementById("layers");
for (const l of DATA.layers) {
  const b = document.createElement("button");
  b.textContent = `${l.name} (${l.shape[0]})`;
  b.dataset.name = l.name;
  b.onclick = () => { pick(l.name); show(0); };
  nav.appendChild(b);
}
document.getElementById("preds").innerHTML = DATA.predictions.map(
  p => `<div>${p.label}: ${(100 * p.probability).toFixed(1)}%</div>`).join("");
document.getElementById("photo").src = DATA.photo;

// the address can choose the view: index.html#layer=stages.5&channel=12
const params = new URLSearchParams(location.hash.slice(1));
pick(params.get("layer"));
show(Number(params.get("channel") || 0));
</script>
</body></html>
"""


def write_explorer(path: Path, run: "PhotoRun", figures: list, scale: Scale) -> None:
    """The photo's index.html: every recorded layer with all its channels."""
    from .grid import PADDING, render_grid
    from .html import write_text

    focus = {
        name: [
            {"channel": f.channel, "iou": f.iou, "inside_share": f.inside_share}
            for f in scores[:5]
        ]
        for name, scores in run.focus.items()
    }
    layers = []
    for layer_name, activation in run.activations.items():
        # tiles at the map's own size: the page enlarges them, pixelated
        channels = tuple(range(activation.shape[0]))
        grid = render_grid(activation, layer_name, channels, scale, min_tile=1)
        layers.append(
            ExplorerLayer(
                name=layer_name,
                shape=grid.shape,
                sprite=grid.image,
                columns=grid.cols,
                padding=PADDING,
                tile=grid.tile,
                scale=f"all {grid.shape[0]} channels in index order; "
                f"{scale_words(grid)}",
                channels=[
                    {"index": c, "mean": m, "max": x}
                    for c, m, x in zip(
                        grid.channels, grid.means, grid.maxima, strict=True
                    )
                ],
                focus=focus.get(layer_name, []),
                signed=grid.signed,
            )
        )
    page = explorer_html(
        f"{run.photo.path.name}: activation explorer",
        run.pixels.permute(1, 2, 0).cpu().numpy(),
        layers,
        run.summary["predictions"],
        run.dreams,
        [vars(f) for f in figures],
    )
    write_text(path, page)


def scale_words(grid) -> str:
    if grid.scale == "layer":
        return f"one colour range for the layer, {grid.vmin:.3g} to {grid.vmax:.3g}"
    return "one colour range per channel"
