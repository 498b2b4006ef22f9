"""How a member's bytes are compressed: chosen from a sample, on any thread.

Three ways, chosen per file (and per chunk of a large file) from its first
2 KiB:

- **store** random or already-compressed data (keys, licence blobs, gzip):
  deflating it costs as much CPU as text and gains nothing;
- **huffman** (deflate with Huffman coding only) for data whose bytes are
  skewed but never repeat, such as base64 in PEM files: as small as full
  deflate, about four times faster;
- **deflate** at level 6 (what ``zip -6`` does) for everything else.

zlib releases the GIL while it works, so the backup runs these on a thread
per core. Every function here is safe to call from any thread.
"""

from __future__ import annotations

import threading
import zlib

STORE, HUFFMAN, DEFLATE = "store", "huffman", "deflate"
LEVEL = 6
SAMPLE = 2 * 1024  # enough to tell text, base64 and random apart; probing costs ~15 us
WINDOW = 32 * 1024  # deflate's window: what a chunk may refer back to
_WBITS = -15  # raw deflate, as zip members hold it
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # BFINAL=1, fixed Huffman, end-of-block

# From the sample: order-0 (Huffman-only) ratio and LZ (level 1) ratio.
_RANDOM = 0.97  # Huffman coding cannot shrink it by 3%: store
_TEXT = 0.70  # skewed enough that it is text-like: deflate without asking LZ
_LZ_GAIN = 0.90  # deflate when matching strings saves 10% over Huffman alone

_local = threading.local()


def _reusable(kind: str) -> zlib._Compress:
    """This thread's long-lived compressor of that kind.

    Creating a compressor costs about 100 us (it allocates and clears 256 KiB),
    as much as deflating 10 KiB; a backup of many small files reuses one per
    thread and cuts members apart with a full flush (see ``deflate``).
    """
    c = getattr(_local, kind, None)
    if c is None:
        if kind == HUFFMAN:
            c = zlib.compressobj(LEVEL, zlib.DEFLATED, _WBITS, 8, zlib.Z_HUFFMAN_ONLY)
        elif kind == DEFLATE:
            c = zlib.compressobj(LEVEL, zlib.DEFLATED, _WBITS, 8)
        else:  # the LZ probe
            c = zlib.compressobj(1, zlib.DEFLATED, _WBITS, 8)
        setattr(_local, kind, c)
    return c


def choose(sample: bytes | memoryview) -> str:
    """STORE, HUFFMAN or DEFLATE for data that starts with ``sample``."""
    n = len(sample)
    if n < 512:  # too little to judge; the caller stores it if deflate does not shrink it
        return DEFLATE
    huff = len(_flushed(_reusable(HUFFMAN), sample)) / n
    if huff > _RANDOM:
        return STORE
    if huff < _TEXT:
        return DEFLATE
    lz = len(_flushed(_reusable("probe"), sample)) / n
    return DEFLATE if lz < _LZ_GAIN * huff else HUFFMAN


def deflate(data: bytes | memoryview, kind: str) -> bytes:
    """A complete raw deflate stream of ``data`` (``kind`` HUFFMAN or DEFLATE).

    A full flush empties the compressor and forgets everything before it, so
    what follows refers to nothing earlier; an empty final block then ends
    the stream. The next member starts afresh on the same compressor.
    """
    return _flushed(_reusable(kind), data) + _FINAL_EMPTY_BLOCK


def deflate_chunk(data: bytes, *, window: bytes, last: bool) -> bytes:
    """One piece of a large member's deflate stream (pigz-style).

    Chunks are compressed independently, each primed with the ``window`` of
    data before it (so ratio matches one long stream) and ended on a byte
    boundary with a sync flush; the last one ends the stream. Joined in order
    they are one valid deflate stream. Each chunk chooses its own way from
    its own start, so a mixed file (a database with blobs) is handled well.
    """
    kind = choose(memoryview(data)[:SAMPLE])
    if kind == STORE:
        c = zlib.compressobj(0, zlib.DEFLATED, _WBITS)  # stored blocks: a copy
    elif kind == HUFFMAN:
        c = zlib.compressobj(LEVEL, zlib.DEFLATED, _WBITS, 8, zlib.Z_HUFFMAN_ONLY)
    elif window:
        c = zlib.compressobj(LEVEL, zlib.DEFLATED, _WBITS, 8, zlib.Z_DEFAULT_STRATEGY, window)
    else:
        c = zlib.compressobj(LEVEL, zlib.DEFLATED, _WBITS, 8)
    return c.compress(data) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _flushed(c: zlib._Compress, data: bytes | memoryview) -> bytes:
    return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)
