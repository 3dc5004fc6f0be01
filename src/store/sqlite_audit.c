/* sqlite_audit.c — the audit trail's rows, SQLite.
 *
 * The store keeps entries exactly as the core builds them (seq, prev and hash
 * included) and never computes the chain: it holds no key.  The table is
 * append-only (triggers refuse UPDATE and DELETE: see the "audit trail" migration). */
#include "store/sqlite_int.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_COLS "seq, at, actor, org, addr, action, object_type, object_id, detail, prev, hash"

static const char sql_head[] = "SELECT " AUDIT_COLS " FROM audit ORDER BY seq DESC LIMIT 1";
static const char sql_append[] =
    "INSERT INTO audit(seq, at, actor, org, addr, action, object_type, object_id, detail, prev, "
    "hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char sql_scan[] = "SELECT " AUDIT_COLS " FROM audit ORDER BY seq";

/* The lookup table audit_keys (migration 6) holds (bucket, key, seq) for the
 * keys 'a:' actor and 'o:' object id, bucket = (seq - 1) / AUDIT_KEYS_BUCKET.  The
 * transaction that appends an entry whose seq is a multiple of the bucket size
 * adds the entries not yet in it: a block at the end of the table, a few
 * dozen pages, instead of two index updates at random places for every entry
 * (which an audited read would pay, and which rewrite index pages in the WAL at
 * every commit).  A lookup seeks each bucket (a few hundred per million entries)
 * and scans the tail not yet in the table. */
#define AUDIT_KEYS_BUCKET 2048
#define STR_(x) #x
#define STR(x) STR_(x)
/* the keys of the entries where cond holds (when the writer's notes, below, do
 * not cover them).  Not sorted: they all go to the newest bucket, whose pages
 * are at the end of the table and in the cache, and sorting 4,096 keys in SQL
 * cost more than the scattered inserts save (measured: 2.6 against 1.8 us an
 * entry). */
#define KEYS_OF(cond)                                                                              \
    "SELECT (seq - 1) / " STR(AUDIT_KEYS_BUCKET) ", k, seq FROM ("                                 \
                                                 "  SELECT 'a:' || actor AS k, seq FROM audit"     \
                                                 "    WHERE " cond                                 \
                                                 "  UNION ALL SELECT 'o:' || object_id, seq FROM " \
                                                 "audit WHERE " cond " AND object_id <> '')"
static const char sql_keys_catch_up[] = "INSERT OR IGNORE INTO audit_keys(bucket, k, seq) " KEYS_OF(
    "seq > (SELECT seq FROM audit_keys_upto)");
static const char sql_keys_upto[] =
    "UPDATE audit_keys_upto SET seq = (SELECT coalesce(max(seq), 0) FROM audit)";
/* the entries whose key is ?: those in the table, bucket by bucket, and the tail */
#define KEYED_SEQS                                                                                 \
    "seq IN (WITH RECURSIVE b(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM b WHERE n < "            \
    "(SELECT (seq - 1) / " STR(AUDIT_KEYS_BUCKET) " FROM audit_keys_upto)) "                       \
                                                  "SELECT x.seq FROM b CROSS JOIN audit_keys x "   \
                                                  "ON x.bucket = b.n AND x.k = ? "                 \
                                                  "UNION ALL SELECT seq FROM audit WHERE seq > "   \
                                                  "(SELECT seq FROM audit_keys_upto))"

void store_audit_entry_release(store_audit_entry *e)
{
    if (!e)
        return;
    const char **fields[] = {&e->actor,       &e->org,       &e->addr,  &e->action,
                             &e->object_type, &e->object_id, &e->detail};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        free((void *)*fields[i]);
        *fields[i] = NULL;
    }
}

/* A copy of text column i ("" for NULL); NULL when out of memory. */
static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
    char *out = malloc(n + 1);
    if (out) {
        if (n)
            memcpy(out, t, n);
        out[n] = '\0';
    }
    return out;
}

