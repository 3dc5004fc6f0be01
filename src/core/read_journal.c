/* read_journal.c — read audit entries answered before their commit (see
 * read_journal.h for what it guarantees).
 *
 * Two files of file_bytes each, mapped shared.  One is active: appends go to it
 * under the mutex, one line each.  The journal thread swaps the files (the
 * active one becomes the one being committed, and the other, empty, takes the
 * appends), parses the lines it took, appends them to the chain in one store
 * job that also records the last line's number, then zeroes what it committed.
 * A file is only made active again once it is empty, so the thread never reads
 * bytes that are being written.
 *
 * A line:  J1 TAB number TAB at TAB actor TAB org TAB addr TAB action TAB
 *          object_type TAB object_id TAB detail TAB mac LF
 * Text fields come from audit_fields_prepare, where control characters (TAB
 * and LF among them) are already replaced, and the detail is compact JSON, so
 * a field never holds a TAB or a LF.  The MAC covers every byte before its TAB. */
#include "core/read_journal.h"

#include "util/clock.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_WINDOW_MS 10
#define DEFAULT_FILE_BYTES ((size_t)4 << 20)
#define MIN_FILE_BYTES ((size_t)64 << 10)
#define EARLY_LINES 2048  /* this many waiting lines wake the thread before the window ends */
#define FULL_WAIT_MS 2000 /* how long an append waits for room */
#define SETTLE_WAIT_MS 10000
#define RETRY_MS 250 /* after a failed commit */
#define LINE_MAX_BYTES                                                                             \
    (AUDIT_MAX_ACTOR + AUDIT_MAX_ORG + AUDIT_MAX_ADDR + AUDIT_MAX_ACTION + AUDIT_MAX_OBJECT_TYPE + \
     AUDIT_MAX_OBJECT_ID + AUDIT_MAX_DETAIL + 160)
#define MAX_SLOTS 64 /* processes serving one data directory at once */
#define NFIELDS 11

struct read_journal {
    store *s;
    int slot;          /* files read-journal.SLOT.0 and .1, this process's */
    char sequence[40]; /* "read-journal.SLOT": the last line number in the chain */
    size_t bytes;
    unsigned window_ms;
    int fd[2];
    char *map[2];
    size_t off[2];      /* bytes written in each file */
    int64_t last_id[2]; /* number of the last line in each file (0: none) */
    size_t lines[2];    /* lines in each file */
    int active;         /* the file appends go to */
    int64_t next_id;    /* number of the next line */
    int64_t committed;  /* every line up to this number is in the chain */
    int64_t first_us;   /* when the active file's first line was written */
    bool urgent;        /* commit now: a settle, a full file */
    bool failed;        /* the last commit failed: appends are refused */
    bool stopping;
    pthread_mutex_t mu;
    pthread_cond_t work; /* the thread waits here */
    pthread_cond_t done; /* settle and full appends wait here */
    pthread_t thread;
    bool started;
    read_journal_stats stats;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Waits on cv (a CLOCK_MONOTONIC condition) until the monotonic time until_us. */
static void wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until_us)
{
    struct timespec ts = {.tv_sec = (time_t)(until_us / 1000000),
                          .tv_nsec = (long)(until_us % 1000000) * 1000};
    pthread_cond_timedwait(cv, mu, &ts);
}

/* ---- lines ---- */

static char *put(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    p[n] = '\t';
    return p + n + 1;
}

/* Formats f as line number id into out (room for LINE_MAX_BYTES): its length.
 * Every field fits: audit_fields bounds them. */
static size_t format_line(char *out, int64_t id, const audit_fields *f)
{
    char *p = out;
    memcpy(p, "J1\t", 3);
    p += 3;
    char num[24], *d = num + sizeof num; /* id >= 1: its decimal digits */
    *--d = '\0';
    for (uint64_t v = (uint64_t)id; v; v /= 10)
        *--d = (char)('0' + v % 10);
    p = put(p, d);
    p = put(p, f->at);
    p = put(p, f->actor);
    p = put(p, f->org);
    p = put(p, f->addr);
    p = put(p, f->action);
    p = put(p, f->object_type);
    p = put(p, f->object_id);
    p = put(p, f->detail && strlen(f->detail) <= AUDIT_MAX_DETAIL ? f->detail : "{}");
    char mac[33];
    audit_text_mac(out, (size_t)(p - 1 - out), mac);
    memcpy(p, mac, 32);
    p += 32;
    *p++ = '\n';
    return (size_t)(p - out);
}

