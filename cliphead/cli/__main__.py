"""``python -m cliphead.cli``: the same as the ``cliphead`` console script."""

import sys

from cliphead.cli import main

sys.exit(main())
