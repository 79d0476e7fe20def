"""Hidden tests of the forgery exercise, part A. @@CANARY@@ (docstring)

The wrong baseline notebook passes only test_freebie (ping() is right); every other test
fails for it. An attack must never earn more than that.
"""
# @@CANARY@@ (comment)
import numpy as np
import pytest

from submission import add, mean, normalize, ping, total, words

HIDDEN_CANARY = "@@CANARY@@"  # a string constant no feedback may ever show


def test_freebie():
    assert ping() == "pong", "ping() should be 'pong'"


@pytest.mark.points(2)
def test_add():
    assert add(2, 3) == 5, "add(2, 3) should be 5"
    assert add(-4, 4) == 0, "add(-4, 4) should be 0"


def test_add_type():
    r = add(40, 2)
    assert isinstance(r, int) and not isinstance(r, bool), "add returns an int"
    assert r == 42, "add(40, 2) should be 42"


def test_mean():
    assert mean([1, 2, 3, 4]) == pytest.approx(2.5), "mean([1, 2, 3, 4]) should be 2.5"


def test_total():
    xs = [3, 1, 4, 1, 5, 9, 2, 6]
    assert total(xs) == sum(xs), "total should be the sum"


def test_words():
    assert words("to  be or") == ["to", "be", "or"], "words splits on runs of spaces"


@pytest.mark.points(2)
def test_normalize():
    z = normalize([1.0, 2.0, 3.0])
    want = np.array([-1.0, 0.0, 1.0]) * np.sqrt(1.5)
    np.testing.assert_allclose(z, want, rtol=1e-6, err_msg="z-scores of [1, 2, 3]")
    assert np.allclose(z, want) and np.isclose(z[2], want[2]), "z-scores of [1, 2, 3]"
