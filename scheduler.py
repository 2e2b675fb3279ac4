"""The long-running scheduler: ``python scheduler.py`` (the same as ``digiweetjes scheduler``).

Sends scheduled issues at their time, Brussels time; see README.md, "The scheduler".
"""

import sys

from digiweetjes.cli.scheduler import main

if __name__ == "__main__":
    sys.exit(main())
