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
    """Writes garbage on the result channel (fd 3)."""
    import os
    os.write(3, b"\xff\xff\xff\xff" + b"garbage" * 100)
    return n * 2


if __name__ == "__main__":
    app.run()
