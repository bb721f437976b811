#!/usr/bin/python3
"""A deliberately slow filesystem: a FUSE passthrough of BACKING at MOUNTPOINT whose writes,
fsyncs and file creations sleep, as a failing or overloaded disk does.

    slowfs.py BACKING MOUNTPOINT [--write-ms N] [--fsync-ms N] [--create-ms N] [--control F]

Runs in the foreground until unmounted (umount MOUNTPOINT) or killed. Every call that changes
data waits first; reads are not slowed (a spool is written far more than read here). The
kernel sees an ordinary filesystem whose writes take that long: a process writing to it blocks
in write(2), fsync(2) or on dirty pages, exactly as on a slow disk. With --control F, the
delays apply only while file F exists (a test makes the disk slow, then well again). Used by
slow_disk_e2e.sh.
"""

import argparse
import errno
import os
import threading
import time

import fusepy


class SlowPassthrough(fusepy.Operations):
    def __init__(self, root, write_s, fsync_s, create_s, control):
        self.root = os.path.realpath(root)
        self.control = control
        self.write_s = write_s
        self.fsync_s = fsync_s
        self.create_s = create_s
        self._mutex = threading.Lock()
        self.writes = 0

    def _sleep(self, seconds):
        if self.control is None or os.path.exists(self.control):
            time.sleep(seconds)

    def _path(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    # Metadata, unslowed.
    def access(self, path, mode):
        if not os.access(self._path(path), mode):
            raise fusepy.FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        st = os.lstat(self._path(path))
        keys = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size",
                "st_uid", "st_blocks", "st_blksize")
        return {k: getattr(st, k) for k in keys}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._path(path))

    def statfs(self, path):
        st = os.statvfs(self._path(path))
        keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files",
                "f_flag", "f_frsize", "f_namemax")
        return {k: getattr(st, k) for k in keys}

    def chmod(self, path, mode):
        os.chmod(self._path(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._path(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._path(path), times)

    def readlink(self, path):
        return os.readlink(self._path(path))

    # Changes to the tree: slowed like file creation.
    def mkdir(self, path, mode):
        self._sleep(self.create_s)
        os.mkdir(self._path(path), mode)

    def rmdir(self, path):
        os.rmdir(self._path(path))

    def unlink(self, path):
        os.unlink(self._path(path))

    def rename(self, old, new):
        self._sleep(self.create_s)
        os.rename(self._path(old), self._path(new))

    def symlink(self, target, source):
        os.symlink(source, self._path(target))

    def link(self, target, source):
        os.link(self._path(source), self._path(target))

    # Files.
    def open(self, path, flags):
        return os.open(self._path(path), flags)

    def create(self, path, mode, fi=None):
        self._sleep(self.create_s)
        # Read-write whatever the caller asked: the kernel reads pages through this descriptor
        # too (a shared mapping faults them in), and a write-only one would end in SIGBUS.
        return os.open(self._path(path), os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode)

    def read(self, path, length, offset, fh):
        return os.pread(fh, length, offset)

    def write(self, path, buf, offset, fh):
        self._sleep(self.write_s)
        with self._mutex:
            self.writes += 1
        return os.pwrite(fh, buf, offset)

    def truncate(self, path, length, fh=None):
        self._sleep(self.write_s)
        with open(self._path(path), "r+b") as f:
            f.truncate(length)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        self._sleep(self.fsync_s)
        os.fsync(fh)
        return 0

    def release(self, path, fh):
        os.close(fh)
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("backing")
    ap.add_argument("mountpoint")
    ap.add_argument("--write-ms", type=float, default=50)
    ap.add_argument("--fsync-ms", type=float, default=1000)
    ap.add_argument("--create-ms", type=float, default=200)
    ap.add_argument("--control", help="slow only while this file exists")
    a = ap.parse_args()
    ops = SlowPassthrough(a.backing, a.write_ms / 1000, a.fsync_ms / 1000, a.create_ms / 1000,
                          a.control)
    # Threads, so that one slow write does not also hold back every getattr; no kernel write
    # cache beyond the page cache's own (direct_io off), as an ordinary disk filesystem.
    fusepy.FUSE(ops, a.mountpoint, foreground=True, nothreads=False, allow_other=True)


if __name__ == "__main__":
    main()
