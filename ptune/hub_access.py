"""Whether the Hugging Face hub can be reached, asked once per process before the first download from it, so that a
machine without network fails in seconds with one line saying what to do, instead of after huggingface_hub's
retries (five per file, with backoff: over a minute and dozens of warnings, each printed twice).

    require_hub("model 'roberta-large'", "point model.pretrained at a local folder")  # HubUnreachableError, exit 2

One HEAD request to $HF_ENDPOINT (default https://huggingface.co), through the environment's proxies; any HTTP
answer counts as reached. Skipped under HF_HUB_OFFLINE=1, where the hub libraries read only their cache and fail at
once. Callers ask only for hub ids and hub datasets, never for local folders.
"""
from __future__ import annotations

import functools
import os
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from ptune.errors import HubUnreachableError

TIMEOUT_S = 5  # one attempt (huggingface_hub waits up to 10 s per request, then retries 5 times)


def offline() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub reads it."""
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


@functools.lru_cache(maxsize=None)
def unreachable(url: str) -> str | None:
    """Why `url` cannot be reached, or None when it answers (any HTTP status: the hub libraries report those)."""
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=TIMEOUT_S).close()
    except urllib.error.HTTPError:
        return None
    except urllib.error.URLError as error:
        # a certificate the hub library may accept (its own CA bundle): reached; no name, no route, refused: not
        return None if isinstance(error.reason, ssl.SSLError) else str(error.reason)
    except OSError as error:  # a timeout, a reset connection
        return None if isinstance(error, ssl.SSLError) else (str(error) or type(error).__name__)
    return None


def require_hub(what: str, fix: str) -> None:
    """Raise HubUnreachableError when `what` (e.g. "model 'roberta-large'") is to come from a hub that does not answer;
    `fix` says how to do without it."""
    if offline():
        return
    reason = unreachable(endpoint())
    if reason is not None:
        raise HubUnreachableError(f"{what} comes from the hub, but {endpoint()} cannot be reached ({reason}): {fix}; "
                                  "or, where the hub cache holds it already, set HF_HUB_OFFLINE=1")


def is_local_path(source: str) -> bool:
    """Whether model.pretrained / model.tokenizer is written as a folder (absolute, ./ or ../, ~, or more than one
    slash) rather than a hub id (`name`, `org/name`) or `pkg:<module>`: one that must exist, never asked of the hub."""
    return source.startswith(("/", ".", "~")) or source.count("/") > 1


def is_hub_id(source: str) -> bool:
    """A model source that names a hub repo: not `pkg:<module>` (ptune/model/backbones.py), not written as a folder
    (is_local_path; a missing one is ptune/train/preflight.py's to report), not an existing folder."""
    return not source.startswith("pkg:") and not is_local_path(source) and not Path(source).expanduser().exists()


def require_hub_model(name: str, source: str) -> None:
    """require_hub for model `name` whose weights or tokenizer come from `source`, when that is a hub id."""
    if is_hub_id(source):
        require_hub(f"model {name!r} ({source})", "point model.pretrained at a local folder (model.pretrained="
                    "/models/NAME), or use model=minilm (the offline backbone)")
