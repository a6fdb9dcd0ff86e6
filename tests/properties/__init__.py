"""Property tests: replay correctness and the reliability suite (issue 7).

The number of examples depends on the hypothesis profile: the main properties run
thousands of examples under ``ci`` (what ``make test`` selects) and a handful under
``dev``, so the inner loop stays quick while CI searches hard.
"""

from __future__ import annotations

import os

CI = os.environ.get("HYPOTHESIS_PROFILE", "dev") == "ci"
"""True under the ``ci`` profile (``HYPOTHESIS_PROFILE=ci``, set by ``make test``)."""


def examples(ci: int, dev: int = 50) -> int:
    """How many examples a property runs: ``ci`` under the ci profile, else at most ``dev``.

    Read from the environment, as tests/conftest.py does when it loads the profile, so
    the number is fixed when the test module is imported.
    """
    return ci if CI else min(ci, dev)