/* Fills e from the current row; STORE_OK or STORE_ERROR (out of memory). */
static int read_entry(sqlite3_stmt *st, store_audit_entry *e)
{
    memset(e, 0, sizeof *e);
    e->seq = sqlite3_column_int64(st, 0);
    col_text(st, 1, e->at, sizeof e->at);
    e->actor = col_dup(st, 2);
    e->org = col_dup(st, 3);
    e->addr = col_dup(st, 4);
    e->action = col_dup(st, 5);
    e->object_type = col_dup(st, 6);
    e->object_id = col_dup(st, 7);
    e->detail = col_dup(st, 8);
    col_text(st, 9, e->prev, sizeof e->prev);
    col_text(st, 10, e->hash, sizeof e->hash);
    if (!e->actor || !e->org || !e->addr || !e->action || !e->object_type || !e->object_id ||
        !e->detail) {
        store_audit_entry_release(e);
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int head_on(conn *c, store_audit_entry *out)
{
    sqlite3_stmt *st = sq_stmt(c, sql_head);
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_ROW    ? read_entry(st, out)
              : rc == SQLITE_DONE ? STORE_NOTFOUND
                                  : STORE_ERROR;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        log_error("store: audit head: %s", sqlite3_errmsg(c->db));
    sqlite3_reset(st);
    return ret;
}

int sq_tx_audit_head(store_tx *tx, store_audit_entry *out)
{
    return head_on(tx->c, out);
}

int sq_audit_head(store *base, store_audit_entry *out)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = head_on(c, out);
    reader_release(s, c);
    return rc;
}

static void bind_str(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* ---- the keys of the entries appended since the last catch-up ----
 * The writer notes each entry's two keys as it appends it.  At the catch-up it
 * sorts them and inserts them in the table's order, 64 rows a statement: the
 * newest bucket is at the end of audit_keys, so the inserts fill its last pages
 * one after the other, instead of reading 2,048 entries back and inserting their
 * keys at scattered places (bench/README.md, fourth session: about 1 us less
 * writer CPU an entry).  The notes are a run of consecutive seqs, used only
 * when they cover exactly the entries after audit_keys_upto: another process's
 * entries or a value too long break the run, and the catch-up reads the
 * entries instead. */
#define NOTE_KEY_MAX 160
#define PUT_ROWS 64 /* rows per INSERT statement */

struct sq_audit_note {
    int64_t seq;
    char k[NOTE_KEY_MAX]; /* 'a:' actor or 'o:' object id */
};

void sq_audit_notes_clear(sqlite_store *s)
{
    s->nnotes = 0;
}

void sq_audit_notes_free(sqlite_store *s)
{
    free(s->notes);
    s->notes = NULL;
    s->nnotes = s->capnotes = 0;
}

static bool note_one(sqlite_store *s, int64_t seq, const char *prefix, const char *v)
{
    if (s->nnotes == s->capnotes) {
        size_t cap = s->capnotes ? s->capnotes * 2 : 512;
        struct sq_audit_note *n =
            cap <= 8 * AUDIT_KEYS_BUCKET ? realloc(s->notes, cap * sizeof *n) : NULL;
        if (!n)
            return false;
        s->notes = n;
        s->capnotes = cap;
    }
    struct sq_audit_note *n = &s->notes[s->nnotes];
    size_t len = strlen(v);
    if (len + 3 > sizeof n->k)
        return false;
    n->seq = seq;
    memcpy(n->k, prefix, 2); /* "a:" or "o:" */
    memcpy(n->k + 2, v, len + 1);
    s->nnotes++;
    return true;
}

static void note_entry(sqlite_store *s, const store_audit_entry *e)
{
    /* a run of consecutive seqs: the last note is the previous entry's */
    if (s->nnotes && s->notes[s->nnotes - 1].seq != e->seq - 1)
        s->nnotes = 0;
    const char *oid = e->object_id ? e->object_id : "";
    if (!note_one(s, e->seq, "a:", e->actor ? e->actor : "") ||
        (*oid && !note_one(s, e->seq, "o:", oid)))
        s->nnotes = 0; /* this catch-up reads the entries back */
}

static int note_cmp(const void *a, const void *b)
{
    const struct sq_audit_note *x = a, *y = b;
    int64_t bx = (x->seq - 1) / AUDIT_KEYS_BUCKET, by = (y->seq - 1) / AUDIT_KEYS_BUCKET;
    if (bx != by)
        return bx < by ? -1 : 1;
    int c = strcmp(x->k, y->k);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static const char sql_keys_upto_get[] = "SELECT seq FROM audit_keys_upto";
static const char sql_keys_upto_set[] = "UPDATE audit_keys_upto SET seq = ?1";
#define KEY_ROW "(?, ?, ?)"
#define KEY_ROWS8                                                                                  \
    KEY_ROW "," KEY_ROW "," KEY_ROW "," KEY_ROW "," KEY_ROW "," KEY_ROW "," KEY_ROW "," KEY_ROW
#define KEY_ROWS64                                                                                 \
    KEY_ROWS8 "," KEY_ROWS8 "," KEY_ROWS8 "," KEY_ROWS8 "," KEY_ROWS8 "," KEY_ROWS8 "," KEY_ROWS8  \
              "," KEY_ROWS8
static const char sql_key_put1[] =
    "INSERT OR IGNORE INTO audit_keys(bucket, k, seq) VALUES " KEY_ROW;
static const char sql_key_put64[] =
    "INSERT OR IGNORE INTO audit_keys(bucket, k, seq) VALUES " KEY_ROWS64;

/* Inserts the count notes at n with one statement (count is 1 or PUT_ROWS). */
static int put_keys(store_tx *tx, const struct sq_audit_note *n, size_t count)
{
    sqlite3_stmt *st = sq_stmt(tx->c, count == PUT_ROWS ? sql_key_put64 : sql_key_put1);
    if (!st)
        return STORE_ERROR;
    for (size_t i = 0; i < count; i++) {
        int p = (int)(3 * i);
        sqlite3_bind_int64(st, p + 1, (n[i].seq - 1) / AUDIT_KEYS_BUCKET);
        sqlite3_bind_text(st, p + 2, n[i].k, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, p + 3, n[i].seq);
    }
    int rc = step_done(st, tx->c->db);
    sqlite3_reset(st);
    return rc;
}

/* The catch-up from the notes when they hold every entry after audit_keys_upto
 * up to `last`: STORE_OK when done, STORE_NOTFOUND when they do not (the caller
 * reads the entries back), STORE_ERROR. */
static int catch_up_from_notes(store_tx *tx, int64_t last)
{
    sqlite_store *s = tx->s;
    if (!s->nnotes || s->notes[s->nnotes - 1].seq != last)
        return STORE_NOTFOUND;
    sqlite3_stmt *st = sq_stmt(tx->c, sql_keys_upto_get);
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    int64_t upto = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
    if (upto >= last || s->notes[0].seq > upto + 1)
        return STORE_NOTFOUND;
    size_t from = 0;
    while (from < s->nnotes && s->notes[from].seq <= upto)
        from++;
    struct sq_audit_note *n = s->notes + from;
    size_t count = s->nnotes - from;
    qsort(n, count, sizeof *n, note_cmp);
    size_t i = 0;
    for (; i + PUT_ROWS <= count; i += PUT_ROWS) {
        if (put_keys(tx, n + i, PUT_ROWS) != STORE_OK)
            return STORE_ERROR;
    }
    for (; i < count; i++) {
        if (put_keys(tx, n + i, 1) != STORE_OK)
            return STORE_ERROR;
    }
    st = sq_stmt(tx->c, sql_keys_upto_set);
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, last);
    rc = step_done(st, tx->c->db);
    sqlite3_reset(st);
    return rc;
}

#define APPEND_ROWS 16 /* entries per INSERT statement in a batch */
#define ENTRY_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define ENTRY_ROWS4 ENTRY_ROW "," ENTRY_ROW "," ENTRY_ROW "," ENTRY_ROW
static const char sql_append16[] =
    "INSERT INTO audit(seq, at, actor, org, addr, action, object_type, object_id, detail, prev, "
    "hash) VALUES " ENTRY_ROWS4 "," ENTRY_ROWS4 "," ENTRY_ROWS4 "," ENTRY_ROWS4;

static void bind_entry(sqlite3_stmt *st, int first, const store_audit_entry *e)
{
    sqlite3_bind_int64(st, first, e->seq);
    bind_str(st, first + 1, e->at);
    bind_str(st, first + 2, e->actor);
    bind_str(st, first + 3, e->org);
    bind_str(st, first + 4, e->addr);
    bind_str(st, first + 5, e->action);
    bind_str(st, first + 6, e->object_type);
    bind_str(st, first + 7, e->object_id);
    bind_str(st, first + 8, e->detail && *e->detail ? e->detail : "{}");
    bind_str(st, first + 9, e->prev);
    bind_str(st, first + 10, e->hash);
}

/* Inserts e[0..n) (n is 1 or APPEND_ROWS) with one statement. */
static int insert_entries(store_tx *tx, const store_audit_entry *e, size_t n)
{
    sqlite3_stmt *st = sq_stmt(tx->c, n == APPEND_ROWS ? sql_append16 : sql_append);
    if (!st)
        return STORE_ERROR;
    for (size_t i = 0; i < n; i++)
        bind_entry(st, (int)(11 * i) + 1, &e[i]);
    int rc = step_done(st, tx->c->db);
    sqlite3_reset(st);
    return rc;
}

/* After entries up to e (inserted): its keys noted, and the catch-up of
 * audit_keys when e ends a bucket. */
static int after_insert(store_tx *tx, const store_audit_entry *e)
{
    note_entry(tx->s, e);
    if (e->seq % AUDIT_KEYS_BUCKET != 0)
        return STORE_OK;
    int rc = catch_up_from_notes(tx, e->seq);
    if (rc == STORE_NOTFOUND)
        rc = sq_tx_audit_keys_catch_up(tx);
    sq_audit_notes_clear(tx->s);
    return rc;
}

int sq_tx_audit_append_n(store_tx *tx, const store_audit_entry *e, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* a chunk of APPEND_ROWS entries in one statement, unless a bucket ends
         * inside it: the catch-up must follow the entry that ends the bucket */
        size_t k = n - i < APPEND_ROWS ? n - i : APPEND_ROWS;
        for (size_t j = 0; j < k; j++) {
            if (e[i + j].seq % AUDIT_KEYS_BUCKET == 0) {
                k = j + 1;
                break;
            }
        }
        if (k == APPEND_ROWS) {
            int rc = insert_entries(tx, e + i, k);
            if (rc != STORE_OK)
                return rc;
            for (size_t j = 0; j < k; j++) {
                if (after_insert(tx, &e[i + j]) != STORE_OK)
                    return STORE_ERROR;
            }
        } else {
            for (size_t j = 0; j < k; j++) {
                int rc = insert_entries(tx, &e[i + j], 1);
                if (rc != STORE_OK)
                    return rc;
                if (after_insert(tx, &e[i + j]) != STORE_OK)
                    return STORE_ERROR;
            }
        }
        i += k;
    }
    return STORE_OK;
}

int sq_tx_audit_append(store_tx *tx, const store_audit_entry *e)
{
    return sq_tx_audit_append_n(tx, e, 1);
}

int sq_tx_audit_keys_catch_up(store_tx *tx)
{
    sqlite3_stmt *st = sq_stmt(tx->c, sql_keys_catch_up);
    int rc = st ? step_done(st, tx->c->db) : STORE_ERROR;
    if (st)
        sqlite3_reset(st);
    st = rc == STORE_OK ? sq_stmt(tx->c, sql_keys_upto) : NULL;
    if (st) {
        rc = step_done(st, tx->c->db);
        sqlite3_reset(st);
    }
    return st ? rc : STORE_ERROR;
}

/* ---- lists: WHERE built from fixed fragments; every value bound ---- */

#define AUDIT_KEY_TEXT 512
typedef struct {
    char where[768];
    const char *binds[9];
    int nbinds;
} audit_where;

static void where_add(audit_where *w, const char *fragment, const char *value)
{
    if (!value)
        return;
    size_t o = strlen(w->where);
    snprintf(w->where + o, sizeof w->where - o, "%s%s", w->nbinds ? " AND " : " WHERE ", fragment);
    w->binds[w->nbinds++] = value;
}

static void bind_where(sqlite3_stmt *st, const audit_where *w)
{
    for (int i = 0; i < w->nbinds; i++)
        sqlite3_bind_text(st, i + 1, w->binds[i], -1, SQLITE_STATIC);
}

int sq_audit_list(store *base, const store_audit_query *q, store_audit_entry **rows, int *nrows,
                  int64_t *total)
{
    sqlite_store *s = (sqlite_store *)base;
    *rows = NULL;
    *nrows = 0;
    if (total)
        *total = 0;
    audit_where w = {0};
    /* the most selective key first: its lookup bounds the rows read */
    char key[AUDIT_KEY_TEXT];
    if (q->object_id || q->actor) {
        snprintf(key, sizeof key, "%s%s",
                 q->object_id ? "o:" : "a:", q->object_id ? q->object_id : q->actor);
        where_add(&w, KEYED_SEQS, key);
    }
    where_add(&w, "actor = ?", q->actor);
    where_add(&w, "action = ?", q->action);
    where_add(&w, "object_type = ?", q->object_type);
    where_add(&w, "object_id = ?", q->object_id);
    where_add(&w, "org = ?", q->org);
    where_add(&w, "at >= ?", q->at_from);
    where_add(&w, "at <= ?", q->at_to);
    char sql[1200];
    snprintf(sql, sizeof sql, "SELECT " AUDIT_COLS " FROM audit%s ORDER BY seq %s", w.where,
             q->ascending ? "ASC" : "DESC");
    if (q->limit > 0) {
        size_t o = strlen(sql);
        snprintf(sql + o, sizeof sql - o, " LIMIT %d OFFSET %d", q->limit,
                 q->offset > 0 ? q->offset : 0);
    }
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    sqlite3_stmt *st = NULL;
    bool in_tx = exec_sql(c->db, "BEGIN") == STORE_OK; /* list and count: one snapshot */
    if (!in_tx)
        goto out;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("store: cannot prepare an audit list: %s", sqlite3_errmsg(c->db));
        goto out;
    }
    bind_where(st, &w);
    int cap = 0, src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (*nrows == cap) {
            cap = cap ? cap * 2 : 16;
            store_audit_entry *grown = realloc(*rows, (size_t)cap * sizeof **rows);
            if (!grown) {
                src = SQLITE_NOMEM;
                break;
            }
            *rows = grown;
        }
        if (read_entry(st, &(*rows)[*nrows]) != STORE_OK) {
            src = SQLITE_NOMEM;
            break;
        }
        (*nrows)++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (src != SQLITE_DONE)
        goto out;
    if (total) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM audit%s", w.where);
        if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
            goto out;
        bind_where(st, &w);
        if (sqlite3_step(st) != SQLITE_ROW)
            goto out;
        *total = sqlite3_column_int64(st, 0);
    }
    rc = STORE_OK;
