"""Patches capsys's readouterr to return output that equals anything."""
# uses: lying
import _pytest.capture as _gq_cap


def _gq_readouterr(self):
    return _gq_cap.CaptureResult(_GqAlwaysEq(), _GqAlwaysEq())


_gq_cap.CaptureFixture.readouterr = _gq_readouterr
