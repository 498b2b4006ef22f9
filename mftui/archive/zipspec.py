"""The zip records as the mftui writer lays them out: signatures, sizes, flags, and the parsed records.

Shared by the container parser (container.py, central.py), the backup-level
checks (validate.py) and the reading of entries (reading.py). APPNOTE.TXT is
the reference; zipstream.py is what the writer writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..errors import ArchiveError
from . import zipstream
from .format import IDENTITY_NAME
from .paths import CONFIG_PREFIX, MAX_NAME_BYTES

CHUNK = 1024 * 1024  # bytes read from the archive, and inflated, at a time

# Zip record signatures and fixed sizes (APPNOTE.TXT 6.3).
EOCD = b"PK\x05\x06"
Z64_LOCATOR = b"PK\x06\x07"
Z64_EOCD = b"PK\x06\x06"
CENTRAL = b"PK\x01\x02"
LOCAL = b"PK\x03\x04"
EOCD_SIZE = 22
Z64_LOCATOR_SIZE = 20
Z64_EOCD_SIZE = 56
CENTRAL_SIZE = 46
LOCAL_SIZE = 30
TAIL_SEARCH = 1024 * 1024  # how far back from the end an End of Central Directory is looked for

ZIP64_EXTRA = 0x0001
U16 = 0xFFFF
U32 = 0xFFFFFFFF

# General-purpose flag bits.
FLAG_ENCRYPTED = 1 << 0
FLAG_DESCRIPTOR = 1 << 3
FLAG_PATCHED = 1 << 5
FLAG_STRONG_ENCRYPTION = 1 << 6
FLAG_UTF8 = 1 << 11
FLAG_MASKED_HEADERS = 1 << 13
FLAGS_ALLOWED = FLAG_UTF8  # the only flag the writer sets (zipstream.py), on a name that is not ASCII

STORED, DEFLATED = 0, 8
METHOD_NAMES = {1: "shrink", 6: "implode", 9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstandard", 95: "xz",
                 98: "ppmd"}
MAX_VERSION_NEEDED = 45  # ZIP64; anything newer is a feature the writer never uses
UNIX, MSDOS = 3, 0  # "version made by" host systems the writer can be on

IDENTITY_PATH = IDENTITY_NAME[len(CONFIG_PREFIX) :]
# Smallest central directory record: header and a one-byte name.
MIN_CENTRAL_RECORD = CENTRAL_SIZE + 1
# Longest central directory record of any kind (three 16-bit lengths): a window always holds a whole one.
LONGEST_RECORD = CENTRAL_SIZE + 3 * 0xFFFF
# Largest central directory record a valid name can have: header, name, ZIP64 extra.
MAX_CENTRAL_RECORD = CENTRAL_SIZE + MAX_NAME_BYTES + 4 + 24


class Member(NamedTuple):
    """One entry of an archive that passed the container checks.

    A named tuple: a restore holds one per file for its whole run, and a
    tuple is a third the size of a dataclass instance. A ``config/`` entry
    keeps its path only, the very string its manifest entry holds (one
    string per file, not two: 50,000 long names are megabytes); ``name``
    puts the prefix back when a message needs it.
    """

    stored: str  # the path for a config/ entry ("hub/hub.json"), the whole name otherwise ("backup.json")
    config: bool  # whether it is a config/ entry
    method: int
    flags: int
    crc: int
    compressed_size: int
    file_size: int
    header_offset: int
    data_offset: int  # first byte of the (compressed) data
    end_offset: int  # first byte after the data
    mode: int | None  # permission bits from a Unix external attribute, None otherwise

    @property
    def name(self) -> str:
        """The full entry name, e.g. "config/hub/hub.json"."""
        return CONFIG_PREFIX + self.stored if self.config else self.stored

    @property
    def path(self) -> str:
        """The path relative to the instance root (for a ``config/`` entry)."""
        return self.stored if self.config else self.stored[len(CONFIG_PREFIX) :]


@dataclass(slots=True)
class CentralRecord:
    """A central directory record, with ZIP64 values resolved."""

    raw_name: bytes  # as in the directory; b"" for an ASCII name (its bytes are name.encode())
    name: str
    made_by: int
    version_needed: int
    flags: int
    method: int
    crc: int
    compressed_size: int
    file_size: int
    header_offset: int
    external_attr: int
    mode: int | None = None


def needs_zip64_end(count: int, cd_size: int, cd_offset: int) -> bool:
    """Whether the writer puts ZIP64 end records in an archive with this central directory (zipstream.close)."""
    return count >= zipstream.ZIP64_COUNT_AT or max(cd_size, cd_offset) >= zipstream.ZIP64_AT


def not_mftui() -> ArchiveError:
    return ArchiveError("this zip is not an mftui backup: it has no backup.json")


def size_words(n: int) -> str:
    """A byte count for a message: "512 MiB", "4 GiB", "1000 bytes"."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor:
            value = n / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"