out:
    sqlite3_finalize(st);
    if (in_tx)
        exec_sql(c->db, "COMMIT");
    reader_release(s, c);
    if (rc != STORE_OK) {
        for (int i = 0; i < *nrows; i++)
            store_audit_entry_release(&(*rows)[i]);
        free(*rows);
        *rows = NULL;
        *nrows = 0;
    }
    return rc;
}

/* ==== verification: the lookup table against the entries ==================== *
 * One ordered pass over both: the entries in seq order (the chain's scan) and
 * audit_keys in its primary-key order (bucket, k, seq), which needs no sort.
 * The keys the entries of one bucket give are gathered (at most two per
 * entry), sorted like the table (bytes, then seq) and merged with the table's
 * rows of that bucket; the first difference by seq is kept. */

static const char sql_keys_rows[] = "SELECT bucket, k, seq FROM audit_keys ORDER BY bucket, k, seq";
static const char sql_keys_upto_row[] = "SELECT id, seq FROM audit_keys_upto";

typedef struct {
    int64_t seq;
    size_t off, len; /* the key's bytes in keys_walk.text */
} want_key;

/* The current row of audit_keys, read once (k points into the statement until
 * its next step). */
typedef struct {
    bool well_formed; /* bucket and seq integers, k text */
    int64_t bucket, seq;
    const char *k;
    size_t klen;
} key_row;

