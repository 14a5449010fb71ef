"""Column names and metadata keys are written once, in the shared package, and imported elsewhere.

A string literal equal to one of them inside a service's code is a second copy of the agreement,
which the next change updates in one place and misses in the other.
"""

import ast
from pathlib import Path

import pytest

from vitrina_shared.model_meta import ModelMeta
from vitrina_shared.schema import Columns

REPO = Path(__file__).resolve().parent.parent
PACKAGES = {
    "trainer": REPO / "trainer" / "vitrina_trainer",
    "reco-service": REPO / "reco-service" / "vitrina_reco",
    "shop-service": REPO / "shop-service" / "vitrina_shop",
}
# The metadata keys distinctive enough to be nothing else ("data" or "version" could be anything).
META_KEYS = {"trained_at", "top_k", "similar_k", "published_at"}
# similar_item_id: the old name of the target item, so that it does not come back.
SHARED_NAMES = {Columns.SCORE, Columns.RANK, Columns.TARGET_ITEM, "similar_item_id", *META_KEYS}


def not_data(tree: ast.AST) -> set[int]:
    """Ids of the string nodes that name no data: docstrings, and attribute names (`getattr`)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "getattr":
            found.update(id(arg) for arg in node.args[1:2])
    return found


def literals(package: Path) -> list[str]:
    """`path:line "literal"` for each string literal in `package` that is a shared name."""
    hits = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = not_data(tree)
        hits += [
            f"{path.relative_to(REPO)}:{node.lineno} {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and node.value in SHARED_NAMES
            and id(node) not in skipped
        ]
    return hits


def test_the_metadata_keys_looked_for_are_fields_of_the_shared_model():
    assert set(ModelMeta.model_fields) >= META_KEYS


@pytest.mark.parametrize("package", PACKAGES)
def test_no_copy_of_a_shared_name(package):
    assert literals(PACKAGES[package]) == []
