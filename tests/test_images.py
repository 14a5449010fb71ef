"""What the images install, checked without building them: locks, layers, what stays out."""

import ast
import os
import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "deploy"))
from lock import IMAGES, canonical  # noqa: E402
from new_env import main as new_env  # noqa: E402
from new_env import with_secrets  # noqa: E402

sys.path.pop(0)

TEST_HELPERS = ("redis_server", "processes")
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;]+)$")


def pins(requirements: list[str]) -> dict[str, str]:
    found = {}
    for requirement in requirements:
        if match := PIN.match(requirement):
            found[canonical(match[1])] = match[2]
    return found


def pyproject(folder: str) -> dict:
    return tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]


def declared_pins(requirement: str) -> dict[str, str]:
    """The exact pins that a `./folder[extra,…]` requirement of an image declares."""
    folder, _, extras = requirement.removeprefix("./").partition("[")
    project = pyproject(folder)
    found = pins(project["dependencies"])
    for extra in filter(None, extras.rstrip("]").split(",")):
        found |= pins(project["optional-dependencies"][extra])
    return found


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_the_lock_agrees_with_the_pyproject_pins(image):
    lock = (REPO / image / "requirements.lock").read_text().splitlines()
    locked = pins([line for line in lock if line and not line.startswith("#")])
    assert locked, f"{image}/requirements.lock pins nothing"
    for requirement in IMAGES[image]:
        declared = declared_pins(requirement)
        differ = {n: (v, locked.get(n)) for n, v in declared.items() if locked.get(n) != v}
        assert not differ, f"{image}: pyproject pin vs lock (run `make lock`): {differ}"
    assert not [name for name in locked if name.startswith("vitrina-")]


@pytest.mark.parametrize("image", ["reco-service", "shop-service"])
def test_service_images_install_no_ml_libraries(image):
    """No model libraries in the services; the shop's KPIs need scipy/statsmodels, reco none."""
    locked = (REPO / image / "requirements.lock").read_text()
    for library in ("lightgbm", "rectools", "rectools-lightfm", "implicit", "scikit-learn"):
        assert f"\n{library}==" not in locked
    if image == "reco-service":
        for library in ("pandas", "numpy", "pyarrow", "scipy", "statsmodels"):
            assert f"\n{library}==" not in locked


def test_reco_service_imports_no_data_libraries():
    """reco-service's image carries no pandas/numpy/pyarrow: its code must never import them."""
    code = (
        "import sys\n"
        "from vitrina_reco.cli import main\n"
        "from vitrina_reco.app import create_app\n"
        "from vitrina_reco.settings import RecoSettings\n"
        "create_app(RecoSettings())\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "VITRINA_ENV"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"


def imported_modules(folder: Path) -> set[str]:
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
    return names


def test_test_helpers_stay_out_of_the_images():
    """The private redis-server and process helpers serve tests and `make demo` only."""
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    packages = [
        REPO / "trainer" / "vitrina_trainer",
        REPO / "reco-service" / "vitrina_reco",
        REPO / "shop-service" / "vitrina_shop",
    ]
    for helper in TEST_HELPERS:
        assert f"shared/vitrina_shared/{helper}.py" in ignored
        for package in packages:
            assert f"vitrina_shared.{helper}" not in imported_modules(package)


@pytest.mark.parametrize("dockerfile", ["trainer", "reco-service", "shop-service"])
def test_dependencies_are_installed_before_the_code_is_copied(dockerfile):
    """A code change must not reinstall (or recompile) the dependencies."""
    lines = (REPO / dockerfile / "Dockerfile").read_text().splitlines()
    lock_copy = lines.index(
        f"COPY {dockerfile}/requirements.lock /src/{dockerfile}/requirements.lock"
    )
    lock_install = next(i for i, line in enumerate(lines) if "pip install -r" in line)
    code_copy = lines.index("COPY shared /src/shared")
    assert lock_copy < lock_install < code_copy
    assert "--mount=type=cache,target=/root/.cache/pip" in lines[lock_install - 1]
    # the runtime stage takes the dependencies and the code from different stages
    assert "COPY --from=venv /opt/venv /opt/venv" in lines
    assert "COPY --from=code /opt/app /opt/app" in lines
    assert lines.index("FROM deps AS code") < code_copy


def test_the_trainer_image_is_not_tied_to_the_build_cpu():
    assert "LIGHTFM_NO_CFLAGS=1" in (REPO / "trainer" / "Dockerfile").read_text()


def test_the_env_file_gets_fresh_random_secrets(tmp_path, capsys):
    example = (REPO / "deploy" / ".env.example").read_text()
    first, second = tmp_path / "first.env", tmp_path / "second.env"
    for target in (first, second):
        assert new_env([str(REPO / "deploy" / ".env.example"), str(target)]) == 0
    assert "with fresh random secrets" in capsys.readouterr().out
    values = [dict(re.findall(r"^(\w+)=(.*)$", p.read_text(), re.M)) for p in (first, second)]
    placeholders = re.findall(r"^(\w+)=change-me$", example, re.M)
    assert set(placeholders) == {"POSTGRES_PASSWORD", "SHOP_SECRET_KEY", "RECO_API_TOKEN"}
    for name in placeholders:
        assert len(values[0][name]) >= 32 and values[0][name] != values[1][name]
    assert "change-me" not in values[0].values()
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert with_secrets("A=1\n") == "A=1\n"


def test_an_existing_env_file_is_kept(tmp_path):
    target = tmp_path / ".env"
    target.write_text("POSTGRES_PASSWORD=mine\n")
    assert new_env([str(REPO / "deploy" / ".env.example"), str(target)]) == 0
    assert target.read_text() == "POSTGRES_PASSWORD=mine\n"


@pytest.mark.parametrize(
    ("command", "variable"),
    [("vitrina-reco", "RECO_API_TOKEN"), ("vitrina-shop", "SHOP_SECRET_KEY")],
)
def test_a_placeholder_secret_stops_the_service_in_one_line(command, variable, tmp_path):
    env = {
        **os.environ,
        "VITRINA_ENV": "production",
        "RECO_API_TOKEN": "a-real-token-1b2e9f",
        "SHOP_SECRET_KEY": "a-real-key-1b2e9f",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
        variable: "change-me",
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / command)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"{command}: error: {variable} must be set to a real secret when VITRINA_ENV=production"
    ]
