"""The compose file, the Dockerfiles and the README checked against the code they run."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from vitrina_reco.settings import RecoSettings
from vitrina_shop.settings import ShopSettings
from vitrina_trainer.settings import TrainerSettings

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PACKAGES = {
    "trainer/Dockerfile": ("trainer", TrainerSettings),
    "reco-service/Dockerfile": ("reco-service", RecoSettings),
    "shop-service/Dockerfile": ("shop-service", ShopSettings),
}
# The default stack's services; the `spark` profile's are checked on their own below.
BUILDERS = {
    name: spec for name, spec in SERVICES.items() if "build" in spec and "profiles" not in spec
}
# The services that run an image of ours: built by them, or by another service naming the image.
BUILT = {
    name: {**spec, "build": BUILDERS[builder]["build"]}
    for name, spec in SERVICES.items()
    for builder in BUILDERS
    if name == builder or ("image" in spec and spec["image"] == BUILDERS[builder].get("image"))
}
SPARK = {name: spec for name, spec in SERVICES.items() if "spark" in spec.get("profiles", [])}


def settings_aliases(settings: type) -> set[str]:
    return {field.validation_alias for field in settings.model_fields.values()}


def dockerfile_json(path: Path, instruction: str) -> list[str]:
    import json

    lines = [line for line in path.read_text().splitlines() if line.startswith(instruction + " ")]
    return json.loads(lines[-1].removeprefix(instruction + " ")) if lines else []


def console_scripts(folder: str) -> set[str]:
    pyproject = tomllib.loads((REPO / folder / "pyproject.toml").read_text())
    return set(pyproject["project"]["scripts"])


def test_every_built_service_uses_a_known_dockerfile():
    assert set(BUILT) == {"data", "trainer", "reco-service", "shop-service"}
    for spec in BUILT.values():
        assert spec["build"]["context"] == "."
        assert spec["build"]["dockerfile"] in PACKAGES


def test_data_and_trainer_share_one_image_built_once():
    assert set(BUILDERS) == {"data", "reco-service", "shop-service"}
    assert SERVICES["data"]["image"] == SERVICES["trainer"]["image"]
    assert "build" not in SERVICES["trainer"]
    # compose builds before it starts anything in dependency order: the builder comes first
    assert "data" in SERVICES["trainer"]["depends_on"]


def test_the_one_shot_data_service_has_no_healthcheck():
    assert SERVICES["data"]["healthcheck"] == {"disable": True}
    assert "restart" not in SERVICES["data"]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_has_a_memory_limit_and_rotated_logs(service):
    spec = SERVICES[service]
    assert spec["mem_limit"]
    assert spec["logging"]["driver"] == "json-file"
    assert spec["logging"]["options"]["max-size"] and spec["logging"]["options"]["max-file"]


def test_postgres_is_checked_over_tcp():
    """A socket-only check passes while the entrypoint's temporary server (no TCP) runs."""
    assert "pg_isready -h 127.0.0.1" in SERVICES["postgres"]["healthcheck"]["test"][1]


def test_the_trainer_image_checks_that_a_model_is_served():
    from vitrina_trainer.cli import build_parser

    text = (REPO / "trainer" / "Dockerfile").read_text()
    assert '  CMD ["vitrina-trainer", "health"]' in text  # the HEALTHCHECK's second line
    build_parser().parse_args(["health"])


def test_the_spark_profile_is_self_contained_and_the_rest_needs_no_java():
    assert set(SPARK) == {"spark-master", "spark-worker", "trainer-spark"}
    for spec in SPARK.values():
        assert spec["build"] == {"context": ".", "dockerfile": "trainer/Dockerfile.spark"}
    assert "jre" in (REPO / "trainer" / "Dockerfile.spark").read_text()
    for dockerfile in PACKAGES:
        assert "jre" not in (REPO / dockerfile).read_text()
        assert "[spark]" not in (REPO / dockerfile).read_text()
    from vitrina_trainer.cli import build_parser

    args = build_parser().parse_args(SPARK["trainer-spark"]["command"])
    assert args.engine == "spark"
    assert args.spark_master == "spark://spark-master:7077"


