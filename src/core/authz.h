/* authz.h — who is acting, and what their roles allow: the permission matrix.
 *
 * Every request is a principal: a user of one organisation holding a set of
 * roles.  Two checks decide whether it may act:
 *   1. the matrix (role × action × resource), here: authz_allows / authz_require;
 *   2. record scope, in the core: a case is visible to the organisation that owns
 *      it, to organisations it was shared with (accepted referrals), and — for a
 *      restricted (sensitive) case — only to the users named on it.
 * Identity fields (names, birth date, documents, contacts, addresses, free text)
 * are a resource of their own (AUTHZ_CASE_IDENTITY), so roles that only need the
 * case's facts never receive them.  The matrix is documented in docs/SECURITY.md
 * and printed by `amparo roles`. */
#ifndef AMPARO_AUTHZ_H
#define AMPARO_AUTHZ_H

#include "core/result.h"

#include <stdbool.h>
#include <stdint.h>

/** Roles: a user holds a set of them (a bit mask). */
typedef enum {
    ROLE_SYSADMIN = 1u << 0,    /* organisations, configuration, keys; no case data */
    ROLE_ORGADMIN = 1u << 1,    /* the users of their own organisation */
    ROLE_COORDINATOR = 1u << 2, /* referrals across organisations, deadlines, indicators */
    ROLE_CASEWORKER = 1u << 3,  /* registers and manages the cases of their organisation */
    ROLE_HOTLINE = 1u << 4,     /* hotline contacts; opens potential-victim cases */
    ROLE_SHELTER = 1u << 5,     /* admissions, discharges, services in the shelter */
    ROLE_ANALYST = 1u << 6,     /* aggregates and anonymised data only */
    ROLE_AUDITOR = 1u << 7,     /* the audit trail only */
} amp_role;

#define ROLE_COUNT 8
#define ROLE_ALL 0xFFu

/** The role's name ("caseworker"…) for bit index i (0..ROLE_COUNT-1). */
const char *authz_role_name(int i);
/** Parses "caseworker,analyst" into a mask; 0 if any name is unknown (*bad then
 *  points at it when bad is not NULL). */
uint32_t authz_roles_parse(const char *names, const char **bad);
/** Writes the mask's role names, comma-separated, into out[n]. */
void authz_roles_format(uint32_t roles, char *out, size_t n);

typedef enum {
    ACT_READ,
    ACT_CREATE,
    ACT_UPDATE,
    ACT_DELETE,
    ACT_EXPORT, /* take data out of the system (files, exchange formats) */
    ACT_ADMIN,  /* manage: users, keys, erasure, configuration */
    ACT_COUNT
} authz_action;

typedef enum {
    RES_CASE,          /* a case's non-identifying facts and its child records */
    RES_CASE_IDENTITY, /* identity fields and free text of a case */
    RES_CONSENT,       /* consent records of a case */
    RES_ORG,           /* organisations */
    RES_USER,          /* user accounts, roles, API tokens */
    RES_AUDIT,         /* the audit trail */
    RES_KEY,           /* encryption keys, erasure, retention */
    RES_DIRECTORY,     /* the referral network's service directory */
    RES_REFERRAL,      /* referrals between organisations */
    RES_ASSISTANCE,    /* assistance given and support plans */
    RES_LIFECYCLE,     /* identification decisions, closure, tasks */
    RES_HOTLINE,       /* hotline contacts */
    RES_SHELTER,       /* shelters, admissions, stays */
    RES_RETURN,        /* voluntary return and family reunification */
    RES_REINTEGRATION, /* reintegration plans and monitoring visits */
    RES_PROCEEDING,    /* criminal proceedings and perpetrators */
    RES_TRAINING,      /* trainings and awareness events */
    RES_INDICATOR,     /* programme indicators and targets */
    RES_REPORT,        /* aggregate figures (disclosure-controlled for non-case roles) */
    RES_COUNT
} authz_resource;

const char *authz_action_name(authz_action a);
const char *authz_resource_name(authz_resource r);

/** Who is acting.  The authentication step of the request pipeline fills it;
 *  the CLI acts as an internal principal. */
typedef struct {
    char actor[72];  /* user name written into history and audit ("cli", "admin"…) */
    char lang[8];    /* language of messages: "en", "es", "fr", "uk" */
    char org[72];    /* the user's organisation id ("" for none) */
    uint32_t roles;  /* ROLE_* mask (for an API token: the token's scope) */
    int64_t user_id; /* 0 for internal principals */
    char addr[64];   /* client address, for the audit trail */
    bool internal;   /* a trusted local process (CLI, demo loader): every check passes */
} principal;

/** True when some role of p allows action a on resource r. */
bool authz_allows(const principal *p, authz_action a, authz_resource r);

/** authz_allows, or AMP_EFORBIDDEN with a message naming the action and resource. */
amp_code authz_require(const principal *p, authz_action a, authz_resource r, amp_err *err);

/** True when p may see identity fields of the cases in its scope. */
bool authz_sees_identity(const principal *p);

/** True when p's roles give access to individual case records at all (analysts
 *  and auditors do not: their figures go through disclosure control). */
bool authz_has_case_access(const principal *p);

/** The matrix as JSON: {"roles": [...], "matrix": {role: {resource: [actions]}}}. */
struct json_t *authz_matrix_json(void);

#endif
