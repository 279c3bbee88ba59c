"""The HTTP client every operator command uses: where the API is, the org's key, and errors.

Errors print the API's own messages (Vapi's error shape) and end the command with status 1,
so scripts can tell a refused request from success.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_SECONDS = 30.0

errors = Console(stderr=True)

ApiUrlOption = Annotated[
    str,
    typer.Option(
        "--api-url", envvar="ORCH_API_URL", help="Where the orchestrator's API is served."
    ),
]
ApiKeyOption = Annotated[
    str,
    typer.Option(
        "--api-key",
        envvar="ORCH_API_KEY",
        help="The org's API key (better set in ORCH_API_KEY than typed on a command line).",
        show_default=False,
    ),
]


class ApiError(Exception):
    """The API refused a request, or could not be reached."""

    def __init__(self, messages: list[str], *, status_code: int | None = None) -> None:
        self.messages = messages
        self.status_code = status_code
        super().__init__("; ".join(messages))


def _messages_of(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return [f"{response.status_code} {response.reason_phrase}: {response.text[:500]}"]
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, list):
        return [str(item) for item in message] or [response.reason_phrase]
    if message:
        return [str(message)]
    return [f"{response.status_code} {response.reason_phrase}"]


@dataclass
class ApiClient:
    base_url: str
    api_key: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=self.timeout,
        )

    def close(self) -> None:
        self.http.close()

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response of a request the API accepted (2xx); an :class:`ApiError` otherwise."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ApiError([f"cannot reach the API at {self.base_url}: {error}"]) from error
        if response.is_success:
            return response
        raise ApiError(_messages_of(response), status_code=response.status_code)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.send(method, path, **kwargs).json()

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """A streamed response (a large export), checked like :meth:`send` before it is read."""
        try:
            with self.http.stream(method, path, **kwargs) as response:
                if not response.is_success:
                    response.read()
                    raise ApiError(_messages_of(response), status_code=response.status_code)
                yield response
        except httpx.HTTPError as error:
            raise ApiError([f"cannot reach the API at {self.base_url}: {error}"]) from error


def fail(messages: list[str]) -> NoReturn:
    for message in messages:
        errors.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(1)


@contextmanager
def connected(api_url: str, api_key: str) -> Iterator[ApiClient]:
    """A client for one command; an API error ends the command with its messages."""
    if not api_key:
        fail(["no API key: set ORCH_API_KEY or pass --api-key"])
    client = ApiClient(api_url, api_key)
    try:
        yield client
    except ApiError as error:
        fail(error.messages)
    finally:
        client.close()
