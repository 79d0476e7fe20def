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
    """A cooperating job: leaves a canary in its own /work (and /tmp) and stays alive
    until the test has seen workdir_reader search for it (the test then drops a file
    "release" into both workdirs from the host) or for @@HOLD@@ s at most."""
    import os
    import time
    for path in ("answers.txt", "/tmp/answers.txt"):
        with open(path, "w") as f:
            f.write("@@CANARY@@\n")
    end = time.monotonic() + @@HOLD@@
    while time.monotonic() < end and not os.path.exists("release"):
        time.sleep(0.1)
    return n * 2

if __name__ == "__main__":
    app.run()
