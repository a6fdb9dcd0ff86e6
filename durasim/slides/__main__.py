"""``python -m durasim.slides``: build or present the decks."""

import sys

from durasim.slides import main

sys.exit(main())
