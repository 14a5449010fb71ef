"""The trainer's expected failures: the CLI prints their message and exits non-zero."""


class TrainerError(RuntimeError):
    """Bad input, too little data, an unreachable service: something the user can fix."""
