import sys

from tracemix.cli import main

sys.exit(main())
