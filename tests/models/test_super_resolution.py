import numpy as np
import pytest

import zoo

# Trainable parameters as the papers count them (BN moving statistics excluded).
PAPER_COUNTS = {
    "srcnn": 57_281,
    "xsrcnnf": 32_769,
    "xsrcnnc": 44_241,
    "srresnet": 1_549_462,
    "xsrresnet": 1_158_534,
}


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("arch,count", sorted(PAPER_COUNTS.items()))
def test_paper_parameter_counts(arch, count):
    assert trainable(zoo.load(arch, weights=None)) == count


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_mobile_nets_are_small_and_fully_convolutional(scale):
    model = zoo.load(f"xunit_sr_x{scale}", weights=None)
    assert model.count_params() <= 100_000
    for h, w in [(17, 23), (40, 31)]:
        x = np.random.default_rng(0).random((1, h, w, 3), dtype=np.float32)
        assert model.predict(x, verbose=0).shape == (1, h * scale, w * scale, 3)


def test_x4_designs_have_the_parameter_counts_their_docs_state():
    assert zoo.load("xunit_sr_x4", weights=None).count_params() == 97_068  # default: 45 filters, 3x3 xUnit
    assert zoo.load("xunit_sr_x4.sr291", weights=None).count_params() == 96_540  # its tag's 43 filters, 7x7


def test_relu_twin_has_the_same_budget():
    x = zoo.load("xunit_sr_x4", weights=None).count_params()
    r = zoo.load("relu_sr_x4", weights=None).count_params()
    assert abs(x - r) / x < 0.02
    assert not any("xunit" in layer.name for layer in zoo.load("relu_sr_x4", weights=None).layers)


def test_untrained_mobile_net_starts_at_nearest_neighbour():
    """The global skip makes the net learn a residual over nearest upsampling."""
    model = zoo.load("xunit_sr_x4", weights=None)
    for layer in model.layers:
        if layer.name == "tail_conv":
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    x = np.random.default_rng(0).random((1, 8, 8, 3), dtype=np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0)[0], x[0].repeat(4, 0).repeat(4, 1), atol=1e-6)


def test_srresnet_rejects_odd_scales():
    with pytest.raises(ValueError, match="powers of two"):
        zoo.load("srresnet", weights=None, scale=3)
