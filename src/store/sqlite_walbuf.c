/* sqlite_walbuf.c — a VFS for the writer connection whose WAL file gathers the
 * frames SQLite appends into large writes.
 *
 * SQLite writes every WAL frame with two calls, its 24-byte header and then the
 * page, at offsets that straddle the file system's blocks; a commit of 76,000
 * pages (a 100,000-case import) is 152,000 small writes, and the kernel zeroes
 * the part of each new block a write does not cover before copying into it.
 * Here, writes that continue the previous one are appended to a buffer of
 * WALBUF_SIZE bytes instead, and the buffer goes to the file in one write when
 * it fills, and before anything else touches the file: a read, a write
 * elsewhere, a sync, a truncation, a size query, a file control, the close.
 * The file therefore sees the same writes in the same order, merged; a sync
 * still covers everything written before it.
 *
 * Why that is safe: the frames of a transaction become visible to readers only
 * when the writer publishes them in the wal-index, after its commit, and with
 * synchronous = FULL (conn_open sets it on the writer; test_walbuf checks it)
 * the commit syncs the WAL first, which empties the buffer.  A write that fails
 * when the buffer is flushed is reported by the call that flushed it (the sync
 * of a commit, at the latest), so the commit fails as it would have.
 *
 * Every other file (the database, its shared memory, temporary files) is opened
 * by the default VFS as it is, with no wrapper in between. */
#include "store/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#define WALBUF_VFS "amparo-walbuf"
/* the unix VFS writes at most 128 KiB - 1 bytes a call (seekAndWrite) */
#define WALBUF_SIZE (64u << 10)

typedef struct {
    sqlite3_file base; /* pMethods = &walbuf_io */
    sqlite3_file *real;
    unsigned char *buf; /* NULL until the first append */
    sqlite3_int64 off;  /* file offset of buf[0] */
    size_t len;
} walbuf_file;

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *base_vfs;
static pthread_once_t walbuf_once = PTHREAD_ONCE_INIT;
static bool walbuf_ok;

/* for tests: the writes SQLite asked for and those the file received */
static _Atomic unsigned long long writes_asked, writes_done;

static int flush(walbuf_file *f)
{
    if (f->len == 0)
        return SQLITE_OK;
    size_t n = f->len;
    f->len = 0;
    writes_done++;
    return f->real->pMethods->xWrite(f->real, f->buf, (int)n, f->off);
}

static int wb_close(sqlite3_file *file)
{
    walbuf_file *f = (walbuf_file *)file;
    int rc = flush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *file, void *p, int n, sqlite3_int64 off)
{
    walbuf_file *f = (walbuf_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, p, n, off);
}

static int wb_write(sqlite3_file *file, const void *p, int n, sqlite3_int64 off)
{
    walbuf_file *f = (walbuf_file *)file;
    writes_asked++;
    if (f->len && off == f->off + (sqlite3_int64)f->len && f->len + (size_t)n <= WALBUF_SIZE) {
        memcpy(f->buf + f->len, p, (size_t)n);
        f->len += (size_t)n;
        return SQLITE_OK;
    }
    int rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    if (!f->buf)
        f->buf = malloc(WALBUF_SIZE);
    if (!f->buf || (size_t)n > WALBUF_SIZE / 2) { /* large, or no memory: straight through */
        writes_done++;
        return f->real->pMethods->xWrite(f->real, p, n, off);
    }
    memcpy(f->buf, p, (size_t)n);
    f->off = off;
    f->len = (size_t)n;
    return SQLITE_OK;
}

