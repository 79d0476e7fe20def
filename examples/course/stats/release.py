import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")

with app.setup:
    import numpy as np


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # Statistics with numpy

    Fill in the four functions below (keep their names: the grader imports them).
    Each takes a list or a 1-D numpy array of numbers.

    * `mean(xs)`: the arithmetic mean, as a `float`.
    * `std(xs)`: the population standard deviation (divide by `n`, not `n - 1`).
    * `normalize(xs)`: the z-scores `(x - mean) / std` as a numpy array; all zeros
      when every value is the same.
    * `load_scores(path)`: the `score` column of a CSV file with a header line
      `student,score` (like `scores.csv`), as a numpy array of floats.
    """)
    return


@app.function
def mean(xs) -> float:
    """Arithmetic mean of xs."""
    return ...  # your code here


@app.function
def std(xs) -> float:
    """Population standard deviation of xs."""
    return ...  # your code here


@app.function
def normalize(xs) -> np.ndarray:
    """z-scores of xs; zeros when xs is constant."""
    return ...  # your code here


@app.function
def load_scores(path: str) -> np.ndarray:
    """The score column of a student,score CSV file."""
    return ...  # your code here


@app.cell(hide_code=True)
def _(mo):
    def _safe(check):
        try:
            return bool(check())
        except Exception:
            return False

    _cases = [
        ("mean([1, 2, 3, 4]) == 2.5", lambda: np.isclose(mean([1, 2, 3, 4]), 2.5)),
        ("std([2, 4, 4, 4, 5, 5, 7, 9]) == 2.0", lambda: np.isclose(std([2, 4, 4, 4, 5, 5, 7, 9]), 2.0)),
        ("normalize([1, 3]) == [-1, 1]", lambda: np.allclose(normalize([1, 3]), [-1.0, 1.0])),
    ]
    _results = [(_label, _safe(_check)) for _label, _check in _cases]
    _passed = sum(_ok for _, _ok in _results)
    mo.callout(
        mo.md(
            f"**{_passed}/{len(_results)} public checks passing**\n\n"
            + "\n".join(f"- {'✅' if _ok else '❌'} `{_label}`" for _label, _ok in _results)
        ),
        kind="success" if _passed == len(_results) else "warn",
    )
    return


@app.cell
def _():
    import marimo as mo
    return (mo,)


if __name__ == "__main__":
    app.run()
