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
    """Double-forks a daemon into a session of its own that would sleep for
    hours, and finishes normally: nothing of it may survive the job."""
    import os
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.closerange(0, 256)
            os.execv("/bin/sleep", ["sleep", "@@MARK@@"])
        os._exit(0)
    os.wait()
    return n * 2


if __name__ == "__main__":
    app.run()
