"""The error boundary of ``autoenc.cli.main.main``: what only a real process shows (a closed
stdout, the first line on stderr) in two subprocesses, and the rest in-process with stand-in
commands (warnings silenced unless --verbose, a closed stdout, OSErrors naming no path)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import warnings

import pytest

from autoenc.cli import main as cli
from autoenc.core.errors import UserError

AUTOENC = [sys.executable, "-c", "import sys; from autoenc.cli.main import main; sys.exit(main())"]


def test_closed_stdout_ends_quietly_with_141():
    """``autoenc sources | head -0``: the reader is gone before the first write."""
    read, write = os.pipe()
    proc = subprocess.Popen([*AUTOENC, "sources"], stdout=write, stderr=subprocess.PIPE)
    os.close(write)
    os.close(read)  # long before the child has imported anything
    _, err = proc.communicate(timeout=120)
    assert err.decode() == ""  # no traceback, no "Exception ignored ... BrokenPipeError"
    assert proc.returncode == cli.BROKEN_PIPE


def test_error_line_is_the_first_line_on_stderr(tmp_path):
    """Importing torch and Lightning (the checkpoint loader) prints nothing before the error."""
    proc = subprocess.run([*AUTOENC, "reconstruct", str(tmp_path / "missing"), "--count", "2"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()], proc.stderr
    assert proc.stderr.startswith("autoenc reconstruct: error: ") and "missing" in proc.stderr
    assert list(tmp_path.iterdir()) == []


# -- in-process, with stand-in commands ----------------------------------------------------------
def _warn_then_fail(argv: list[str]) -> int:
    """Warns as torch's unpickler and as autoenc, reports which warnings got through on stdout,
    then fails as a user error."""
    with warnings.catch_warnings(record=True) as seen:  # keeps the filters main installed
        warnings.warn_explicit("You are using torch.load with weights_only=False", FutureWarning,
                               "serialization.py", 1, module="torch.serialization")
        warnings.warn_explicit("a tip", UserWarning, "cli.py", 1, module="lightning.pytorch.cli")
        warnings.warn_explicit("ours", UserWarning, "look.py", 1, module="autoenc.workflows.views")
    print(",".join(str(w.message) for w in seen))
    raise UserError("bad input; fix it")


def _raise(error: BaseException):
    def command(argv: list[str]) -> int:
        raise error
    return command


@pytest.fixture
def stand_in(monkeypatch):
    """Register ``test-cmd`` running the given function (removed after the test)."""
    def register(func) -> None:
        monkeypatch.setattr(sys.modules[__name__], "_current", func, raising=False)
        monkeypatch.setitem(cli.COMMANDS._items, "test-cmd", cli.Command(f"{__name__}:_current", "test"))
    return register


@pytest.mark.parametrize(("flags", "shown"), [
    ([], "ours"),
    (["--verbose"], "You are using torch.load with weights_only=False,a tip,ours"),
])
def test_third_party_warnings_only_with_verbose(stand_in, capsys, flags, shown):
    stand_in(_warn_then_fail)
    assert cli.main(["test-cmd", *flags]) == 2
    out, err = capsys.readouterr()
    assert out.strip() == shown
    assert err == "autoenc test-cmd: error: bad input; fix it\n"


def test_stdout_closed_at_the_start_is_one_line(stand_in, capsys, monkeypatch):
    """``autoenc sources >&-``: Python starts with sys.stdout None; nothing runs."""
    ran = []
    stand_in(lambda argv: ran.append(argv) or 0)
    monkeypatch.setattr(sys, "stdout", None)
    assert cli.main(["test-cmd"]) == 2 and ran == []
    assert capsys.readouterr().err == ("autoenc test-cmd: error: stdout is closed; redirect it to a file or /dev/null "
                                       "instead of closing it\n")


def test_broken_pipe_in_process_is_quiet(stand_in, capsys):
    stand_in(_raise(BrokenPipeError(errno.EPIPE, "Broken pipe")))
    assert cli.main(["test-cmd"]) == cli.BROKEN_PIPE
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("error", "line"), [
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/a/.x.tmp", None, "/a/x.png"),
     "cannot write '/a/x.png': it is a directory; choose another output path"),
    (PermissionError(errno.EACCES, "Permission denied", "/root/out"),
     "cannot write '/root/out': permission denied; choose another output path"),
    (OSError(errno.ENOSPC, "No space left on device"),
     "cannot write: no space left on device (or quota exceeded); free some space or choose another output path"),
    (OSError(errno.EROFS, "Read-only file system", "/ro/x"),
     "cannot write '/ro/x': read-only file system; choose another output path"),
])
def test_os_errors_naming_a_path_are_one_line(stand_in, capsys, error, line):
    stand_in(_raise(error))
    assert cli.main(["test-cmd"]) == 2
    assert capsys.readouterr().err == f"autoenc test-cmd: error: {line}\n"


def test_out_of_memory_is_one_line(stand_in, capsys):
    import torch

    for error in (MemoryError("Unable to allocate 24.0 GiB"), torch.OutOfMemoryError("CUDA out of memory")):
        stand_in(_raise(error))
        assert cli.main(["test-cmd"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("autoenc test-cmd: error: out of memory (") and "smaller --batch_size" in err
        assert err.count("\n") == 1


def test_os_error_naming_no_path_is_a_bug_with_its_traceback(stand_in):
    stand_in(_raise(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")))
    with pytest.raises(ConnectionResetError):
        cli.main(["test-cmd"])


def test_debug_shows_the_traceback(stand_in, capsys):
    stand_in(_raise(PermissionError(errno.EACCES, "Permission denied", "/root/out")))
    assert cli.main(["test-cmd", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith("permission denied; choose another output path\n")


# -- the shared writers keep the promise: all files or none, no directory left empty ------------
def test_staged_files_gives_all_or_nothing(tmp_path):
    from autoenc.core.atomic import staged_files

    out = tmp_path / "new" / "out"
    with pytest.raises(RuntimeError), staged_files(out) as stage:
        (stage / "a.png").write_bytes(b"a")
        raise RuntimeError("the second picture failed")
    assert list(tmp_path.iterdir()) == []  # neither files nor the directories made for them

    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "a.png").write_bytes(b"old")
    (tmp_path / "old" / "b.png").mkdir()  # a directory where a file should go
    with pytest.raises(IsADirectoryError) as caught, staged_files(tmp_path / "old") as stage:
        (stage / "a.png").write_bytes(b"new")
        (stage / "b.png").write_bytes(b"new")
    assert caught.value.filename == str(tmp_path / "old" / "b.png")
    assert sorted(p.name for p in (tmp_path / "old").iterdir()) == ["a.png", "b.png"]
    assert (tmp_path / "old" / "a.png").read_bytes() == b"old"  # refused before any rename

    with staged_files(tmp_path / "old2") as stage:
        (stage / "a.png").write_bytes(b"new")
    assert [p.name for p in (tmp_path / "old2").iterdir()] == ["a.png"]  # no staging directory left


def test_atomic_file_on_a_full_disk_names_the_file_and_removes_its_parents(tmp_path, monkeypatch):
    from autoenc.core.atomic import atomic_file, file_error_message

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "a" / "b" / "x.json"
    with pytest.raises(OSError) as caught, atomic_file(path, "w") as f:
        f.write("{}")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(path)
    assert file_error_message(caught.value).startswith(f"cannot write {str(path)!r}: no space left on device")
    assert list(tmp_path.iterdir()) == []
