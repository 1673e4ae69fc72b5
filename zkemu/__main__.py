import sys

from zkemu.cli import main

sys.exit(main())
