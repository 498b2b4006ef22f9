"""Modal dialogs of the mftui TUI."""
