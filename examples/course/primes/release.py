import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # Primes

    Fill in the two functions below. Keep their names and signatures: the grader
    imports them from this file.

    * `is_prime(n)`: `True` when `n` is a prime number (an integer greater than 1
      whose only divisors are 1 and itself), `False` otherwise, negative numbers included.
    * `next_prime(n)`: the smallest prime strictly greater than `n`.

    The callout at the bottom runs a few public checks every time you edit. The
    grader runs more (hidden) tests: edge cases and larger numbers.
    """)
    return


@app.function
def is_prime(n: int) -> bool:
    """True if n is prime."""
    return ...  # your code here


@app.function
def next_prime(n: int) -> int:
    """The smallest prime strictly greater than n."""
    return ...  # your code here


@app.cell(hide_code=True)
def _(mo):
    def _safe(check):
        try:
            return bool(check())
        except Exception:
            return False

    _cases = [
        ("is_prime(2) is True", lambda: is_prime(2) is True),
        ("is_prime(4) is False", lambda: is_prime(4) is False),
        ("is_prime(17) is True", lambda: is_prime(17) is True),
        ("is_prime(1) is False", lambda: is_prime(1) is False),
        ("next_prime(7) == 11", lambda: next_prime(7) == 11),
        ("next_prime(10) == 11", lambda: next_prime(10) == 11),
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
