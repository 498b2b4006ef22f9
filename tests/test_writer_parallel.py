"""The parallel backup writer: what its speed-ups change, checked independently.

Archives stay standard zips (the standard library and Info-ZIP's unzip read
them), each member is stored or deflated as its data deserves, large files
are chunked and streamed with bounded memory, and the archive comes out the
same whatever the thread timing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tracemalloc
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from trees import file_bytes

from mftui.archive import compress, packer, writer, zipstream
from mftui.archive.compress import DEFLATE, HUFFMAN, STORE, choose, deflate, deflate_chunk
from mftui.archive.reader import verify
from mftui.archive.writer import create_backup
from mftui.archive.zipstream import DEFLATED, STORED, ZipStream
from mftui.errors import BackupError
from mftui.settings import Settings

NOW = datetime(2026, 11, 26, 14, 30, 5, tzinfo=UTC)
MIB = 1024 * 1024


def json_text(n: int, seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    rows = [
        {"uri": f"{rnd.randrange(16**6):06x}/{rnd.randrange(4096):03x}", "pv": rnd.random() * 100, "units": "degC"}
        for _ in range(n // 60 + 1)
    ]
    return json.dumps(rows, indent=1).encode()[:n]


def pem(n: int, seed: int = 2) -> bytes:
    body = base64.encodebytes(random.Random(seed).randbytes(n * 3 // 4))
    return b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n"


def noise(n: int, seed: int = 3) -> bytes:
    return random.Random(seed).randbytes(n)


@pytest.fixture
def mixed(tmp_path: Path) -> Settings:
    """A tree with every kind of file the writer treats differently."""
    root = tmp_path / "inst"
    files = {
        "instance.json": b'{"product": "MobiusFlow", "version": "4.2.1", "hub_id": "3fa2c1", "hostname": "h"}',
        "flows/flows.json": json_text(300_000),
        "certs/hub.pem": pem(6000),
        "licence/licence.bin": noise(50_000),
        "hub/empty.json": b"",
        "hub/tiny.json": b"{}",
        "services/r\u00e9seau.json": json_text(3000, seed=9),  # a UTF-8 name
        "persist/big-text.json": json_text(int(2.5 * MIB), seed=4),  # chunked, deflated
        "persist/big-noise.db": noise(3 * MIB + 17, seed=5),  # chunked, stored
        # chunked, deflated, with chunks of each kind
        "persist/mixed.db": json_text(MIB, seed=6) + noise(MIB, seed=7) + pem(MIB, seed=8),
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    os.chmod(root / "certs" / "hub.pem", 0o600)
    return Settings(instance_root=root, backups_dir=tmp_path / "backups")


def test_archive_reads_back_with_the_standard_library(mixed: Settings) -> None:
    result = create_backup(mixed, "mixed", now=NOW)
    live = file_bytes(mixed.instance_root)
    with zipfile.ZipFile(result.path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert names[-1] == "backup.json"
        assert names[:-1] == ["config/" + p for p in sorted(live)]  # scan order, then the metadata
        for path, data in live.items():
            assert zf.read("config/" + path) == data
        meta = json.loads(zf.read("backup.json"))
        info = zf.getinfo("config/certs/hub.pem")
        assert info.external_attr >> 16 == 0o100600
        assert zf.getinfo("config/services/r\u00e9seau.json").flag_bits & 0x800
    assert meta == result.info.to_json()  # written piecewise, it says exactly what the format says
    assert [f["path"] for f in meta["files"]] == sorted(live)
    for entry in meta["files"]:
        assert entry["sha256"] == hashlib.sha256(live[entry["path"]]).hexdigest()
        assert entry["size"] == len(live[entry["path"]])
    assert verify(result.path).total_bytes == sum(map(len, live.values()))


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip is not installed")
def test_archive_passes_unzip_t_and_extracts_the_same_bytes(mixed: Settings, tmp_path: Path) -> None:
    result = create_backup(mixed, "mixed", now=NOW)
    proc = subprocess.run(["unzip", "-t", str(result.path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No errors detected" in proc.stdout
    out = tmp_path / "unzipped"
    subprocess.run(["unzip", "-q", str(result.path), "-d", str(out)], check=True)
    assert file_bytes(out / "config") == file_bytes(mixed.instance_root)


def test_each_member_is_stored_or_deflated_as_its_data_deserves(mixed: Settings) -> None:
    result = create_backup(mixed, "mixed", now=NOW)
    with zipfile.ZipFile(result.path) as zf:
        info = {i.filename.removeprefix("config/"): i for i in zf.infolist()}

    def ratio(name: str) -> float:
        return info[name].compress_size / info[name].file_size

    assert info["licence/licence.bin"].compress_type == zipfile.ZIP_STORED  # random: stored
    assert info["persist/big-noise.db"].compress_type == zipfile.ZIP_STORED  # large random: stored
    assert info["hub/empty.json"].compress_type == zipfile.ZIP_STORED  # deflate cannot shrink nothing
    assert info["hub/tiny.json"].compress_type == zipfile.ZIP_STORED
    for name in ("flows/flows.json", "persist/big-text.json"):
        assert info[name].compress_type == zipfile.ZIP_DEFLATED
        assert ratio(name) < 0.25  # level 6 on JSON
    assert info["certs/hub.pem"].compress_type == zipfile.ZIP_DEFLATED
    assert 0.70 < ratio("certs/hub.pem") < 0.80  # base64: 6 bits in 8, Huffman codes take it
    assert info["persist/mixed.db"].compress_type == zipfile.ZIP_DEFLATED
    # a third text, a third random (kept as stored blocks), a third base64
    assert 0.60 < ratio("persist/mixed.db") < 0.70
    assert info["backup.json"].compress_type == zipfile.ZIP_DEFLATED


def test_choice_from_a_sample() -> None:
    assert choose(noise(4096)) == STORE
    assert choose(zlib.compress(json_text(40_000), 9)[:4096]) == STORE  # already compressed
    assert choose(json_text(4096)) == DEFLATE
    assert choose(pem(4096)[:4096]) == HUFFMAN
    assert choose(b"\x00" * 4096) == DEFLATE
    assert choose(b"") == DEFLATE and choose(b"x" * 100) == DEFLATE  # too small to judge


def test_reused_compressor_gives_independent_complete_streams() -> None:
    inputs = [json_text(50_000, seed=s) for s in range(3)] + [pem(20_000), b"", b"a", json_text(70_000)]
    for data in inputs:
        kind = HUFFMAN if data.startswith(b"-----") else DEFLATE
        packed = deflate(data, kind)
        d = zlib.decompressobj(-15)  # a fresh decompressor: nothing before this member is needed
        assert d.decompress(packed) == data
        assert d.eof and not d.unused_data


def test_chunks_join_into_one_deflate_stream() -> None:
    data = json_text(300_000) + noise(200_000) + pem(300_000) + json_text(250_000, seed=5)
    size = 128 * 1024
    pieces = []
    for at in range(0, len(data), size):
        window = data[max(0, at - compress.WINDOW) : at]
        pieces.append(deflate_chunk(data[at : at + size], window=window, last=at + size >= len(data)))
    d = zlib.decompressobj(-15)
    assert d.decompress(b"".join(pieces)) == data
    assert d.eof and not d.unused_data
    assert len(b"".join(pieces)) < 0.65 * len(data)


def test_archive_is_the_same_whatever_the_thread_timing(mixed: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    first = create_backup(mixed, "same", now=NOW)
    # Other worker counts, batch and chunk sizes, and a tight read-ahead bound change the timing entirely.
    monkeypatch.setattr(packer, "_workers", lambda: 5)
    monkeypatch.setattr(packer, "BATCH_FILES", 1)
    monkeypatch.setattr(packer, "IN_FLIGHT", 300_000)
    second = create_backup(mixed, "same", now=NOW)
    monkeypatch.setattr(packer, "_workers", lambda: 1)
    third = create_backup(mixed, "same", now=NOW)
    assert first.path.read_bytes() == second.path.read_bytes() == third.path.read_bytes()


def test_large_file_is_streamed_with_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "inst"
    root.mkdir()
    block = json_text(MIB, seed=11)
    with (root / "historian.db").open("wb") as fh:
        for i in range(32):
            fh.write(block if i % 3 else noise(MIB, seed=i))
    monkeypatch.setattr(packer, "IN_FLIGHT", 4 * MIB)
    monkeypatch.setattr(packer, "_workers", lambda: 2)
    settings = Settings(instance_root=root, backups_dir=tmp_path / "backups")
    tracemalloc.start()
    try:
        result = create_backup(settings, "big", now=NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Read-ahead (4 MiB), a chunk being read, compressed chunks waiting, zlib's output
    # buffers: about 10 MiB whatever the file's size, half of this 32 MiB file.
    assert peak < 16 * MIB, f"peak {peak / MIB:.1f} MiB"
    digest = hashlib.sha256()
    with zipfile.ZipFile(result.path) as zf, zf.open("config/historian.db") as member:
        while chunk := member.read(MIB):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256((root / "historian.db").read_bytes()).hexdigest()


def test_large_file_changing_during_the_backup_is_reported(mixed: Settings) -> None:
    victim = mixed.instance_root / "persist" / "big-text.json"  # read in chunks by the main thread
    calls = []

    def progress(done: int, total: int, what: str) -> None:
        if not calls:  # the first report comes after the scan, before any file is read
            with victim.open("ab") as fh:
                fh.write(b" ")
        calls.append(what)

    with pytest.raises(BackupError, match=r"persist/big-text\.json changed while it was being backed up"):
        create_backup(mixed, "x", now=NOW, progress=progress)
    assert not list(mixed.backups_dir.iterdir())


def test_a_pipe_in_place_of_a_file_does_not_hang_the_backup(mixed: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    target = mixed.instance_root / "hub" / "tiny.json"
    scan = writer.Instance.scan

    def scan_then_swap(self: writer.Instance) -> list:  # type: ignore[type-arg]
        files = scan(self)
        target.unlink()
        os.mkfifo(target)
        return files

    monkeypatch.setattr(writer.Instance, "scan", scan_then_swap)
    with pytest.raises(BackupError, match=r"hub/tiny\.json is no longer a regular file"):
        create_backup(mixed, "x", now=NOW)


def test_names_that_are_not_utf8_are_refused_by_name(tmp_path: Path) -> None:
    root = tmp_path / "inst"
    root.mkdir()
    (root / "ok.json").write_text("{}")
    with open(os.fsencode(root) + b"/bad-\xff.json", "wb") as fh:
        fh.write(b"{}")
    with pytest.raises(BackupError, match=r"bad-.*\.json has a name that is not valid UTF-8"):
        create_backup(Settings(instance_root=root, backups_dir=tmp_path / "backups"), "x", now=NOW)


# --- the zip container, ZIP64 included --------------------------------------------


def write_zip(path: Path, members: list[tuple[str, bytes, bool]]) -> None:
    """Members (name, data, piecewise) through ZipStream: add() or begin()/write()/end()."""
    with path.open("wb") as fh:
        zs = ZipStream(fh)
        for name, data, piecewise in members:
            crc = zlib.crc32(data)
            if piecewise:
                zs.begin(name, method=DEFLATED, size=len(data), mode=0o640, mtime_ns=0)
                for at in range(0, len(data), 1000):
                    zs.write(deflate_chunk(data[at : at + 1000], window=b"", last=at + 1000 >= len(data)))
                zs.end(crc=crc, size=len(data))
            else:
                zs.add(name, data, method=STORED, crc=crc, size=len(data), mode=0o640, mtime_ns=0)
        zs.close()


@pytest.mark.parametrize("zip64", [False, True], ids=["plain", "zip64"])
def test_zip_container_with_and_without_zip64_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zip64: bool
) -> None:
    if zip64:  # ZIP64 records for every size, offset and count above a few bytes, without writing 4 GiB
        monkeypatch.setattr(zipstream, "ZIP64_AT", 100)
        monkeypatch.setattr(zipstream, "ZIP64_COUNT_AT", 3)
        monkeypatch.setattr(zipstream, "ZIP64_LOCAL_AT", 100)
    members = [("a.txt", b"x" * 50, False), ("b.json", json_text(5000), True), ("c.bin", noise(3000), False)]
    members += [("d.json", json_text(10, seed=2), True), ("e/f.txt", b"", False)]
    path = tmp_path / "t.zip"
    write_zip(path, members)
    raw = path.read_bytes()
    assert (b"PK\x06\x06" in raw and b"PK\x06\x07" in raw) == zip64
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert [i.filename for i in zf.infolist()] == [m[0] for m in members]
        for name, data, _ in members:
            assert zf.read(name) == data
            assert zf.getinfo(name).external_attr >> 16 == 0o100640
            assert zf.getinfo(name).date_time == (1980, 1, 1, 0, 0, 0)
    if shutil.which("unzip"):
        proc = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dos_time_is_utc_and_clamped() -> None:
    stamp = int(datetime(2026, 11, 26, 14, 30, 5, tzinfo=UTC).timestamp()) * 10**9
    date, tod = zipstream.dos_date_time(stamp)
    assert (date >> 9) + 1980 == 2026 and (date >> 5) & 15 == 11 and date & 31 == 26
    assert tod >> 11 == 14 and (tod >> 5) & 63 == 30 and (tod & 31) * 2 == 4
    assert zipstream.dos_date_time(0) == ((1 << 5) | 1, 0)  # 1970 -> 1980-01-01


def test_a_member_left_open_is_a_programming_error() -> None:
    zs = ZipStream(io.BytesIO())
    zs.begin("x", method=STORED, size=1, mode=0o600, mtime_ns=0)
    with pytest.raises(RuntimeError):
        zs.close()


def test_progress_moves_forward_and_inside_large_files(mixed: Settings) -> None:
    calls: list[tuple[int, int, str]] = []
    create_backup(mixed, "p", now=NOW, progress=lambda d, t, w: calls.append((d, t, w)))
    total = calls[0][1]
    assert all(t == total for _, t, _ in calls)
    assert [d for d, _, _ in calls] == sorted(d for d, _, _ in calls)
    assert calls[-1] == (total, total, "done")
    inside = [d for d, _, w in calls if w == "persist/big-noise.db"]
    assert len(inside) >= 4  # one report per chunk of a 3 MiB file, not just one for the file
