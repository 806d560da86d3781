"""The console driven in headless Chromium: a key entered once, a chat reply that grows as it streams,
an image that loads from its signed link, a transcription and a spoken reply, code that runs as shown,
the usage view after real requests, and clean refusals of wrong keys. Screenshots go to the test output
folder; `UPDATE_CONSOLE_SCREENSHOT=1` also writes the README's picture, docs/console.png."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import openai
import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import ADMIN_KEY, BOT, BOT_KEY
from tests.support.audio import make_wav
from tests.support.browser import low_contrast
from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle

README_PICTURE = Path(__file__).resolve().parents[2] / "docs" / "console.png"


class Page:
    """One console page in the shared browser, with the waits the tests need."""

    def __init__(self, driver: Any, gateway: GatewayHandle, path: str, *, keep_key: bool = False) -> None:
        self.driver, self.gateway = driver, gateway
        if not keep_key:  # from a page of the origin with no script, so no check in flight can store a key again
            driver.get(gateway.url + "/console/static/console.css")
            driver.execute_script("sessionStorage.clear()")
        driver.get(gateway.url + path)

    def find(self, element_id: str) -> Any:
        return self.driver.find_element(By.ID, element_id)

    def text(self, element_id: str) -> str:
        return self.find(element_id).get_attribute("textContent").strip()

    def wait(self, condition: Any, what: str, timeout: float = 20.0) -> Any:
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda _: condition())
        except TimeoutException:
            raise AssertionError(f"timed out waiting for {what}") from None

    def settled(self, status_id: str) -> str:
        """The status line once the panel has finished (done, or failed)."""
        busy = ("", "Checking the key…", "Generating…", "Speaking…", "Waiting for the first token…", "Streaming…",
                "Loading…")
        self.wait(lambda: self.text(status_id) not in busy and not self.text(status_id).startswith("Uploading"),
                  f"#{status_id} to settle")
        return self.text(status_id)

    def use_key(self, key: str) -> str:
        field = self.find("key-input")
        field.clear()
        field.send_keys(key, Keys.ENTER)
        return self.settled("key-status")

    def status_is_error(self, status_id: str) -> bool:
        return "error" in self.find(status_id).get_attribute("class").split()

    def select(self, element_id: str, value: str) -> None:
        Select(self.find(element_id)).select_by_value(value)

    def storage(self) -> dict[str, Any]:
        return self.driver.execute_script(
            "return {session: Object.assign({}, sessionStorage), local: Object.assign({}, localStorage),"
            " cookie: document.cookie, url: location.href}")

    def shot(self, folder: Path, name: str) -> Path:
        self.driver.execute_script("window.scrollTo(0, 0)")
        path = folder / name
        self.driver.save_screenshot(str(path))
        return path


def test_a_wrong_key_fails_cleanly(browser: Any, console_gateway: GatewayHandle, screenshots: Path) -> None:
    page = Page(browser, console_gateway, "/console")
    assert page.use_key("sk-not-a-key-of-this-gateway") == "Incorrect API key provided."
    assert page.status_is_error("key-status")
    assert not page.find("chat-send").is_enabled() and not page.find("image-send").is_enabled()
    assert page.find("chat-model").find_elements(By.TAG_NAME, "option") == []
    state = page.storage()
    assert state["session"] == {} and state["local"] == {} and state["cookie"] == ""
    assert state["url"] == console_gateway.url + "/console"  # the key never goes into a URL
    assert page.find("panels-hint").is_displayed()
    assert low_contrast(browser) == []  # the error too is readable
    page.shot(screenshots, "wrong-key.png")


def test_the_key_is_entered_once_and_kept_for_the_tab_only(browser: Any, console_gateway: GatewayHandle) -> None:
    page = Page(browser, console_gateway, "/console")
    assert page.use_key(console_gateway.api_key).startswith("Key accepted: ")
    assert page.find("key-input").get_attribute("value") == ""  # not left in the form
    assert console_gateway.api_key not in browser.page_source
    state = page.storage()
    assert list(state["session"].values()) == [console_gateway.api_key]
    assert state["local"] == {} and state["cookie"] == "" and console_gateway.api_key not in state["url"]

    again = Page(browser, console_gateway, "/console", keep_key=True)  # a reload: nothing to type
    assert again.settled("key-status").startswith("Key accepted: ")
    assert again.find("chat-send").is_enabled()
    models = {o.get_attribute("value") for o in again.find("chat-model").find_elements(By.TAG_NAME, "option")}
    images = {o.get_attribute("value") for o in again.find("image-model").find_elements(By.TAG_NAME, "option")}
    assert "gpt-4o-mini" in models and "dall-e-3" not in models  # pickers hold the models of their task
    assert "dall-e-3" in images and "@cf/stabilityai/stable-diffusion-xl-base-1.0" in images

    again.find("key-forget").click()
    assert again.storage()["session"] == {}
    assert not again.find("chat-send").is_enabled()


def test_every_control_is_reached_and_used_from_the_keyboard(browser: Any, console_gateway: GatewayHandle) -> None:
    page = Page(browser, console_gateway, "/console")
    page.use_key(console_gateway.api_key)
    wanted = set(browser.execute_script(
        "return [...document.querySelectorAll('a, button, input, select, textarea, summary')]"
        ".filter((n) => n.checkVisibility() && !n.disabled).map((n) => n.id || n.textContent.trim())"))
    browser.execute_script("document.activeElement.blur()")
    reached: set[str] = set()
    keys = ActionChains(browser)
    for _ in range(len(wanted) + 5):
        keys.send_keys(Keys.TAB).perform()
        reached.add(browser.execute_script(
            "const n = document.activeElement; return n.id || n.textContent.trim()"))
    assert wanted <= reached, wanted - reached
    page.find("chat-input").send_keys(Keys.CONTROL, "a")  # then a reply, by keyboard alone
    ActionChains(browser).send_keys("Hi", Keys.ENTER).perform()
    assert page.settled("chat-status").startswith("Done")
    assert page.text("chat-log").endswith("Hello! You said: Hi")


def test_a_chat_reply_grows_in_the_page_as_it_streams(
    browser: Any, console_gateway: GatewayHandle, upstream: EmulatorHandle
) -> None:
    page = Page(browser, console_gateway, "/console")
    page.use_key(console_gateway.api_key)
    upstream.set_faults(token_delay_ms=120)  # nine tokens, about a second in all
    browser.execute_script("""
        window.seen = [];
        const log = document.getElementById('chat-log');
        new MutationObserver(() => {
            const reply = log.querySelector('.turn.assistant:last-child .text');
            if (reply) window.seen.push([performance.now(), reply.textContent]);
        }).observe(log, {subtree: true, childList: true, characterData: true});
    """)
    message = "Tell me about the sea, please"
    field = page.find("chat-input")
    field.clear()
    field.send_keys(message, Keys.ENTER)  # Enter sends
    status = page.settled("chat-status")
    assert status.startswith("Done on @cf/zai-org/glm-4.7-flash: "), status
    assert f"{3 + len(message.split())} out" in status  # "Hello! You said:" and the words sent

    expected = f"Hello! You said: {message}"
    seen: list[list[Any]] = browser.execute_script("return window.seen")
    texts = [text for _, text in seen if text]
    assert texts[-1] == expected
    distinct = list(dict.fromkeys(texts))
    assert len(distinct) >= 6, distinct  # token by token, not the whole reply at once
    assert all(expected.startswith(text) for text in distinct)  # each state a prefix of the reply
    first, last = (next(t for t, text in seen if text == distinct[0]), next(t for t, text in seen if text == expected))
    assert last - first > 500  # the text grew over the stream's time, as the tokens came
    turns = [t.get_attribute("textContent") for t in page.find("chat-log").find_elements(By.CLASS_NAME, "turn")]
    assert turns == [f"user{message}", f"assistant{expected}"]


def test_stop_ends_a_reply_midway_and_keeps_what_came(
    browser: Any, console_gateway: GatewayHandle, upstream: EmulatorHandle
) -> None:
    page = Page(browser, console_gateway, "/console")
    page.use_key(console_gateway.api_key)
    upstream.set_faults(token_delay_ms=300)
    page.find("chat-send").click()
    reply = browser.find_element(By.CSS_SELECTOR, ".turn.assistant .text")
    page.wait(lambda: len(reply.get_attribute("textContent").split()) >= 2, "the first words")
    page.find("chat-stop").click()
    assert page.settled("chat-status") == "Stopped."
    kept = reply.get_attribute("textContent")
    time.sleep(0.8)  # the stream is closed: nothing more arrives
    assert reply.get_attribute("textContent") == kept
    assert "Hello! You said: Write a haiku about the sea.".startswith(kept) and len(kept) < 40
    assert page.find("chat-send").is_enabled() and not page.find("chat-stop").is_enabled()


def test_an_image_is_generated_and_loads_from_its_signed_link(browser: Any, console_gateway: GatewayHandle) -> None:
    page = Page(browser, console_gateway, "/console")
    page.use_key(console_gateway.api_key)
    page.select("image-model", "dall-e-2")
    page.select("image-size", "512x512")
    page.find("image-send").click()
    assert page.settled("image-status") == "Done on @cf/stabilityai/stable-diffusion-xl-base-1.0."
    image = page.find("image-out")
    assert image.is_displayed()
    assert image.get_attribute("src").startswith(console_gateway.url + "/v1/images/")
    loaded = browser.execute_script("const i = arguments[0]; return [i.complete, i.naturalWidth, i.naturalHeight]",
                                    image)
    assert loaded == [True, 512, 512]
    assert page.text("image-caption") == "512x512 png, at a signed link served by the gateway"


def test_a_file_is_transcribed_and_a_reply_spoken(
    browser: Any, console_gateway: GatewayHandle, tmp_path: Path
) -> None:
    page = Page(browser, console_gateway, "/console")
    page.use_key(console_gateway.api_key)
    recording = tmp_path / "meeting.wav"
    recording.write_bytes(make_wav("en|The console heard this file"))
    page.find("transcribe-file").send_keys(str(recording))
    page.find("transcribe-send").click()
    assert page.settled("transcribe-status") == "Done on @cf/openai/whisper-large-v3-turbo."
    assert page.text("transcribe-out") == "The console heard this file"

    page.select("speech-format", "wav")
    page.find("speech-send").click()
    assert page.settled("speech-status").endswith("KiB of wav.")
    page.wait(lambda: browser.execute_script("return document.getElementById('speech-out').readyState") >= 1,
              "the speech to load in the audio player")
    duration = browser.execute_script("return document.getElementById('speech-out').duration")
    assert 0.5 < duration < 10  # five words, spoken


def _run(command: list[str], cwd: Path, key: str) -> str:
    env = {"PATH": os.environ.get("PATH", ""), "OPENAI_API_KEY": key, "HOME": str(cwd)}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_each_panel_shows_code_that_runs_as_shown(
    browser: Any, console_gateway: GatewayHandle, tmp_path: Path, screenshots: Path
) -> None:
    """Chat, image, transcription and speech through the page, then their Python and curl code, copied
    from the page, run against the same gateway. The page as it then looks is the README's picture."""
    page = Page(browser, console_gateway, "/console")
    page.use_key(console_gateway.api_key)
    page.find("chat-send").click()
    assert page.settled("chat-status").startswith("Done")
    page.find("image-send").click()
    assert page.settled("image-status").startswith("Done")
    recording = tmp_path / "note.wav"
    recording.write_bytes(make_wav("en|Run me as shown"))
    page.find("transcribe-file").send_keys(str(recording))
    page.find("transcribe-send").click()
    assert page.settled("transcribe-status").startswith("Done")
    page.find("speech-send").click()
    assert page.settled("speech-status").endswith("of mp3.")
    page.find("chat-code").find_element(By.TAG_NAME, "summary").click()  # the code, as a user opens it
    assert page.find("chat-python").is_displayed()
    assert low_contrast(browser) == []  # every text on the page, code included, reads at 4.5:1 or more
    browser.set_window_size(1280, 1180)
    try:
        picture = page.shot(screenshots, "playground.png")
    finally:
        browser.set_window_size(1280, 900)
    if os.environ.get("UPDATE_CONSOLE_SCREENSHOT"):
        _write_readme_picture(picture)

    python = "\n\n".join(page.text(f"{panel}-python") for panel in ("chat", "image", "transcribe", "speech"))
    assert console_gateway.api_key not in python and f'base_url="{console_gateway.base_url}"' in python
    out = _run([sys.executable, "-c", python], tmp_path, console_gateway.api_key).splitlines()
    assert out[0] == "Hello! You said: Write a haiku about the sea."
    assert out[1].startswith(console_gateway.url + "/v1/images/")
    assert out[2] == "Run me as shown"
    assert (tmp_path / "speech.mp3").read_bytes().startswith((b"ID3", b"\xff\xfb", b"\xff\xf3"))  # an MP3

    if shutil.which("curl") is None:
        return
    curl = page.text("chat-curl")
    assert console_gateway.api_key not in curl
    stream = _run(["bash", "-c", curl], tmp_path, console_gateway.api_key)
    assert stream.rstrip().endswith("data: [DONE]") and '"content":" sea."' in stream.replace(": ", ":")


