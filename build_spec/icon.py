"""The app icon, drawn once: the favicon's mark (a blue triangle with a white stroke), described here
and rendered from this description both as server/web/static/favicon.svg and, at build time with
Pillow, as the PNG sizes, .ico and .icns the platforms need.

`python build_spec/icon.py OUT_DIR` writes ai-prism-<N>.png, ai-prism.ico, ai-prism.icns and
ai-prism.svg into OUT_DIR; `python build_spec/icon.py --svg` prints the SVG (the favicon).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

VIEWBOX = 24
BLUE = "#2f5d8a"
WHITE = "#ffffff"
TRIANGLE = ((12, 2), (22, 20), (2, 20))  # filled, stroked 2 wide with round joins
BAR = ((12, 8), (12, 16))  # white, 2 wide, round caps
STROKE = 2
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # the hicolor theme's usual sizes
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SOURCE = 1024
SUPERSAMPLE = 8
NAME = "ai-prism"


def svg() -> str:
    """The SVG form (the favicon)."""
    (x0, y0), (x1, y1), (x2, y2) = TRIANGLE
    (bx, by0), (_, by1) = BAR
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {VIEWBOX} {VIEWBOX}">'
        f'<path d="M{x0} {y0}L{x1} {y1}L{x2} {y2}Z" fill="{BLUE}" stroke="{BLUE}" '
        f'stroke-width="{STROKE}" stroke-linejoin="round"/>'
        f'<path d="M{bx} {by0}V{by1}" stroke="{WHITE}" stroke-width="{STROKE}" '
        f'stroke-linecap="round"/></svg>\n'
    )


def render(size: int):
    """The mark as a square RGBA Pillow image of `size` pixels (drawn large, then scaled down)."""
    from PIL import Image, ImageDraw

    big = size * SUPERSAMPLE
    scale = big / VIEWBOX
    half = STROKE / 2 * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    corners = [(x * scale, y * scale) for x, y in TRIANGLE]
    draw.polygon(corners, fill=BLUE)
    for start, end in zip(corners, corners[1:] + corners[:1], strict=True):
        draw.line([start, end], fill=BLUE, width=round(2 * half))
    for x, y in corners:  # the round joins
        draw.ellipse([x - half, y - half, x + half, y + half], fill=BLUE)
    (bx, top), (_, bottom) = [(x * scale, y * scale) for x, y in BAR]
    draw.rectangle([bx - half, top, bx + half, bottom], fill=WHITE)
    for y in (top, bottom):  # the round caps
        draw.ellipse([bx - half, y - half, bx + half, y + half], fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def write_all(folder: Path) -> dict[str, Path]:
    """Every form into `folder`; returns them by kind ("svg", "ico", "icns", "png<N>")."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {"svg": folder / f"{NAME}.svg"}
    written["svg"].write_text(svg(), encoding="utf-8")
    for size in PNG_SIZES:
        path = folder / f"{NAME}-{size}.png"
        render(size).save(path, optimize=True)
        written[f"png{size}"] = path
    written["ico"] = folder / f"{NAME}.ico"
    render(max(ICO_SIZES)).save(written["ico"], sizes=[(s, s) for s in ICO_SIZES])
    written["icns"] = folder / f"{NAME}.icns"
    render(ICNS_SOURCE).save(written["icns"])
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, help="where to write the icons")
    parser.add_argument("--svg", action="store_true", help="print the SVG form and exit")
    args = parser.parse_args(argv)
    if args.svg:
        sys.stdout.write(svg())
        return 0
    if args.folder is None:
        parser.error("give a folder, or --svg")
    for kind, path in write_all(args.folder).items():
        print(f"{kind}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
