"""Fixtures shared by the compat tests (a conftest next to the hidden tests)."""
import pytest

from submission import BankAccount

EVENTS = []


@pytest.fixture
def account():
    """A fresh account with 100 in it."""
    return BankAccount("ada", 100)


@pytest.fixture
def nested():
    """A list nested 200 deep with 1..200 at the levels."""
    x = []
    for i in range(200, 0, -1):
        x = [i, x]
    return x


@pytest.fixture
def tracked():
    EVENTS.append("setup")
    yield "tracked"
    EVENTS.append("teardown")
