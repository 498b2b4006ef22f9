"""The backups a unit keeps: the audit log (who did what), pins, retention and pruning.

Core code: no Textual, no printing. The CLI (cli_history.py) and the TUI call it.
"""
