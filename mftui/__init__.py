"""mftui: back up and restore a MobiusFlow-style instance's configuration."""

__version__ = "0.1.0"
