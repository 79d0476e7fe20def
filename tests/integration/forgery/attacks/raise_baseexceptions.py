"""The graded functions raise BaseExceptions that are not Exceptions: SystemExit(0),
GeneratorExit, and a BaseException subclass of their own."""


class _GqEscape(BaseException):
    pass


def _gq_hook(name, value, args):
    if name in ("add", "words", "lookup", "greet"):
        raise SystemExit(0)
    if name in ("mean", "normalize", "median"):
        raise GeneratorExit("bye")
    raise _GqEscape("escape")
