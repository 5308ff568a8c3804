"""Take the README's screenshots of the search page: the app over seeds/, in headless Chromium.

    python docs/screenshots.py                 # writes docs/screenshots/*.png
    python docs/screenshots.py --out /tmp/x    # elsewhere

Needs Debian's Chromium (/usr/bin/chromium) and the test extras (playwright); downloads
nothing.  The index is built from seeds/ in a temporary folder and served by waitress on
a free local port.  Each picture is reduced to a palette of its 256 most used colours (the
browser decodes the PNG for us, numpy maps the rare anti-aliasing shades to their nearest
kept colour), a third of the size of Chromium's own PNG for pages of text.
"""

from __future__ import annotations

import argparse
import base64
import struct
import sys
import tempfile
import threading
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# (file, what it shows, viewport, colour scheme, path)
SHOTS = [
    ("home.png", "the home page", DESKTOP, "light", "/"),
    ("results.png", "results, typed without diacritics", DESKTOP, "light", "/?q=mat+tran+to+quoc"),
    ("results-phone.png", "results on a phone", PHONE, "light", "/?q=mặt+trận"),
    ("results-dark.png", "results, dark colour scheme", DESKTOP, "dark", "/?q=tập+huấn&sort=date"),
    ("no-results.png", "nothing found: the search without the year filter, one click away", DESKTOP, "light",
     "/?q=\"tập+huấn+cán+bộ\"&year=1990"),
    ("article.png", "an article opened from the results", DESKTOP, "light",
     "/article/002_bc0217ec24ab4b99.txt?q=tập+huấn"),
]
PIXELS_JS = """async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const px = context.getImageData(0, 0, img.width, img.height).data;
  let s = '';
  for (let i = 0; i < px.length; i += 0x8000) { s += String.fromCharCode.apply(null, px.subarray(i, i + 0x8000)); }
  return [img.width, img.height, btoa(s)];
}"""


def serve(index_dir: Path):
    """The app over ``index_dir`` on a free port of 127.0.0.1: (server, its URL)."""
    from waitress import create_server

    from search_web import create_app

    server = create_server(create_app(index_dir=index_dir), host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def palette_png(width: int, height: int, rgb: np.ndarray) -> bytes:
    """``rgb`` (height x width x 3) as an 8-bit palette PNG of its 256 most used colours."""
    packed = (rgb.astype(np.uint32) << np.array([16, 8, 0], dtype=np.uint32)).sum(axis=2).ravel()
    colours, which, counts = np.unique(packed, return_inverse=True, return_counts=True)
    kept = colours[np.argsort(-counts, kind="stable")[:256]]
    split = lambda c: np.stack([(c >> 16) & 255, (c >> 8) & 255, c & 255], axis=1).astype(np.int32)
    kept_rgb, all_rgb = split(kept), split(colours)
    nearest = np.empty(len(colours), dtype=np.uint8)
    for i in range(0, len(colours), 2048):
        distance = ((all_rgb[i:i + 2048, None, :] - kept_rgb[None, :, :]) ** 2).sum(axis=2)
        nearest[i:i + 2048] = distance.argmin(axis=1)
    index = nearest[which].reshape(height, width)
    rows = b"".join(b"\x00" + index[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
            + chunk(b"PLTE", kept_rgb.astype(np.uint8).tobytes()) + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


def take(browser, url: str, out: Path) -> list[Path]:
    written = []
    for name, _, viewport, scheme, path in SHOTS:
        context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE, locale="vi-VN",
                                      color_scheme=scheme)
        page = context.new_page()
        page.goto(url + path)
        page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring on the box
        width, height, pixels = page.evaluate(PIXELS_JS, base64.b64encode(page.screenshot()).decode())
        rgb = np.frombuffer(base64.b64decode(pixels), dtype=np.uint8).reshape(height, width, 4)[:, :, :3]
        target = out / name
        target.write_bytes(palette_png(width, height, rgb))
        written.append(target)
        context.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNG files")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from indexer import open_index

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        ix = open_index(Path(tmp) / "index")
        ix.update([ROOT / "seeds"], jobs=1)
        ix.warm_up()  # pyvi's model: the first search's time is not a model load
        server, url = serve(ix.index_dir)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                written = take(browser, url, args.out)
                browser.close()
        finally:
            server.close()
    for path in written:
        print(f"{path}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
