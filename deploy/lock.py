"""`make lock`: each image's dependencies, resolved once, in `<package>/requirements.lock`.

The Dockerfiles install from these files, so two builds a month apart install the same versions.
pip resolves the packages as the image installs them (without installing anything); the lock holds
every third-party distribution with its exact version, and nothing of Vitrina's own.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What each image installs, as pip requirements relative to the repository.
IMAGES = {
    "trainer": ["./shared[events]", "./trainer"],
    "reco-service": ["./shared", "./reco-service"],
    "shop-service": ["./shared[events]", "./shop-service"],
}
HEADER = "# {folder}'s image installs exactly these (`make lock` regenerates this file).\n"


def canonical(name: str) -> str:
    """A distribution name as PEP 503 normalises it: `Prometheus_Client` → `prometheus-client`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve(requirements: list[str]) -> list[str]:
    """`name==version` of every distribution pip would install, Vitrina's own left out."""
    report = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed"),
            *("--report", "-", *requirements),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pins = {
        canonical(item["metadata"]["name"]): item["metadata"]["version"]
        for item in json.loads(report)["install"]
    }
    return [f"{name}=={pins[name]}" for name in sorted(pins) if not name.startswith("vitrina-")]


def main() -> int:
    for folder, requirements in IMAGES.items():
        path = REPO / folder / "requirements.lock"
        path.write_text(HEADER.format(folder=folder) + "\n".join(resolve(requirements)) + "\n")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
