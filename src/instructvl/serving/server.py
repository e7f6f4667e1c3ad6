"""uvicorn around the app: binding (loopback unless asked otherwise), logging, limits
the HTTP layer keeps (keep-alive, header size, connections, graceful shutdown)."""

from __future__ import annotations

import copy
import ipaddress
import socket

import uvicorn

from instructvl.serving.app import create_app
from instructvl.serving.settings import Settings

KEEP_ALIVE = 5  # seconds an idle connection stays open
SHUTDOWN_GRACE = 5  # seconds running requests get to finish when the server stops


def is_loopback(host: str) -> bool:
    """Whether `host` only ever reaches this machine (every address it resolves to is loopback)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (port 0: a free port, see `address`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def address(sock: socket.socket) -> str:
    """The base URL a bound socket answers at."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _logging(level: str) -> dict:
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["instructvl.serving"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


def make_server(vlm, settings: Settings, log_level: str = "info", access_log: bool = True) -> uvicorn.Server:
    """A uvicorn server for `vlm` (run it with `server.run(sockets=[bind(...)])`). Beyond the
    app's own bounds, uvicorn refuses more than a backstop of connections at once (503);
    the app's 429 comes well before it."""
    backstop = 4 * (settings.max_batch_size + settings.max_queue) + 64
    config = uvicorn.Config(
        create_app(vlm, settings),
        log_level=log_level,
        log_config=_logging(log_level),
        access_log=access_log,
        timeout_keep_alive=KEEP_ALIVE,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
        limit_concurrency=backstop,
        server_header=False,
    )
    return uvicorn.Server(config)
