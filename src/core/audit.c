/* audit.c — the audit trail (see audit.h). */
#include "core/audit.h"
#include "core/core.h"

int audit_tx(store_tx *tx, const principal *p, const char *action, const char *object_type,
             const char *object_id, const json_t *detail)
{
    (void)tx, (void)p, (void)action, (void)object_type, (void)object_id, (void)detail;
    return STORE_OK; /* the hash chain lands with issue 3 */
}

amp_code audit_log(core *c, const principal *p, const char *action, const char *object_type,
                   const char *object_id, const json_t *detail, amp_err *err)
{
    (void)c, (void)p, (void)action, (void)object_type, (void)object_id, (void)detail, (void)err;
    return AMP_OK;
}
