#!/usr/bin/env python3
"""Generate a deterministic batch of student submissions for the example course.

    gen_submissions.py OUT_DIR [--students N] [--seed S] [--exercises primes,stats,strings]
                       [--hang-rate R | --no-hang] [--course DIR]

writes OUT_DIR/<exercise>/<student>.py (students s001, s002, ...) and
OUT_DIR/manifest.json {exercise: {student: kind}}. Every submission is the exercise's
release.py (the scaffold notebook students receive) with its @app.function stubs filled
in, so it is a real marimo notebook. Kinds:

  correct           every function right
  partial           a known, non-empty proper subset of the functions right, the others
                    half-right ("buggy") where the exercise has such a variant, else wrong
  wrong             every function wrong (the notebook imports, tests fail)
  syntax_error      a missing ':' on one def line (import_error)
  import_exception  the setup cell raises at import time (import_error)
  missing_function  one function renamed (the hidden tests' import fails: import_error)
  infinite_loop     one function hangs; the hidden tests call it last, so the tests
                    before it pass first (verdict timeout, their credit kept)

The same arguments always give the same files. infinite_loop costs a whole timeout per
submission on a cluster: its rate is --hang-rate (default 0.01, floor(N * R) students
per exercise), 0 with --no-hang. When N leaves room, every other kind occurs at least
once per exercise.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("correct", "partial", "wrong", "syntax_error", "import_exception",
         "missing_function", "infinite_loop")
# Relative frequency of the kinds other than infinite_loop (whose count is fixed).
WEIGHTS = {"correct": 45, "partial": 25, "wrong": 8, "syntax_error": 6,
           "import_exception": 6, "missing_function": 6}

# --- solutions: per exercise, per function, variant -> source of the def ---------------
# "correct" and "wrong" exist for every function; "buggy" (half-right: passes some of the
# function's tests) and "hang" (never returns for some input) where noted. HANG names
# the function whose tests come last in the exercise's hidden tests.

SOLUTIONS: dict[str, dict[str, dict[str, str]]] = {
    "primes": {
        "is_prime": {
            "correct": '''\
def is_prime(n: int) -> bool:
    """True if n is prime."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True
''',
            "buggy": '''\
def is_prime(n: int) -> bool:
    """True if n is prime."""
    for d in range(2, int(abs(n) ** 0.5) + 1):
        if n % d == 0:
            return False
    return True
''',
            "wrong": '''\
def is_prime(n: int) -> bool:
    """True if n is prime."""
    return n % 2 == 1
''',
        },
        "next_prime": {
            "correct": '''\
def next_prime(n: int) -> int:
    """The smallest prime strictly greater than n."""
    k = max(n + 1, 2)
    while not is_prime(k):
        k += 1
    return k
''',
            "wrong": '''\
def next_prime(n: int) -> int:
    """The smallest prime strictly greater than n."""
    return n + 2
''',
            "hang": '''\
def next_prime(n: int) -> int:
    """The smallest prime strictly greater than n."""
    k = n + 1
    while not is_prime(k):
        pass
    return k
''',
        },
    },
    "stats": {
        "mean": {
            "correct": '''\
def mean(xs) -> float:
    """Arithmetic mean of xs."""
    return float(np.mean(np.asarray(xs, dtype=float)))
''',
            "wrong": '''\
def mean(xs) -> float:
    """Arithmetic mean of xs."""
    return float(sum(xs)) / (len(xs) + 1)
''',
        },
        "std": {
            "correct": '''\
def std(xs) -> float:
    """Population standard deviation of xs."""
    return float(np.std(np.asarray(xs, dtype=float)))
''',
            "wrong": '''\
def std(xs) -> float:
    """Population standard deviation of xs."""
    return float(np.std(np.asarray(xs, dtype=float), ddof=1))
''',
        },
        "normalize": {
            "correct": '''\
def normalize(xs) -> np.ndarray:
    """z-scores of xs; zeros when xs is constant."""
    a = np.asarray(xs, dtype=float)
    s = a.std()
    if s == 0:
        return np.zeros_like(a)
    return (a - a.mean()) / s
''',
            "buggy": '''\
def normalize(xs) -> np.ndarray:
    """z-scores of xs; zeros when xs is constant."""
    a = np.asarray(xs, dtype=float)
    return (a - a.mean()) / a.std()
''',
            "wrong": '''\
def normalize(xs) -> np.ndarray:
    """z-scores of xs; zeros when xs is constant."""
    a = np.asarray(xs, dtype=float)
    return (a - a.min()) / (a.max() - a.min())
''',
        },
        "load_scores": {
            "correct": '''\
