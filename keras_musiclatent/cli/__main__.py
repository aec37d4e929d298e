"""``python -m keras_musiclatent.cli``."""

import sys

from keras_musiclatent.cli.main import main

sys.exit(main())
