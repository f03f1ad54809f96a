"""Atomic file writes: a temporary file in the target folder, fsynced, then renamed over the target."""

import os
import tempfile


def atomic_write(filepath, write):
    """Writes a file so that readers see either the old content or the complete new one.

    Args:
        filepath: the target path.
        write: called with a binary file object open on the temporary file.

    Any exception from `write` (or the rename) removes the temporary file and leaves an
    existing target byte-identical.
    """
    filepath = os.fspath(filepath)
    folder = os.path.dirname(os.path.abspath(filepath))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(filepath)}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600): keep the mode of the file being replaced, else the umask's.
        os.chmod(temporary, os.stat(filepath).st_mode & 0o777 if os.path.exists(filepath) else 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, filepath)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_folder(folder)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder):
    # Makes the rename itself durable; not every platform can open a folder.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
