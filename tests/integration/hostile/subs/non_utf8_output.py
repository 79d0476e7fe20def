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
    """Prints bytes that are not UTF-8 on stdout and stderr, and raises with them."""
    import sys
    sys.stdout.buffer.write(b"\xff\xfe\xc3\x28 bad bytes \xed\xa0\x80\n")
    sys.stdout.flush()
    sys.stderr.buffer.write(b"\x80\x81\x00\x1b[31m escape\n")
    sys.stderr.flush()
    raise ValueError(b"\xff\xfe".decode("latin-1") + "\x00\x1b[2J")


if __name__ == "__main__":
    app.run()
