"""Getting backups on and off the box without a network.

copy.py (a verified copy to a folder, the scp line), media.py (the USB sticks
mounted, sync, unmount), zmodem.py (sz/rz over the console line), armour.py
and paste.py (a backup as numbered text lines, printed and pasted back),
incoming.py (where a received backup is checked before it gets its name),
tty.py (the terminal's settings kept across a transfer), line_speed.py (how
long it takes on a serial line), audit.py (copy, send, receive in the audit log).
"""
