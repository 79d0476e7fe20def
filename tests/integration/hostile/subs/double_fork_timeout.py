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
    """The same daemon, and the job then hangs until the wall clock kills it."""
    import os
    import time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.closerange(0, 256)
            os.execv("/bin/sleep", ["sleep", "@@MARK@@"])
        os._exit(0)
    os.wait()
    while True:
        time.sleep(1)


if __name__ == "__main__":
    app.run()
