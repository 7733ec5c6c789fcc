"""Check that the committed locks still match pyproject.toml (run by `make install` after installing the lock).

Every requirement that pyproject.toml declares (runtime and every extra) must be pinned in
requirements/lock.txt with a version that its range allows, and requirements/runtime.txt must pin
the same versions as lock.txt. A mismatch means pyproject.toml changed without `make lock`.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def pins(path: Path) -> dict[str, str]:
    """Name -> version of the `name==version` lines of a lock that apply to this interpreter."""
    found: dict[str, str] = {}
    env = default_environment()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip().rstrip("\\").strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        (spec,) = requirement.specifier
        found[canonicalize_name(requirement.name)] = spec.version
    return found


def declared(pyproject: Path) -> dict[str, list[Requirement]]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    groups = {"runtime": [Requirement(r) for r in project.get("dependencies", [])]}
    for extra, items in project.get("optional-dependencies", {}).items():
        groups[extra] = [Requirement(r) for r in items]
    return groups


def problems() -> list[str]:
    lock, runtime = HERE / "lock.txt", HERE / "runtime.txt"
    missing = [str(p.relative_to(ROOT)) for p in (lock, runtime) if not p.is_file()]
    if missing:
        return [f"{', '.join(missing)} missing"]
    locked, runtime_pins = pins(lock), pins(runtime)
    found: list[str] = []
    groups = declared(ROOT / "pyproject.toml")
    for group, requirements in groups.items():
        for requirement in requirements:
            name = canonicalize_name(requirement.name)
            if name not in locked:
                found.append(f"{requirement} ({group}) is not in requirements/lock.txt")
            elif not requirement.specifier.contains(locked[name], prereleases=True):
                found.append(f"{requirement} ({group}) does not allow the locked {name}=={locked[name]}")
            if group == "runtime" and name not in runtime_pins:
                found.append(f"{requirement} is not in requirements/runtime.txt")
    for name, version in runtime_pins.items():
        if locked.get(name) != version:
            found.append(f"requirements/runtime.txt pins {name}=={version}, lock.txt {locked.get(name, 'nothing')}")
    return found


def drift() -> None:
    """Print what this environment installed that differs from lock.txt (make test-latest)."""
    from importlib.metadata import distributions

    locked = pins(HERE / "lock.txt")
    changed = sorted(
        (canonicalize_name(d.metadata["Name"]), locked[canonicalize_name(d.metadata["Name"])], d.version)
        for d in distributions()
        if canonicalize_name(d.metadata["Name"]) in locked and locked[canonicalize_name(d.metadata["Name"])] != d.version
    )
    print(f"{len(changed)} installed version(s) differ from requirements/lock.txt" + (":" if changed else ""))
    for name, old, new in changed:
        print(f"  {name}: locked {old}, testing {new}")


def main() -> int:
    if sys.argv[1:] == ["--drift"]:
        drift()
        return 0
    found = problems()
    if found:
        print("The lock does not match pyproject.toml (run `make lock` and commit requirements/):", file=sys.stderr)
        for problem in found:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
