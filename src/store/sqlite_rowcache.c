/* sqlite_rowcache.c — the cases read most recently, kept as stored (sealed text,
 * wrapped key) so that a repeated read costs no SQLite read.
 *
 * Why: SQLite drops a reader connection's whole page cache whenever another
 * connection has committed since its last read, and every audited read commits
 * an audit entry; without this cache each read of a case would fetch its pages
 * from the file again.  Nothing is decrypted here: entries hold exactly what the
 * database holds.
 *
 * Staying in step with writes, in this process and in others (the CLI writing
 * while `amparo serve` runs): a shared generation number in a small file next to
 * the database (DB-rowgen, mapped by every process that opens the store).  The
 * writer connection's pre-update hook notes the first change, in a transaction,
 * to a table other than the audit trail's, sessions, users and sequences, and increments
 * the generation then (making it odd: a write is under way); once the
 * transaction has committed or rolled back it is incremented again.  An entry
 * is used only while the generation is the one read before its rows were
 * fetched, and nothing is cached or answered from the cache while the
 * generation is odd, so any committed change to any case data makes every entry
 * stale at once.  A process stopped in the middle (after its change, before
 * the second increment) leaves the generation odd: every cache stays off until
 * a store is opened, takes the write lock (so no transaction is under way) and
 * makes the generation even again. */
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include "store/sqlite_int.h"
#include "util/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define RC_SETS 2048 /* four entries per set: up to 8,192 cases ... */
#define RC_WAYS 4
#define RC_BUDGET (16u << 20) /* ... within 16 MB of stored text */
#define RC_LOCKS 64

typedef struct {
    bool used;
    uint64_t gen;
    unsigned tick; /* last use, for choosing the way to replace */
    size_t bytes;  /* of stored text held */
    store_row row;
    store_row *children;
    int nchildren;
    store_case_key key; /* key.len 0: the case has no key */
} rc_entry;

struct sq_rowcache {
    _Atomic uint64_t *gen; /* in the shared mapping; odd while a write is under way */
    bool *touched;         /* the store's flag: this transaction changed case data */
    pthread_mutex_t locks[RC_LOCKS];
    atomic_uint tick;
    atomic_size_t bytes; /* sum of the entries' bytes */
    rc_entry sets[RC_SETS][RC_WAYS];
};

static void entry_free(rc_entry *e)
{
    store_row_release(&e->row);
    for (int i = 0; i < e->nchildren; i++)
        store_row_release(&e->children[i]);
    free(e->children);
    memset(e, 0, sizeof *e);
}

static void entry_clear(sq_rowcache *rc, rc_entry *e)
{
    if (!e->used)
        return;
    atomic_fetch_sub(&rc->bytes, e->bytes);
    entry_free(e);
}

static bool row_copy(store_row *dst, const store_row *src)
{
    *dst = *src;
    dst->doc = NULL;
    dst->raw = src->raw ? strdup(src->raw) : NULL;
    return !src->raw || dst->raw;
}

/* Copies rows and children; false (nothing left allocated) when out of memory. */
static bool rows_copy(store_row *row, store_row **children, int *n, const store_row *srow,
                      const store_row *schildren, int sn)
{
    *children = NULL;
    *n = 0;
    if (!row_copy(row, srow))
        return false;
    if (sn == 0)
        return true;
    store_row *ch = calloc((size_t)sn, sizeof *ch);
    if (!ch) {
        store_row_release(row);
        return false;
    }
    for (int i = 0; i < sn; i++) {
        if (!row_copy(&ch[i], &schildren[i])) {
            for (int k = 0; k < i; k++)
                store_row_release(&ch[k]);
            free(ch);
            store_row_release(row);
            return false;
        }
    }
    *children = ch;
    *n = sn;
    return true;
}

static size_t set_of(const char *uid)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)uid; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % RC_SETS);
}

sq_rowcache *sq_rowcache_open(const char *db_path)
{
    char path[4200];
    snprintf(path, sizeof path, "%s-rowgen", db_path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_info("store: no case cache (cannot open %s)", path);
        return NULL;
    }
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (st.st_size >= 8 || ftruncate(fd, 8) == 0))
        map = mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        log_info("store: no case cache (cannot map %s)", path);
        return NULL;
    }
    sq_rowcache *rc = calloc(1, sizeof *rc);
    if (!rc) {
        munmap(map, 8);
        return NULL;
    }
    rc->gen = map;
    for (int i = 0; i < RC_LOCKS; i++)
        pthread_mutex_init(&rc->locks[i], NULL);
    return rc;
}

