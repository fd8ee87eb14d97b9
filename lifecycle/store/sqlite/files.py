"""The files behind a SQLite store: created private, watched while open, measured.

Private: memories hold whatever agents write, so, as ssh and credential stores do,
the store directory this process creates is 0700 and the database file 0600,
whatever the umask (SQLite creates ``-wal`` and ``-shm`` with the database's own
mode). Files of an existing store that this user owns and that group or others
can read are tightened to the owner's bits on open, with a warning.

Watched: a connection keeps writing into the file it opened even after that file
is deleted or replaced (``rm memory.db*``): every write is acknowledged, none is
ever seen by another process, and all are gone at close. So each connection
remembers which files it opened, by ``(st_dev, st_ino)``, and the store checks
that the path still names them (``FileIdentity.changed``): the database file
before every write transaction, the database and its WAL after every commit
(a write that went astray is reported lost, never acknowledged), and all three
files at most once a second before a read.

Measured: the size on disk is the database file plus its write-ahead log.
"""

from __future__ import annotations

import os
import stat

from lifecycle.basics.lazy_logging import get_logger
from lifecycle.basics.suppress import suppress

SIDE_FILES = ("-wal", "-shm")
ALL_FILES = ("", *SIDE_FILES)
GATE = "-writer"  # the writers' gate (sqlite_gate): not watched, only kept private
DATABASE = ("",)
DATABASE_AND_WAL = ("", "-wal")
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600

log = get_logger("memory_lifecycle.store")


def prepare(path: str) -> None:
    """Create the store's directory (0700) and database file (0600) if missing, and
    tighten existing files this user owns. ``OSError`` says what failed."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=DIRECTORY_MODE, exist_ok=True)
        os.chmod(directory, DIRECTORY_MODE)  # mkdir's mode is filtered by the umask
    with suppress(FileExistsError):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)
        finally:
            os.close(fd)
    tighten(path)


def tighten(path: str) -> None:
    """Remove group/other bits from the store files this user owns; warn about others."""
    for name in (str(path), *(f"{path}{suffix}" for suffix in (*SIDE_FILES, GATE))):
        try:
            st = os.lstat(name)
        except OSError:
            continue
        mode = stat.S_IMODE(st.st_mode)
        if not stat.S_ISREG(st.st_mode) or not mode & 0o077:
            continue  # a symlink's target is not ours to change
        if st.st_uid != os.geteuid():
            log.warning(
                "store file %s is readable by others (mode %03o) and owned by another user; "
                "ask its owner to run chmod 600 on it",
                name,
                mode,
            )
            continue
        try:
            os.chmod(name, mode & 0o700)
        except OSError as exc:
            log.warning("cannot make store file %s private: %s", name, exc.strerror)
        else:
            log.warning(
                "store file %s was readable by group or others (mode %03o); now %03o",
                name,
                mode,
                mode & 0o700,
            )


def _identity(name: str) -> tuple[int, int] | None:
    try:
        st = os.stat(name)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class FileIdentity:
    """Which database, WAL and shared-memory files one connection has open.

    The WAL and ``-shm`` files appear at the first transaction, so each is recorded
    the first time it is seen; from then on, while the connection stays open, SQLite
    never deletes or replaces them (only the last connection to close does).
    """

    __slots__ = ("_files", "_names", "_path", "_wal")

    def __init__(self, path: str) -> None:
        self._path = str(path)
        self._wal = self._path + "-wal"
        self._names = {suffix: self._path + suffix for suffix in ALL_FILES}
        self._files = {suffix: _identity(name) for suffix, name in self._names.items()}

    # Before and after every write transaction: ``changed(DATABASE)`` and
    # ``changed(DATABASE_AND_WAL)`` spelled out for when nothing changed (the same
    # ``stat`` calls, without the loop), and the general rules when anything looks
    # different (a WAL not seen yet is recorded there).

    def database_changed(self) -> str | None:
        """``changed(DATABASE)``: before every write transaction."""
        try:
            st = os.stat(self._path)
        except OSError:
            return self.changed(DATABASE)
        if (st.st_dev, st.st_ino) == self._files[""]:
            return None
        return self.changed(DATABASE)

    def committed_changed(self) -> str | None:
        """``changed(DATABASE_AND_WAL)``: after every commit."""
        files, stat_of = self._files, os.stat
        try:
            st = stat_of(self._path)
            wal = stat_of(self._wal)
        except OSError:
            return self.changed(DATABASE_AND_WAL)
        if (st.st_dev, st.st_ino) == files[""] and (wal.st_dev, wal.st_ino) == files["-wal"]:
            return None
        return self.changed(DATABASE_AND_WAL)

    def changed(self, suffixes: tuple[str, ...] = ALL_FILES) -> str | None:
        """What happened to the files since they were opened, or None if nothing did.
        Each file costs one ``stat`` (and nothing else: this runs before and after every
        write transaction), so a hot path can ask about fewer."""
        files, names, stat_of = self._files, self._names, os.stat
        for suffix in suffixes:
            name = names[suffix]
            try:
                st = stat_of(name)
            except OSError:
                current = None
            else:
                current = (st.st_dev, st.st_ino)
            expected = files[suffix]
            if current == expected:
                continue
            if expected is None and suffix:
                files[suffix] = current  # first seen
                continue
            return f"{name} was deleted" if current is None else f"{name} was replaced"
        return None


FULL_BELOW_BYTES = 64 << 10  # less free space than a WAL's first frames and -shm need


def unwritable(path: str) -> str | None:
    """Why the store's files cannot be written now (a read-only mount, no permission, a
    full disk), or None: what ``stats`` reports and a refused write says."""
    folder = os.path.dirname(path) or "."
    try:
        fs = os.statvfs(folder)
    except OSError:
        return None
    if fs.f_flag & os.ST_RDONLY:
        return "its folder is on a read-only file system"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return f"this user may not write {path}"
    if not os.access(folder, os.W_OK) and not os.path.exists(f"{path}-wal"):
        return f"this user may not create files in {folder}"
    free = (fs.f_bfree if os.geteuid() == 0 else fs.f_bavail) * fs.f_frsize
    if free < FULL_BELOW_BYTES:
        return f"the disk is full ({free} bytes free)"
    return None


def size_on_disk(path: str) -> int:
    """Bytes the store occupies: the database file plus its write-ahead log (the small
    ``-shm`` index is not counted). Free pages inside the file count until maintenance
    gives them back."""
    total = 0
    for suffix in ("", "-wal"):
        with suppress(OSError):
            total += os.path.getsize(f"{path}{suffix}")
    return total
