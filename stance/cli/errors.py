"""The one error type subcommands raise for a bad request: printed as one line, exit code 2."""


class UsageError(Exception):
    """A problem with what the user asked for."""
