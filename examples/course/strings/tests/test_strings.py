"""Hidden tests of the strings exercise (weights 7 in all, scaled to max_points = 10)."""
import pytest

from submission import caesar, is_palindrome, word_count


def test_word_count_simple():
    assert word_count("the cat and the hat") == {"the": 2, "cat": 1, "and": 1, "hat": 1}
    assert word_count("") == {}, "no words in an empty text"


@pytest.mark.points(2)
def test_word_count_case_and_punctuation():
    got = word_count("Hello, hello! HELLO? Don't stop...\nstop\tnow 42 42")
    assert got == {"hello": 3, "don": 1, "t": 1, "stop": 2, "now": 1, "42": 2}, \
        "words are lowercased and split on non-alphanumerics"


def test_is_palindrome_simple():
    for s in ("", "a", "level", "noon"):
        assert is_palindrome(s) is True, f"{s!r} is a palindrome"
    for s in ("ab", "gradeq"):
        assert is_palindrome(s) is False, f"{s!r} is not a palindrome"


def test_is_palindrome_sentence():
    assert is_palindrome("A man, a plan, a canal: Panama!") is True
    assert is_palindrome("Was it a car or a cat I saw?") is True
    assert is_palindrome("No lemon, no melons") is False


@pytest.mark.points(0.5)
def test_caesar_basic():
    assert caesar("abc", 1) == "bcd"
    assert caesar("hello", 0) == "hello"


def test_caesar_wrap_case_and_others():
    assert caesar("xyz", 3) == "abc", "wraps around"
    assert caesar("Hello, World!", 5) == "Mjqqt, Btwqi!", "keeps case and punctuation"
    assert caesar("abc", -1) == "zab", "negative shift"
    assert caesar("abc", 53) == "bcd", "shift larger than 26"


@pytest.mark.points(0.5)
def test_caesar_roundtrip():
    text = "The quick brown fox jumps over 13 lazy dogs."
    for k in (1, 7, 25, 100):
        assert caesar(caesar(text, k), -k) == text