def load_scores(path: str) -> np.ndarray:
    """The score column of a student,score CSV file."""
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=1, ndmin=1)
''',
            "wrong": '''\
def load_scores(path: str) -> np.ndarray:
    """The score column of a student,score CSV file."""
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=1, ndmin=1)[1:]
''',
            "hang": '''\
def load_scores(path: str) -> np.ndarray:
    """The score column of a student,score CSV file."""
    scores = []
    with open(path) as f:
        f.readline()
        line = f.readline()
        while line:
            parts = line.strip().split(",")
            # TODO scores.append(float(parts[1])) and read the next line
    return np.array(scores)
''',
        },
    },
    "strings": {
        "word_count": {
            "correct": '''\
def word_count(text: str) -> dict:
    """How often each (lowercased) word occurs in text."""
    counts = {}
    word = ""
    for ch in text.lower() + " ":
        if ch.isalnum():
            word += ch
        elif word:
            counts[word] = counts.get(word, 0) + 1
            word = ""
    return counts
''',
            "buggy": '''\
def word_count(text: str) -> dict:
    """How often each (lowercased) word occurs in text."""
    counts = {}
    for w in text.lower().split():
        counts[w] = counts.get(w, 0) + 1
    return counts
''',
            "wrong": '''\
def word_count(text: str) -> dict:
    """How often each (lowercased) word occurs in text."""
    return {w: 1 for w in text.split()}
''',
        },
        "is_palindrome": {
            "correct": '''\
def is_palindrome(s: str) -> bool:
    """True if s is a palindrome, ignoring case and non-alphanumerics."""
    t = [c.lower() for c in s if c.isalnum()]
    return t == t[::-1]
''',
            "buggy": '''\
def is_palindrome(s: str) -> bool:
    """True if s is a palindrome, ignoring case and non-alphanumerics."""
    return s == s[::-1]
''',
            "wrong": '''\
def is_palindrome(s: str) -> bool:
    """True if s is a palindrome, ignoring case and non-alphanumerics."""
    return s[0] == s[-1]
''',
        },
        "caesar": {
            "correct": '''\
def caesar(text: str, shift: int) -> str:
    """Caesar cipher of text by shift places."""
    out = []
    for ch in text:
        if "a" <= ch <= "z":
            out.append(chr((ord(ch) - ord("a") + shift) % 26 + ord("a")))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - ord("A") + shift) % 26 + ord("A")))
        else:
            out.append(ch)
    return "".join(out)
''',
            "buggy": '''\
def caesar(text: str, shift: int) -> str:
    """Caesar cipher of text by shift places."""
    return "".join(chr(ord(ch) + shift) if ch.isalpha() else ch for ch in text)
''',
            "wrong": '''\
def caesar(text: str, shift: int) -> str:
    """Caesar cipher of text by shift places."""
    return text.upper()
''',
            "hang": '''\
def caesar(text: str, shift: int) -> str:
    """Caesar cipher of text by shift places."""
    while shift < 0:
        shift += 26
    while shift >= 26:
        shift - 26
    out = []
    for ch in text:
        if "a" <= ch <= "z":
            out.append(chr((ord(ch) - ord("a") + shift) % 26 + ord("a")))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - ord("A") + shift) % 26 + ord("A")))
        else:
            out.append(ch)
    return "".join(out)
