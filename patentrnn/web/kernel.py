"""The page under Voilà: its query string, and the kernel's log lines sent to the server's log."""

from __future__ import annotations

import json
import logging
import os
import sys

log = logging.getLogger(__name__)


def log_to_server() -> None:
    """Send the package's log lines to the server's log, never to the visitor's page. In a kernel,
    ``sys.stderr`` (and fd 2, which ipykernel redirects into a pipe) reach the page as output; ipykernel
    keeps the process's original stderr as ``sys.stderr._original_stdstream_copy``, and that is where
    the Voilà server's log lies. Outside a kernel, logging is left as configured. Once per process."""
    logger = logging.getLogger("patentrnn")
    if "ipykernel" not in sys.modules or any(getattr(h, "patentrnn_server_log", False) for h in logger.handlers):
        return
    original = getattr(sys.stderr, "_original_stdstream_copy", None)  # None: fd 2 is not captured
    descriptor = original if original is not None else sys.__stderr__.fileno()
    handler = logging.StreamHandler(os.fdopen(os.dup(descriptor), "w", buffering=1))
    handler.setFormatter(logging.Formatter("[patentrnn kernel %(process)d] %(levelname)s %(name)s: %(message)s"))
    handler.patentrnn_server_log = True
    logger.addHandler(handler)
    logger.propagate = False


def voila_query_string() -> str | None:
    """The page's query string, as ``voila.utils.get_query_string`` gives it.

    Re-done here because importing ``voila.utils`` pulls in jupyter_server and
    jupyterlab_server: measured +45 MiB of kernel RSS (51 → 97 MiB), against +1.4 MiB
    for the websockets client it uses. A preheated kernel runs the notebook before
    any request, so it asks Voilà's ``voila/query/<kernel id>`` websocket for it.
    """
    environment = os.environ
    if environment.get("VOILA_PREHEAT", "False") == "False":
        return environment.get("QUERY_STRING")
    from websockets.sync.client import connect

    protocol = environment.get("VOILA_WS_PROTOCOL", "ws")
    host = environment.get("VOILA_APP_IP", "127.0.0.1")
    port = environment.get("VOILA_APP_PORT", "8866")
    base = environment.get("VOILA_WS_BASE_URL", environment.get("VOILA_SERVER_URL", "/"))
    url = f"{protocol}://{host}:{port}{base}voila/query/{environment.get('VOILA_KERNEL_ID', '')}"
    try:
        with connect(url, open_timeout=5) as socket:
            info = json.loads(socket.recv())
    except Exception as error:  # the page still works, without its URL parameters
        log.warning("no request info from Voilà at %s: %s", url, error)
        return None
    return info.get("QUERY_STRING")
