"""`make up` on a fresh clone: deploy/.env from deploy/.env.example, with fresh random secrets.

Every variable the example leaves as the placeholder `change-me` gets its own random value, so the
stack starts in production mode with no editing; nothing else is changed. An existing file is never
overwritten (its secrets are the ones the volumes were made with).
"""

import os
import re
import secrets
import sys
from pathlib import Path

PLACEHOLDER = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]*)=change-me$", re.MULTILINE)


def with_secrets(example: str) -> str:
    """The example's text with each `NAME=change-me` line given a fresh random secret."""
    return PLACEHOLDER.sub(lambda m: f"{m['name']}={secrets.token_urlsafe(32)}", example)


def main(argv: list[str]) -> int:
    example, target = Path(argv[0]), Path(argv[1])
    if target.exists():
        print(f"{target} exists: kept as it is")
        return 0
    text = with_secrets(example.read_text())
    # Created readable by its owner only: it holds the stack's secrets.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    names = ", ".join(m["name"] for m in PLACEHOLDER.finditer(example.read_text()))
    print(f"wrote {target} with fresh random secrets ({names}); keep it, it is not in git")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
