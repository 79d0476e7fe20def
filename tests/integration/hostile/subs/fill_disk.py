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
    """Fills every writable place (/tmp, /dev/shm, /work) until it is refused, and the
    workdir's inodes; the grade is kept only if each one stopped it within its cap."""
    import os
    MiB = 1024 * 1024
    block = b"z" * MiB
    room = {}
    for d in ("/tmp", "/dev/shm", "."):
        total, i = 0, 0
        try:
            while total < 1024 * MiB:
                with open(os.path.join(d, f"fill{i}.bin"), "wb") as f:
                    for _ in range(8):
                        f.write(block)
                        total += MiB
                i += 1
        except OSError as e:
            room[d] = (total // MiB, e.errno)
        for j in range(i + 1):
            try:
                os.unlink(os.path.join(d, f"fill{j}.bin"))
            except OSError:
                pass
    files = 0  # and inodes: the workdir counts them too
    try:
        while files < 100000:
            open(f"i{files}", "w").close()
            files += 1
    except OSError as e:
        room["inodes"] = (files, e.errno)
    print("room:", room)
    assert all(v[0] <= 80 for k, v in room.items() if k != "inodes"), room
    assert len(room) == 4 and room["inodes"][0] < 10000, room
    return n * 2


if __name__ == "__main__":
    app.run()
