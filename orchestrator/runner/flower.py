"""How ``orchestrator flower`` starts Flower: its arguments, and its basic-auth credentials.

The credentials go to Flower in its own environment variable (``FLOWER_BASIC_AUTH``), never
on its command line, where any user of the host could read them in the process list. Flower
bound to anything but loopback shows every task's arguments to whoever reaches it: without
credentials it is not started.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

FLOWER_BASIC_AUTH_ENV = "FLOWER_BASIC_AUTH"
CELERY_APP = "workers.celery_app:celery_app"


class FlowerConfigError(ValueError):
    """Flower would start unprotected, or its credentials are not ``user:password``."""


@dataclass(frozen=True)
class FlowerCommand:
    argv: list[str]
    # Added to the inherited environment (the credentials, when there are some).
    env: dict[str, str]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


def _checked(basic_auth: str) -> str:
    """Flower's ``user:password[,user:password...]``, each with both parts non-empty."""
    pairs = [pair.strip() for pair in basic_auth.split(",")]
    for pair in pairs:
        user, colon, password = pair.partition(":")
        if not (user and colon and password):
            raise FlowerConfigError(
                "basic-auth credentials must be user:password (several: comma-separated)"
            )
    return ",".join(pairs)


def flower_command(*, python: str, host: str, port: int, basic_auth: str | None) -> FlowerCommand:
    """The Celery command that runs Flower on ``host:port`` over the workers' broker."""
    env: dict[str, str] = {}
    if basic_auth:
        env[FLOWER_BASIC_AUTH_ENV] = _checked(basic_auth)
    elif not is_loopback(host):
        raise FlowerConfigError(
            f"Flower on {host} needs credentials: --basic-auth user:password or "
            "ORCH_FLOWER_BASIC_AUTH (only a loopback address may go without)"
        )
    argv = [python, "-m", "celery", "-A", CELERY_APP, "flower", f"--port={port}"]
    return FlowerCommand([*argv, f"--address={host}"], env)


def flower_environment(inherited: Mapping[str, str], command: FlowerCommand) -> dict[str, str]:
    """The inherited environment, without credentials that were not given to this command."""
    env = {name: value for name, value in inherited.items() if name != FLOWER_BASIC_AUTH_ENV}
    return env | command.env
