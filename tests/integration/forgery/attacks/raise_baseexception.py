"""The graded functions raise a BaseException subclass of their own, and GeneratorExit."""


class _GqEscape(BaseException):
    pass


def _gq_hook(name, value, args):
    if name in ("add", "words", "lookup"):
        raise GeneratorExit("bye")
    raise _GqEscape("escape")
