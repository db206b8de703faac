"""Errors a user can cause and fix: the CLI prints their message, never a traceback."""


class AntkitError(Exception):
    """A problem with the user's input (recipe, data, checkpoint, plugin), explained in the message."""


class RecipeError(AntkitError):
    """A recipe file (or an override) that does not describe a valid run."""


class PluginError(AntkitError):
    """A plugin that cannot be loaded, or two plugins providing the same component name."""


class DataError(AntkitError):
    """A data file or data source that cannot be read or processed."""


class CheckpointError(AntkitError):
    """A checkpoint that is missing, corrupt, or does not fit the model it is loaded into."""
