import pytest

import zoo
from zoo import registry
from zoo.errors import UnknownModelError


def test_list_models_patterns():
    assert "lenet5" in zoo.list_models()
    assert zoo.list_models("lenet*") == ["lenet5"]
    assert zoo.list_models("nothing-like-this*") == []


def test_list_pretrained_follows_manifest(manifest_with, lenet_weights):
    manifest_with()
    assert "lenet5.mnist" not in zoo.list_models(pretrained=True)
    assert "lenet5" in zoo.list_models(pretrained=False)
    manifest_with(lenet_weights["entry"])
    assert zoo.list_models("lenet*", pretrained=True) == ["lenet5.mnist"]
    assert "lenet5" not in zoo.list_models(pretrained=False)


def test_split_and_resolve_names():
    assert registry.split_name("lenet5.mnist") == ("lenet5", "mnist")
    assert registry.split_name("lenet5") == ("lenet5", None)
    spec, tag = registry.resolve_name("lenet5")
    assert spec.arch == "lenet5" and tag.tag == spec.default_tag == "mnist"


def test_unknown_name_lists_closest():
    with pytest.raises(UnknownModelError, match="Closest names: lenet5"):
        zoo.load("lenet")


def test_unknown_tag_lists_available():
    with pytest.raises(UnknownModelError, match="unknown tag 'imagenet'.*lenet5.mnist"):
        zoo.load("lenet5.imagenet")


@pytest.mark.parametrize("bad", ["", None, 3])
def test_bad_name_types(bad):
    with pytest.raises(UnknownModelError):
        zoo.load(bad)


def test_every_spec_is_consistent():
    for spec in registry.all_specs():
        assert spec.task in registry.TASKS
        assert spec.paper and spec.description
        if spec.default_tag:
            assert spec.default_tag in spec.tags
        for tag in spec.tags.values():
            assert tag.recipe or tag.ported_from, f"{spec.arch}.{tag.tag} says neither recipe nor port"
