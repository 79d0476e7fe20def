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
    """Writes to stderr forever."""
    import sys
    while True:
        sys.stderr.write("e" * 1000 + "\n")


if __name__ == "__main__":
    app.run()
