"""docs/architecture.md against the code: the C4 diagrams name what compose runs and what exists."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
DIAGRAMS = {
    block.split(None, 1)[0]: block for block in re.findall(r"```mermaid\n(.*?)```", DOC, re.S)
}
PACKAGES = (REPO / "trainer" / "vitrina_trainer", REPO / "shared" / "vitrina_shared")


def test_all_three_levels_are_drawn():
    assert set(DIAGRAMS) == {"C4Context", "C4Container", "C4Component"}


def test_every_compose_service_is_a_container():
    labels = set(re.findall(r'Container(?:Db)?\(\w+, "([^"]+)"', DIAGRAMS["C4Container"]))
    assert set(COMPOSE["services"]) <= labels


def test_every_published_port_and_volume_is_named():
    container = DIAGRAMS["C4Container"]
    ports = [
        port.split(":")[-1]
        for service in COMPOSE["services"].values()
        for port in service.get("ports", [])
    ]
    assert ports
    for port in ports:
        assert f"port {port}" in container
    for volume in COMPOSE["volumes"]:
        assert f"volume {volume}" in container


def test_every_module_of_the_component_view_exists():
    modules = re.findall(r"([a-z_]+\.py)", DIAGRAMS["C4Component"])
    assert len(modules) >= 10
    missing = [m for m in modules if not any((package / m).is_file() for package in PACKAGES)]
    assert missing == []
