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
    """Looks through its open descriptors (and its parent's) for anything of the node:
    a socket (Kafka, Redis, the dispatcher) or a file of the host."""
    import os
    seen, foreign = {}, []
    for pid in ("self", str(os.getppid())):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError as e:
            print("list", pid, "->", type(e).__name__)
            continue
        for fd in fds:
            try:
                seen[f"{pid}:{fd}"] = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                pass
    print("descriptors:", seen)
    for k, target in seen.items():
        if target.startswith("socket:"):
            foreign.append((k, target))
        elif target.startswith("/") and not target.startswith(
                ("/dev/null", "/proc/", "/gradeq/", "/work/", "/tmp/", "/opt/gradeq/venv/",
                 "/usr/", "/dev/pts/")):
            foreign.append((k, target))
    assert not foreign, foreign
    return n * 2


if __name__ == "__main__":
    app.run()
