"""Values of library types (Counter, namedtuple, Fraction, date) and of a student
dataclass (constructed by the test, compared with ==, attributes read)."""
import datetime
from fractions import Fraction

from submission import Student, as_fraction, make_point, parse_date, top_student, word_freq


def test_counter():
    c = word_freq("to be or not to be")
    assert c == {"to": 2, "be": 2, "or": 1, "not": 1}
    assert c.most_common(1)[0][1] == 2


def test_namedtuple():
    p = make_point(1, 2)
    assert p == (1, 2)
    assert (p.x, p.y) == (1, 2)


def test_fraction():
    assert as_fraction(0.75) == Fraction(3, 4)


def test_date():
    d = parse_date("2024-02-29")
    assert d == datetime.date(2024, 2, 29)
    assert d.weekday() == 3


def test_dataclass_equality():
    best = top_student([Student("ada", 93), Student("alan", 78)])
    assert best == Student("ada", 93)
    assert best.name == "ada" and best.grade == 93
