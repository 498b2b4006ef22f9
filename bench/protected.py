"""``python -m bench --protected``: encrypted (passphrase, then recipients) against plain backups, side by side.

The same command line, the same tree, alternated runs: a passphrase-encrypted
backup against a plain one, verify with the key against plain verify, and the
restore of each. Goals: each at most 1.15x the plain figure, peak RSS at most
100 MiB (the payload is streamed, never whole in memory).
"""

from __future__ import annotations

from pathlib import Path

from .measure import Pair, Tree, alternate, empty_dir, reset_restore_target, run

GOAL = 1.15
RSS_GOAL = 100 * 1024 * 1024


def _settings(path: Path, root: Path, backups: Path, protection: str) -> None:
    path.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{backups}"\n[reboot]\nbackend = "demo"\n'
                    f'[protection]\n{protection}')


def _protection(home: Path, mode: str) -> str:
    """The [protection] lines for ``mode`` (passphrase or recipients), with their files made."""
    if mode == "passphrase":
        passfile = home / "bench-passphrase.txt"
        passfile.write_text("bench passphrase, not a secret\n")
        return f'encrypt = "passphrase"\npassphrase_file = "{passfile}"\n'
    from mftui.archive.age_keys import X25519Identity

    key = X25519Identity.generate()
    (home / "bench-key.txt").write_text(f"{key}\n")
    (home / "bench-recipients.txt").write_text(f"{key.recipient()}\n")
    return (f'encrypt = "recipients"\nrecipients_file = "{home / "bench-recipients.txt"}"\n'
            f'identity_file = "{home / "bench-key.txt"}"\n')


def measure(tree: Tree, runs: int, mftui: str, mode: str = "passphrase") -> list[tuple[str, Pair]]:
    """(figure, pair of runs: a encrypted, b plain) for backup, verify and restore."""
    protection = _protection(tree.home, mode)
    enc_backups = tree.home / "backups-encrypted"
    enc_config = tree.home / "config-encrypted.toml"
    enc_restore_config = tree.home / "restore-encrypted.toml"
    _settings(enc_config, tree.root, enc_backups, protection)
    _settings(enc_restore_config, tree.restore_home / "instance", tree.restore_home / "backups", protection)
    plain_cfg, enc_cfg = ["--config", str(tree.config)], ["--config", str(enc_config)]
    pairs = [("backup", alternate(
        runs,
        lambda: run([mftui, *enc_cfg, "backup", "--name", "bench"]),
        lambda: run([mftui, *plain_cfg, "backup", "--name", "bench"]),
        before_a=lambda: empty_dir(enc_backups),
        before_b=lambda: empty_dir(tree.backups),
    ))]
    plain = sorted(tree.backups.glob("*.zip")) if tree.backups.is_dir() else []
    encrypted = sorted(enc_backups.glob("*.zip")) if enc_backups.is_dir() else []
    if not plain or not encrypted:
        return pairs
    pairs.append(("verify", alternate(
        runs,
        lambda: run([mftui, *enc_cfg, "verify", str(encrypted[-1])]),
        lambda: run([mftui, *plain_cfg, "verify", str(plain[-1])]),
    )))
    pairs.append(("restore", alternate(
        runs,
        lambda: run([mftui, "--config", str(enc_restore_config), "restore", "--yes", "--no-reboot", "--no-trial",
                     str(encrypted[-1])]),
        lambda: run([mftui, "--config", str(tree.restore_config), "restore", "--yes", "--no-reboot", "--no-trial",
                     str(plain[-1])]),
        before_a=lambda: reset_restore_target(tree),
        before_b=lambda: reset_restore_target(tree),
    )))
    return pairs


def rows(tree: Tree, pairs: list[tuple[str, Pair]], mode: str = "passphrase") -> list[str]:
    """Markdown rows: figure, tree, encrypted, plain, ratio, goal, met; and peak RSS."""
    out = []
    for figure, pair in pairs:
        failure = pair.failure()
        if failure or not pair.a or not pair.b:
            out.append(f"| {figure} ({mode} / plain) | {tree.label} | n/a | n/a | | <= {GOAL} | {failure} |")
            continue
        a, b = Pair.median(pair.a), Pair.median(pair.b)
        rss_a = max(r.peak_rss for r in pair.a) / 2**20
        rss_b = max(r.peak_rss for r in pair.b) / 2**20
        ratio = a / b if b else 0.0
        out.append(f"| {figure} ({mode} / plain) | {tree.label} | {a:.3f} s | {b:.3f} s | {ratio:.2f} | "
                   f"<= {GOAL} | {'yes' if ratio <= GOAL else 'NO'} |")
        out.append(f"| {figure} peak RSS ({mode} / plain) | {tree.label} | {rss_a:.0f} MiB | {rss_b:.0f} MiB | "
                   f"| <= 100 MiB | {'yes' if rss_a * 2**20 <= RSS_GOAL else 'NO'} |")
    return out


def scrypt_row(runs: int = 5) -> str:
    """The one scrypt (2^15) each passphrase command pays, measured here: a fixed cost, not one per byte."""
    import statistics
    import time

    from mftui.archive.age_keys import SCRYPT_LOG_N, ScryptRecipient

    took = []
    for _ in range(runs):
        start = time.perf_counter()
        ScryptRecipient(b"bench passphrase").wrap(bytes(16))  # a new salt each time: no derivation kept
        took.append(time.perf_counter() - start)
    return (f"| one scrypt (2^{SCRYPT_LOG_N}), in each passphrase row | | {statistics.median(took):.3f} s | | | "
            "fixed | |")


def table(lines: list[str]) -> str:
    head = "| figure | tree | encrypted | plain | ratio | goal | met |\n|---|---|---|---|---|---|---|"
    return head + "\n" + "\n".join(lines)
