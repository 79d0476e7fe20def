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
    """Writes outside its workdir: appends to host files it knows the paths of (they
    must be unreachable or read-only) and creates files everywhere else; any write that
    lands costs the grade (and the test checks the host's canaries)."""
    import os
    landed = []
    existing = [@@TARGETS@@, "/gradeq/tests/test_tasks.py", "/gradeq/harness.py",
                "/opt/gradeq/venv/pyvenv.cfg", "/usr/bin/env", "/etc/ld.so.cache",
                "/proc/sys/kernel/hostname", "/proc/sysrq-trigger"]
    for t in existing:  # no O_CREAT: only an existing file of the host could be changed
        try:
            fd = os.open(t, os.O_WRONLY | os.O_APPEND)
            os.write(fd, b"OVERWRITTEN by a submission\n")
            os.close(fd)
            landed.append(t)
        except OSError as e:
            print("append", t, "->", type(e).__name__)
    created = ["../escaped.txt", "/work/../escaped.txt", "/opt/gradeq/venv/escaped.txt",
               "/usr/escaped.txt", "/etc/escaped.txt", "/escaped.txt", "/dev/escaped",
               "/gradeq/escaped.txt", "/gradeq/tests/escaped.py", "/proc/1/root/escaped.txt"]
    for t in created:
        try:
            with open(t, "x") as f:
                f.write("escaped\n")
            landed.append(t)
        except OSError as e:
            print("create", t, "->", type(e).__name__)
    assert not landed, landed
    return n * 2

if __name__ == "__main__":
    app.run()
