/* store_reports.h — read-only scans for statistics (the column cache, exports).
 *
 * The statistics module reads every case once to build its in-memory column
 * cache, then only the cases written since (found through the change history),
 * so its figures stay in step with writes.  These scans hand out the stored
 * documents as text, without parsing them, in one read transaction each (a
 * consistent snapshot).  Implemented for the SQLite engine in sqlite_reports.c;
 * another engine answers STORE_ERROR until it implements them. */
#ifndef AMPARO_STORE_REPORTS_H
#define AMPARO_STORE_REPORTS_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/** One case as a scan sees it.  Every pointer is borrowed for the duration of
 *  the callback only. */
typedef struct {
    int64_t id;                /* internal row id (grows with creation) */
    const char *uid;           /* public UUID */
    const char *reference;     /* "EC-2026-000154" */
    const char *owner_org;     /* "" when none */
    const char *registered_on; /* "YYYY-MM-DD" */
    const char *doc;           /* the stored case document (compact JSON text) */
    size_t doc_len;
    const char *const *events; /* its event documents in route order (JSON text) */
    const size_t *event_lens;
    size_t nevents;
} store_scan_case;

/** Called once per case; a non-zero return stops the scan (and is returned). */
typedef int (*store_scan_fn)(void *arg, const store_scan_case *row);

/** Scans cases in id order: all of them when ids is NULL, else the listed ids
 *  (sorted ascending).  *watermark (may be NULL) receives the change mark of
 *  the snapshot scanned (see store_reports_changes).  STORE_OK, the callback's
 *  non-zero code, or STORE_ERROR. */
int store_reports_scan_cases(store *s, const int64_t *ids, size_t nids, store_scan_fn fn, void *arg,
                             int64_t *watermark);

/** The current change mark: it grows with every write to a case or its children. */
int store_reports_watermark(store *s, int64_t *watermark);

/** The ids of the cases written after change mark `after` (sorted, distinct):
 *  *ids is malloc'd (free it), *n its length; *watermark the new mark. */
int store_reports_changes(store *s, int64_t after, int64_t **ids, size_t *n, int64_t *watermark);

#endif
