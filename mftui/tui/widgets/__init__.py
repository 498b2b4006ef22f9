"""Widgets of the mftui TUI."""
