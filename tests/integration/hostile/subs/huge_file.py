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
    """Writes one file without end (RLIMIT_FSIZE)."""
    with open("huge.bin", "wb") as f:
        while True:
            f.write(b"h" * 1024 * 1024)


if __name__ == "__main__":
    app.run()
