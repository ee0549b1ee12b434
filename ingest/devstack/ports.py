"""The stack's TCP ports on 127.0.0.1: chosen once, reused while free, or pinned by
``INGEST_STACK_KAFKA_PORT`` / ``INGEST_STACK_POSTGRES_PORT``."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass

from ingest.devstack.paths import HOST, Report, StackPaths
from ingest.errors import StackError

PORT_PIN_ENV = {"kafka": "INGEST_STACK_KAFKA_PORT", "postgres": "INGEST_STACK_POSTGRES_PORT"}
_PORT_OWNER = {"kafka": "kafka", "controller": "kafka", "postgres": "postgres"}


@dataclass(frozen=True)
class Ports:
    """TCP ports of the stack on 127.0.0.1."""

    kafka: int
    controller: int
    postgres: int


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port(avoid: set[int]) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def _pinned_port(name: str) -> int | None:
    raw = os.environ.get(PORT_PIN_ENV.get(name, ""), "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 65536:
        raise StackError(f"{PORT_PIN_ENV[name]}={raw!r} is not a TCP port; set 1-65535 or unset it")
    return int(raw)


def read_ports(paths: StackPaths) -> Ports | None:
    try:
        saved = json.loads(paths.ports.read_text())
        return Ports(int(saved["kafka"]), int(saved["controller"]), int(saved["postgres"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resolve_ports(paths: StackPaths, running: set[str], report: Report) -> Ports:
    """Saved ports while free (or in use by our own running component), else new free ones."""
    saved = read_ports(paths)
    chosen: dict[str, int] = {}
    moved: list[str] = []
    for name, owner in _PORT_OWNER.items():
        previous = getattr(saved, name) if saved else None
        if owner in running and previous:
            chosen[name] = previous
        elif (pinned := _pinned_port(name)) is not None:
            if not port_free(pinned):
                raise StackError(
                    f"port {pinned} on {HOST} ({PORT_PIN_ENV[name]}) is taken by another "
                    f"process; stop that process or unset {PORT_PIN_ENV[name]} to use a free port"
                )
            chosen[name] = pinned
        elif previous and previous not in chosen.values() and port_free(previous):
            chosen[name] = previous
        else:
            chosen[name] = free_port(set(chosen.values()))
            if previous:
                moved.append(f"{name} {previous} -> {chosen[name]}")
    if moved:
        report(f"ports taken by other processes, moved: {', '.join(moved)}")
    ports = Ports(**chosen)
    paths.ports.write_text(json.dumps(chosen, indent=2) + "\n")
    return ports
