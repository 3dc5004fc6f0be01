/* sqlite_reports.c — read-only scans for the statistics module (store_reports.h).
 *
 * The change mark is the largest case_history id: every create, update and child
 * write of a case appends a history row in the same transaction. */
#include "store/sqlite_int.h"
#include "store/store_reports.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

static const char sql_mark[] = "SELECT coalesce(max(id), 0) FROM case_history";
static const char sql_changes[] =
    "SELECT DISTINCT case_id FROM case_history WHERE id > ?1 AND id <= ?2 ORDER BY case_id";
static const char sql_cases_all[] =
    "SELECT id, uid, reference, coalesce(owner_org, ''), registered_on, doc FROM cases ORDER BY id";
static const char sql_case_one[] = "SELECT id, uid, reference, coalesce(owner_org, ''), "
                                   "registered_on, doc FROM cases WHERE id = ?1";
static const char sql_events_all[] = "SELECT case_id, doc FROM case_children WHERE kind = 'event' "
                                     "ORDER BY case_id, sort_key, id";
static const char sql_events_one[] =
    "SELECT case_id, doc FROM case_children WHERE case_id = ?1 AND "
    "kind = 'event' ORDER BY sort_key, id";

static sqlite_store *sqlite_of(store *s)
{
    return s && s->ops && strcmp(s->ops->engine, "sqlite") == 0 ? (sqlite_store *)s : NULL;
}

static int read_mark(conn *c, int64_t *out)
{
    sqlite3_stmt *st = sq_stmt(c, sql_mark);
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        log_error("store: change mark: %s", sqlite3_errmsg(c->db));
        return STORE_ERROR;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return STORE_OK;
}

int store_reports_watermark(store *s, int64_t *watermark)
{
    sqlite_store *ss = sqlite_of(s);
    if (!ss)
        return STORE_ERROR;
    conn *c = reader_acquire(ss);
    if (!c)
        return STORE_ERROR;
    int rc = read_mark(c, watermark);
    reader_release(ss, c);
    return rc;
}

int store_reports_changes(store *s, int64_t after, int64_t **ids, size_t *n, int64_t *watermark)
{
    *ids = NULL;
    *n = 0;
    sqlite_store *ss = sqlite_of(s);
    if (!ss)
        return STORE_ERROR;
    conn *c = reader_acquire(ss);
    if (!c)
        return STORE_ERROR;
    int rc = read_mark(c, watermark);
    sqlite3_stmt *st = rc == STORE_OK ? sq_stmt(c, sql_changes) : NULL;
    if (!st) {
        reader_release(ss, c);
        return STORE_ERROR;
    }
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, *watermark);
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *grown = realloc(*ids, cap * sizeof **ids);
            if (!grown) {
                step = SQLITE_NOMEM;
                break;
            }
            *ids = grown;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (step != SQLITE_DONE) {
        log_error("store: changes: %s", sqlite3_errmsg(c->db));
        free(*ids);
        *ids = NULL;
        *n = 0;
        rc = STORE_ERROR;
    }
    sqlite3_reset(st);
    reader_release(ss, c);
    return rc;
}

/* The events of one case, collected from an events statement positioned on a
 * row (ev_has: a row is pending).  Texts are copied (SQLite's buffers move). */
typedef struct {
    char **texts;
    size_t *lens;
    size_t n, cap;
} event_set;

static void events_clear(event_set *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->texts[i]);
    e->n = 0;
}

static int events_add(event_set *e, const unsigned char *text, int len)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        char **t = realloc(e->texts, cap * sizeof *t);
        if (!t)
            return STORE_ERROR;
        e->texts = t;
        size_t *l = realloc(e->lens, cap * sizeof *l);
        if (!l)
            return STORE_ERROR;
        e->lens = l;
        e->cap = cap;
    }
    char *copy = malloc((size_t)len + 1);
    if (!copy)
        return STORE_ERROR;
    memcpy(copy, text ? (const char *)text : "", (size_t)len);
    copy[len] = 0;
    e->texts[e->n] = copy;
    e->lens[e->n++] = (size_t)len;
    return STORE_OK;
}

