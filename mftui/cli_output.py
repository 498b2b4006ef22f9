"""The command line's output: words for people (every line escaped), JSON for scripts, the progress bar.

Shared by cli.py and the command modules beside it (cli_restore.py, cli_trial.py).
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any, TextIO

from .text import show
from .wording import info_rows


class _OutputLost(Exception):
    """stdout or stderr cannot be written (the reader of a pipe has gone, a full disk): nothing more to say there."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def info_json(info: Any) -> dict[str, Any]:
    """The flat JSON form of a backup's information (documented in the README)."""
    return {
        "name": info.name,
        "kind": info.kind,
        "created_at": info.created_at,
        "format_version": info.format_version,
        "tool_version": info.tool_version,
        "product": info.product,
        "product_version": info.product_version,
        "instance_id": info.instance_id,
        "hostname": info.hostname,
        "files": len(info.files),
        "bytes": info.total_bytes,
        "components": info.components,
    }


def format_info(info: Any) -> str:
    return "\n".join(f"{label + ':':<13}{value}" for label, value in info_rows(info))


def _say(text: object = "", file: TextIO | None = None, end: str = "\n") -> None:
    """Print for a person. Every line goes through :func:`show` as well: whatever a message holds (a
    name from an archive, a path, a core message), no control character ever reaches the terminal."""
    lines = str(text).split("\n")
    try:
        (file or sys.stdout).write("\n".join(show(line, limit=None) for line in lines) + end)
    except OSError as exc:
        raise _OutputLost(exc) from exc


_NOT_PLAIN_ASCII = re.compile(r"[^\x20-\x7e\n]")


def json_text(data: Any, *, ascii_only: bool = False) -> str:
    """``data`` as JSON that is also safe on a terminal: readable text stays as it is; control and
    format characters (ESC, BEL, bidi overrides) and lone surrogates become ``\\uXXXX`` escapes, which
    every JSON reader turns back into the exact string. ``ascii_only`` escapes all but ASCII."""
    if ascii_only:
        return json.dumps(data, indent=2, ensure_ascii=True, default=str)  # every byte printable ASCII
    return _NOT_PLAIN_ASCII.sub(_json_escape, json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _json_escape(match: re.Match[str]) -> str:
    ch = match.group()
    if show(ch, limit=None) == ch:
        return ch  # printable: é, 日本
    code = ord(ch)
    if code > 0xFFFF:  # JSON spells a character beyond the BMP as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _print_json(data: Any) -> None:
    # stdout that cannot hold every character (PYTHONIOENCODING=ascii, an old locale) gets \uXXXX escapes:
    # still exactly the same JSON value, where the stream's own escapes would break the JSON.
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("_", "-")
    try:
        sys.stdout.write(json_text(data, ascii_only=encoding not in ("utf-8", "utf8")) + "\n")
    except OSError as exc:
        raise _OutputLost(exc) from exc


class ProgressBar:
    """A one-line progress bar on stderr, only when stderr is a terminal.

    It never stops the work it shows: if the terminal cannot be written (the
    SSH session dropped), the bar turns itself off and the backup or restore
    goes on.
    """

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and self._last:
            self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False

    def __call__(self, done: int, total: int, what: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        frac = done / total if total else 1.0
        width = 24
        filled = int(frac * width)
        what = show(what, limit=None)
        what = what if len(what) <= 30 else "..." + what[-27:]
        self._write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {frac:4.0%} {what}\x1b[K")
