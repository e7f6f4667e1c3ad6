"""The hash-pinned lock that `make setup` installs, and how the installed packages differ
from it.

`python -m instructvl.lockfile LOCK` lists every locked package whose installed version
differs (or that is missing) and exits 1 if any does; setup runs it after installing, and
`make test-latest` runs it to show what moved.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

from instructvl.errors import InstructVLError

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical_name(name: str) -> str:
    """A distribution name as PEP 503 compares them (case, '-', '_' and '.' alike)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """{canonical name: pinned version} of a pip requirements lock (`name==version`
    lines; hash continuation lines, comments and blank lines ignored)."""
    if not path.is_file():
        raise InstructVLError(f"{path}: no such lock file (make lock writes it)")
    pins: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith(("#", "--hash")):
            continue
        match = _PIN.match(text)
        if match is None:
            raise InstructVLError(f"{path}:{number}: expected 'name==version', got {text[:80]!r}")
        pins[canonical_name(match.group(1))] = match.group(2)
    if not pins:
        raise InstructVLError(f"{path}: no pinned packages")
    return pins


def installed_versions() -> dict[str, str]:
    """{canonical name: version} of every distribution installed in this interpreter."""
    return {canonical_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}


def lock_differences(pins: dict[str, str], installed: dict[str, str]) -> list[str]:
    """One line per locked package whose installed version is not the pinned one, or
    that is not installed; empty when the environment is the lock."""
    lines = []
    for name, pinned in sorted(pins.items()):
        have = installed.get(name)
        if have is None:
            lines.append(f"{name}: locked {pinned}, not installed")
        elif have != pinned:
            lines.append(f"{name}: locked {pinned}, installed {have}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Compares this interpreter's packages with the lock named in `argv`; 1 if they differ."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m instructvl.lockfile LOCK", file=sys.stderr)
        return 2
    try:
        pins = read_lock(Path(args[0]))
    except InstructVLError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    differences = lock_differences(pins, installed_versions())
    if differences:
        print(f"{len(differences)} of {len(pins)} locked packages differ from {args[0]}:")
        print("\n".join(f"  {line}" for line in differences))
        return 1
    print(f"all {len(pins)} locked packages installed at their locked versions ({args[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
