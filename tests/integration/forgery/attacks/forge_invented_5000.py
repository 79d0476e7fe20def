"""While imported: writes 5000 invented tests of weight 1e6 ('collected'), each 'passed',
on the result channel, then lets grading go on."""
# uses: records
_gq_inv = [[f"test_forge_a.py::test_invented_{i:04d}", 1e6] for i in range(5000)]
_gq_data = b"".join(_gq_frame({"t": "collected", "tests": _gq_inv[i:i + 1000]})
                    for i in range(0, 5000, 1000))
_gq_data += b"".join(_gq_frame(_gq_passed(n, w)) for n, w in _gq_inv)
_gq_write_all(_gq_data, [3])