def _write_readme_picture(screenshot: Path) -> None:
    """A palette PNG of the screenshot: the same picture at a tenth of the bytes, kept in the repository."""
    from PIL import Image

    README_PICTURE.parent.mkdir(exist_ok=True)
    with Image.open(screenshot) as image:
        image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
            README_PICTURE, optimize=True)


def test_the_usage_view_shows_requests_by_key_and_model(
    browser: Any, console_gateway: GatewayHandle, upstream: EmulatorHandle, screenshots: Path
) -> None:
    bot = openai.OpenAI(base_url=console_gateway.base_url, api_key=BOT_KEY, max_retries=0)
    console_gateway.clients.append(bot)  # closed with the gateway's own
    for text in ("one", "two"):
        bot.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    bot.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    upstream.set_faults(fail_status=429, fail_code=3036, fail_times=1)  # the day's allocation is spent
    with pytest.raises(openai.RateLimitError):
        bot.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "three"}])
    upstream.clear_faults()

    page = Page(browser, console_gateway, "/console/usage")
    assert page.use_key(ADMIN_KEY) == "Admin key accepted."
    page.wait(lambda: page.find("health-checks").find_elements(By.TAG_NAME, "li"), "the readiness checks")

    by_key = _rows(page, "usage-by-key")
    bot_row = next(row for row in by_key if row[0] == BOT)
    assert bot_row[1] == "3"  # requests: two chats and one embeddings call (the refused one reported none)
    by_model = {(row[0], row[1]): row for row in _rows(page, "usage-by-model")}
    assert by_model[(BOT, "@cf/zai-org/glm-4.7-flash")][2] == "2"
    assert by_model[(BOT, "@cf/qwen/qwen3-embedding-0.6b")][2] == "1"
    # The emulator's catalogue publishes no price for glm-4.7-flash: its cost is unknown, never $0.
    assert by_model[(BOT, "@cf/zai-org/glm-4.7-flash")][8:] == ["unknown", "2"]
    assert by_model[(BOT, "@cf/qwen/qwen3-embedding-0.6b")][8].startswith("$0.0000")
    page.select("period-key", BOT)  # one key's figures: the totals are its own
    page.find("period-load").click()
    assert page.settled("usage-status").startswith("Showing ")
    assert page.text("usage-totals").startswith("Requests3Input tokens4Output tokens8")
    assert "Cost (USD)at least $0.0000" in page.text("usage-totals")
    assert [row[0] for row in _rows(page, "usage-by-key")] == [BOT]
    upstream_errors = _rows(page, "errors-upstream")
    assert ["insufficient_quota", "429", "@cf/zai-org/glm-4.7-flash", "1"] in upstream_errors
    assert any(row[0] == "POST /v1/chat/completions" and row[1] == "429" for row in _rows(page, "errors-routes"))
    assert len(page.find("usage-chart").find_elements(By.CSS_SELECTOR, "rect.bar")) == 7  # the last seven days
    checks = page.text("health-checks")
    assert "storageok" in checks and "redisnot configured" in checks and "Workers AInot probed" in checks
    assert "one worker's only" in page.text("usage-scope")  # no Redis here: said, not hidden
    assert ADMIN_KEY not in browser.page_source and ADMIN_KEY not in page.storage()["url"]
    assert low_contrast(browser) == []
    browser.set_window_size(1280, 2300)
    try:
        page.shot(screenshots, "usage.png")
    finally:
        browser.set_window_size(1280, 900)


def _rows(page: Page, table_id: str) -> list[list[str]]:
    rows = page.find(table_id).find_elements(By.CSS_SELECTOR, "tbody tr")
    return [[cell.get_attribute("textContent") for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def test_the_usage_view_refuses_a_client_key(browser: Any, console_gateway: GatewayHandle, screenshots: Path) -> None:
    page = Page(browser, console_gateway, "/console/usage")
    status = page.use_key(console_gateway.api_key)
    assert status.startswith("Incorrect API key provided.") and "ADMIN_API_KEY" in status
    assert page.status_is_error("key-status")
    assert not page.find("usage-view").is_displayed()
    assert page.storage()["session"] == {}
    time.sleep(0.2)  # nothing else arrives later
    assert _rows(page, "usage-by-key") == []
    page.shot(screenshots, "usage-refused.png")
