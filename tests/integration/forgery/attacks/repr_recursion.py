"""Returns objects whose __repr__/__str__/__eq__/__bool__/__hash__/__len__ recurse
forever, and raises an exception whose __str__ recurses."""


class _GqBomb:
    def __repr__(self):
        return repr(self)

    def __str__(self):
        return str(self)

    def __eq__(self, other):
        return self == other

    def __bool__(self):
        return bool(self)

    def __hash__(self):
        return hash(self)

    def __len__(self):
        return len(self)


class _GqBombError(Exception):
    def __str__(self):
        return str(self)


def _gq_hook(name, value, args):
    if name in ("mean", "median"):
        raise _GqBombError()
    return _GqBomb()
