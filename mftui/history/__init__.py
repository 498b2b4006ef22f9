"""The backups a unit keeps: catalog, retention, audit log, what changed (issue 13)."""
