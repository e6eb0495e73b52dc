"""The cache of parsed built-ins: the same Network as parsing, renewed when the spec changes, harmless
when the cache folder cannot be written or holds a damaged entry, and it spares the spec machinery."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hetcalc import builtin_cache, spec
from hetcalc.architectures import builtin_path, resolve
from hetcalc.spec import load_spec_file

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("HETCALC_CACHE_DIR", str(folder))
    return folder


def _refuse_parsing(monkeypatch):
    def refuse(path):
        raise AssertionError(f"parsed {path} although it is cached")

    monkeypatch.setattr(spec, "load_spec_file", refuse)


@pytest.mark.parametrize("name", ["vgg16", "resnet50", "mobilenet"])
def test_a_cached_builtin_is_the_parsed_one(cache, monkeypatch, name):
    first = resolve(name)  # parsed, then stored
    assert len(list(cache.glob(f"{name}-*.pickle"))) == 1
    _refuse_parsing(monkeypatch)
    again = resolve(name)
    assert again == first and again.source == f"built-in architectures/{name}.yaml"
    parsed = load_spec_file(builtin_path(name))
    assert again.layers == parsed.layers and again.input == parsed.input


def test_an_edited_spec_is_parsed_again(cache, tmp_path, monkeypatch):
    yaml = tmp_path / "net.yaml"
    yaml.write_text("input: [3, 8, 8]\nlayers:\n  - conv: 8\n", encoding="utf-8")
    a = builtin_cache.load_builtin(yaml, "built-in net")
    yaml.write_text("input: [3, 8, 8]\nlayers:\n  - conv: 16\n", encoding="utf-8")
    b = builtin_cache.load_builtin(yaml, "built-in net")
    assert a.layers[0].N == 8 and b.layers[0].N == 16
    assert len(list(cache.glob("net-*.pickle"))) == 2


def test_a_damaged_entry_is_parsed_and_replaced(cache):
    good = resolve("resnet56")
    (entry,) = cache.glob("resnet56-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert resolve("resnet56") == good
    assert entry.read_bytes() != b"not a pickle"


def test_a_cache_folder_that_cannot_be_made_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("HETCALC_CACHE_DIR", str(blocker / "cache"))  # a folder inside a file: never made
    assert resolve("vgg16").name == "vgg16"


def test_a_warm_cache_spares_the_spec_machinery(tmp_path):
    """With the cache warm, `hetcalc resnet50` never imports hetcalc.network.spec (nor hetcalc.core.yamlio)."""
    env = {**os.environ, "HETCALC_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for run in ("cold", "warm"):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "hetcalc", "resnet50", "--P", "4"],
                              env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                    if line.startswith("import time:")}
        assert ("hetcalc.network.spec" in imported) == (run == "cold"), run
    assert "HetConv" in done.stdout
