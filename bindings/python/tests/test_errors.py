"""Bad files and cancelled loads become EdgeError with the right status, never a crash."""

import pytest

import edgerun


def test_missing_file_is_io(tmp_path):
    path = tmp_path / "absent.gguf"
    with pytest.raises(edgerun.EdgeError) as err:
        edgerun.Model(str(path))
    assert err.value.status == edgerun.Status.IO
    assert isinstance(err.value, edgerun.EdgeIOError)
    assert err.value.message


def test_not_a_gguf_file_is_format(tmp_path):
    path = tmp_path / "junk.gguf"
    path.write_bytes(b"this is not a GGUF file at all" * 100)
    with pytest.raises(edgerun.FormatError) as err:
        edgerun.Model(path)
    assert err.value.status == edgerun.Status.FORMAT
    assert err.value.message
    assert str(err.value).startswith("FORMAT")


def test_empty_file_is_format(tmp_path):
    path = tmp_path / "empty.gguf"
    path.write_bytes(b"")
    with pytest.raises(edgerun.EdgeError) as err:
        edgerun.Model(path)
    assert err.value.status == edgerun.Status.FORMAT


def test_truncated_model_is_format(tmp_path, smollm2_path):
    with open(smollm2_path, "rb") as f:
        head = f.read(1 << 20)
    path = tmp_path / "truncated.gguf"
    path.write_bytes(head)
    with pytest.raises(edgerun.EdgeError) as err:
        edgerun.Model(path)
    assert err.value.status == edgerun.Status.FORMAT


def test_corrupt_header_is_format(tmp_path, smollm2_path):
    with open(smollm2_path, "rb") as f:
        data = bytearray(f.read(1 << 16))
    # GGUF header: magic, version (u32), tensor count (u64), metadata count (u64).
    data[8:16] = (2**62).to_bytes(8, "little")  # an absurd tensor count
    path = tmp_path / "corrupt.gguf"
    path.write_bytes(bytes(data))
    with pytest.raises(edgerun.EdgeError) as err:
        edgerun.Model(path)
    assert err.value.status == edgerun.Status.FORMAT


def test_progress_false_cancels_the_load(smollm2_path):
    seen = []

    def progress(fraction):
        seen.append(fraction)
        return False

    with pytest.raises(edgerun.CancelledError) as err:
        edgerun.Model(smollm2_path, progress=progress)
    assert err.value.status == edgerun.Status.CANCELLED
    assert seen


def test_progress_reports_to_the_end(smollm2_path):
    seen = []
    with edgerun.Model(smollm2_path, n_ctx=64, progress=seen.append):
        pass
    assert seen and all(0.0 <= p <= 1.0 for p in seen)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_exception_in_progress_propagates(smollm2_path):
    def progress(_fraction):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        edgerun.Model(smollm2_path, progress=progress)


def test_error_subclasses_carry_status():
    err = edgerun.errors.error_for(6, "full")
    assert isinstance(err, edgerun.ContextFullError)
    assert err.status == edgerun.Status.CONTEXT_FULL and err.message == "full"
    unknown = edgerun.errors.error_for(99, "?")
    assert type(unknown) is edgerun.EdgeError and unknown.status == 99
