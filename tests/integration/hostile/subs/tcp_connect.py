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
    """Connects to a listener of the test on the host's loopback and to the
    cluster's own services; any connection that succeeds costs the grade."""
    import socket
    reached = []
    for port in (@@PORTS@@):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
            reached.append(port)
        except OSError as e:
            print("connect", port, "->", e)
        finally:
            s.close()
    for host in ("10.0.2.2", "1.1.1.1"):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect((host, 53))
            reached.append(host)
        except OSError as e:
            print("connect", host, "->", e)
        finally:
            s.close()
    assert not reached, f"reached {reached}"
    return n * 2


if __name__ == "__main__":
    app.run()