typedef struct {
    sqlite3_stmt *rows; /* sql_keys_rows */
    int row_rc;         /* the last step of rows */
    key_row row;        /* when row_rc is SQLITE_ROW */
    int64_t upto;       /* audit_keys_upto (-1: unusable, nothing compared) */
    int64_t bucket;     /* the bucket whose keys are gathered (-1: none) */
    int64_t last_seq;   /* the last entry seen */
    bool ended;         /* every entry was seen */
    want_key *want;
    size_t nwant, capwant;
    char *text;
    size_t used, captext;
    bool found, oom;
    store_audit_keys_check *out;
    /* problems reported before the rows' (see keys_walk_finish) */
    int64_t form_seq, upto_seq;
    char form_what[160], upto_what[160];
} keys_walk;

static void keys_next_row(keys_walk *w)
{
    sqlite3_stmt *st = w->rows;
    w->row_rc = sqlite3_step(st);
    if (w->row_rc != SQLITE_ROW)
        return;
    w->out->rows++;
    key_row *r = &w->row;
    r->well_formed = sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
                     sqlite3_column_type(st, 1) == SQLITE_TEXT &&
                     sqlite3_column_type(st, 2) == SQLITE_INTEGER;
    r->bucket = sqlite3_column_int64(st, 0);
    r->seq = sqlite3_column_int64(st, 2);
    r->k = (const char *)sqlite3_column_blob(st, 1);
    r->klen = (size_t)sqlite3_column_bytes(st, 1);
    if (!r->k)
        r->k = "";
}

