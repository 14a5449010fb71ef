"""Fixtures of the whole-stack tests: deploy/stack.py is importable as `stack`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy"))
