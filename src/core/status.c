/* status.c — the system's state for its administrator (GET /api/v1/status).
 *
 * /healthz stays public and says only that the server is up: a count of cases
 * that anyone can poll would tell an outsider when a new person was registered
 * (for instance, the day after someone escaped), so counts are here, behind the
 * system administrator's role. */
#include "core/core.h"
#include "core/version.h"

amp_code core_status(core *c, const principal *p, json_t **out, amp_err *err)
{
    *out = NULL;
    amp_code code = authz_require(p, ACT_ADMIN, RES_ORG, err); /* the system admin */
    if (code != AMP_OK)
        return code;
    store *s = core_store(c);
    int64_t cases = 0;
    if (store_count_cases(s, &cases) != STORE_OK)
        return amp_err_set(err, AMP_EINTERNAL, "the database is not readable");
    store_audit_entry head;
    int rc = store_audit_head(s, &head);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return amp_err_set(err, AMP_EINTERNAL, "the audit trail is not readable");
    json_int_t audit_entries = rc == STORE_OK ? (json_int_t)head.seq : 0;
    if (rc == STORE_OK)
        store_audit_entry_release(&head);
    *out = json_pack("{s:s, s:s, s:I, s:I}", "engine", s->ops->engine, "version", AMPARO_VERSION,
                     "cases", (json_int_t)cases, "audit_entries", audit_entries);
    return *out ? AMP_OK : amp_err_set(err, AMP_EINTERNAL, "out of memory");
}
