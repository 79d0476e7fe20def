import marimo

__generated_with = "0.25.2"
app = marimo.App()

with app.setup:
    import cmath
    import collections
    import dataclasses
    import datetime
    import functools
    import math
    import random
    from fractions import Fraction
    import sys

    import numpy as np


@app.function
def add(a, b):
    return a + b


@app.function
def power(base, exp):
    return base**exp


@app.function
def factorial(n):
    return 1 if n <= 1 else n * factorial(n - 1)


@app.function
def reverse_words(s):
    return " ".join(reversed(s.split()))


@app.function
def evens(xs):
    return [x for x in xs if x % 2 == 0]


@app.function
def unique_sorted(xs):
    return tuple(sorted(set(xs)))


@app.function
def vowels(s):
    return {c for c in s.lower() if c in "aeiou"}


@app.function
def char_counts(s):
    out = {}
    for c in s:
        out[c] = out.get(c, 0) + 1
    return out


@app.function
def grid_counts(cells):
    out = {}
    for c in cells:
        out[tuple(c)] = out.get(tuple(c), 0) + 1
    return out


@app.function
def encode(s):
    return s.encode("utf-8")


@app.function
def mean(xs):
    return sum(xs) / len(xs) if len(xs) else None


@app.function
def roots(a, b, c):
    d = cmath.sqrt(b * b - 4 * a * c)
    r1, r2 = (-b + d) / (2 * a), (-b - d) / (2 * a)
    if r1.imag == 0 and r2.imag == 0:
        return (r1.real, r2.real)
    return (r1, r2)


@app.function
def safe_log(x):
    if x == 0:
        return -math.inf
    if x < 0:
        return math.nan
    return math.log(x)


@app.function
def depth_sum(nested):
    if not nested:
        return 0
    return nested[0] + depth_sum(nested[1])


@app.function
@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@app.function
def moving_average(xs, k):
    a = np.asarray(xs, dtype=float)
    return np.convolve(a, np.ones(k) / k, mode="valid")


@app.function
def zscores(a):
    a = np.asarray(a, dtype=float)
    return (a - a.mean()) / a.std()


@app.function
def classify(scores):
    return np.where(scores < 40, "low", np.where(scores < 80, "mid", "high"))


@app.function
def shuffled(deck, seed):
    out = list(deck)
    random.Random(seed).shuffle(out)
    return out


@app.function
def roll_dice(n):
    return [random.randint(1, 6) for _ in range(n)]


@app.function
def load_grades(path):
    out = {}
    with open(path) as f:
        next(f)
        for line in f:
            name, grade = line.strip().split(",")
            out[name] = int(grade)
    return out


@app.class_definition
class InsufficientFunds(ValueError):
    pass


@app.class_definition
class BankAccount:
    bank = "gradeq bank"

    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance
        self.history = []

    def deposit(self, amount):
        self.balance += amount
        self.history.append(("deposit", amount))
        return self

    def withdraw(self, amount):
        if amount > self.balance:
            raise InsufficientFunds(f"insufficient funds: {self.balance} < {amount}")
        self.balance -= amount
        self.history.append(("withdraw", amount))
        return self

    def statement(self):
        return f"{self.owner}: {self.balance}"


@app.function
def transfer(src, dst, amount):
    src.withdraw(amount)
    dst.deposit(amount)


@app.function
def parse_age(text):
    try:
        age = int(text.strip())
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if not 0 <= age <= 150:
        raise ValueError("age must be between 0 and 150")
    return age


@app.function
def countdown(n):
    while n > 0:
        yield n
        n -= 1


@app.function
def squares():
    i = 0
    while True:
        yield i * i
        i += 1


@app.function
def report(name, score):
    letter = "A" if score >= 90 else "B" if score >= 80 else "C"
    print(f"{name}: {score} ({letter})")


@app.function
def warn(msg):
    print(f"warning: {msg}", file=sys.stderr)


@app.function
def apply_twice(f, x):
    return f(f(x))


@app.function
def reverse_in_place(xs):
    xs.reverse()


@app.function
def word_len(s):
    return len(s)


@app.function
def word_freq(text):
    return collections.Counter(text.split())


@app.class_definition
class Point(collections.namedtuple("Point", "x y")):
    pass


@app.function
def make_point(x, y):
    return Point(x, y)


@app.function
def as_fraction(x):
    return Fraction(x).limit_denominator(1000)


@app.function
def parse_date(text):
    return datetime.date.fromisoformat(text)


@app.class_definition
@dataclasses.dataclass
class Student:
    name: str
    grade: int


@app.function
def top_student(students):
    return max(students, key=lambda s: s.grade)


if __name__ == "__main__":
    app.run()
