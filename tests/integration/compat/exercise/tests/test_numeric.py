"""numpy arrays (in and out), assert_allclose, approx on arrays, str dtype, seeded
randomness (the student seeds, and the test seeds the global generator), data files."""
import csv
import random

import numpy as np
import pytest

from submission import classify, load_grades, moving_average, roll_dice, shuffled, zscores


def test_moving_average_allclose():
    got = moving_average(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 2)
    assert isinstance(got, np.ndarray)
    assert got.shape == (4,) and got.dtype == np.float64
    np.testing.assert_allclose(got, [1.5, 2.5, 3.5, 4.5])


def test_moving_average_list_input():
    np.testing.assert_allclose(moving_average([2, 4, 6], 3), [4.0], rtol=1e-12)


@pytest.mark.points(1.5)
def test_zscores_approx():
    z = zscores(np.arange(5.0))
    assert z == pytest.approx((np.arange(5.0) - 2) / np.sqrt(2))
    assert np.isclose(z.mean(), 0.0) and np.allclose(z.std(), 1.0)


def test_zscores_2d_int_array():
    z = zscores(np.array([[1, 2], [3, 4]], dtype=np.int64))
    assert z.shape == (2, 2)
    np.testing.assert_allclose(z.sum(), 0.0, atol=1e-12)


def test_classify_str_array():
    got = classify(np.array([10, 55, 90]))
    np.testing.assert_array_equal(got, np.array(["low", "mid", "high"]))
    assert got.dtype.kind == "U"


def test_classify_bool_mask():
    got = classify(np.array([10, 55, 90]))
    assert (got == "high").tolist() == [False, False, True]


def test_shuffled_with_seed_argument():
    deck = list(range(10))
    want = deck[:]
    random.Random(42).shuffle(want)
    assert shuffled(deck, 42) == want
    assert deck == list(range(10)), "the argument is not modified"


def test_roll_dice_global_seed():
    random.seed(2024)
    got = roll_dice(5)
    random.seed(2024)
    want = [random.randint(1, 6) for _ in range(5)]
    assert got == want


def test_load_grades_data_file():
    with open("grades.csv", newline="") as f:
        want = {row["name"]: int(row["grade"]) for row in csv.DictReader(f)}
    assert load_grades("grades.csv") == want


def test_load_grades_numpy_sum():
    grades = load_grades("grades.csv")
    assert np.sum(np.array(list(grades.values()))) == 93 + 78 + 88 + 61
