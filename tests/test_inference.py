import numpy as np
import pytest

import zoo
from zoo.errors import InvalidInputError
from zoo.inference import check_array, classify, load_digit_image


@pytest.fixture(scope="module")
def model():
    return zoo.load("lenet5", weights=None)


def test_wrong_channel_count(model):
    with pytest.raises(InvalidInputError, match="3 channels, the model takes 1"):
        classify(model, np.zeros((1, 28, 28, 3), np.float32))


def test_integer_and_out_of_range_arrays():
    with pytest.raises(InvalidInputError, match="divide by 255"):
        check_array(np.zeros((28, 28, 1), np.uint8), 1)
    with pytest.raises(InvalidInputError, match=r"\[0, 1\]"):
        check_array(np.full((28, 28, 1), 255.0, np.float32), 1)
    with pytest.raises(InvalidInputError, match="NaN"):
        check_array(np.full((28, 28, 1), np.nan, np.float32), 1)


def test_unreadable_images(tmp_path, model):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(InvalidInputError, match="not an image"):
        classify(model, text)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInputError, match="empty"):
        classify(model, empty)
    with pytest.raises(InvalidInputError, match="does not exist"):
        classify(model, tmp_path / "missing.png")


def test_digit_image_is_made_mnist_like(tmp_path):
    from PIL import Image

    img = np.full((56, 56, 3), 255, np.uint8)
    img[10:46, 24:32] = 0  # a dark stroke on white paper
    Image.fromarray(img).save(tmp_path / "one.png")
    x = load_digit_image(tmp_path / "one.png")
    assert x.shape == (28, 28, 1) and x.dtype == np.float32
    assert x[14, 14, 0] > 0.9 and x[0, 0, 0] < 0.05  # inverted: white digit on black


def test_classify_returns_sorted_topk(model):
    top = classify(model, np.zeros((2, 28, 28, 1), np.float32), top_k=3)
    assert len(top) == 2 and len(top[0]) == 3
    probs = [p for _, p in top[0]]
    assert probs == sorted(probs, reverse=True)