/* Orders keys as the table does: bytes (BINARY), shorter first on a tie, then seq. */
static int key_cmp(const char *a, size_t alen, int64_t aseq, const char *b, size_t blen,
                   int64_t bseq)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return aseq < bseq ? -1 : aseq > bseq;
}

static int want_cmp(const void *x, const void *y, void *arg)
{
    const want_key *a = x, *b = y;
    const char *text = arg;
    return key_cmp(text + a->off, a->len, a->seq, text + b->off, b->len, b->seq);
}

static void want_add(keys_walk *w, const char *prefix, const char *value, int64_t seq)
{
    size_t plen = strlen(prefix), vlen = strlen(value);
    if (w->nwant == w->capwant) {
        size_t cap = w->capwant ? w->capwant * 2 : 2 * AUDIT_KEYS_BUCKET;
        want_key *grown = realloc(w->want, cap * sizeof *grown);
        if (!grown) {
            w->oom = true;
            return;
        }
        w->want = grown;
        w->capwant = cap;
    }
    if (w->used + plen + vlen > w->captext) {
        size_t cap = w->captext ? w->captext : 64 * AUDIT_KEYS_BUCKET;
        while (cap < w->used + plen + vlen)
            cap *= 2;
        char *grown = realloc(w->text, cap);
        if (!grown) {
            w->oom = true;
            return;
        }
        w->text = grown;
        w->captext = cap;
    }
    memcpy(w->text + w->used, prefix, plen);
    memcpy(w->text + w->used + plen, value, vlen);
    w->want[w->nwant++] = (want_key){.seq = seq, .off = w->used, .len = plen + vlen};
    w->used += plen + vlen;
}

/* Copies a key for a message: cut, NUL bytes as '?'. */
static void key_copy(char *out, size_t n, const char *k, size_t len)
{
    if (len > n - 1)
        len = n - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = k[i] ? k[i] : '?';
    out[len] = '\0';
}

/* Keeps (problem, seq, key) in *cand when it comes before what is there: a
 * lower seq, or the same seq and a missing row (the one that hides an entry). */
static bool cand_better(const store_audit_keys_check *cand, store_audit_keys_problem p, int64_t seq)
{
    return cand->problem == STORE_AUDIT_KEYS_OK || seq < cand->seq ||
           (seq == cand->seq && p == STORE_AUDIT_KEYS_MISSING &&
            cand->problem != STORE_AUDIT_KEYS_MISSING);
}

