import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.function
def add(a, b):
    return a + b


@app.function
def mul(a, b):
    return a * b


@app.function
def attack(n):
    """Lifts the recursion limit and recurses without end."""
    import sys
    sys.setrecursionlimit(10 ** 9)

    def down(k):
        return down(k + 1) + 1

    return down(0)


if __name__ == "__main__":
    app.run()
