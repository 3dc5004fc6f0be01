/* read_journal.h — read audit entries, answered before their commit.
 *
 * Every read of identity data is an audit entry.  Without a journal a read is
 * answered only once the commit holding its entry is fsynced: the reader waits
 * for the disk and the store's writer commits once per handful of reads.  With
 * the journal (what `amparo serve` uses unless amparo.conf says
 * read_audit=durable):
 *
 *   1. audit_read writes the entry as one line into a memory-mapped file of the
 *      data directory (read-journal.0.0 or .0.1).  The kernel owns those pages: the
 *      line survives a crash of the process the moment it is written.
 *   2. The read is answered.
 *   3. The journal's thread (amparo-journal) appends the lines to the chain in
 *      one commit, every window_ms at most (10 ms by default), sooner when many
 *      are waiting, then clears them.  The two files take turns: new reads go
 *      to one while the other's lines are being committed.
 *   4. At start-up, lines of an earlier run that the chain does not have yet
 *      (the process died in between) are appended first, in order.
 *
 * What that guarantees (docs/AUDIT.md, "Reads: the read journal"): no read is
 * answered before its entry is written down; a crash of Amparo loses none; a
 * crash of the machine (power, kernel) can lose the entries of the last
 * window_ms before it, because the journal's pages are not fsynced.  If entries
 * cannot be committed, the journal refuses new ones and reads fail (500)
 * until it can again.
 *
 * Lines hold the entry's time, who, from where, what and the detail (never
 * identity values, as every entry), a number (the sequence "read-journal.SLOT" in
 * the store says up to which number lines are in the chain, committed with
 * them) and a MAC under the audit key, so a line cannot be forged by someone
 * who can write the file but not read audit.key. */
#ifndef AMPARO_READ_JOURNAL_H
#define AMPARO_READ_JOURNAL_H

#include "core/audit.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct read_journal read_journal;

/* The files: read-journal.SLOT.0 and .1 in the data directory, SLOT 0 for the
 * first server on it, 1 for a second one running at the same time, and so on
 * (each process locks its slot). */
#define READ_JOURNAL_FILE "read-journal"

typedef struct {
    unsigned window_ms; /* the longest an entry waits for its commit (0: 10 ms) */
    size_t file_bytes;  /* the size of each file (0: 4 MiB; at least 64 KiB) */
} read_journal_options;

typedef struct {
    int64_t recovered;  /* lines of an earlier run appended at start-up */
    int64_t rejected;   /* lines at start-up whose MAC or form is wrong (left out, logged) */
    int64_t commits;    /* commits of journal lines since start-up */
    int64_t entries;    /* entries those commits appended */
    int64_t last_batch; /* entries in the latest commit */
} read_journal_stats;

/** Opens (creating them) the journal files of the first free slot of data_dir,
 *  appends to the chain whatever earlier runs left in it and in the slots of
 *  processes that are gone, and starts the journal's thread.  The audit key
 *  must be loaded.  NULL with err on failure. */
read_journal *read_journal_open(const char *data_dir, store *s, const read_journal_options *o,
                                char *err, size_t errlen);

/** Writes one entry (f->at is set here).  0, or -1 when the journal cannot take
 *  it (its entries cannot be committed, or it stayed full): the read must then
 *  show nothing. */
int read_journal_append(read_journal *j, audit_fields *f);

/** Waits until every entry appended before the call is in the chain.  0, or -1
 *  when they cannot be committed (after 10 s at most). */
int read_journal_settle(read_journal *j);

void read_journal_stats_get(read_journal *j, read_journal_stats *out);

/** Commits what the journal holds, stops its thread and closes the files.
 *  Entries that cannot be committed stay in the files for the next start. */
void read_journal_close(read_journal *j);

#endif