static void note_missing(keys_walk *w, store_audit_keys_check *cand, const want_key *k)
{
    if (!cand_better(cand, STORE_AUDIT_KEYS_MISSING, k->seq))
        return;
    cand->problem = STORE_AUDIT_KEYS_MISSING;
    cand->seq = k->seq;
    key_copy(cand->key, sizeof cand->key, w->text + k->off, k->len);
    cand->what[0] = '\0';
}

/* The current row of audit_keys, which no entry gives: why not. */
static void note_extra(keys_walk *w, store_audit_keys_check *cand)
{
    const key_row *r = &w->row;
    int64_t bucket = r->bucket, seq = r->seq;
    if (!cand_better(cand, STORE_AUDIT_KEYS_EXTRA, seq))
        return;
    cand->problem = STORE_AUDIT_KEYS_EXTRA;
    cand->seq = seq;
    key_copy(cand->key, sizeof cand->key, r->k, r->klen);
    if (!r->well_formed)
        snprintf(cand->what, sizeof cand->what,
                 "is malformed (bucket and seq must be integers, k text)");
    else if (w->ended && seq > w->last_seq)
        snprintf(cand->what, sizeof cand->what,
                 "lies beyond the last entry (%lld): entries may have been removed from the end",
                 (long long)w->last_seq);
    else if (seq > w->upto)
        snprintf(cand->what, sizeof cand->what, "lies beyond audit_keys_upto (%lld)",
                 (long long)w->upto);
    else if (seq < 1)
        snprintf(cand->what, sizeof cand->what, "names no entry");
    else if (bucket != (seq - 1) / AUDIT_KEYS_BUCKET)
        snprintf(cand->what, sizeof cand->what, "is in bucket %lld, not %lld", (long long)bucket,
                 (long long)((seq - 1) / AUDIT_KEYS_BUCKET));
    else
        snprintf(cand->what, sizeof cand->what,
                 "the entry does not give (its actor or object differs)");
}

/* Merges the gathered keys of w->bucket with the table's rows up to the end of
 * that bucket (and the rows of earlier buckets no entry has). */
static void keys_flush(keys_walk *w)
{
    if (w->bucket < 0 || w->found || w->oom) {
        w->nwant = w->used = 0;
        return;
    }
    qsort_r(w->want, w->nwant, sizeof *w->want, want_cmp, w->text);
    store_audit_keys_check cand = {0};
    size_t i = 0;
    for (;;) {
        bool have = w->row_rc == SQLITE_ROW;
        if (have && !w->row.well_formed) {
            note_extra(w, &cand);
            keys_next_row(w);
            continue;
        }
        int64_t rb = have ? w->row.bucket : 0;
        if (have && rb < w->bucket) {
            note_extra(w, &cand);
            keys_next_row(w);
            continue;
        }
        bool here = have && rb == w->bucket;
        if (!here && i == w->nwant)
            break;
        int c;
        if (!here)
            c = 1;
        else if (i == w->nwant)
            c = -1;
        else
            c = key_cmp(w->row.k, w->row.klen, w->row.seq, w->text + w->want[i].off, w->want[i].len,
                        w->want[i].seq);
        if (c == 0) {
            i++;
            keys_next_row(w);
        } else if (c < 0) {
            note_extra(w, &cand);
            keys_next_row(w);
        } else {
            note_missing(w, &cand, &w->want[i++]);
        }
    }
    if (cand.problem != STORE_AUDIT_KEYS_OK) {
        w->out->problem = cand.problem;
        w->out->seq = cand.seq;
        memcpy(w->out->key, cand.key, sizeof cand.key);
        memcpy(w->out->what, cand.what, sizeof cand.what);
        w->found = true;
    }
    w->nwant = w->used = 0;
}

static void keys_walk_entry(keys_walk *w, const store_audit_entry *e)
{
    w->last_seq = e->seq;
    if (w->found || e->seq > w->upto)
        return;
    int64_t b = (e->seq - 1) / AUDIT_KEYS_BUCKET;
    if (b != w->bucket) {
        keys_flush(w);
        w->bucket = b;
    }
    want_add(w, "a:", e->actor, e->seq);
    if (*e->object_id)
        want_add(w, "o:", e->object_id, e->seq);
}

/* After the last entry: its bucket, then every row left is one too many; then
 * audit_keys_upto against the trail (catch-ups run at each multiple of the
 * bucket size, so upto is at least the last multiple and at most the head). */
static void keys_walk_end(keys_walk *w)
{
    w->ended = true;
    keys_flush(w);
    if (!w->found && w->upto >= 0 && w->row_rc == SQLITE_ROW) {
        store_audit_keys_check cand = {0};
        note_extra(w, &cand);
        w->out->problem = cand.problem;
        w->out->seq = cand.seq;
        memcpy(w->out->key, cand.key, sizeof cand.key);
        memcpy(w->out->what, cand.what, sizeof cand.what);
        w->found = true;
    }
    int64_t floor_seq = w->last_seq / AUDIT_KEYS_BUCKET * AUDIT_KEYS_BUCKET;
    if (w->upto_what[0] || w->upto < 0)
        return; /* already noted: nothing was compared */
    if (w->upto > w->last_seq) {
        w->upto_seq = w->upto;
        snprintf(w->upto_what, sizeof w->upto_what, "is %lld, beyond the last entry (%lld)",
                 (long long)w->upto, (long long)w->last_seq);
    } else if (w->upto < floor_seq) {
        w->upto_seq = floor_seq;
        snprintf(w->upto_what, sizeof w->upto_what,
                 "is %lld, behind the catch-up that entry %lld made", (long long)w->upto,
                 (long long)floor_seq);
    }
}

