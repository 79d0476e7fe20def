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
    """Resolves names; any answer costs the grade."""
    import socket
    answers = []
    for name in ("example.com", "localhost", "gradeq-redis"):
        try:
            answers.append((name, socket.getaddrinfo(name, 80)[0][4]))
        except OSError as e:
            print("resolve", name, "->", e)
    assert all(a[0] == "localhost" for a in answers), answers
    return n * 2


if __name__ == "__main__":
    app.run()
