"""`cliphead explore` in a real browser: Debian's headless Chromium driven through Selenium (no browser is
downloaded at run time). The page must show a head that turns when dragged, reshape it when an identity
slider moves and texture a new prompt; the screenshots go to figures/ for the README."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from cliphead.assets import repository_root

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
FIGURES = repository_root() / "figures"
FIRST_PROMPT = "a laughing old man with a grey beard"
NEW_PROMPT = "a young woman with red hair"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def page():
    """A headless Chromium showing ``cliphead explore`` (served on a free port)."""
    assert CHROMIUM and CHROMEDRIVER, (
        "needs Debian's chromium and chromium-driver (the README's test command installs them)"
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    port = free_port()
    command = [sys.executable, "-m", "cliphead.cli", "explore", "--port", str(port), "--no-browser"]
    server = subprocess.Popen(command + ["--prompt", FIRST_PROMPT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,800"):
        options.add_argument(flag)
    options.add_argument("--enable-unsafe-swiftshader")  # WebGL on the CPU
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        wait_for_port(port, server)
        driver.get(f"http://127.0.0.1:{port}/")
        yield driver
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)


def wait_for_port(port: int, server: subprocess.Popen, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read().decode()[-3000:]
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


def canvas_image(canvas) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(canvas.screenshot_as_png)).convert("RGB"), dtype=float) / 255.0


def frames(canvas) -> int:
    return int(canvas.get_attribute("data-frames") or 0)


def wait_for_new_frame(driver, canvas, drawn: int, seconds: float) -> float:
    """Seconds until the view draws a frame after the ``drawn``-th."""
    from selenium.webdriver.support.ui import WebDriverWait

    start = time.perf_counter()
    WebDriverWait(driver, seconds, poll_frequency=0.05).until(lambda d: frames(canvas) > drawn)
    return time.perf_counter() - start


def timing_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.XPATH, "//*[contains(text(), ' s — ')]/..").text


@pytest.mark.slow
def test_the_page_shows_a_head_that_turns_reshapes_and_takes_a_new_prompt(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    canvas = WebDriverWait(page, 300).until(lambda d: d.find_element(By.CSS_SELECTOR, "canvas.cliphead-viewer"))
    wait_for_new_frame(page, canvas, 0, 120)
    time.sleep(1.0)  # the texture's image decodes after the first frame
    front = canvas_image(canvas)
    background = np.array([0.957, 0.957, 0.957])
    covered = np.abs(front - background).max(axis=2) > 0.05
    assert 0.05 < covered.mean() < 0.9  # a head, not a blank or a filled canvas
    assert front[covered].std() > 0.05  # textured and shaded, not one flat colour

    drawn = frames(canvas)
    ActionChains(page).move_to_element(canvas).click_and_hold().move_by_offset(160, 0).release().perform()
    wait_for_new_frame(page, canvas, drawn, 10)
    turned = canvas_image(canvas)
    assert np.abs(turned - front).mean() > 0.01  # dragging turned the head
    FIGURES.mkdir(exist_ok=True)
    page.save_screenshot(str(FIGURES / "explorer_page.png"))

    # An identity slider, set through its readout: the geometry only, the texture re-used.
    readout = page.find_elements(By.CSS_SELECTOR, ".widget-readout")[1]  # strength, then identity 1
    drawn = frames(canvas)
    readout.click()
    readout.send_keys(Keys.CONTROL, "a")
    readout.send_keys("2", Keys.ENTER)
    reshaped_seconds = wait_for_new_frame(page, canvas, drawn, 60)
    WebDriverWait(page, 10).until(lambda d: "texture re-used" in timing_text(d))
    print(f"identity slider → new view: {reshaped_seconds:.2f} s")

    prompt = page.find_element(By.CSS_SELECTOR, "input[type=text]")
    drawn = frames(canvas)
    prompt.send_keys(Keys.CONTROL, "a")
    prompt.send_keys(NEW_PROMPT, Keys.ENTER)
    prompt_seconds = wait_for_new_frame(page, canvas, drawn, 120)
    WebDriverWait(page, 10).until(lambda d: "texture" in timing_text(d) and "re-used" not in timing_text(d))
    print(f"new prompt → textured view: {prompt_seconds:.2f} s")
    time.sleep(1.0)
    page.save_screenshot(str(FIGURES / "explorer_new_prompt.png"))