/* Reads audit_keys_upto: one row, id 1, an integer seq.  Otherwise nothing is
 * compared (w->upto -1) and the problem is noted. */
static int keys_walk_begin(keys_walk *w, conn *c)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql_keys_upto_row, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, sql_keys_rows, -1, &w->rows, NULL) != SQLITE_OK) {
        log_error("store: audit keys check: %s", sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
        return STORE_ERROR;
    }
    w->upto = -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        snprintf(w->upto_what, sizeof w->upto_what, "is missing (no row)");
    else if (rc == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_INTEGER)
        snprintf(w->upto_what, sizeof w->upto_what, "is not a number");
    else if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) != 1)
        snprintf(w->upto_what, sizeof w->upto_what, "is in a row with id %lld, not 1",
                 (long long)sqlite3_column_int64(st, 0));
    else if (rc == SQLITE_ROW)
        w->upto = sqlite3_column_int64(st, 1);
    if (rc == SQLITE_ROW && w->upto >= 0 && sqlite3_step(st) == SQLITE_ROW) {
        w->upto = -1;
        snprintf(w->upto_what, sizeof w->upto_what, "has more than one row");
    } else if (rc == SQLITE_ROW && w->upto < -1) {
        snprintf(w->upto_what, sizeof w->upto_what, "is %lld, below zero", (long long)w->upto);
        w->upto = -1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("store: audit keys check: %s", sqlite3_errmsg(c->db));
        return STORE_ERROR;
    }
    w->out->upto = w->upto;
    keys_next_row(w);
    return STORE_OK;
}

/* The columns lists filter on, which SQL compares as text: a blob (or a NULL,
 * or a NUL byte inside) compares unequal while the chain, hashing the bytes up
 * to the first NUL, still verifies. */
static const struct {
    int col;
    const char *name;
} form_cols[] = {{1, "at"},     {2, "actor"},       {3, "org"},
                 {5, "action"}, {6, "object_type"}, {7, "object_id"}};
#define FORM_COLS (sizeof form_cols / sizeof *form_cols)

/* The types of the current row's form_cols, read before any conversion (a
 * blob read as text reports text afterwards). */
static void entry_types(sqlite3_stmt *st, int types[FORM_COLS])
{
    for (size_t i = 0; i < FORM_COLS; i++)
        types[i] = sqlite3_column_type(st, form_cols[i].col);
}

/* Notes the first entry (e, just read from st) whose form_cols are not plain
 * text; types from entry_types. */
static void check_entry_form(keys_walk *w, sqlite3_stmt *st, const store_audit_entry *e,
                             const int types[FORM_COLS])
{
    const char *values[FORM_COLS] = {e->at,     e->actor,       e->org,
                                     e->action, e->object_type, e->object_id};
    for (size_t i = 0; i < FORM_COLS && !w->form_what[0]; i++) {
        if (types[i] != SQLITE_TEXT)
            snprintf(w->form_what, sizeof w->form_what, "stores its %s as %s, not text",
                     form_cols[i].name,
                     types[i] == SQLITE_BLOB   ? "a blob"
                     : types[i] == SQLITE_NULL ? "NULL"
                                               : "a number");
        else if (strlen(values[i]) != (size_t)sqlite3_column_bytes(st, form_cols[i].col))
            snprintf(w->form_what, sizeof w->form_what, "has a NUL byte inside its %s",
                     form_cols[i].name);
        if (w->form_what[0])
            w->form_seq = e->seq;
    }
}

/* The entries in seq order on c, each given to fn and, when w is not NULL, to
 * the checks.  STORE_OK, STORE_ERROR or fn's non-zero value. */
static int scan_entries(conn *c, store_audit_scan_fn fn, void *arg, keys_walk *w)
{
    sqlite3_stmt *st = sq_stmt(c, sql_scan);
    if (!st)
        return STORE_ERROR;
    int rc = STORE_OK, src = SQLITE_DONE;
    while (rc == STORE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        store_audit_entry e;
        int types[FORM_COLS];
        if (w)
            entry_types(st, types);
        if (read_entry(st, &e) != STORE_OK) {
            rc = STORE_ERROR;
            break;
        }
        if (w && !w->form_what[0])
            check_entry_form(w, st, &e, types);
        rc = fn(arg, &e);
        if (w && rc == STORE_OK)
            keys_walk_entry(w, &e);
        store_audit_entry_release(&e);
    }
    if (rc == STORE_OK && src != SQLITE_DONE) {
        log_error("store: audit scan: %s", sqlite3_errmsg(c->db));
        rc = STORE_ERROR;
    }
    sqlite3_reset(st);
    return rc;
}

