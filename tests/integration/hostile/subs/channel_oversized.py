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
    """Announces a 1 GiB record on the result channel."""
    import os
    os.write(3, (1 << 30).to_bytes(4, "big") + b"\x81\xa1t\xa3end")
    return n * 2


if __name__ == "__main__":
    app.run()
