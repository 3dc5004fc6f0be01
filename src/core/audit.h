/* audit.h — the tamper-evident audit trail.
 *
 * Every login, read of a case's identity data, create, update (field names, never
 * values), export, referral, permission change and admin action is an entry:
 * who, when, from which address, what.  Entries are append-only and hash-chained
 * (each commits to the one before), so `amparo audit verify` finds any changed,
 * removed, inserted or reordered entry.
 *
 * Two ways to record:
 *   - inside a write job (audit_tx): the entry commits in the same transaction as
 *     the data it records, so neither exists without the other;
 *   - on its own (audit_log): queued on the writer and durable before the call
 *     returns — a read's data is sent only after its audit entry is on disk.
 * `detail` is borrowed and must never hold identity values. */
#ifndef AMPARO_AUDIT_H
#define AMPARO_AUDIT_H

#include "core/authz.h"
#include "store/store.h"

#include <jansson.h>

typedef struct core core;

/** Appends an entry inside a write job.  action: "case.create", "login.failure"…;
 *  object_type/object_id: what it is about ("case", uid), may be NULL. */
int audit_tx(store_tx *tx, const principal *p, const char *action, const char *object_type,
             const char *object_id, const json_t *detail);

/** Appends an entry and waits until it is durable.  AMP_OK or AMP_EINTERNAL. */
amp_code audit_log(core *c, const principal *p, const char *action, const char *object_type,
                   const char *object_id, const json_t *detail, amp_err *err);

#endif