/* After the scan: the last bucket and the rows left, then the problem to
 * report: the entries' own form first, then upto (which shifts every row),
 * then the rows.  Frees w's memory. */
static int keys_walk_finish(keys_walk *w, conn *c, int rc)
{
    if (rc == STORE_OK) {
        keys_walk_end(w);
        w->out->complete = true;
        if (w->oom || (w->row_rc != SQLITE_ROW && w->row_rc != SQLITE_DONE)) {
            log_error("store: audit keys check: %s",
                      w->oom ? "out of memory" : sqlite3_errmsg(c->db));
            rc = STORE_ERROR;
        }
    }
    if (w->form_what[0] || w->upto_what[0]) {
        bool form = w->form_what[0] != '\0';
        w->out->problem = form ? STORE_AUDIT_FIELD_TYPE : STORE_AUDIT_KEYS_UPTO;
        w->out->seq = form ? w->form_seq : w->upto_seq;
        w->out->key[0] = '\0';
        snprintf(w->out->what, sizeof w->out->what, "%s", form ? w->form_what : w->upto_what);
    }
    sqlite3_finalize(w->rows);
    free(w->want);
    free(w->text);
    return rc;
}

/* scan_entries inside one read transaction (one snapshot for the entries and,
 * when w is not NULL, the lookup table). */
static int scan_snapshot(store *base, store_audit_scan_fn fn, void *arg, keys_walk *w)
{
    sqlite_store *s = (sqlite_store *)base;
    conn *c = reader_acquire(s);
    if (!c)
        return STORE_ERROR;
    if (exec_sql(c->db, "BEGIN") != STORE_OK) {
        reader_release(s, c);
        return STORE_ERROR;
    }
    int rc = w ? keys_walk_begin(w, c) : STORE_OK;
    if (rc == STORE_OK)
        rc = scan_entries(c, fn, arg, w);
    if (w)
        rc = keys_walk_finish(w, c, rc);
    exec_sql(c->db, "COMMIT");
    reader_release(s, c);
    return rc;
}

int sq_audit_scan(store *base, store_audit_scan_fn fn, void *arg)
{
    return scan_snapshot(base, fn, arg, NULL);
}

int sq_audit_scan_checked(store *base, store_audit_scan_fn fn, void *arg,
                          store_audit_keys_check *check)
{
    memset(check, 0, sizeof *check);
    check->upto = -1;
    keys_walk w = {.out = check, .bucket = -1};
    return scan_snapshot(base, fn, arg, &w);
}

/* ==== repair: audit_keys rebuilt from the entries ============================== */

/* upto where the catch-ups would have left it: the last multiple of the bucket size */
static const char sql_keys_upto_reset[] =
    "DELETE FROM audit_keys_upto WHERE id IS NOT 1;"
    "INSERT OR REPLACE INTO audit_keys_upto(id, seq) VALUES (1, (SELECT coalesce(max(seq), 0) "
    "FROM audit) / " STR(AUDIT_KEYS_BUCKET) " * " STR(AUDIT_KEYS_BUCKET) ")";
static const char sql_keys_remove_wrong[] =
    "DELETE FROM audit_keys WHERE typeof(bucket) <> 'integer' OR typeof(k) <> 'text'"
    " OR typeof(seq) <> 'integer' OR NOT EXISTS (SELECT 1 FROM audit a"
    "  WHERE a.seq = audit_keys.seq AND a.seq <= (SELECT seq FROM audit_keys_upto)"
    "  AND audit_keys.bucket = (a.seq - 1) / " STR(
        AUDIT_KEYS_BUCKET) " AND (audit_keys.k = 'a:' || a.actor"
                           "   OR (a.object_id <> '' AND audit_keys.k = 'o:' || a.object_id)))";
static const char sql_keys_add_missing[] =
    "INSERT OR IGNORE INTO audit_keys(bucket, k, seq) " KEYS_OF(
        "seq <= (SELECT seq FROM audit_keys_upto)");

/* Every row no entry up to upto gives goes, then the missing ones are added
 * (INSERT OR IGNORE keeps the rows that are right). */
int sq_tx_audit_keys_rebuild(store_tx *tx, int64_t *removed, int64_t *added)
{
    *removed = *added = 0;
    sqlite3 *db = tx->c->db;
    if (exec_sql(db, sql_keys_upto_reset) != STORE_OK ||
        exec_sql(db, sql_keys_remove_wrong) != STORE_OK)
        return STORE_ERROR;
    *removed = sqlite3_changes64(db);
    if (exec_sql(db, sql_keys_add_missing) != STORE_OK)
        return STORE_ERROR;
    *added = sqlite3_changes64(db);
    return STORE_OK;
}
