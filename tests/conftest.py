"""Shared pytest fixtures (add fixtures here; never remove one another test uses)."""

import contextlib
import os
import subprocess
import uuid

import numpy as np
import pytest


@pytest.fixture
def rng(request):
    """A numpy Generator seeded from the test's name, so no test depends on another's draws."""
    seed = int.from_bytes(request.node.nodeid.encode(), "little") % (2**32)
    return np.random.default_rng(seed)


class SmallFilesystem:
    """A size-limited tmpfs mounted for one test (root only), remountable read-only."""

    def __init__(self, path, size):
        self.path = path
        self.size = size
        self._binds = []

    def _mount(self, *args):
        return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)

    def fill(self, leave):
        """Fill the filesystem with a filler file until about ``leave`` bytes stay free."""
        stat = os.statvfs(self.path)
        free = stat.f_bavail * stat.f_frsize
        filler = self.path / f"filler-{uuid.uuid4().hex}"
        with filler.open("wb") as handle, contextlib.suppress(OSError):
            handle.write(b"\0" * max(free - leave, 0))
        return filler

    def read_only(self, target=None):
        """Remount the filesystem read-only, or bind ``target`` (a file) read-only on itself."""
        if target is None:
            done = self._mount("-o", "remount,ro", str(self.path))
        else:
            done = self._mount("--bind", str(target), str(target))
            if done.returncode == 0:
                self._binds.append(target)
                done = self._mount("-o", "remount,ro,bind", str(target))
        if done.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {done.stderr.strip()}")

    def writable(self):
        for target in reversed(self._binds):
            subprocess.run(["umount", str(target)], capture_output=True, check=False)
        self._binds.clear()
        self._mount("-o", "remount,rw", str(self.path))


@pytest.fixture
def small_filesystem(tmp_path):
    """Mount a tmpfs of 8 MiB at ``tmp_path / "small"`` (skipped where mounting is not allowed).

    Full-disk and read-only tests need a real filesystem limit; a tmpfs with ``size=`` is made
    inside the test and unmounted after it.  Mounting needs root (CAP_SYS_ADMIN).
    """
    path = tmp_path / "small"
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root (CAP_SYS_ADMIN); not root here")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here: {done.stderr.strip()}")
    filesystem = SmallFilesystem(path, 8 << 20)
    try:
        yield filesystem
    finally:
        filesystem.writable()
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
