"""Shared fixtures: real article folders and real Whoosh indexes on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer import open_index

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="run long soak/load tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def build_index(tmp_path: Path, bodies: dict[str, str]):
    """A real index over one short article per ``{file name: body}``, built serially."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, body in bodies.items():
        (folder / f"{name}.txt").write_text(f"Tin {name}\n01/01/2021\n{body}\nPV\n", encoding="utf-8")
    ix = open_index(tmp_path / "ix")
    ix.update([folder], jobs=1)
    return ix


def emptied_index(tmp_path: Path, how: str = "all removed") -> Path:
    """A real index with no articles: built from an empty feed, or emptied by removing every source file."""
    if how == "empty feed":
        feed = tmp_path / "feed.jsonl"
        feed.write_text("", encoding="utf-8")
        open_index(tmp_path / "ix").update([feed], jobs=1)
    else:
        folder = tmp_path / "articles"
        folder.mkdir()
        for f in list(SEEDS.glob("*.txt"))[:3]:
            (folder / f.name).write_bytes(f.read_bytes())
        assert open_index(tmp_path / "ix").update([folder], jobs=1).added == 3
        for f in folder.iterdir():
            f.unlink()
        assert open_index(tmp_path / "ix").update([folder], jobs=1).removed == 3
    return tmp_path / "ix"


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    """A private, writable copy of the seeds plus the fixture articles."""
    target = tmp_path / "articles"
    shutil.copytree(SEEDS, target)
    for f in (FIXTURES / "articles").iterdir():
        shutil.copy(f, target / f.name)
    return target


@pytest.fixture(scope="session")
def shared_index(tmp_path_factory):
    """One index over seeds + fixtures, built once, for read-only search tests."""
    base = tmp_path_factory.mktemp("shared")
    articles = base / "articles"
    shutil.copytree(SEEDS, articles)
    for f in (FIXTURES / "articles").iterdir():
        shutil.copy(f, articles / f.name)
    ix = open_index(base / "index")
    report = ix.update([articles], jobs=1)
    assert report.added == 5 + 4 + 3, report.summary()
    yield ix
    ix.close()


@pytest.fixture
def app(shared_index):
    from search_web import create_app

    return create_app(index_dir=shared_index.index_dir, test_config={"TESTING": True, "PER_PAGE": 3})


@pytest.fixture
def client(app):
    return app.test_client()