''',
        },
    },
}
HANG = {"primes": "next_prime", "stats": "load_scores", "strings": "caesar"}

# Module-level statements that raise while the notebook is imported (setup cell).
RAISERS = (
    'answers = open("my_answers.txt").read()',
    'raise NotImplementedError("remove this line before submitting")',
    'assert 1 + 1 == 3, "sanity check"',
)


# --- notebook surgery ----------------------------------------------------------------

def function_blocks(lines: list[str]) -> dict[str, tuple[int, int]]:
    """name -> (first, end) line range of each `@app.function` def in a notebook: the
    decorator line up to (not including) the next top-level line, trailing blanks
    excluded."""
    blocks = {}
    i = 0
    while i < len(lines):
        if lines[i].startswith("@app.function") and i + 1 < len(lines):
            m = re.match(r"def (\w+)\(", lines[i + 1])
            if m:
                j = i + 2
                while j < len(lines) and (not lines[j].strip() or lines[j][0] in " \t"):
                    j += 1
                end = j
                while end > i and not lines[end - 1].strip():
                    end -= 1
                blocks[m.group(1)] = (i, end)
                i = j
                continue
        i += 1
    return blocks


def fill_notebook(release: str, defs: dict[str, str], raiser: str | None = None) -> str:
    """release.py with each function in defs replaced by its source (decorator kept);
    raiser, when given, goes into the setup cell (created if the notebook has none)."""
    lines = release.splitlines()
    blocks = function_blocks(lines)
    missing = set(defs) - set(blocks)
    if missing:
        raise ValueError(f"release.py has no @app.function {sorted(missing)}")
    for name, (first, end) in sorted(blocks.items(), key=lambda kv: -kv[1][0]):
        if name in defs:
            lines[first:end] = ["@app.function"] + defs[name].rstrip("\n").splitlines()
    if raiser is not None:
        setup = next((k for k, l in enumerate(lines) if l.startswith("with app.setup")), None)
        if setup is not None:
            lines.insert(setup + 1, "    " + raiser)
        else:
            app = next(k for k, l in enumerate(lines) if l.startswith("app = marimo.App"))
            lines[app + 1:app + 1] = ["", "with app.setup:", "    " + raiser]
    return "\n".join(lines) + "\n"


def make_submission(exercise: str, kind: str, release: str, rng: random.Random) -> str:
    sols = SOLUTIONS[exercise]
    names = list(sols)
    pick = {n: "correct" for n in names}
    raiser = None
    if kind == "partial":
        right = set(rng.sample(names, rng.randint(1, len(names) - 1)))
        for n in names:
            if n not in right:
                pick[n] = "buggy" if "buggy" in sols[n] else "wrong"
    elif kind == "wrong":
        pick = {n: "wrong" for n in names}
    elif kind == "infinite_loop":
        pick[HANG[exercise]] = "hang"
    elif kind == "import_exception":
        raiser = rng.choice(RAISERS)
    defs = {n: sols[n][v] for n, v in pick.items()}
    if kind == "syntax_error":
        n = rng.choice(names)
        defs[n] = defs[n].replace(":\n", "\n", 1)  # the def line loses its colon
    elif kind == "missing_function":
        n = rng.choice(names)
        renamed = n.replace("_", "") if "_" in n else n + "_"
        defs[n] = defs[n].replace(f"def {n}(", f"def {renamed}(", 1)
    return fill_notebook(release, defs, raiser)


def assign_kinds(n: int, rng: random.Random, hang_rate: float) -> list[str]:
    """A deterministic list of n kinds: floor(n * hang_rate) infinite_loop, every other
    kind at least once when n leaves room, the rest drawn by WEIGHTS."""
    n_hang = int(n * hang_rate)
    others = list(WEIGHTS)
    kinds = ["infinite_loop"] * n_hang
    if n - n_hang >= len(others):
        kinds += others
    while len(kinds) < n:
        kinds.append(rng.choices(others, weights=[WEIGHTS[k] for k in others])[0])
    kinds = kinds[:n]
    rng.shuffle(kinds)
    return kinds


def generate(out: Path, students: int, seed: int, exercises: list[str],
             hang_rate: float, course: Path) -> dict[str, dict[str, str]]:
    width = max(3, len(str(students)))
    manifest: dict[str, dict[str, str]] = {}
    for ex in exercises:
        release = (course / ex / "release.py").read_text()
        rng = random.Random(f"gradeq:{seed}:{ex}")
        kinds = assign_kinds(students, rng, hang_rate)
        d = out / ex
        d.mkdir(parents=True, exist_ok=True)
        manifest[ex] = {}
        for i, kind in enumerate(kinds, start=1):
            student = f"s{i:0{width}d}"
            (d / f"{student}.py").write_text(make_submission(ex, kind, release, rng))
            manifest[ex][student] = kind
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--exercises", default=",".join(SOLUTIONS))
    ap.add_argument("--hang-rate", type=float, default=0.01,
                    help="share of infinite_loop submissions (floor), default 0.01")
    ap.add_argument("--no-hang", action="store_true", help="no infinite_loop submissions")
    ap.add_argument("--course", type=Path, default=HERE / "course",
                    help="the course directory with <exercise>/release.py")
    a = ap.parse_args(argv)
    exercises = [e for e in a.exercises.split(",") if e]
    unknown = [e for e in exercises if e not in SOLUTIONS]
    if unknown:
        ap.error(f"unknown exercise(s) {','.join(unknown)} (known: {','.join(SOLUTIONS)})")
    if a.students < 1:
        ap.error("--students must be at least 1")
    if not 0 <= a.hang_rate <= 1:
        ap.error("--hang-rate must be in [0, 1]")
    manifest = generate(a.out_dir, a.students, a.seed, exercises,
                        0.0 if a.no_hang else a.hang_rate, a.course)
    for ex, m in manifest.items():
        counts: dict[str, int] = {}
        for k in m.values():
            counts[k] = counts.get(k, 0) + 1
        summary = ", ".join(f"{k} {counts[k]}" for k in KINDS if k in counts)
        print(f"{ex}: {len(m)} submissions ({summary})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
