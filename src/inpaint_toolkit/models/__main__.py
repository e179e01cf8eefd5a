"""``python -m inpaint_toolkit.models SOURCE TARGET``: package a training checkpoint."""

import sys

from inpaint_toolkit.models import package_models

print(package_models(sys.argv[1], sys.argv[2]))
