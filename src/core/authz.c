/* authz.c — the permission matrix: role × resource → allowed actions. */
#include "core/authz.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define R (1u << ACT_READ)
#define C (1u << ACT_CREATE)
#define U (1u << ACT_UPDATE)
#define D (1u << ACT_DELETE)
#define E (1u << ACT_EXPORT)
#define A (1u << ACT_ADMIN)

static const char *const role_names[ROLE_COUNT] = {
    "sysadmin", "orgadmin", "coordinator", "caseworker", "hotline", "shelter", "analyst", "auditor",
};

static const char *const action_names[ACT_COUNT] = {
    [ACT_READ] = "read",     [ACT_CREATE] = "create", [ACT_UPDATE] = "update",
    [ACT_DELETE] = "delete", [ACT_EXPORT] = "export", [ACT_ADMIN] = "admin",
};

static const char *const resource_names[RES_COUNT] = {
    [RES_CASE] = "case",
    [RES_CASE_IDENTITY] = "case_identity",
    [RES_CONSENT] = "consent",
    [RES_ORG] = "organisation",
    [RES_USER] = "user",
    [RES_AUDIT] = "audit",
    [RES_KEY] = "key",
    [RES_DIRECTORY] = "directory",
    [RES_REFERRAL] = "referral",
    [RES_ASSISTANCE] = "assistance",
    [RES_LIFECYCLE] = "lifecycle",
    [RES_HOTLINE] = "hotline",
    [RES_SHELTER] = "shelter",
    [RES_RETURN] = "return",
    [RES_REINTEGRATION] = "reintegration",
    [RES_PROCEEDING] = "proceeding",
    [RES_TRAINING] = "training",
    [RES_INDICATOR] = "indicator",
    [RES_REPORT] = "report",
};

/* The matrix.  Least privilege: the system admin runs the system but reads no
 * case; analysts get reports and anonymised exports; auditors the audit trail.
 * Record scope (own organisation, shared, restricted) is checked on top of this. */
static const unsigned matrix[ROLE_COUNT][RES_COUNT] = {
    /* sysadmin */
    {[RES_ORG] = R | C | U | D | A,
     [RES_USER] = R | C | U | D | A,
     [RES_KEY] = R | A,
     [RES_DIRECTORY] = R | C | U | D,
     [RES_INDICATOR] = R | C | U | D,
     [RES_CASE] = A /* erasure and retention only: never a read */},
    /* orgadmin: users of their own organisation (scope checked by the core) */
    {[RES_ORG] = R | U,
     [RES_USER] = R | C | U | A,
     [RES_DIRECTORY] = R | C | U | D,
     [RES_REPORT] = R},
    /* coordinator: follows cases across the network without seeing who they are */
    {[RES_CASE] = R | U,
     [RES_CONSENT] = R,
     [RES_ORG] = R,
     [RES_DIRECTORY] = R | C | U | D,
     [RES_REFERRAL] = R | C | U,
     [RES_ASSISTANCE] = R,
     [RES_LIFECYCLE] = R | C | U,
     [RES_HOTLINE] = R,
     [RES_SHELTER] = R,
     [RES_RETURN] = R,
     [RES_REINTEGRATION] = R,
     [RES_PROCEEDING] = R,
     [RES_TRAINING] = R | C | U | D,
     [RES_INDICATOR] = R | C | U | D,
     [RES_REPORT] = R | E},
    /* caseworker */
    {[RES_CASE] = R | C | U | D,
     [RES_CASE_IDENTITY] = R | C | U,
     [RES_CONSENT] = R | C | U,
     [RES_ORG] = R,
     [RES_DIRECTORY] = R,
     [RES_REFERRAL] = R | C | U,
     [RES_ASSISTANCE] = R | C | U | D,
     [RES_LIFECYCLE] = R | C | U,
     [RES_HOTLINE] = R,
     [RES_SHELTER] = R,
     [RES_RETURN] = R | C | U | D,
     [RES_REINTEGRATION] = R | C | U | D,
     [RES_PROCEEDING] = R | C | U | D,
     [RES_TRAINING] = R | C | U,
     [RES_INDICATOR] = R,
     [RES_REPORT] = R},
    /* hotline operator */
    {[RES_CASE] = R | C | U,
     [RES_CASE_IDENTITY] = R | C | U,
     [RES_CONSENT] = R | C | U,
     [RES_ORG] = R,
     [RES_DIRECTORY] = R,
     [RES_REFERRAL] = R | C | U,
     [RES_HOTLINE] = R | C | U | D,
     [RES_LIFECYCLE] = R,
     [RES_REPORT] = R},
    /* shelter staff */
    {[RES_CASE] = R | U,
     [RES_CASE_IDENTITY] = R,
     [RES_CONSENT] = R,
     [RES_ORG] = R,
     [RES_DIRECTORY] = R,
     [RES_REFERRAL] = R | U,
     [RES_ASSISTANCE] = R | C | U,
     [RES_LIFECYCLE] = R,
     [RES_SHELTER] = R | C | U | D,
     [RES_RETURN] = R,
     [RES_REINTEGRATION] = R | C | U,
     [RES_REPORT] = R},
    /* analyst: aggregates and anonymised data, never a record */
    {[RES_ORG] = R,
     [RES_DIRECTORY] = R,
     [RES_TRAINING] = R,
     [RES_INDICATOR] = R,
     [RES_REPORT] = R | E},
    /* auditor */
    {[RES_AUDIT] = R, [RES_ORG] = R},
};

