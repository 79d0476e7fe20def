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
    """Looks for other jobs' workdirs, on the host's paths and through /proc, while
    workdir_writer runs (until the test drops "release" into its /work, or @@HOLD@@ s),
    and prints whatever it finds."""
    import glob
    import os
    import time
    open("scanning", "w").close()  # tells the test the search is on
    found = []
    patterns = ["@@STATE@@/node-*/work/*/work/*", "@@STATE@@/node-*/work/*/*",
                "/work/../*/work/*", "/proc/*/root/work/*", "/proc/*/cwd/*", "/tmp/*",
                "/proc/*/root/tmp/*", "/dev/shm/*"]
    end = time.monotonic() + @@HOLD@@
    while time.monotonic() < end and not os.path.exists("release"):
        for pat in patterns:
            for p in glob.glob(pat):
                if os.path.realpath(p) == "/work/submission.py":
                    continue  # its own source (reached through /proc/<own pid>/cwd)
                try:
                    with open(p, "rb") as f:
                        data = f.read(200)
                except OSError:
                    continue
                if b"JOBCANARY" in data:
                    found.append(f"{p}: {data!r}")
        time.sleep(0.2)
    print("FOUND", found)
    assert not found, found[:3]
    return n * 2

if __name__ == "__main__":
    app.run()