@pytest.mark.parametrize("service", sorted(BUILT))
def test_command_is_a_console_script_of_the_image(service):
    spec = BUILT[service]
    dockerfile = REPO / spec["build"]["dockerfile"]
    folder, _ = PACKAGES[spec["build"]["dockerfile"]]
    entrypoint = dockerfile_json(dockerfile, "ENTRYPOINT")
    command = entrypoint + (spec.get("command") or dockerfile_json(dockerfile, "CMD"))
    assert command[0] in console_scripts(folder)
    if command[0] == "vitrina-trainer":
        from vitrina_trainer.cli import build_parser

        build_parser().parse_args(command[1:])  # exits (fails the test) on an unknown command


@pytest.mark.parametrize("service", sorted(BUILT))
def test_environment_is_read_by_the_service(service):
    spec = BUILT[service]
    _, settings = PACKAGES[spec["build"]["dockerfile"]]
    unknown = set(spec.get("environment", {})) - settings_aliases(settings)
    assert not unknown, f"{service} sets variables its settings never read: {sorted(unknown)}"


@pytest.mark.parametrize("service", ["reco-service", "shop-service"])
def test_ports_and_healthchecks_match_the_code(service, redis_url, monkeypatch):
    spec = SERVICES[service]
    dockerfile = REPO / spec["build"]["dockerfile"]
    command = dockerfile_json(dockerfile, "CMD")
    port = command[command.index("--port") + 1]
    assert any(mapping.endswith(f":{port}") for mapping in spec["ports"])
    assert f"EXPOSE {port}" in dockerfile.read_text()
    urls = re.findall(r"http://127\.0\.0\.1:(\d+)(/\w*)", " ".join(spec["healthcheck"]["test"]))
    urls += re.findall(r"http://127\.0\.0\.1:(\d+)(/\w*)", dockerfile.read_text())
    assert urls and all(url_port == port for url_port, _ in urls)
    monkeypatch.setenv("REDIS_URL", redis_url)
    for _, path in urls:
        assert health_status(service, path) == 200


def health_status(service: str, path: str) -> int:
    """The healthcheck's answer from the real app, in process."""
    if service == "reco-service":
        import asyncio

        import httpx

        from vitrina_reco.app import create_app

        async def get() -> int:
            transport = httpx.ASGITransport(create_app(RecoSettings()))
            async with httpx.AsyncClient(transport=transport, base_url="http://reco") as client:
                return (await client.get(path)).status_code

        return asyncio.run(get())
    from vitrina_shop import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    return app.test_client().get(path).status_code


def test_services_wait_for_healthy_dependencies():
    for name in ("reco-service", "shop-service", "trainer"):
        for dependency, condition in SERVICES[name]["depends_on"].items():
            one_shot = dependency == "data"
            expected = "service_completed_successfully" if one_shot else "service_healthy"
            assert condition["condition"] == expected
            if expected == "service_healthy":
                assert "healthcheck" in SERVICES[dependency] or dependency in BUILT


def test_secrets_are_required_not_defaulted():
    text = (REPO / "docker-compose.yml").read_text()
    for secret in ("POSTGRES_PASSWORD", "SHOP_SECRET_KEY", "RECO_API_TOKEN"):
        assert f"${{{secret}:?" in text
        assert f"{secret}=" in (REPO / "deploy" / ".env.example").read_text()
    assert "version" not in COMPOSE


def test_every_setting_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for settings in (TrainerSettings, RecoSettings, ShopSettings):
        missing = sorted(a for a in settings_aliases(settings) if f"`{a}`" not in readme)
        assert not missing, f"{settings.__name__}: not in README.md: {missing}"


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_accepts_the_file():
    result = subprocess.run(
        ["docker-compose", "--env-file", "deploy/.env.example", "config", "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_missing_secrets(tmp_path):
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose not installed")
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = subprocess.run(
        ["docker-compose", "--env-file", str(empty), "config", "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in deploy/.env" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["shared", "trainer", "reco-service", "shop-service"])
def test_the_wheel_carries_every_file_of_the_package(folder, tmp_path):
    """The images install wheels, not the work tree: templates and assets must be inside."""
    import zipfile

    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO / folder, capture_output=True, text=True, check=True
    ).stdout.split()
    source = tmp_path / "source"  # a clean copy: no egg-info or build/ left by earlier builds
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / folder / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path, source],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    in_package = [name for name in tracked if name.startswith("vitrina_")]
    assert in_package
    assert sorted(set(in_package) - packaged) == []
