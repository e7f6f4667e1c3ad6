"""The offline-artefact registry: schemes resolve and pin through it, and the model core
does not import the code that builds them."""

import subprocess
import sys

import pytest

from instructvl import artefacts
from instructvl.errors import InstructVLError
from instructvl.models import sources


@pytest.fixture
def fake_scheme(tmp_path, monkeypatch):
    folder = tmp_path / "built"
    folder.mkdir()
    monkeypatch.setattr(artefacts, "_REGISTRY", dict(artefacts._REGISTRY))
    artefacts.register(
        artefacts.Artefact("fake-art:", resolve=lambda s: str(folder / s.split(":")[1]), pin=lambda s: s + "@k1")
    )
    return folder


def test_a_registered_scheme_resolves_and_pins(fake_scheme):
    assert sources.resolve("fake-art:tiny") == str(fake_scheme / "tiny")
    assert sources.pinned("fake-art:tiny") == "fake-art:tiny@k1"
    assert sources.pinned("fake-art:tiny@k0") == "fake-art:tiny@k0"  # already pinned
    assert sources.pinned("org/model") == "org/model" and sources.pinned(None) is None


def test_a_scheme_needs_its_colon():
    with pytest.raises(InstructVLError, match="ends with ':'"):
        artefacts.register(artefacts.Artefact("nocolon", resolve=str, pin=str))


def test_a_provider_that_registers_nothing_is_named(monkeypatch):
    monkeypatch.setattr(artefacts, "PROVIDERS", {"empty-art:": "instructvl.errors"})
    with pytest.raises(InstructVLError, match="instructvl.errors did not register the artefact scheme 'empty-art:'"):
        sources.resolve("empty-art:tiny")


def test_the_model_core_does_not_import_the_builders():
    code = (
        "import sys, instructvl.models.vlm, instructvl.models.sources;"
        "print(sorted(m for m in sys.modules if m.startswith('instructvl.vision_pretrain')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_tower_scheme_is_registered_on_first_lookup():
    assert artefacts.lookup("synthvl-clip:tiny").scheme == "synthvl-clip:"
    assert artefacts.lookup("openai/clip-vit-base-patch32") is None
