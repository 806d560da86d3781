"""Headless Chromium for the console's browser tests: Debian's `chromium` and `chromium-driver`
(installed by scripts/test), driven by Selenium, which downloads nothing when given both paths.

The machine's network is closed, so every background service Chromium would reach for (component
updates, sync, field trials) is turned off, and each run gets a fresh profile directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROME_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
    "--autoplay-policy=no-user-gesture-required", "--force-device-scale-factor=1",
)


def find_chromium() -> tuple[str, str] | None:
    """(browser, driver) paths: `CHROMIUM_BINARY` / `CHROMEDRIVER`, else Debian's names on PATH; None
    unless both are there to run."""
    browser = os.environ.get("CHROMIUM_BINARY") or next(
        (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None)
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if browser and driver and all(os.access(path, os.X_OK) for path in (browser, driver)):
        return browser, driver
    return None


def output_dir() -> Path:
    """Where browser tests leave screenshots (`TEST_OUTPUT_DIR`, default `.test-output/` in the checkout)."""
    folder = Path(os.environ.get("TEST_OUTPUT_DIR") or ROOT / ".test-output") / "console"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium(paths: tuple[str, str], width: int = 1280, height: int = 900) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


_TEXT_COLOURS = """
const parse = (colour) => {
  const m = /rgba?\\(([^)]+)\\)/.exec(colour);
  if (!m) return null;
  const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
};
const over = (top, bottom) => top.slice(0, 3).map((c, i) => c * top[3] + bottom[i] * (1 - top[3])).concat(1);
const backdrop = (node) => {
  const layers = [];
  for (let n = node; n; n = n.parentElement) {
    const c = parse(getComputedStyle(n).backgroundColor);
    if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
};
const found = [];
for (const node of document.querySelectorAll("body *")) {
  if (node.namespaceURI !== "http://www.w3.org/1999/xhtml" || !node.checkVisibility()) continue;
  const ownText = [...node.childNodes].some((t) => t.nodeType === 3 && t.textContent.trim());
  if (node.closest(":disabled") || !ownText) continue;
  const back = backdrop(node);
  const text = over(parse(getComputedStyle(node).color), back);
  found.push([`${node.tagName.toLowerCase()}#${node.id}.${node.className}`, text.slice(0, 3), back.slice(0, 3)]);
}
return found;
"""


def _luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def low_contrast(driver: Any, minimum: float = 4.5) -> list[tuple[str, float]]:
    """Visible text whose colour against what is painted behind it is below WCAG AA's ratio (4.5:1)."""
    poor = []
    for name, text, back in driver.execute_script(_TEXT_COLOURS):
        light, dark = sorted((_luminance(text), _luminance(back)), reverse=True)
        ratio = (light + 0.05) / (dark + 0.05)
        if ratio < minimum:
            poor.append((name, round(ratio, 2)))
    return poor
