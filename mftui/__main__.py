"""python -m mftui: the same as the mftui command."""

from .cli import main

raise SystemExit(main())
