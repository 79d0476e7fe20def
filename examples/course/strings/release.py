import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # Working with strings

    Fill in the three functions below (keep their names: the grader imports them).

    * `word_count(text)`: a `dict` mapping each word to how often it occurs. Words
      are lowercased and split on anything that is not a letter or a digit
      (`"Don't stop"` has the words `don`, `t`, `stop`).
    * `is_palindrome(s)`: `True` when `s` reads the same backwards, ignoring case
      and every character that is not a letter or a digit.
    * `caesar(text, shift)`: shifts each ASCII letter by `shift` places in the
      alphabet, wrapping around and keeping its case; anything else is unchanged.
      `shift` may be negative or larger than 26.
    """)
    return


@app.function
def word_count(text: str) -> dict:
    """How often each (lowercased) word occurs in text."""
    return ...  # your code here


@app.function
def is_palindrome(s: str) -> bool:
    """True if s is a palindrome, ignoring case and non-alphanumerics."""
    return ...  # your code here


@app.function
def caesar(text: str, shift: int) -> str:
    """Caesar cipher of text by shift places."""
    return ...  # your code here


@app.cell(hide_code=True)
def _(mo):
    def _safe(check):
        try:
            return bool(check())
        except Exception:
            return False

    _cases = [
        ("word_count('a b a') == {'a': 2, 'b': 1}", lambda: word_count("a b a") == {"a": 2, "b": 1}),
        ("is_palindrome('level') is True", lambda: is_palindrome("level") is True),
        ("is_palindrome('gradeq') is False", lambda: is_palindrome("gradeq") is False),
        ("caesar('abc', 1) == 'bcd'", lambda: caesar("abc", 1) == "bcd"),
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