void sq_rowcache_settle(sq_rowcache *rc, sqlite3 *writer)
{
    if (!rc)
        return;
    /* Under the write lock no transaction is under way, so an odd generation was
     * left by a process stopped mid-write: make it even.  If another process
     * holds the lock (a long import), keep the parity: that process makes it
     * even, or a later open does.  Either way the number moves on, so entries
     * other processes cached before this open are not trusted. */
    sqlite3_busy_timeout(writer, 100);
    bool locked = sqlite3_exec(writer, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    uint64_t g = atomic_load(rc->gen);
    atomic_fetch_add(rc->gen, locked && (g & 1) ? 1 : 2);
    if (locked)
        sqlite3_exec(writer, "COMMIT", NULL, NULL, NULL);
    sqlite3_busy_timeout(writer, SQ_BUSY_TIMEOUT_MS);
}

void sq_rowcache_close(sq_rowcache *rc)
{
    if (!rc)
        return;
    for (size_t s = 0; s < RC_SETS; s++)
        for (int w = 0; w < RC_WAYS; w++)
            entry_clear(rc, &rc->sets[s][w]);
    for (int i = 0; i < RC_LOCKS; i++)
        pthread_mutex_destroy(&rc->locks[i]);
    munmap((void *)rc->gen, 8);
    free(rc);
}

uint64_t sq_rowcache_generation(sq_rowcache *rc)
{
    return rc ? atomic_load(rc->gen) : 0;
}

void sq_rowcache_write_ended(sq_rowcache *rc)
{
    if (rc && *rc->touched)
        atomic_fetch_add(rc->gen, 1); /* even again: the change is in, or was undone */
    if (rc)
        *rc->touched = false;
}

bool sq_rowcache_get(sq_rowcache *rc, const char *uid, store_row *row, store_row **children,
                     int *nchildren, store_case_key *key)
{
    if (!rc)
        return false;
    uint64_t gen = atomic_load(rc->gen);
    if (gen & 1)
        return false; /* a write is under way */
    size_t s = set_of(uid);
    pthread_mutex_t *mu = &rc->locks[s % RC_LOCKS];
    bool hit = false;
    pthread_mutex_lock(mu);
    for (int w = 0; w < RC_WAYS && !hit; w++) {
        rc_entry *e = &rc->sets[s][w];
        if (!e->used || strcmp(e->row.uid, uid) != 0)
            continue;
        if (e->gen != gen) {
            entry_clear(rc, e);
            break;
        }
        hit = rows_copy(row, children, nchildren, &e->row, e->children, e->nchildren);
        if (hit) {
            e->tick = atomic_fetch_add(&rc->tick, 1);
            if (key)
                *key = e->key;
        }
    }
    pthread_mutex_unlock(mu);
    return hit;
}

void sq_rowcache_put(sq_rowcache *rc, uint64_t gen, const store_row *row, const store_row *children,
                     int nchildren, const store_case_key *key)
{
    if (!rc || !key || (gen & 1) || gen != atomic_load(rc->gen))
        return; /* a write under way, or committed meanwhile: the rows may predate it */
    rc_entry fresh = {.used = true, .gen = gen, .key = *key};
    if (!rows_copy(&fresh.row, &fresh.children, &fresh.nchildren, row, children, nchildren))
        return;
    fresh.tick = atomic_fetch_add(&rc->tick, 1);
    fresh.bytes = sizeof fresh + strlen(fresh.row.raw ? fresh.row.raw : "");
    for (int i = 0; i < fresh.nchildren; i++)
        fresh.bytes +=
            sizeof *fresh.children + strlen(fresh.children[i].raw ? fresh.children[i].raw : "");
    size_t s = set_of(row->uid);
    pthread_mutex_t *mu = &rc->locks[s % RC_LOCKS];
    pthread_mutex_lock(mu);
    rc_entry *victim = &rc->sets[s][0];
    for (int w = 0; w < RC_WAYS; w++) {
        rc_entry *e = &rc->sets[s][w];
        if (!e->used || strcmp(e->row.uid, row->uid) == 0) {
            victim = e;
            break;
        }
        if ((int)(e->tick - victim->tick) < 0)
            victim = e;
    }
    entry_clear(rc, victim);
    if (atomic_load(&rc->bytes) + fresh.bytes > RC_BUDGET) { /* full: keep what is there */
        pthread_mutex_unlock(mu);
        entry_free(&fresh);
        return;
    }
    atomic_fetch_add(&rc->bytes, fresh.bytes);
    *victim = fresh;
    pthread_mutex_unlock(mu);
}

/* The writer connection's pre-update hook: the first change, in a transaction,
 * outside the audit trail, sessions, users and sequences (reference counters,
 * and the read journal's mark, which every journal commit moves) marks it as
 * one that changes case data and makes the generation odd. */
static void preupdate(void *arg, sqlite3 *db, int op, const char *zdb, const char *table,
                      sqlite3_int64 k1, sqlite3_int64 k2)
{
    (void)db, (void)op, (void)zdb, (void)k1, (void)k2;
    sq_rowcache *rc = arg;
    if (*rc->touched || strncmp(table, "audit", 5) == 0 || strcmp(table, "sessions") == 0 ||
        strcmp(table, "users") == 0 || strcmp(table, "sequences") == 0)
        return;
    *rc->touched = true;
    atomic_fetch_add(rc->gen, 1);
}

void sq_rowcache_watch(sq_rowcache *rc, sqlite3 *writer, bool *touched)
{
    if (!rc)
        return;
    rc->touched = touched;
    sqlite3_preupdate_hook(writer, preupdate, rc);
}
