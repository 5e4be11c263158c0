"""Structured logging (structlog) to stderr, JSON when not on a terminal."""

from __future__ import annotations

import logging
import sys

import structlog


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing.

    A logger bound once (a span's, a service's) may outlive the stream it was created
    with (a test's capture, a daemon's redirected stderr); this never writes to a
    closed file.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "warning", *, json: bool | None = None) -> None:
    """Send structlog output to stderr at ``level``.

    JSON lines when stderr is not a terminal (services, CI), readable lines otherwise.
    """
    numeric = getattr(logging, level.upper())
    if json is None:
        json = not sys.stderr.isatty()
    renderer = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    # exc_info=... becomes the traceback text ("exception") in JSON lines; the console
    # renderer prints it itself.
    tracebacks = [structlog.processors.format_exc_info] if json else []
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *tracebacks,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),
        cache_logger_on_first_use=False,
    )
