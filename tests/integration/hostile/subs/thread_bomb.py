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
    """Starts threads until it cannot, then keeps them all alive."""
    import threading
    import time
    count = 0
    try:
        while True:
            threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
            count += 1
    except Exception as e:  # noqa: BLE001
        print("threads started:", count, type(e).__name__, e)
    return n * 2 if count < 10000 else None


if __name__ == "__main__":
    app.run()