static int wb_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    walbuf_file *f = (walbuf_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *file, int flags)
{
    walbuf_file *f = (walbuf_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    walbuf_file *f = (walbuf_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int wb_lock(sqlite3_file *file, int level)
{
    walbuf_file *f = (walbuf_file *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int wb_unlock(sqlite3_file *file, int level)
{
    walbuf_file *f = (walbuf_file *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int wb_check_reserved(sqlite3_file *file, int *out)
{
    walbuf_file *f = (walbuf_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wb_file_control(sqlite3_file *file, int op, void *arg)
{
    walbuf_file *f = (walbuf_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wb_sector_size(sqlite3_file *file)
{
    walbuf_file *f = (walbuf_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int wb_device_characteristics(sqlite3_file *file)
{
    walbuf_file *f = (walbuf_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* version 1: a WAL file has no shared memory and is never memory-mapped */
static const sqlite3_io_methods walbuf_io = {
    .iVersion = 1,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_file_size,
    .xLock = wb_lock,
    .xUnlock = wb_unlock,
    .xCheckReservedLock = wb_check_reserved,
    .xFileControl = wb_file_control,
    .xSectorSize = wb_sector_size,
    .xDeviceCharacteristics = wb_device_characteristics,
};

/* the real file sits after the wrapper, aligned as malloc would align it */
#define REAL_OFFSET ((sizeof(walbuf_file) + 15) & ~(size_t)15)

static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                   int *out_flags)
{
    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL))
        return base_vfs->xOpen(base_vfs, name, file, flags, out_flags);
    walbuf_file *f = (walbuf_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((char *)file + REAL_OFFSET);
    int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
    if (rc == SQLITE_OK && f->real->pMethods)
        f->base.pMethods = &walbuf_io;
    else if (f->real->pMethods) /* opened, but failed: the caller closes only what it sees */
        f->real->pMethods->xClose(f->real);
    return rc;
}

/* The rest of the VFS is the default one's. */
static int wb_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    return base_vfs->xDelete(base_vfs, name, sync_dir);
}
static int wb_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    return base_vfs->xAccess(base_vfs, name, flags, out);
}
static int wb_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    return base_vfs->xFullPathname(base_vfs, name, n, out);
}
static void *wb_dl_open(sqlite3_vfs *v, const char *name)
{
    return base_vfs->xDlOpen(base_vfs, name);
}
static void wb_dl_error(sqlite3_vfs *v, int n, char *msg)
{
    base_vfs->xDlError(base_vfs, n, msg);
}
static void (*wb_dl_sym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    return base_vfs->xDlSym(base_vfs, h, sym);
}
static void wb_dl_close(sqlite3_vfs *v, void *h)
{
    base_vfs->xDlClose(base_vfs, h);
}
static int wb_randomness(sqlite3_vfs *v, int n, char *out)
{
    return base_vfs->xRandomness(base_vfs, n, out);
}
static int wb_sleep(sqlite3_vfs *v, int us)
{
    return base_vfs->xSleep(base_vfs, us);
}
static int wb_current_time(sqlite3_vfs *v, double *out)
{
    return base_vfs->xCurrentTime(base_vfs, out);
}
static int wb_last_error(sqlite3_vfs *v, int n, char *out)
{
    return base_vfs->xGetLastError ? base_vfs->xGetLastError(base_vfs, n, out) : 0;
}
static int wb_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

static void walbuf_register(void)
{
    base_vfs = sqlite3_vfs_find(NULL);
    /* version 2 or later: xCurrentTimeInt64, which SQLite prefers */
    if (!base_vfs || base_vfs->iVersion < 2)
        return;
    walbuf_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)(REAL_OFFSET + (size_t)base_vfs->szOsFile),
        .mxPathname = base_vfs->mxPathname,
        .zName = WALBUF_VFS,
        .xOpen = wb_open,
        .xDelete = wb_delete,
        .xAccess = wb_access,
        .xFullPathname = wb_full_pathname,
        .xDlOpen = wb_dl_open,
        .xDlError = wb_dl_error,
        .xDlSym = wb_dl_sym,
        .xDlClose = wb_dl_close,
        .xRandomness = wb_randomness,
        .xSleep = wb_sleep,
        .xCurrentTime = wb_current_time,
        .xGetLastError = wb_last_error,
        .xCurrentTimeInt64 = wb_current_time_int64,
    };
    walbuf_ok = sqlite3_vfs_register(&walbuf_vfs, 0) == SQLITE_OK;
}

const char *sq_walbuf_vfs(void)
{
    pthread_once(&walbuf_once, walbuf_register);
    return walbuf_ok ? WALBUF_VFS : NULL;
}

void sq_walbuf_counts(unsigned long long *asked, unsigned long long *done)
{
    *asked = writes_asked;
    *done = writes_done;
}