const char *authz_role_name(int i)
{
    return i >= 0 && i < ROLE_COUNT ? role_names[i] : "?";
}

const char *authz_action_name(authz_action a)
{
    return (unsigned)a < ACT_COUNT ? action_names[a] : "?";
}

const char *authz_resource_name(authz_resource r)
{
    return (unsigned)r < RES_COUNT ? resource_names[r] : "?";
}

uint32_t authz_roles_parse(const char *names, const char **bad)
{
    static _Thread_local char badbuf[32];
    uint32_t mask = 0;
    const char *p = names;
    while (p && *p) {
        size_t len = strcspn(p, ", ");
        if (len) {
            int found = -1;
            for (int i = 0; i < ROLE_COUNT; i++) {
                if (strlen(role_names[i]) == len && memcmp(role_names[i], p, len) == 0)
                    found = i;
            }
            if (found < 0) {
                snprintf(badbuf, sizeof badbuf, "%.*s", (int)(len < 31 ? len : 31), p);
                if (bad)
                    *bad = badbuf;
                return 0;
            }
            mask |= 1u << found;
        }
        p += len;
        p += strspn(p, ", ");
    }
    return mask;
}

void authz_roles_format(uint32_t roles, char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < ROLE_COUNT; i++) {
        if (roles & (1u << i)) {
            int w = snprintf(out + o, n > o ? n - o : 0, "%s%s", o ? "," : "", role_names[i]);
            if (w > 0)
                o += (size_t)w;
        }
    }
}

bool authz_allows(const principal *p, authz_action a, authz_resource r)
{
    if (!p || (unsigned)a >= ACT_COUNT || (unsigned)r >= RES_COUNT)
        return false;
    if (p->internal)
        return true;
    for (int i = 0; i < ROLE_COUNT; i++) {
        if ((p->roles & (1u << i)) && (matrix[i][r] & (1u << a)))
            return true;
    }
    return false;
}

amp_code authz_require(const principal *p, authz_action a, authz_resource r, amp_err *err)
{
    if (authz_allows(p, a, r))
        return AMP_OK;
    return amp_err_set(err, AMP_EFORBIDDEN, "your roles do not allow '%s' on '%s'",
                       authz_action_name(a), authz_resource_name(r));
}

bool authz_sees_identity(const principal *p)
{
    return authz_allows(p, ACT_READ, RES_CASE_IDENTITY);
}

bool authz_has_case_access(const principal *p)
{
    return authz_allows(p, ACT_READ, RES_CASE);
}

json_t *authz_matrix_json(void)
{
    json_t *roles = json_array(), *m = json_object();
    for (int i = 0; i < ROLE_COUNT; i++) {
        json_array_append_new(roles, json_string(role_names[i]));
        json_t *row = json_object();
        for (int r = 0; r < RES_COUNT; r++) {
            json_t *acts = json_array();
            for (int a = 0; a < ACT_COUNT; a++) {
                if (matrix[i][r] & (1u << a))
                    json_array_append_new(acts, json_string(action_names[a]));
            }
            if (json_array_size(acts))
                json_object_set_new(row, resource_names[r], acts);
            else
                json_decref(acts);
        }
        json_object_set_new(m, role_names[i], row);
    }
    return json_pack("{s:o, s:o}", "roles", roles, "matrix", m);
}
