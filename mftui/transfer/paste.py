"""Text transfers: print a backup as armoured lines, and take such lines back (a paste, a file).

The format is in armour.py; what is received is checked and placed as
incoming.py says, like a file received with ZMODEM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from ..errors import CopyError
from ..settings import Settings
from .armour import Decoder, encode
from .incoming import PrivateFolder, Received, check_name, finish


def send_text(path: Path, out: TextIO) -> int:
    """Print the backup at ``path`` as armoured lines on ``out``; the number of lines printed."""
    count = 0
    for line in encode(path):
        out.write(line + "\n")
        count += 1
    out.flush()
    return count


def receive_text(settings: Settings, lines: Iterable[str],
                 progress: Callable[[int, int], None] | None = None) -> Received:
    """Read an armoured backup from ``lines``, check it, and put it in incoming/ under the header's name.

    Nothing is kept under a final name unless every line, the size, the
    SHA-256 and every check a restore makes passed. ``progress(done, total)``
    is called as data lines arrive.
    """
    with PrivateFolder(settings) as folder:
        part = folder.path / "paste.part"
        with part.open("xb") as out:
            decoder = Decoder(out, settings.budgets.max_total_bytes)
            for line in lines:
                finished = decoder.feed(line)
                if progress is not None and decoder.header is not None:
                    progress(decoder.done, decoder.header.lines)
                if finished:
                    break
            header = decoder.header
            if not decoder.finished or header is None:
                raise CopyError(decoder.incomplete())
        part.rename(folder.path / check_name(header.name))
        return finish(settings, folder, (header.size, header.sha256))
