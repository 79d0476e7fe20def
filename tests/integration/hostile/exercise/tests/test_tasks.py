"""Hidden tests of the hostile exercise: weights 2 + 1 + 1. test_attack calls attack(),
where each hostile submission puts its attack; an honest one returns n * 2. The tests
before it finish first, so their credit shows that a hostile job keeps what it earned."""
import pytest

from submission import add, attack, mul


@pytest.mark.points(2)
def test_add():
    assert add(2, 3) == 5, "add(2, 3) should be 5"


def test_mul():
    assert mul(3, 4) == 12, "mul(3, 4) should be 12"


def test_attack():
    assert attack(3) == 6, "attack(3) should be 6"
