# /// script
# requires-python = ">=3.11"
# dependencies = [
#     "marimo",
#     "mograder",
#     "numpy",
# ]
# ///

import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell(hide_code=True)
def _():
    # === MOGRADER: MARKS ===
    import marimo as mo
    from mograder.runtime import Grader

    _marks = {"Q1": 3, "Q2": 4, "Q3": 3, "Q4": 5}
    grader = Grader(_marks)
    check = grader.check
    return check, mo


@app.cell
def _():
    import numpy as np

    return (np,)


@app.cell
def _():
    with open("data.txt") as _f:
        values = [float(_line) for _line in _f if _line.strip()]
    return (values,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Q1: the mean
    Write `mean_of(xs)`, the arithmetic mean of a non-empty list of numbers.
    """)
    return


@app.cell
def _():
    def mean_of(xs):
        ### BEGIN SOLUTION
        return sum(xs) / len(xs)
        ### END SOLUTION

    return (mean_of,)


@app.cell(hide_code=True)
def _(check, mean_of):
    check(
        "Q1: mean_of",
        [
            (mean_of([1, 2, 3]) == 2, "mean_of([1, 2, 3]) should be 2"),
            (mean_of([5]) == 5, "mean_of([5]) should be 5"),
        ],
    )
    ### BEGIN HIDDEN TESTS
    check("Q1: hidden", [(mean_of([1, 2]) == 1.5, "mean_of([1, 2])", 2)])
    ### END HIDDEN TESTS
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Q2: scaling
    Make `scaled`, a numpy array of `values` divided by their maximum.
    """)
    return


@app.cell
def _(np, values):
    ### BEGIN SOLUTION
    scaled = np.array(values) / max(values)
    ### END SOLUTION
    return (scaled,)


@app.cell(hide_code=True)
def _(check, np, scaled):
    check(
        "Q2: scaled",
        [
            (isinstance(scaled, np.ndarray), "scaled should be a numpy array"),
            (bool(np.isclose(scaled.max(), 1.0)), "the largest value should be 1"),
            (len(scaled) == 10, "scaled should have 10 values", 2),
        ],
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Q3: Fibonacci
    Write `fib(n)`: fib(0) = 0, fib(1) = 1, fib(n) = fib(n-1) + fib(n-2).
    """)
    return


@app.cell
def _():
    def fib(n):
        ### BEGIN SOLUTION
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        return a
        ### END SOLUTION

    return (fib,)


@app.cell(hide_code=True)
def _(check, fib):
    check("Q3: fib", [(fib(10) == 55, "fib(10) should be 55")])
    ### BEGIN HIDDEN TESTS
    check("Q3: hidden", [(fib(20) == 6765, "fib(20)"), (fib(0) == 0, "fib(0)")])
    ### END HIDDEN TESTS
    return


@app.cell
def written_analysis(mo):
    response_text = "*Write your analysis here...*"
    ### BEGIN SOLUTION
    response_text = "The data are small integers; the mean is 3.9."
    ### END SOLUTION
    mo.md(response_text)
    return


if __name__ == "__main__":
    app.run()
