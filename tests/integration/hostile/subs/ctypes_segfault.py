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
    """Reads memory at address 1 through ctypes."""
    import ctypes
    return ctypes.string_at(1)  # strlen() of address 1: SIGSEGV


if __name__ == "__main__":
    app.run()
