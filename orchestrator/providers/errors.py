"""Errors raised by provider clients.

The one distinction callers must act on is ``ambiguous``: when it is True the provider may have
created the call even though we got no usable answer, so a blind retry could dial the customer
twice. Callers should reconcile (for example by listing the provider's recent calls) before
retrying an ambiguous failure; non-ambiguous failures are safe to retry or to give up on.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base class; ``status_code`` is the provider's HTTP status when one was received.

    ``message`` is the explanation alone; ``str()`` adds the status code when there is one.
    """

    ambiguous: bool = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        ambiguous: bool | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        if ambiguous is not None:
            self.ambiguous = ambiguous
        super().__init__(message if status_code is None else f"HTTP {status_code}: {message}")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status_code={self.status_code!r}, "
            f"ambiguous={self.ambiguous!r})"
        )


class ProviderTimeout(ProviderError):
    """No response: the request timed out or the connection broke after it may have been sent."""

    ambiguous = True


class ProviderUnreachable(ProviderTimeout):
    """The connection could not be established, so the request never left this process.

    It subclasses ``ProviderTimeout`` so code that treats every transport failure alike keeps
    working, but it is not ambiguous: nothing reached the provider.
    """

    ambiguous = False


class ProviderServerError(ProviderError):
    """The provider answered 5xx; it may have created the call before failing."""

    ambiguous = True


class ProviderRateLimited(ProviderError):
    """The provider answered 429; ``retry_after`` is its Retry-After hint in seconds, if any."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class ProviderRejected(ProviderError):
    """The provider refused the request (a 4xx other than 429); retrying it unchanged is futile.

    ``message`` is the provider's own explanation, the ``message`` field of its NestJS error body
    joined with "; " when it is a list; ``messages`` keeps the list form.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        messages: list[str] | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.messages = list(messages) if messages is not None else [message]
