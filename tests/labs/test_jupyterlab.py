"""`make lab` starts JupyterLab on notebooks/ with the widgets and nbgrader extensions, set up for a class."""

import json
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.labs.labfiles import LABS, ROOT

TOKEN = "course-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


@pytest.fixture(scope="module")
def lab_server():
    port = free_port()
    args = f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={TOKEN}"
    server = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                get(f"{base}/api/status")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.5)
        yield base
    finally:
        import os
        import signal

        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_serves_the_student_notebooks(lab_server):
    listing = json.loads(get(f"{lab_server}/api/contents"))
    assert {item["name"] for item in listing["content"]} >= set(LABS)
    for lab in LABS:
        folder = json.loads(get(f"{lab_server}/api/contents/{lab}"))
        assert any(item["name"].endswith(".ipynb") for item in folder["content"])


def test_widgets_and_nbgrader_extensions_are_enabled(lab_server):
    page = get(f"{lab_server}/lab")
    config = json.loads(page.split('id="jupyter-config-data"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    extensions = {extension["name"] for extension in config["federated_extensions"]}
    assert {"@jupyter-widgets/jupyterlab-manager", "@jupyter/nbgrader"} <= extensions
    assert not set(config.get("disabledExtensions", [])) & extensions


def test_python_kernel_is_available(lab_server):
    kernels = json.loads(get(f"{lab_server}/api/kernelspecs"))
    assert "python3" in kernels["kernelspecs"]


def test_class_settings_no_news_and_the_landing_page(lab_server):
    page = get(f"{lab_server}/lab")
    config = json.loads(page.split('id="jupyter-config-data"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    assert config["news"] == {"disabled": True}
    notification = json.loads(get(f"{lab_server}/lab/api/settings/@jupyterlab/apputils-extension:notification"))
    properties = notification["schema"]["properties"]
    assert properties["fetchNews"]["default"] == "false" and properties["checkForUpdates"]["default"] is False
    viewers = json.loads(get(f"{lab_server}/lab/api/settings/@jupyterlab/docmanager-extension:plugin"))
    assert viewers["schema"]["properties"]["defaultViewers"]["default"] == {"markdown": "Markdown Preview"}
    request = urllib.request.Request(f"{lab_server}/", headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.url.endswith("/lab/tree/README.md")
    assert "01_occlusion/occlusion.ipynb" in json.loads(get(f"{lab_server}/api/contents/README.md"))["content"]
