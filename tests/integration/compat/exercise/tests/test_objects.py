"""A student class (construct, methods, state, attributes, chaining, instances passed
back), a student exception subclassing ValueError, pytest.raises with match, generators,
capsys (stdout and stderr), fixtures from conftest with teardown, classes of tests."""
import itertools

import pytest

from submission import BankAccount, countdown, parse_age, report, squares, transfer, warn


def test_account_state(account):
    account.deposit(50)
    account.withdraw(20)
    assert account.balance == 130
    assert account.owner == "ada"
    assert account.history == [("deposit", 50), ("withdraw", 20)]


def test_account_methods_return_values():
    acct = BankAccount("alan")
    assert acct.balance == 0
    assert acct.deposit(10).deposit(5).balance == 15, "deposit returns the account"
    assert acct.statement() == "alan: 15"


def test_account_is_instance():
    assert isinstance(BankAccount("x"), BankAccount)


def test_class_attribute():
    assert BankAccount.bank == "gradeq bank"


@pytest.mark.points(2)
def test_withdraw_too_much_raises(account):
    with pytest.raises(ValueError, match="insufficient"):
        account.withdraw(1000)
    assert account.balance == 100, "a refused withdrawal changes nothing"


def test_transfer_between_instances():
    a, b = BankAccount("a", 50), BankAccount("b")
    transfer(a, b, 30)
    assert (a.balance, b.balance) == (20, 30)


@pytest.mark.parametrize("text", ["-1", "151", "abc"])
def test_parse_age_rejects(text):
    with pytest.raises(ValueError, match=r"between 0 and 150|not a number"):
        parse_age(text)


def test_parse_age_accepts():
    assert parse_age(" 42 ") == 42


def test_countdown_generator():
    assert list(countdown(3)) == [3, 2, 1]
    g = countdown(2)
    assert next(g) == 2 and next(g) == 1
    with pytest.raises(StopIteration):
        next(g)


def test_infinite_generator_islice():
    assert list(itertools.islice(squares(), 5)) == [0, 1, 4, 9, 16]


def test_report_prints(capsys):
    assert report("ada", 93) is None
    assert capsys.readouterr().out == "ada: 93 (A)\n"


def test_warn_prints_to_stderr(capsys):
    warn("low balance")
    out, err = capsys.readouterr()
    assert err == "warning: low balance\n"
    assert out == ""


def test_fixture_with_teardown(tracked):
    import conftest
    assert tracked == "tracked" and conftest.EVENTS[-1] == "setup"


class TestGrouped:
    def test_statement_after_deposit(self, account):
        account.deposit(1)
        assert account.statement() == "ada: 101"

    @pytest.mark.points(0)
    def test_unweighted(self):
        assert True
