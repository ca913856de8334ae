"""Starts a script inside its sandbox: ``python -I -S sandbox_boot.py -- ARGV...`` with the
configuration (JSON) in ``TICKWORK_SANDBOX``, in the environment rather than the command line,
which other users can read; the script's environment replaces it at ``execve``.

Run as a file by the scheduler's own interpreter, in the fresh child process (single-threaded,
so nothing here races with the scheduler's threads, which ``preexec_fn`` would). Standard
library only. In order:

1. resource limits (RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CORE = 0);
2. ``PR_SET_NO_NEW_PRIVS`` (no setuid program regains privileges);
3. Landlock, when asked: the filesystem becomes read-only system directories (``ro``) and the
   script's own directory (``rw``); everything else, the data directory, ``/proc`` (other
   processes' environments), home directories included, is out of reach;
4. when the scheduler runs as root, the switch to an unprivileged user (``uid``/``gid``);
5. ``execve`` of the interpreter on the script, with the environment it was given.

Any failure exits with status 126 and a line on stderr saying what could not be set up: a
script never runs with less protection than was asked for.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import struct
import sys

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
_RULE_PATH_BENEATH = 1
# Landlock filesystem rights (ABI 1: bits 0-12; 2: REFER; 3: TRUNCATE; 5: IOCTL_DEV).
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1, 2, 4, 8
_ALL_ABI1 = (1 << 13) - 1
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV


def _fail(message: str) -> None:
    sys.stderr.write(f"tickwork sandbox: {message}\n")
    sys.stderr.flush()
    os._exit(126)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: none)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        version = libc.syscall(_SYS_CREATE_RULESET, None, 0, 1)
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def _landlock(read_only: list[str], read_write: list[str]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    abi = landlock_abi()
    if abi < 1:
        _fail("Landlock is not available in this kernel")
    handled = _ALL_ABI1
    if abi >= 2:
        handled |= _REFER
    if abi >= 3:
        handled |= _TRUNCATE
    if abi >= 5:
        handled |= _IOCTL_DEV
    attr = ctypes.create_string_buffer(struct.pack("QQQ", handled, 0, 0))
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, attr, size, 0)
    if ruleset < 0:
        _fail(f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}")
    read = _EXECUTE | _READ_FILE | _READ_DIR
    for paths, rights in ((read_only, read), (read_write, handled)):
        for path in paths:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # not on this system
            try:
                is_dir = os.path.isdir(path)
                allowed = (rights if is_dir else rights & _FILE_RIGHTS) & handled
                rule = ctypes.create_string_buffer(struct.pack("=QI", allowed, fd))
                if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, rule, 0) != 0:
                    _fail(f"landlock_add_rule({path}) failed: {os.strerror(ctypes.get_errno())}")
            finally:
                os.close(fd)
    if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
        _fail(f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}")
    os.close(ruleset)


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[0] != "--":
        _fail("usage: sandbox_boot.py -- ARGV... (configuration in TICKWORK_SANDBOX)")
    try:
        config = json.loads(os.environ["TICKWORK_SANDBOX"])
    except (KeyError, ValueError):
        _fail("TICKWORK_SANDBOX holds no configuration")
    target = argv[1:]
    limits = {
        "cpu": resource.RLIMIT_CPU,
        "as": resource.RLIMIT_AS,
        "fsize": resource.RLIMIT_FSIZE,
        "nofile": resource.RLIMIT_NOFILE,
        "core": resource.RLIMIT_CORE,
    }
    try:
        for name, value in config.get("limits", {}).items():
            resource.setrlimit(limits[name], (int(value), int(value)))
    except (ValueError, OSError, KeyError) as exc:
        _fail(f"cannot set resource limit: {exc}")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        _fail("cannot set no_new_privs")
    fence = config.get("landlock")
    if fence is not None:
        _landlock(list(fence.get("ro", [])), list(fence.get("rw", [])))
    uid, gid = config.get("uid"), config.get("gid")
    if uid is not None:
        try:
            os.setgroups([])
            os.setgid(int(gid))
            os.setuid(int(uid))
        except OSError as exc:
            _fail(f"cannot switch to user {uid}: {exc}")
        if os.getuid() == 0 or os.geteuid() == 0:
            _fail("still root after the user switch")
    cwd = config.get("cwd")
    if cwd:
        os.chdir(cwd)
    try:
        os.execve(target[0], target, config.get("env", {}))
    except OSError as exc:
        _fail(f"cannot start {target[0]}: {exc.strerror or exc}")


if __name__ == "__main__":
    main(sys.argv[1:])
