# Copyright: mftui maintainers
# MIT License (see the repository's LICENSE)
"""The options every mftui module shares (module_utils/mftui.py COMMON_ARGS and KEY_ARGS), documented once."""

from __future__ import annotations


class ModuleDocFragment:
    # command, config: every module (COMMON_ARGS).
    DOCUMENTATION = r"""
options:
  command:
    description:
      - The mftui command line on the unit (a path, or a name on PATH; may hold arguments, e.g. C(sudo mftui)).
    type: str
    default: mftui
  config:
    description:
      - The settings file on the unit (C(--config)). Default is mftui's own lookup (C($MFTUI_CONFIG),
        C(/etc/mftui/config.toml), the user config file).
    type: path
"""

    # identity, passphrase_file: the modules that open a backup (KEY_ARGS).
    KEYS = r"""
options:
  identity:
    description:
      - An age key file or an OpenSSH private key that opens an encrypted backup (C(--identity)); a file on the
        host that runs mftui. Default is C([protection] identity_file) of its settings.
    type: path
  passphrase_file:
    description:
      - A file whose first line is the passphrase of an encrypted backup (C(--passphrase-file)); a file on the
        host that runs mftui, never the passphrase itself.
    type: path
"""
