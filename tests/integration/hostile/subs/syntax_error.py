import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.function
def add(a, b):
    return a + b


@app.function
def mul(a, b)
    return a * b


@app.function
def attack(n):
    return n * 2


if __name__ == "__main__":
    app.run()
