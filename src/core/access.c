/* access.c — record scope: which cases a principal may touch (see core.h). */
#include "core/core.h"

#include <string.h>

bool cases_in_scope(core *c, const principal *p, const store_row *row)
{
    if (p->internal)
        return true;
    if (!p->org[0])
        return false;
    if (row->owner_org[0] && strcmp(row->owner_org, p->org) == 0)
        return true;
    json_t *orgs = NULL;
    bool shared = false;
    if (store_case_orgs(core_store(c), row->id, &orgs) == STORE_OK) {
        size_t i;
        json_t *g;
        json_array_foreach (orgs, i, g) {
            const char *org = json_string_value(json_object_get(g, "org"));
            if (org && strcmp(org, p->org) == 0)
                shared = true;
        }
    }
    json_decref(orgs);
    return shared;
}

amp_code cases_access(core *c, const principal *p, const char *key, authz_action a, store_row *out,
                      amp_err *err)
{
    amp_code code = authz_require(p, a, RES_CASE, err);
    if (code != AMP_OK)
        return code;
    store_row row;
    int rc = store_case_get(core_store(c), key, &row, NULL);
    if (rc == STORE_ERROR)
        return amp_err_set(err, AMP_EINTERNAL, "cannot read the case");
    if (rc != STORE_OK || !cases_in_scope(c, p, &row)) {
        if (rc == STORE_OK)
            store_row_release(&row);
        return amp_err_set(err, AMP_ENOTFOUND, "no case '%s'", key);
    }
    if (out)
        *out = row;
    else
        store_row_release(&row);
    return AMP_OK;
}
