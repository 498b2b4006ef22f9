"""Screens of the mftui TUI."""