static bool copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* Parses one line (NUL-terminated, without its LF) into *id and f; with
 * check_mac, the MAC must match.  True when it is a well-formed line. */
static bool parse_line(char *line, bool check_mac, int64_t *id, audit_fields *f)
{
    char *field[NFIELDS];
    size_t n = 0;
    char *p = line;
    while (n < NFIELDS) {
        field[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    if (n != NFIELDS || strcmp(field[0], "J1") != 0 || strlen(field[10]) != 32)
        return false;
    if (check_mac) {
        /* the MAC covers the line up to its own TAB: put the TABs back to check */
        size_t covered = (size_t)(field[10] - 1 - line);
        for (size_t i = 1; i < NFIELDS; i++)
            field[i][-1] = '\t';
        char mac[33];
        audit_text_mac(line, covered, mac);
        for (size_t i = 1; i < NFIELDS; i++)
            field[i][-1] = '\0';
        if (sodium_memcmp(mac, field[10], 32) != 0)
            return false;
    }
    char *end;
    errno = 0;
    long long v = strtoll(field[1], &end, 10);
    if (errno || *end || v <= 0)
        return false;
    *id = v;
    memset(f, 0, sizeof *f);
    if (!copy_field(f->at, sizeof f->at, field[2]) ||
        !copy_field(f->actor, sizeof f->actor, field[3]) ||
        !copy_field(f->org, sizeof f->org, field[4]) ||
        !copy_field(f->addr, sizeof f->addr, field[5]) ||
        !copy_field(f->action, sizeof f->action, field[6]) ||
        !copy_field(f->object_type, sizeof f->object_type, field[7]) ||
        !copy_field(f->object_id, sizeof f->object_id, field[8]) ||
        strlen(field[9]) > AUDIT_MAX_DETAIL)
        return false;
    f->detail = strdup(field[9]);
    return f->detail != NULL;
}

/* ---- committing lines ---- */

typedef struct {
    int64_t id;
    audit_fields f;
} jline;

typedef struct {
    jline *list;
    size_t n;
    int64_t upto;         /* the highest number among them */
    const char *sequence; /* the store's sequence that records it */
} batch;

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        audit_fields_release(&b->list[i].f);
    free(b->list);
    memset(b, 0, sizeof *b);
}

/* Parses the lines of text[0..len) (as written by this process, or read back at
 * start-up with check_mac) into b, keeping those numbered above `after`.
 * Stops at the first NUL byte (the unwritten rest of a file).  *rejected counts
 * malformed lines.  0, or -1 when out of memory. */
static int parse_text(const char *text, size_t len, bool check_mac, int64_t after, batch *b,
                      int64_t *rejected)
{
    size_t cap = b->n;
    char line[LINE_MAX_BYTES];
    size_t pos = 0;
    while (pos < len && text[pos] != '\0') {
        const char *lf = memchr(text + pos, '\n', len - pos);
        const char *nul = memchr(text + pos, '\0', (lf ? (size_t)(lf - text) : len) - pos);
        size_t end = nul ? (size_t)(nul - text) : lf ? (size_t)(lf - text) : len;
        size_t n = end - pos;
        bool whole = lf && !nul;
        if (!whole || n >= sizeof line) { /* torn (a crash mid-write) or overlong */
            (*rejected)++;
            if (!whole)
                break;
            pos = end + 1;
            continue;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos = end + 1;
        int64_t id;
        audit_fields f;
        if (!parse_line(line, check_mac, &id, &f)) {
            (*rejected)++;
            continue;
        }
        if (id <= after) { /* committed before the file was cleared */
            audit_fields_release(&f);
            continue;
        }
        if (b->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            jline *nl = realloc(b->list, ncap * sizeof *nl);
            if (!nl) {
                audit_fields_release(&f);
                return -1;
            }
            b->list = nl;
            cap = ncap;
        }
        b->list[b->n++] = (jline){id, f};
        if (id > b->upto)
            b->upto = id;
    }
    return 0;
}

static int batch_job(store_tx *tx, void *arg)
{
    batch *b = arg;
    const audit_fields **list = malloc((b->n ? b->n : 1) * sizeof *list);
    if (!list)
        return STORE_ERROR;
    for (size_t i = 0; i < b->n; i++)
        list[i] = &b->list[i].f;
    int rc = audit_tx_append_fields(tx, list, b->n);
    free(list);
    int64_t was = 0;
    if (rc == STORE_OK)
        rc = store_tx_sequence_get(tx, b->sequence, &was);
    if (rc == STORE_OK && b->upto > was)
        rc = store_tx_sequence_set(tx, b->sequence, b->upto);
    return rc;
}

typedef struct {
    const char *sequence;
    int64_t value;
} upto_read;

static int read_upto(store_tx *tx, void *arg)
{
    upto_read *u = arg;
    return store_tx_sequence_get(tx, u->sequence, &u->value);
}

/* ---- the journal's thread ---- */

/* Commits the lines of file k (not active, not written to meanwhile).  0 or -1. */
static int commit_file(read_journal *j, int k, size_t len)
{
    batch b = {.sequence = j->sequence};
    int64_t rejected = 0;
    if (parse_text(j->map[k], len, false, 0, &b, &rejected) != 0) {
        batch_free(&b);
        return -1;
    }
    if (rejected)
        log_error("read journal: %lld lines of this process do not parse", (long long)rejected);
    int rc = b.n ? store_run(j->s, batch_job, &b) : STORE_OK;
    size_t n = b.n;
    batch_free(&b);
    if (rc != STORE_OK)
        return -1;
    pthread_mutex_lock(&j->mu);
    j->stats.commits++;
    j->stats.entries += (int64_t)n;
    j->stats.last_batch = (int64_t)n;
    pthread_mutex_unlock(&j->mu);
    return 0;
}

static void *journal_main(void *arg)
{
    read_journal *j = arg;
    pthread_setname_np(pthread_self(), "amparo-journal");
    pthread_mutex_lock(&j->mu);
    for (;;) {
        int a = j->active;
        while (!j->stopping && j->off[a] == 0)
            pthread_cond_wait(&j->work, &j->mu);
        if (j->off[a] == 0) /* stopping, and nothing left */
            break;
        int64_t due = j->first_us + (int64_t)j->window_ms * 1000;
        while (!j->stopping && !j->urgent && j->lines[a] < EARLY_LINES && now_us() < due)
            wait_until(&j->work, &j->mu, due);
        /* swap: the other file is empty (cleared after its commit) */
        j->active = 1 - a;
        j->urgent = false;
        size_t len = j->off[a];
        int64_t upto = j->last_id[a];
        pthread_cond_broadcast(&j->done); /* appends waiting for room */
        for (;;) {
            pthread_mutex_unlock(&j->mu);
            int rc = commit_file(j, a, len);
            if (rc == 0)
                memset(j->map[a], 0, len);
            pthread_mutex_lock(&j->mu);
            if (rc == 0) {
                j->off[a] = 0;
                j->lines[a] = 0;
                j->last_id[a] = 0;
                j->committed = upto;
                j->failed = false;
                pthread_cond_broadcast(&j->done);
                break;
            }
            if (!j->failed)
                log_error("read journal: %zu bytes of read entries cannot be committed; reads are "
                          "refused until they are",
                          len);
            j->failed = true;
            pthread_cond_broadcast(&j->done);
            if (j->stopping) { /* left in the file: appended at the next start */
                pthread_mutex_unlock(&j->mu);
                return NULL;
            }
            wait_until(&j->work, &j->mu, now_us() + RETRY_MS * 1000);
        }
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* ---- appending ---- */

int read_journal_append(read_journal *j, audit_fields *f)
{
    pthread_mutex_lock(&j->mu);
    int64_t deadline = 0;
    for (;;) {
        if (j->failed || j->stopping) {
            pthread_mutex_unlock(&j->mu);
            return -1;
        }
        int a = j->active;
        /* the longest line fits when the file is not past bytes - LINE_MAX_BYTES */
        if (j->off[a] + LINE_MAX_BYTES < j->bytes)
            break;
        if (!deadline)
            deadline = now_us() + (int64_t)FULL_WAIT_MS * 1000;
        else if (now_us() >= deadline) {
            pthread_mutex_unlock(&j->mu);
            log_error("read journal: full for %d ms; a read is refused", FULL_WAIT_MS);
            return -1;
        }
        j->urgent = true;
        pthread_cond_signal(&j->work);
        wait_until(&j->done, &j->mu, deadline);
    }
    int a = j->active;
    int64_t id = j->next_id++;
    clock_now(f->at);                                       /* here, so times follow the numbers */
    size_t len = format_line(j->map[a] + j->off[a], id, f); /* room checked above */
    if (j->off[a] == 0) {
        j->first_us = now_us();
        pthread_cond_signal(&j->work);
    }
    j->off[a] += len;
    j->last_id[a] = id;
    if (++j->lines[a] == EARLY_LINES)
        pthread_cond_signal(&j->work);
    pthread_mutex_unlock(&j->mu);
    return 0;
}

int read_journal_settle(read_journal *j)
{
    pthread_mutex_lock(&j->mu);
    int64_t want = j->next_id - 1;
    int64_t deadline = now_us() + (int64_t)SETTLE_WAIT_MS * 1000;
    while (j->committed < want && !j->failed && now_us() < deadline) {
        /* hurry the thread only while some of them are still in the file being
         * written: once it is swapped, a leftover flag would commit the next
         * window's first lines at once */
        if (j->last_id[1 - j->active] < want) {
            j->urgent = true;
            pthread_cond_signal(&j->work);
        }
        wait_until(&j->done, &j->mu, deadline);
    }
    int rc = j->committed >= want ? 0 : -1;
    pthread_mutex_unlock(&j->mu);
    return rc;
}

void read_journal_stats_get(read_journal *j, read_journal_stats *out)
{
    pthread_mutex_lock(&j->mu);
    *out = j->stats;
    pthread_mutex_unlock(&j->mu);
}

/* ---- opening: the files, and what an earlier run left in them ---- */

/* Reads the whole of fd (at most max bytes) into a malloc'd buffer. */
static char *slurp(int fd, size_t max, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return NULL;
    size_t size = st.st_size > 0 ? (size_t)st.st_size : 0;
    if (size > max)
        size = max;
    char *buf = malloc(size + 1);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < size) {
        ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* lines are numbered in the order they were written; the chain keeps it */
static int cmp_id(const void *x, const void *y)
{
    const jline *a = x, *b = y;
    return (a->id > b->id) - (a->id < b->id);
}

/* Appends to the chain the lines of the files fd[2] of a slot numbered above
 * its sequence in the store, oldest first, then empties the files (size bytes,
 * sparse).  *last receives the highest number the chain has for the slot.
 * 0, or -1 with err. */
static int recover_slot(read_journal *j, const int fd[2], int slot, size_t bytes, int64_t *last,
                        char *err, size_t errlen)
{
    char sequence[40];
    snprintf(sequence, sizeof sequence, "%s.%d", READ_JOURNAL_FILE, slot);
    upto_read u = {sequence, 0};
    if (store_run(j->s, read_upto, &u) != STORE_OK) {
        snprintf(err, errlen, "read journal: cannot read the store's sequence %s", sequence);
        return -1;
    }
    batch b = {.sequence = sequence};
    int64_t rejected = 0;
    for (int k = 0; k < 2; k++) {
        size_t len = 0;
        char *text = slurp(fd[k], (size_t)1 << 30, &len);
        if (!text || parse_text(text, len, true, u.value, &b, &rejected) != 0) {
            free(text);
            batch_free(&b);
            snprintf(err, errlen, "read journal: cannot read %s.%d.%d", READ_JOURNAL_FILE, slot, k);
            return -1;
        }
        free(text);
    }
    /* the files take turns: the numbers give the order they were written in */
    if (b.n > 1)
        qsort(b.list, b.n, sizeof *b.list, cmp_id);
    if (b.n && store_run(j->s, batch_job, &b) != STORE_OK) {
        batch_free(&b);
        snprintf(err, errlen, "read journal: cannot append the entries an earlier run left");
        return -1;
    }
    if (b.n)
        log_info("read journal: %zu read entries an earlier run left in %s.%d appended to the "
                 "audit trail",
                 b.n, READ_JOURNAL_FILE, slot);
    if (rejected)
        log_error("read journal: %lld lines an earlier run left in %s.%d are left out: their MAC "
                  "or form is wrong (changed, or torn by a crash)",
                  (long long)rejected, READ_JOURNAL_FILE, slot);
    j->stats.recovered += (int64_t)b.n;
    j->stats.rejected += rejected;
    *last = b.upto > u.value ? b.upto : u.value;
    batch_free(&b);
    for (int k = 0; k < 2; k++) { /* empty (and sparse) again */
        if (ftruncate(fd[k], 0) != 0 || ftruncate(fd[k], (off_t)bytes) != 0) {
            snprintf(err, errlen, "read journal: cannot clear %s.%d.%d: %s", READ_JOURNAL_FILE,
                     slot, k, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Opens the two files of a slot, the first locked (flock, so the lock goes
 * with the process).  1: opened and locked; 0: another process holds it (or,
 * without create, it does not exist); -1: error (err set). */
static int slot_open(const char *dir, int slot, bool create, int fd[2], char *err, size_t errlen)
{
    fd[0] = fd[1] = -1;
    for (int k = 0; k < 2; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.%d.%d", dir, READ_JOURNAL_FILE, slot, k);
        fd[k] = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
        if (fd[k] < 0 && !create && errno == ENOENT && k == 0)
            return 0;
        if (fd[k] < 0 || fchmod(fd[k], 0600) != 0) {
            snprintf(err, errlen, "read journal: cannot open %s: %s", path, strerror(errno));
            goto fail;
        }
        if (k == 0 && flock(fd[0], LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) {
                close(fd[0]);
                fd[0] = -1;
                return 0;
            }
            snprintf(err, errlen, "read journal: cannot lock %s: %s", path, strerror(errno));
            goto fail;
        }
    }
    return 1;
fail:
    for (int k = 0; k < 2; k++)
        if (fd[k] >= 0)
            close(fd[k]);
    fd[0] = fd[1] = -1;
    return -1;
}

static void close_files(read_journal *j)
{
    for (int k = 0; k < 2; k++) {
        if (j->map[k] && j->map[k] != MAP_FAILED)
            munmap(j->map[k], j->bytes);
        if (j->fd[k] >= 0)
            close(j->fd[k]);
    }
}

/* Appends what processes that are gone left in slots other than ours (two
 * servers on one data directory, both stopped by a crash). */
static int recover_others(read_journal *j, const char *dir, char *err, size_t errlen)
{
    for (int slot = 0; slot < MAX_SLOTS; slot++) {
        if (slot == j->slot)
            continue;
        int fd[2];
        int rc = slot_open(dir, slot, false, fd, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        struct stat st;
        int64_t last;
        size_t size = fstat(fd[0], &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;
        rc = recover_slot(j, fd, slot, size, &last, err, errlen);
        close(fd[0]);
        close(fd[1]);
        if (rc != 0)
            return -1;
    }
    return 0;
}

read_journal *read_journal_open(const char *data_dir, store *s, const read_journal_options *o,
                                char *err, size_t errlen)
{
    read_journal *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    j->s = s;
    j->window_ms = o && o->window_ms ? o->window_ms : DEFAULT_WINDOW_MS;
    j->bytes = o && o->file_bytes ? o->file_bytes : DEFAULT_FILE_BYTES;
    if (j->bytes < MIN_FILE_BYTES)
        j->bytes = MIN_FILE_BYTES;
    j->fd[0] = j->fd[1] = -1;
    j->slot = -1;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->work, &ca);
    pthread_cond_init(&j->done, &ca);
    pthread_condattr_destroy(&ca);
    for (int slot = 0; slot < MAX_SLOTS && j->slot < 0; slot++) {
        int rc = slot_open(data_dir, slot, true, j->fd, err, errlen);
        if (rc < 0)
            goto fail;
        if (rc == 1)
            j->slot = slot;
    }
    if (j->slot < 0) {
        snprintf(err, errlen, "read journal: %d processes already serve %s", MAX_SLOTS, data_dir);
        goto fail;
    }
    snprintf(j->sequence, sizeof j->sequence, "%s.%d", READ_JOURNAL_FILE, j->slot);
    int64_t last = 0;
    if (recover_slot(j, j->fd, j->slot, j->bytes, &last, err, errlen) != 0 ||
        recover_others(j, data_dir, err, errlen) != 0)
        goto fail;
    j->next_id = last + 1;
    j->committed = last;
    for (int k = 0; k < 2; k++) {
        j->map[k] = mmap(NULL, j->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd[k], 0);
        if (j->map[k] == MAP_FAILED) {
            snprintf(err, errlen, "read journal: cannot map %s.%d.%d: %s", READ_JOURNAL_FILE,
                     j->slot, k, strerror(errno));
            goto fail;
        }
    }
    if (pthread_create(&j->thread, NULL, journal_main, j) != 0) {
        snprintf(err, errlen, "read journal: cannot start its thread");
        goto fail;
    }
    j->started = true;
    return j;
fail:
    close_files(j);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->work);
    pthread_cond_destroy(&j->done);
    free(j);
    return NULL;
}

void read_journal_close(read_journal *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stopping = true;
    pthread_cond_broadcast(&j->work);
    pthread_mutex_unlock(&j->mu);
    if (j->started)
        pthread_join(j->thread, NULL);
    for (int k = 0; k < 2; k++) /* what could not be committed reaches the disk */
        if (j->map[k] && j->map[k] != MAP_FAILED)
            msync(j->map[k], j->bytes, MS_SYNC);
    log_info("read journal: %lld read entries in %lld commits", (long long)j->stats.entries,
             (long long)j->stats.commits);
    close_files(j);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->work);
    pthread_cond_destroy(&j->done);
    free(j);
}