static int emit(sqlite3_stmt *cs, event_set *ev, store_scan_fn fn, void *arg)
{
    store_scan_case row = {
        .id = sqlite3_column_int64(cs, 0),
        .uid = (const char *)sqlite3_column_text(cs, 1),
        .reference = (const char *)sqlite3_column_text(cs, 2),
        .owner_org = (const char *)sqlite3_column_text(cs, 3),
        .registered_on = (const char *)sqlite3_column_text(cs, 4),
        .doc = (const char *)sqlite3_column_text(cs, 5),
        .doc_len = (size_t)sqlite3_column_bytes(cs, 5),
        .events = (const char *const *)ev->texts,
        .event_lens = ev->lens,
        .nevents = ev->n,
    };
    if (!row.uid || !row.doc)
        return 0;
    return fn(arg, &row);
}

/* Scans every case, merging the events statement (ordered by case id). */
static int scan_all(conn *c, store_scan_fn fn, void *arg, event_set *ev)
{
    sqlite3_stmt *cs = sq_stmt(c, sql_cases_all);
    sqlite3_stmt *es = sq_stmt(c, sql_events_all);
    if (!cs || !es)
        return STORE_ERROR;
    int erc = sqlite3_step(es);
    int crc, out = STORE_OK;
    while ((crc = sqlite3_step(cs)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(cs, 0);
        events_clear(ev);
        while (erc == SQLITE_ROW && sqlite3_column_int64(es, 0) < id)
            erc = sqlite3_step(es);
        while (erc == SQLITE_ROW && sqlite3_column_int64(es, 0) == id) {
            if (events_add(ev, sqlite3_column_text(es, 1), sqlite3_column_bytes(es, 1)) != STORE_OK)
                return STORE_ERROR;
            erc = sqlite3_step(es);
        }
        if ((out = emit(cs, ev, fn, arg)) != 0)
            break;
    }
    if (out == STORE_OK && (crc != SQLITE_DONE || (erc != SQLITE_DONE && erc != SQLITE_ROW))) {
        log_error("store: case scan: %s", sqlite3_errmsg(c->db));
        out = STORE_ERROR;
    }
    sqlite3_reset(cs);
    sqlite3_reset(es);
    return out;
}

static int scan_ids(conn *c, const int64_t *ids, size_t nids, store_scan_fn fn, void *arg,
                    event_set *ev)
{
    sqlite3_stmt *cs = sq_stmt(c, sql_case_one);
    sqlite3_stmt *es = sq_stmt(c, sql_events_one);
    if (!cs || !es)
        return STORE_ERROR;
    int out = STORE_OK;
    for (size_t i = 0; i < nids && out == STORE_OK; i++) {
        sqlite3_reset(cs);
        sqlite3_reset(es);
        sqlite3_bind_int64(cs, 1, ids[i]);
        sqlite3_bind_int64(es, 1, ids[i]);
        int crc = sqlite3_step(cs);
        if (crc == SQLITE_DONE)
            continue; /* deleted since */
        if (crc != SQLITE_ROW) {
            log_error("store: case scan: %s", sqlite3_errmsg(c->db));
            out = STORE_ERROR;
            break;
        }
        events_clear(ev);
        int erc;
        while ((erc = sqlite3_step(es)) == SQLITE_ROW) {
            if (events_add(ev, sqlite3_column_text(es, 1), sqlite3_column_bytes(es, 1)) != STORE_OK)
                return STORE_ERROR;
        }
        out = emit(cs, ev, fn, arg);
    }
    sqlite3_reset(cs);
    sqlite3_reset(es);
    return out;
}

int store_reports_scan_cases(store *s, const int64_t *ids, size_t nids, store_scan_fn fn, void *arg,
                             int64_t *watermark)
{
    sqlite_store *ss = sqlite_of(s);
    if (!ss)
        return STORE_ERROR;
    conn *c = reader_acquire(ss);
    if (!c)
        return STORE_ERROR;
    int rc = exec_sql(c->db, "BEGIN");
    int64_t mark = 0;
    if (rc == STORE_OK)
        rc = read_mark(c, &mark);
    event_set ev = {0};
    if (rc == STORE_OK)
        rc = ids ? scan_ids(c, ids, nids, fn, arg, &ev) : scan_all(c, fn, arg, &ev);
    events_clear(&ev);
    free(ev.texts);
    free(ev.lens);
    exec_sql(c->db, "COMMIT");
    reader_release(ss, c);
    if (rc == STORE_OK && watermark)
        *watermark = mark;
    return rc;
}
