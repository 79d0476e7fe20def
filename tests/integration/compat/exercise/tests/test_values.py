"""Plain values: numbers, big ints, strings, lists, tuples, sets, dicts, bytes, None,
complex, floats with pytest.approx, parametrize, recursion."""
import math

import pytest

from submission import (add, apply_twice, char_counts, depth_sum, encode, evens, factorial, fib,
                        grid_counts, mean, power, reverse_in_place, reverse_words, roots, safe_log,
                        unique_sorted, vowels, word_len)


def test_add_ints():
    assert add(2, 3) == 5
    assert add(-7, 7) == 0


def test_add_floats_and_strings():
    assert add(0.1, 0.2) == pytest.approx(0.3)
    assert add("ab", "cd") == "abcd"


@pytest.mark.points(2)
def test_big_ints():
    assert power(2, 200) == 2**200
    assert add(2**200, 1) == 2**200 + 1
    assert power(-3, 101) == (-3) ** 101


@pytest.mark.parametrize("n, want", [(0, 1), (1, 1), (5, 120), (20, 2432902008176640000),
                                     (30, 265252859812191058636308480000000)])
@pytest.mark.points(0.5)
def test_factorial(n, want):
    assert factorial(n) == want, f"factorial({n})"


def test_reverse_words():
    assert reverse_words("the quick  brown fox") == "fox brown quick the"
    assert reverse_words("") == ""


def test_evens():
    got = evens(list(range(11)))
    assert got == [0, 2, 4, 6, 8, 10]
    assert isinstance(got, list)


def test_unique_sorted_tuple():
    assert unique_sorted([3, 1, 3, 2, 1]) == (1, 2, 3)


def test_vowels_set():
    got = vowels("Programming in Python")
    assert got == {"o", "a", "i"}
    assert isinstance(got, (set, frozenset))


def test_char_counts_dict():
    assert char_counts("hello") == {"h": 1, "e": 1, "l": 2, "o": 1}
    assert char_counts("") == {}


def test_grid_counts_tuple_keys():
    assert grid_counts([(0, 1), (0, 1), (2, 3)]) == {(0, 1): 2, (2, 3): 1}


def test_encode_bytes():
    assert encode("héllo") == "héllo".encode("utf-8")
    assert isinstance(encode("x"), bytes)


def test_mean_approx():
    assert mean([1, 2, 3, 4]) == pytest.approx(2.5)
    assert mean([0.1] * 10) == pytest.approx(0.1, rel=1e-12)


def test_roots_complex():
    r1, r2 = roots(1, 0, 1)
    assert {r1, r2} == {1j, -1j}
    assert roots(1, -3, 2) == pytest.approx((2, 1))


def test_safe_log_special_floats():
    assert safe_log(0) == -math.inf
    assert math.isnan(safe_log(-1))
    assert safe_log(math.e) == pytest.approx(1.0)


def test_none_for_empty():
    assert mean([]) is None


@pytest.mark.points(2)
def test_recursion_deepish(nested):
    assert depth_sum(nested) == 200 * 201 // 2
    assert fib(300) == 222232244629420445529739893461909967206666939096499764990979600


def test_callable_from_the_test():
    assert apply_twice(lambda x: x + 3, 1) == 7
    assert apply_twice(str.upper, "ab") == "AB"


def test_student_function_as_key():
    assert sorted(["ccc", "a", "bb"], key=word_len) == ["a", "bb", "ccc"]


def test_mutates_argument_in_place():
    xs = [1, 2, 3]
    assert reverse_in_place(xs) is None
    assert xs == [3, 2, 1], "the list passed in is reversed in place"
