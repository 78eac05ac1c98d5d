"""Write docs/commands.md from the command line's parsers (run after changing a command)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.cli.reference import write_reference  # noqa: E402

print(f"wrote {write_reference()}")
