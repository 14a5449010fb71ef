"""`make mutation`: mutmut on the modules where a one-line bug costs money, access or a model.

mutmut expects one importable source folder; Vitrina is four packages side by side. So this builds
a workspace in `build/mutation/`: every package under `src/` and the tests that cover the targets,
then runs `mutmut run` there and prints the score and the surviving mutants. Nothing in the
repository is modified. To cover another module, add it to TARGETS with the tests that cover it.
"""

import argparse
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKSPACE = REPO / "build" / "mutation"
PACKAGES = {
    "shared": "vitrina_shared",
    "trainer": "vitrina_trainer",
    "reco-service": "vitrina_reco",
    "shop-service": "vitrina_shop",
}
# Module to mutate → the test files that should kill its mutants.
TARGETS = {
    "reco-service/vitrina_reco/dependencies.py": [
        "reco-service/tests/test_dependencies.py",
    ],
    "reco-service/vitrina_reco/selection.py": [
        "reco-service/tests/test_selection.py",
    ],
    "shared/vitrina_shared/model_store.py": [
        "shared/tests/test_model_store.py",
    ],
    "shop-service/vitrina_shop/views/orders.py": [
        "shop-service/tests/test_orders.py",
    ],
    "shop-service/vitrina_shop/data/carts.py": [
        "shop-service/tests/test_cart.py",
    ],
    "shop-service/vitrina_shop/views/auth.py": [
        "shop-service/tests/test_auth.py",
        "shop-service/tests/test_throttle.py",
    ],
    "shop-service/vitrina_shop/throttle.py": [
        "shop-service/tests/test_throttle.py",
    ],
    "shop-service/vitrina_shop/recommendations.py": [
        "shop-service/tests/test_recommendations.py",
        "shop-service/tests/test_catalog.py",
    ],
    "shop-service/vitrina_shop/cache.py": [
        "shop-service/tests/test_cache.py",
        "shop-service/tests/test_recommendations.py",
    ],
}


def in_workspace(path: str) -> str:
    """`reco-service/vitrina_reco/x.py` → `src/vitrina_reco/x.py`."""
    folder, rest = path.split("/", 1)
    return f"src/{rest}" if folder in PACKAGES else path


def build(targets: dict[str, list[str]]) -> None:
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    (WORKSPACE / "src").mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder, package in PACKAGES.items():
        shutil.copytree(REPO / folder / package, WORKSPACE / "src" / package, ignore=ignore)
    test_dirs = sorted(
        {test.split("/tests/")[0] + "/tests" for tests in targets.values() for test in tests}
    )
    for test_dir in test_dirs:
        shutil.copytree(REPO / test_dir, WORKSPACE / test_dir, ignore=ignore)
    shutil.copy2(REPO / "conftest.py", WORKSPACE / "conftest.py")
    pytest_options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    config = {
        "source_paths": ["src"],
        "only_mutate": [in_workspace(module) for module in targets],
        "also_copy": ["conftest.py", *test_dirs],
        "pytest_add_cli_args_test_selection": sorted({t for ts in targets.values() for t in ts}),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-m", "not slow"],
    }
    (WORKSPACE / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        + "".join(f"{key} = {toml_list(value)}\n" for key, value in config.items())
        + "\n[tool.pytest.ini_options]\n"
        + "".join(
            f"{key} = {toml_value(value)}\n"
            for key, value in pytest_options["ini_options"].items()
            if key != "testpaths"
        )
    )


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{value}"' for value in values) + "]"


def toml_value(value: object) -> str:
    if isinstance(value, list):
        return toml_list([str(v).replace('"', '\\"') for v in value])
    if isinstance(value, str):
        return f'"{value}"'
    return str(value).lower() if isinstance(value, bool) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once")
    args = parser.parse_args()
    build(TARGETS)
    mutmut = str(Path(sys.executable).parent / "mutmut")
    run = subprocess.run(
        [mutmut, "run", "--max-children", str(args.max_children)], cwd=WORKSPACE, check=False
    )
    results = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=WORKSPACE, capture_output=True, text=True
    ).stdout
    report(results)
    sys.exit(run.returncode)


def report(results: str) -> None:
    status = {}
    for line in results.splitlines():
        name, _, verdict = line.strip().rpartition(": ")
        if name:
            status[name] = verdict
    killed = sum(v == "killed" for v in status.values())
    share = killed / max(len(status), 1)
    print(f"\nmutation score: {killed} of {len(status)} mutants killed ({share:.1%})")
    where = WORKSPACE.relative_to(REPO)
    for name in sorted(name for name, v in status.items() if v != "killed"):
        print(f"  {status[name]}: {name}   (cd {where} && mutmut show {name})")


if __name__ == "__main__":
    main()
