"""The explorer in a real browser: Debian's headless Chromium driven through Selenium (no browser is downloaded at
run time). `cliphead explore`'s page must show a head that turns when dragged, reshape it when an identity slider
moves and texture a new prompt (the screenshots go to figures/ for the README); notebook 10 in JupyterLab must
show the same view."""

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


def chromium():
    """Headless Chromium through Selenium, WebGL on the CPU, every host but 127.0.0.1 unreachable."""
    assert CHROMIUM and CHROMEDRIVER, (
        "needs Debian's chromium and chromium-driver (the README's test command installs them)"
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,800"):
        options.add_argument(flag)
    options.add_argument("--enable-unsafe-swiftshader")  # WebGL on the CPU
    options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")  # no network beyond this machine
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def serve(command: list[str], url: str, port: int):
    """Start a server, open ``url`` in Chromium once it listens; yields the driver, then stops both."""
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    driver = chromium()
    try:
        wait_for_port(port, server)
        driver.get(url)
        yield driver
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server outlived its command"


@pytest.fixture(scope="module")
def page():
    """A headless Chromium showing ``cliphead explore`` (served on a free port)."""
    port = free_port()
    command = [sys.executable, "-m", "cliphead.cli", "explore", "--port", str(port), "--no-browser"]
    yield from serve(command + ["--prompt", FIRST_PROMPT], f"http://127.0.0.1:{port}/", port)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A headless Chromium showing notebook 10 in JupyterLab (no token, the app exposed), started in a copy of
    notebooks/ so that nothing it saves lands in the repository."""
    folder = tmp_path_factory.mktemp("notebooks")
    shutil.copy(repository_root() / "notebooks" / "10_explorer.ipynb", folder)
    port = free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1"]
    command += ["--IdentityProvider.token=", "--ServerApp.password=", "--LabApp.expose_app_in_browser=True"]
    command += [f"--ServerApp.root_dir={folder}", "--allow-root"]
    yield from serve(command, f"http://127.0.0.1:{port}/lab/tree/10_explorer.ipynb", port)


def wait_for_port(port: int, server: subprocess.Popen, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read().decode()[-3000:]
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


def assert_shows_a_head(image: np.ndarray) -> None:
    """A head on the view's grey background: neither blank nor filled, textured and shaded."""
    covered = np.abs(image - np.array([0.957, 0.957, 0.957])).max(axis=2) > 0.05
    assert 0.05 < covered.mean() < 0.9
    assert image[covered].std() > 0.05


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
    assert_shows_a_head(front)

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
    drawn = frames(canvas)
    ActionChains(page).double_click(canvas).perform()  # back to the front view, then a quarter turn
    ActionChains(page).move_to_element(canvas).click_and_hold().move_by_offset(-45, 0).release().perform()
    wait_for_new_frame(page, canvas, drawn, 10)
    time.sleep(1.0)
    page.save_screenshot(str(FIGURES / "explorer_new_prompt.png"))
    # Offline (the browser reaches no other host): all that loaded came from the local server. (Voilà's page also
    # links Font Awesome's stylesheets from a CDN; they fail here, and its bundle carries the same icons.)
    loaded = page.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.responseStatus > 0).map(e => e.name)"
    )
    assert loaded and all(url.startswith("http://127.0.0.1") for url in loaded)


@pytest.mark.slow
def test_notebook_10_shows_the_head_in_jupyterlab(lab):
    """Its first cells (title, parameters, the panel) run in JupyterLab's kernel, started in notebooks/."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(lab, 120).until(lambda d: d.execute_script("return !!(window.jupyterapp && jupyterapp.shell)"))
    ready = (
        "const notebook = jupyterapp.shell.currentWidget;"
        "const kernel = notebook && notebook.sessionContext.session && notebook.sessionContext.session.kernel;"
        "return !!(kernel && kernel.status === 'idle' && notebook.content.widgets.length);"
    )
    WebDriverWait(lab, 120).until(lambda d: d.execute_script(ready))
    for _ in range(4):  # two Markdown cells, the parameters, the panel
        lab.execute_script("jupyterapp.commands.execute('notebook:run-cell-and-select-next')")
    canvas = WebDriverWait(lab, 300).until(lambda d: d.find_element(By.CSS_SELECTOR, "canvas.cliphead-viewer"))
    wait_for_new_frame(lab, canvas, 0, 60)
    time.sleep(1.0)
    assert_shows_a_head(canvas_image(canvas))
