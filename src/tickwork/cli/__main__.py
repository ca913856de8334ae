from __future__ import annotations

import sys

from tickwork.cli import main

sys.exit(main())
