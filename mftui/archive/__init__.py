"""The backup archive: format v1, writing, reading, validating. No UI, no printing."""
