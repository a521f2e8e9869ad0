"""`python -m stance.cli`: the command line."""

import sys

from stance.cli.main import main

sys.exit(main())
