"""The cache of parsed built-ins: the same Network as parsing, renewed when the spec changes, harmless
when the cache folder cannot be written or holds a damaged entry, and it spares the spec machinery."""

from __future__ import annotations

import json
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
    assert len(list(cache.glob(f"{name}-*.json"))) == 1
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
    assert len(list(cache.glob("net-*.json"))) == 2


def test_a_damaged_entry_is_parsed_and_replaced(cache):
    good = resolve("resnet56")
    (entry,) = cache.glob("resnet56-*.json")
    entry.write_bytes(b"not an entry")
    assert resolve("resnet56") == good
    assert entry.read_bytes() != b"not an entry"


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


# Hostile caches (issue 20, class 1): an entry can never run code or change a number, and a special file
# in its place never blocks. Each attack first warms the cache, then plants something where entries live.

# CIFAR-10 VGG-16 by eq. 1, K^2 M N D^2 per convolution, plus its FC layers 512-512-10 (a forgery gave 125,485,696)
VGG16_CONVS = [(3, 64, 32), (64, 64, 32), (64, 128, 16), (128, 128, 16), (128, 256, 8), (256, 256, 8), (256, 256, 8),
               (256, 512, 4), (512, 512, 4), (512, 512, 4), (512, 512, 2), (512, 512, 2), (512, 512, 2)]
VGG16_FLOPS = sum(9 * m * n * d * d for m, n, d in VGG16_CONVS) + 512 * 512 + 512 * 10


def _vgg16_flops(name="vgg16"):
    from hetcalc import analyze

    return analyze(resolve(name)).variants[0].flops


def _code_running_pickle(marker: Path) -> bytes:
    import pickle

    class Plant:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    return pickle.dumps(Plant())


def _forged_pickle(network, source: str) -> bytes:
    import pickle
    from dataclasses import replace

    return pickle.dumps(replace(network, source=source))


def test_a_planted_pickle_never_runs(cache, tmp_path):
    resolve("vgg16")
    marker = tmp_path / "ran"
    for entry in cache.iterdir():
        entry.write_bytes(_code_running_pickle(marker))
    assert resolve("vgg16").layers == load_spec_file(builtin_path("vgg16")).layers
    assert not marker.exists()


def test_another_network_filed_under_vgg16_is_not_served(cache):
    resolve("vgg16")
    resolve("resnet56")
    other = resolve("resnet56")
    for entry in cache.glob("vgg16-*"):  # both what today's names and a forged pickle look like
        entry.write_bytes(_forged_pickle(other, "built-in architectures/vgg16.yaml"))
    (vgg,) = cache.glob("vgg16-*")
    (res,) = cache.glob("resnet56-*")
    assert _vgg16_flops() == VGG16_FLOPS
    vgg.write_bytes(res.read_bytes())  # a well-formed entry of another network, under vgg16's name
    assert _vgg16_flops() == VGG16_FLOPS


def _forge_entry(cache, stem: str, network) -> Path:
    """A well-formed entry (right name, key and digest) holding `network`: only the checks on who may write
    the cache stop it."""
    (entry,) = cache.glob(f"{stem}-*")
    key = entry.name[len(stem) + 1:-len(".json")]
    body = json.dumps(builtin_cache.encode(network)).encode()
    digest = builtin_cache.blake2b(body, digest_size=32).hexdigest()
    entry.write_bytes(json.dumps({"format": builtin_cache.FORMAT, "key": key, "digest": digest}).encode()
                      + b"\n" + body)
    return entry


def test_a_well_formed_forgery_is_what_the_checks_must_stop(cache):
    """The control for the tests below: a forged entry in a private folder is served (a user can always
    edit their own files), so those tests show that the ownership and permission checks are what stop it."""
    from dataclasses import replace

    resolve("vgg16")
    forged = replace(resolve("resnet56"), source="built-in architectures/vgg16.yaml")
    _forge_entry(cache, "vgg16", forged)
    assert resolve("vgg16") == forged


@pytest.mark.parametrize("attack", ["folder writable by others", "folder writable by the group",
                                    "entry writable by others", "entry owned by another user",
                                    "folder owned by another user", "entry is a symlink",
                                    "folder is a symlink"])
def test_an_entry_others_could_have_written_is_not_used(cache, tmp_path, attack, monkeypatch):
    from dataclasses import replace

    resolve("vgg16")
    forged = replace(resolve("resnet56"), source="built-in architectures/vgg16.yaml")
    entry = _forge_entry(cache, "vgg16", forged)
    if attack == "folder writable by others":
        cache.chmod(0o777)
    elif attack == "folder writable by the group":
        cache.chmod(0o770)
    elif attack == "entry writable by others":
        entry.chmod(0o646)
    elif attack.endswith("owned by another user"):
        if os.geteuid() != 0:
            pytest.skip("changing a file's owner needs root")
        os.chown(entry if attack.startswith("entry") else cache, 65534, 65534)
    elif attack == "entry is a symlink":
        elsewhere = tmp_path / "elsewhere.json"
        entry.rename(elsewhere)
        entry.symlink_to(elsewhere)
    else:
        real = tmp_path / "real"
        cache.rename(real)
        cache.symlink_to(real)
    assert _vgg16_flops() == VGG16_FLOPS


def test_a_fifo_in_place_of_an_entry_never_blocks(cache):
    resolve("vgg16")
    for entry in cache.glob("vgg16-*"):
        entry.unlink()
        os.mkfifo(entry)
    env = {**os.environ, "HETCALC_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, "-m", "hetcalc", "vgg16", "--format", "csv", "--summary-only"],
                              env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail("hetcalc blocked on a FIFO in the cache")
    assert done.returncode == 0 and f"{VGG16_FLOPS}" in done.stdout, done.stderr


@pytest.mark.parametrize("field, value", [("in_shape", [True, 32, 32]), ("groups", 1.0), ("kernel", [3]),
                                          ("groups", "1"), ("padding", None)])
def test_a_value_of_the_wrong_type_is_a_miss(cache, field, value):
    """Beyond the issue: an entry whose key and digest are right but whose values are not what a layer
    holds (a flag or a float for a count, a kernel of one side) is refused, never converted."""
    resolve("vgg16")
    (entry,) = cache.glob("vgg16-*")
    head, body = entry.read_bytes().split(b"\n", 1)
    data = json.loads(body)
    data["layers"][0][1][field] = value
    body = json.dumps(data).encode()
    header = {**json.loads(head), "digest": builtin_cache.blake2b(body, digest_size=32).hexdigest()}
    entry.write_bytes(json.dumps(header).encode() + b"\n" + body)
    assert resolve("vgg16").layers == load_spec_file(builtin_path("vgg16")).layers


def test_an_entry_is_private_and_written_atomically(cache):
    resolve("vgg16")
    (entry,) = cache.glob("vgg16-*")
    assert entry.stat().st_mode & 0o777 == 0o600 and cache.stat().st_mode & 0o777 == 0o700
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []  # no temporary file left
