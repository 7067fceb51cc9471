"""``python -m sinch_calling_server``: the same as the ``sinch-calling-server`` command."""

from .cli import main

raise SystemExit(main())
