"""``python -m durasim`` is the ``durasim`` command."""

from __future__ import annotations

import sys

from durasim.cli import main

sys.exit(main())
