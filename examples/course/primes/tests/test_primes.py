"""Hidden tests of the primes exercise (10 points; unmarked tests weigh 1)."""
import pytest

from submission import is_prime, next_prime


def test_is_prime_small():
    assert [n for n in range(2, 30) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29], \
        "wrong primes below 30"


def test_is_prime_zero_one_negative():
    for n in (0, 1, -1, -2, -7, -13):
        assert is_prime(n) is False, f"is_prime({n}) should be False"


def test_is_prime_squares_of_primes():
    for p in (2, 3, 5, 7, 11, 13, 89):
        assert not is_prime(p * p), f"is_prime({p * p}) should be False"


@pytest.mark.points(2)
def test_is_prime_large():
    for n in (7919, 104729, 1_000_003, 2_147_483_647):
        assert is_prime(n), f"is_prime({n}) should be True"
    for n in (7917, 1_000_001, 999_999_999, 2_147_483_649):
        assert not is_prime(n), f"is_prime({n}) should be False"


@pytest.mark.points(2)
def test_next_prime_small():
    assert [next_prime(n) for n in (0, 1, 2, 3, 4, 10, 20)] == [2, 2, 3, 5, 5, 11, 23], \
        "wrong next_prime for small n"


def test_next_prime_negative():
    assert next_prime(-10) == 2, "next_prime(-10) should be 2"


@pytest.mark.points(2)
def test_next_prime_large():
    assert next_prime(7919) == 7927
    assert next_prime(1_000_000) == 1_000_003
    assert next_prime(2_147_483_630) == 2_147_483_647
