"""A plugin whose import fails, as when its author forgot a dependency."""

import a_module_that_does_not_exist  # noqa: F401
