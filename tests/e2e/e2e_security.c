/* e2e_security.c — end-to-end tests of authentication and authorisation against a
 * real `amparo serve`: every route refuses anonymous callers, the role ×
 * endpoint × organisation matrix, identity fields hidden from roles without
 * them, restricted cases, CSRF on cookie sessions, API tokens, TOTP, throttling,
 * disabling, sign-out and erasure. */
#include "e2e_util.h"

#include <pthread.h>

#include <liboath/oath.h>

/* ==== helpers ===================================================================== */

static char case_id[64]; /* a case of org-a with a name, made by the first test */
static char case_ref[32];

#define NAMED_CASE                                                                                 \
    "{\"prs_FirstName\": \"Valentina\", \"prs_SecondName\": \"Quispe\","                           \
    " \"prs_Gender\": \"Feminine\", \"prs_Citizenship\": [\"PE\"],"                                \
    " \"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","                                 \
    " \"vic_TypeOfExploitation\": [\"ForcedLabour\"], \"con_Consent\": true,"                      \
    " \"amp_ConsentScope\": [\"Registration\", \"Statistics\"],"                                   \
    " \"comments\": [{\"cco_CaseComment\": \"Met at the bus terminal in Ibarra\"}]}"

static long status_as(const char *user, const char *method, const char *path, const char *body)
{
    e2e_as(user);
    resp r;
    SEND(&r, method, path, body, NULL);
    long st = r.status;
    if (st >= 500)
        fail_msg("%s %s as %s answered %ld: %.300s", method, path, user, st, r.body);
    resp_free(&r);
    return st;
}

#define EXPECT_AS(user, method, path, body, want)                                                  \
    do {                                                                                           \
        long got_ = status_as(user, method, path, body);                                           \
        if (got_ != (want))                                                                        \
            fail_msg("%s %s as %s: expected %d, got %ld", method, path, user, (int)(want), got_);  \
    } while (0)

static void create_user(const char *name, const char *org, const char *role)
{
    e2e_as("admin");
    resp r;
    SEND(&r, "POST", "/api/v1/users",
         pf("{\"username\": \"%s\", \"org\": \"%s\", \"roles\": [\"%s\"], \"password\": \"%s\"}",
            name, org, role, E2E_PASSWORD),
         NULL);
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
}

/* ==== every route needs a session ======================================================== */

static void test_every_route_needs_a_session(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s routes --json", srv.bin);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[512];
    int checked = 0, public_routes = 0;
    e2e_as(NULL);
    while (fgets(line, sizeof line, f)) {
        json_t *rt = json_loads(line, 0, NULL);
        assert_non_null(rt);
        const char *method = jstr(rt, "method"), *pattern = jstr(rt, "path");
        if (strcmp(jstr(rt, "access"), "public") == 0) {
            public_routes++;
            json_decref(rt);
            continue;
        }
        char path[512];
        size_t o = 0;
        for (const char *p = pattern; *p && o + 40 < sizeof path;) {
            if (*p == ':') {
                o += (size_t)snprintf(path + o, sizeof path - o, "x");
                while (*p && *p != '/')
                    p++;
            } else {
                path[o++] = *p++;
            }
        }
        path[o] = '\0';
        const char *body =
            strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0 ? NULL : "{}";
        resp r;
        SEND(&r, method, path, body, NULL);
        if (r.status != 401)
            fail_msg("%s %s without a session answered %ld: %.200s", method, path, r.status,
                     r.body ? r.body : "");
        expect_error(&r, 401, "unauthenticated");
        resp_free(&r);
        SEND(&r, method, path, body, "Authorization: Bearer not-a-real-token-at-all-0123456789");
        expect_error(&r, 401, NULL);
        resp_free(&r);
        checked++;
        json_decref(rt);
    }
    pclose(f);
    assert_true(checked >= 30);
    assert_true(public_routes >= 4);
}

/* ==== sign-in answers ==================================================================== */

static void test_login_answers(void **state)
{
    (void)state;
    resp a, b;
    e2e_login(&a, "cw-a", "wrong password, quite long");
    e2e_login(&b, "nobody-at-all", "wrong password, quite long");
    expect_error(&a, 401, "invalid_credentials");
    expect_error(&b, 401, "invalid_credentials");
    assert_string_equal(a.body, b.body); /* an unknown user looks like a wrong password */
    resp_free(&a);
    resp_free(&b);

    resp r;
    SEND(&r, "POST", "/api/v1/login", "{\"username\": \"cw-a\"}", "Authorization: none");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "password", "required");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/login",
         "{\"username\": \"cw-a\", \"password\": \"x\", \"remember\": true}",
         "Authorization: none");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "remember", "unknown_field");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/login", "{\"username\": 12, \"password\": \"x\"}",
         "Authorization: none");
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "username", "type");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/login", "{\"username\":", "Authorization: none");
    expect_error(&r, 400, NULL);
    resp_free(&r);

    e2e_login(&r, "cw-a", E2E_PASSWORD);
    EXPECT_STATUS(&r, 200);
    assert_true(strlen(jstr(r.json, "token")) >= 43); /* 256 bits, base64url */
    assert_non_null(jstr(r.json, "csrf_token"));
    assert_string_equal(jstr(json_object_get(r.json, "user"), "org"), "org-a");
    assert_non_null(strstr(r.set_cookie, "HttpOnly"));
    assert_non_null(strstr(r.set_cookie, "SameSite=Strict"));
    resp_free(&r);
}

/* ==== the matrix ========================================================================== */

static void test_role_matrix(void **state)
{
    (void)state;
    e2e_as("cw-a");
    create_case(NAMED_CASE, case_id, case_ref);
    const char *c = pf("/api/v1/cases/%s", case_id);
    char cpath[128], hpath[128], cmts[160];
    snprintf(cpath, sizeof cpath, "%s", c);
    snprintf(hpath, sizeof hpath, "%s/history", c);
    snprintf(cmts, sizeof cmts, "%s/comments", c);

    /* the owner's organisation */
    EXPECT_AS("cw-a", "GET", cpath, NULL, 200);
    EXPECT_AS("hotline-a", "GET", cpath, NULL, 200);
    EXPECT_AS("coord-a", "GET", cpath, NULL, 200);
    /* other organisations do not learn that the case exists */
    EXPECT_AS("cw-b", "GET", cpath, NULL, 404);
    EXPECT_AS("cw-c", "GET", hpath, NULL, 404);
    EXPECT_AS("shelter-b", "GET", cmts, NULL, 404);
    EXPECT_AS("cw-b", "PATCH", cpath, "{\"version\": 1, \"cas_Status\": \"Closed\"}", 404);
    EXPECT_AS("cw-b", "POST", cmts, "{\"cco_CaseComment\": \"x\"}", 404);
    EXPECT_AS("cw-b", "GET", pf("/api/v1/cases/%s", case_ref), NULL, 404);
    /* roles without case access at all */
    EXPECT_AS("analyst", "GET", cpath, NULL, 403);
    EXPECT_AS("analyst", "GET", "/api/v1/cases", NULL, 403);
    EXPECT_AS("analyst", "POST", "/api/v1/cases", TU_MINIMAL_CASE, 403);
    EXPECT_AS("admin", "GET", cpath, NULL, 403);
    EXPECT_AS("orgadmin-a", "GET", cpath, NULL, 403);
    /* lists are scoped */
    e2e_as("cw-b");
    resp r;
    GET(&r, "/api/v1/cases?limit=500");
    EXPECT_STATUS(&r, 200);
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get(r.json, "items"), i, item)
        assert_string_not_equal(jstr(item, "id"), case_id);
    resp_free(&r);

    /* a coordinator sees the case without identity, and may not write identity */
    e2e_as("coord-a");
    GET(&r, cpath);
    EXPECT_STATUS(&r, 200);
    assert_null(json_object_get(r.json, "prs_FirstName"));
    assert_null(json_object_get(r.json, "prs_SecondName"));
    assert_true(json_is_true(json_object_get(r.json, "identity_hidden")));
    assert_string_equal(jstr(r.json, "prs_Gender"), "Feminine");
    json_t *cm = json_array_get(json_object_get(r.json, "comments"), 0);
    assert_non_null(cm);
    assert_null(json_object_get(cm, "cco_CaseComment"));
    assert_null(strstr(r.body, "Valentina"));
    assert_null(strstr(r.body, "Ibarra"));
    resp_free(&r);
    GET(&r, "/api/v1/cases?limit=500");
    EXPECT_STATUS(&r, 200);
    assert_null(strstr(r.body, "Valentina"));
    resp_free(&r);
    SEND(&r, "PATCH", cpath, "{\"prs_FirstName\": \"Vale\"}", "If-Match: \"1\"");
    expect_error(&r, 403, "forbidden");
    expect_field_error(&r, "prs_FirstName", "forbidden");
    resp_free(&r);
    SEND(&r, "PATCH", cpath, "{\"cas_Status\": \"FollowUp\"}", "If-Match: \"1\"");
    EXPECT_STATUS(&r, 200);
    assert_null(strstr(r.body, "Valentina"));
    resp_free(&r);

    /* the caseworker of the owner sees the name */
    e2e_as("cw-a");
    GET(&r, cpath);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "prs_FirstName"), "Valentina");
    resp_free(&r);

    /* administration */
    EXPECT_AS("cw-a", "POST", "/api/v1/users",
              "{\"username\": \"sneaky\", \"org\": \"org-a\", \"roles\": [\"caseworker\"]}", 403);
    EXPECT_AS("analyst", "PUT", "/api/v1/organisations/org-a", "{\"org_Name\": \"X\"}", 403);
    EXPECT_AS("orgadmin-a", "PUT", "/api/v1/organisations/org-b", "{\"org_Name\": \"X\"}", 403);
    EXPECT_AS("orgadmin-a", "POST", "/api/v1/users",
              pf("{\"username\": \"new-a\", \"org\": \"org-a\", \"roles\": [\"caseworker\"],"
                 " \"password\": \"%s\"}",
                 E2E_PASSWORD),
              201);
    EXPECT_AS("orgadmin-a", "POST", "/api/v1/users",
              pf("{\"username\": \"new-b\", \"org\": \"org-b\", \"roles\": [\"caseworker\"],"
                 " \"password\": \"%s\"}",
                 E2E_PASSWORD),
              403);
    EXPECT_AS("orgadmin-a", "POST", "/api/v1/users",
              pf("{\"username\": \"root-a\", \"org\": \"org-a\", \"roles\": [\"sysadmin\"],"
                 " \"password\": \"%s\"}",
                 E2E_PASSWORD),
              403);
    EXPECT_AS("orgadmin-a", "GET", "/api/v1/users/cw-b", NULL, 404);
    EXPECT_AS("orgadmin-a", "GET", "/api/v1/users/cw-a", NULL, 200);
    EXPECT_AS("orgadmin-a", "POST", "/api/v1/users/cw-b/disable", NULL, 404);
    EXPECT_AS("admin", "GET", "/api/v1/users/cw-b", NULL, 200);
}

/* ==== bad input to administration ========================================================= */

static void test_user_admin_validation(void **state)
{
    (void)state;
    e2e_as("admin");
    resp r;
    SEND(&r, "POST", "/api/v1/users",
         "{\"username\": \"a b\", \"org\": \"nowhere\", \"roles\": [\"wizard\"],"
         " \"password\": \"short\", \"colour\": \"red\"}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "username", "format");
    expect_field_error(&r, "roles", "picklist");
    expect_field_error(&r, "colour", "unknown_field");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/users",
         "{\"username\": \"weak\", \"org\": \"org-a\", \"roles\": [\"caseworker\"],"
         " \"password\": \"short\"}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "password", "password_policy");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/users",
         pf("{\"username\": \"cw-a\", \"org\": \"org-a\", \"roles\": [\"caseworker\"],"
            " \"password\": \"%s\"}",
            E2E_PASSWORD),
         NULL);
    expect_error(&r, 409, NULL);
    expect_field_error(&r, "username", "unique");
    resp_free(&r);
    /* a generated password is shown once */
    SEND(&r, "POST", "/api/v1/users",
         "{\"username\": \"gen-a\", \"org\": \"org-a\", \"roles\": [\"caseworker\"]}", NULL);
    EXPECT_STATUS(&r, 201);
    char pw[64];
    snprintf(pw, sizeof pw, "%s", jstr(r.json, "password"));
    assert_int_equal(strlen(pw), 20);
    resp_free(&r);
    e2e_login(&r, "gen-a", pw);
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
}

/* ==== restricted cases ====================================================================== */

static void test_restricted_case(void **state)
{
    (void)state;
    e2e_as("cw-a");
    char id[64];
    create_case(NAMED_CASE, id, NULL);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/cases/%s", id);
    EXPECT_AS("hotline-a", "GET", path, NULL, 200);
    resp r;
    e2e_as("cw-a");
    SEND(&r, "PUT", pf("%s/restriction", path), "{\"users\": [\"no-such-user\"]}", NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "users[0]", "lookup");
    resp_free(&r);
    SEND(&r, "PUT", pf("%s/restriction", path), "{\"users\": [\"coord-a\"]}", NULL);
    EXPECT_STATUS(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "restricted")));
    assert_int_equal(json_array_size(json_object_get(r.json, "users")), 2); /* and cw-a */
    resp_free(&r);
    EXPECT_AS("hotline-a", "GET", path, NULL, 404);
    EXPECT_AS("cw-a", "GET", path, NULL, 200);
    EXPECT_AS("coord-a", "GET", path, NULL, 200);
    e2e_as("hotline-a");
    GET(&r, "/api/v1/cases?limit=500");
    EXPECT_STATUS(&r, 200);
    assert_null(strstr(r.body, id));
    resp_free(&r);
    EXPECT_AS("cw-a", "DELETE", pf("%s/restriction", path), NULL, 200);
    EXPECT_AS("hotline-a", "GET", path, NULL, 200);
}

/* ==== CSRF ================================================================================== */

static void test_cookie_sessions_need_csrf(void **state)
{
    (void)state;
    resp r;
    e2e_login(&r, "cw-a", E2E_PASSWORD);
    EXPECT_STATUS(&r, 200);
    char cookie[200], csrf[100];
    size_t n = strcspn(r.set_cookie, ";");
    snprintf(cookie, sizeof cookie, "Cookie: %.*s", (int)n, r.set_cookie);
    snprintf(csrf, sizeof csrf, "%s", jstr(r.json, "csrf_token"));
    resp_free(&r);
    char saved[256];
    snprintf(saved, sizeof saved, "%s", e2e_auth);
    e2e_auth[0] = '\0'; /* the cookie alone */
    GET(&r, "/api/v1/me");
    EXPECT_STATUS(&r, 401);
    resp_free(&r);
    http_do(NULL, &r, "GET", "/api/v1/me", NULL, 0, cookie);
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "csrf_token"), csrf); /* a reloaded page gets it back */
    resp_free(&r);
    http_do(NULL, &r, "POST", "/api/v1/cases", TU_MINIMAL_CASE, strlen(TU_MINIMAL_CASE), cookie);
    expect_error(&r, 403, "csrf_failed");
    resp_free(&r);
    /* signing in again with the cookie still there needs no CSRF token */
    const char *creds = "{\"username\": \"cw-a\", \"password\": \"" E2E_PASSWORD "\"}";
    http_do(NULL, &r, "POST", "/api/v1/login", creds, strlen(creds), cookie);
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    http_do(NULL, &r, "POST", "/api/v1/cases", TU_MINIMAL_CASE, strlen(TU_MINIMAL_CASE),
            pf("%s\nX-CSRF-Token: wrong-token", cookie));
    expect_error(&r, 403, "csrf_failed");
    resp_free(&r);
    http_do(NULL, &r, "POST", "/api/v1/cases", TU_MINIMAL_CASE, strlen(TU_MINIMAL_CASE),
            pf("%s\nX-CSRF-Token: %s", cookie, csrf));
    EXPECT_STATUS(&r, 201);
    resp_free(&r);
    /* sign out: the cookie is cleared and the session is gone */
    http_do(NULL, &r, "POST", "/api/v1/logout", "{}", 2, pf("%s\nX-CSRF-Token: %s", cookie, csrf));
    EXPECT_STATUS(&r, 200);
    assert_non_null(strstr(r.set_cookie, "Max-Age=0"));
    resp_free(&r);
    http_do(NULL, &r, "GET", "/api/v1/me", NULL, 0, cookie);
    expect_error(&r, 401, NULL);
    resp_free(&r);
    snprintf(e2e_auth, sizeof e2e_auth, "%s", saved);
}

/* ==== API tokens ============================================================================= */

static void test_api_tokens(void **state)
{
    (void)state;
    e2e_as("cw-a");
    resp r;
    SEND(&r, "POST", "/api/v1/tokens", "{\"name\": \"nightly sync\", \"roles\": [\"analyst\"]}",
         NULL);
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "roles", "scope");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/tokens", "{\"name\": \"nightly sync\", \"expires_days\": 7}", NULL);
    EXPECT_STATUS(&r, 201);
    char token[128], id[32];
    snprintf(token, sizeof token, "%s", jstr(r.json, "token"));
    snprintf(id, sizeof id, "%s", jstr(r.json, "id"));
    resp_free(&r);
    const char *auth = pf("Authorization: Bearer %s", token);
    char hdr[200];
    snprintf(hdr, sizeof hdr, "%s", auth);
    http_do(NULL, &r, "GET", "/api/v1/cases?limit=1", NULL, 0, hdr);
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    GET(&r, "/api/v1/tokens");
    EXPECT_STATUS(&r, 200);
    assert_null(strstr(r.body, token)); /* shown once, never listed */
    assert_non_null(strstr(r.body, "nightly sync"));
    resp_free(&r);
    SEND(&r, "DELETE", pf("/api/v1/tokens/%s", id), NULL, NULL);
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    http_do(NULL, &r, "GET", "/api/v1/cases?limit=1", NULL, 0, hdr);
    expect_error(&r, 401, NULL);
    resp_free(&r);
}

/* ==== TOTP ==================================================================================== */

static size_t base32_decode(const char *in, unsigned char *out, size_t cap)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = in; *p && o < cap; p++) {
        const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const char *hit = strchr(alpha, *p);
        if (!hit)
            continue;
        acc = (acc << 5) | (unsigned)(hit - alpha);
        bits += 5;
        if (bits >= 8) {
            out[o++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return o;
}

static void totp_now(const unsigned char *secret, size_t n, char code[8])
{
    assert_int_equal(oath_totp_generate((const char *)secret, n, time(NULL), 30, 0, 6, code),
                     OATH_OK);
}

static void test_totp(void **state)
{
    (void)state;
    assert_int_equal(oath_init(), OATH_OK);
    create_user("mfa-user", "org-a", "caseworker");
    e2e_as("mfa-user");
    resp r;
    SEND(&r, "POST", "/api/v1/me/totp", "{}", NULL);
    EXPECT_STATUS(&r, 200);
    unsigned char secret[64];
    size_t n = base32_decode(jstr(r.json, "secret"), secret, sizeof secret);
    assert_int_equal(n, 20);
    assert_non_null(strstr(jstr(r.json, "otpauth_uri"), "otpauth://totp/Amparo:mfa-user"));
    assert_non_null(strstr(jstr(r.json, "qr_svg"), "<svg"));
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/me/totp/confirm", "{\"code\": \"000000\"}", NULL);
    if (r.status == 200) { /* one chance in a million that 000000 is right */
        resp_free(&r);
        return;
    }
    expect_error(&r, 422, "validation_failed");
    expect_field_error(&r, "code", "totp_invalid");
    resp_free(&r);
    char code[8];
    totp_now(secret, n, code);
    SEND(&r, "POST", "/api/v1/me/totp/confirm", pf("{\"code\": \"%s\"}", code), NULL);
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    /* from now on the password alone is not enough */
    e2e_login(&r, "mfa-user", E2E_PASSWORD);
    expect_error(&r, 401, "totp_required");
    resp_free(&r);
    SEND(&r, "POST", "/api/v1/login",
         pf("{\"username\": \"mfa-user\", \"password\": \"%s\", \"totp\": \"12345x\"}",
            E2E_PASSWORD),
         "Authorization: none");
    expect_error(&r, 401, "totp_invalid");
    resp_free(&r);
    totp_now(secret, n, code);
    SEND(&r, "POST", "/api/v1/login",
         pf("{\"username\": \"mfa-user\", \"password\": \"%s\", \"totp\": \"%s\"}", E2E_PASSWORD,
            code),
         "Authorization: none");
    EXPECT_STATUS(&r, 200);
    assert_true(json_is_true(json_object_get(json_object_get(r.json, "user"), "mfa_enrolled")));
    resp_free(&r);
    oath_done();
}

/* A role that must use a second factor gets a session that can only enrol one. */
static void test_mfa_required_for_role(void **state)
{
    (void)state;
    resp r;
    e2e_login(&r, "auditor", E2E_PASSWORD);
    EXPECT_STATUS(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "mfa_enrolment_required")));
    char hdr[200];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", jstr(r.json, "token"));
    resp_free(&r);
    http_do(NULL, &r, "GET", "/api/v1/users", NULL, 0, hdr);
    expect_error(&r, 403, "mfa_enrolment_required");
    resp_free(&r);
    http_do(NULL, &r, "GET", "/api/v1/me", NULL, 0, hdr);
    EXPECT_STATUS(&r, 200);
    assert_true(json_is_true(json_object_get(json_object_get(r.json, "user"), "mfa_required")));
    resp_free(&r);
    /* or by organisation */
    e2e_as("admin");
    SEND(&r, "PUT", "/api/v1/organisations/org-mfa",
         "{\"org_Name\": \"Strict NGO\", \"amp_OrgRequireMFA\": true}", NULL);
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    create_user("strict-cw", "org-mfa", "caseworker");
    e2e_login(&r, "strict-cw", E2E_PASSWORD);
    EXPECT_STATUS(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "mfa_enrolment_required")));
    resp_free(&r);
    e2e_login(&r, "cw-a", E2E_PASSWORD);
    EXPECT_STATUS(&r, 200);
    assert_false(json_is_true(json_object_get(r.json, "mfa_enrolment_required")));
    resp_free(&r);
}

/* ==== throttling ================================================================================
 */

static void test_login_throttling(void **state)
{
    (void)state;
    create_user("victim-of-guessing", "org-a", "caseworker");
    resp r;
    for (int i = 0; i < 5; i++) {
        e2e_login(&r, "victim-of-guessing", "not the password, guess");
        expect_error(&r, 401, "invalid_credentials");
        resp_free(&r);
    }
    e2e_login(&r, "victim-of-guessing", "not the password, guess");
    expect_error(&r, 429, "too_many_requests");
    assert_true(atoi(r.retry_after) >= 1);
    resp_free(&r);
    /* locked: even the right password waits, so guessing learns nothing */
    e2e_login(&r, "victim-of-guessing", E2E_PASSWORD);
    expect_error(&r, 429, "too_many_requests");
    resp_free(&r);
    /* an unknown name is throttled the same way */
    for (int i = 0; i < 6; i++) {
        e2e_login(&r, "ghost-user", "not the password, guess");
        resp_free(&r);
    }
    e2e_login(&r, "ghost-user", "not the password, guess");
    expect_error(&r, 429, "too_many_requests");
    resp_free(&r);
}

/* ==== disabling and passwords
 * ===================================================================== */

/* Sign-ins from many connections at once (their hashing runs on the server's
 * hashing threads, a few waiting at most): each is answered 200 with a
 * session, or 429 too_many_requests with Retry-After; and case reads on
 * another connection are answered meanwhile. */
#define SIGNERS 12
#define SIGNINS_EACH 6

typedef struct {
    pthread_barrier_t *barrier;
    int ok, busy, other;
    long other_status;
} signer;

static void *signer_main(void *arg)
{
    signer *sg = arg;
    CURL *h = curl_easy_init();
    pthread_barrier_wait(sg->barrier);
    char body[160];
    snprintf(body, sizeof body, "{\"username\": \"cw-b\", \"password\": \"%s\"}", E2E_PASSWORD);
    for (int i = 0; h && i < SIGNINS_EACH; i++) {
        resp r;
        http_do(h, &r, "POST", "/api/v1/login", body, strlen(body), "Authorization: none");
        const char *code = jstr(json_object_get(r.json, "error"), "code");
        if (r.status == 200 && jstr(r.json, "token"))
            sg->ok++;
        else if (r.status == 429 && code && strcmp(code, "too_many_requests") == 0 &&
                 atoi(r.retry_after) >= 1)
            sg->busy++;
        else {
            sg->other++;
            sg->other_status = r.status;
        }
        resp_free(&r);
    }
    if (h)
        curl_easy_cleanup(h);
    return NULL;
}

static void test_concurrent_sign_ins(void **state)
{
    (void)state;
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, SIGNERS + 1);
    signer sg[SIGNERS];
    pthread_t th[SIGNERS];
    for (int t = 0; t < SIGNERS; t++) {
        sg[t] = (signer){.barrier = &barrier};
        assert_int_equal(pthread_create(&th[t], NULL, signer_main, &sg[t]), 0);
    }
    e2e_as("cw-a");
    pthread_barrier_wait(&barrier);
    int reads_ok = 0;
    for (int i = 0; i < 20; i++) {
        resp r;
        GET(&r, "/api/v1/cases?limit=1");
        reads_ok += r.status == 200;
        resp_free(&r);
    }
    int ok = 0, busy = 0, other = 0;
    long other_status = 0;
    for (int t = 0; t < SIGNERS; t++) {
        pthread_join(th[t], NULL);
        ok += sg[t].ok;
        busy += sg[t].busy;
        other += sg[t].other;
        if (sg[t].other)
            other_status = sg[t].other_status;
    }
    pthread_barrier_destroy(&barrier);
    if (other)
        fail_msg("%d sign-ins answered neither 200 nor 429 (last: %ld)", other, other_status);
    assert_int_equal(ok + busy, SIGNERS * SIGNINS_EACH);
    assert_true(ok > 0);
    assert_int_equal(reads_ok, 20);
}

static void test_disable_and_reset(void **state)
{
    (void)state;
    create_user("leaver", "org-a", "caseworker");
    e2e_as("leaver");
    EXPECT_AS("leaver", "GET", "/api/v1/me", NULL, 200);
    EXPECT_AS("admin", "POST", "/api/v1/users/leaver/disable", NULL, 200);
    EXPECT_AS("leaver", "GET", "/api/v1/me", NULL, 401);
    resp r;
    e2e_login(&r, "leaver", E2E_PASSWORD);
    expect_error(&r, 401, "invalid_credentials");
    resp_free(&r);
    EXPECT_AS("admin", "POST", "/api/v1/users/leaver/enable", NULL, 200);
    e2e_as("admin");
    SEND(&r, "POST", "/api/v1/users/leaver/reset-password", "", NULL);
    EXPECT_STATUS(&r, 200);
    char pw[64];
    snprintf(pw, sizeof pw, "%s", jstr(r.json, "password"));
    resp_free(&r);
    e2e_login(&r, "leaver", E2E_PASSWORD);
    expect_error(&r, 401, "invalid_credentials");
    resp_free(&r);
    e2e_login(&r, "leaver", pw);
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    /* the user changes it, giving the current one */
    e2e_auth[0] = '\0';
    for (size_t i = 0; i < sizeof e2e_tokens / sizeof *e2e_tokens; i++) {
        if (strcmp(e2e_tokens[i].user, "leaver") == 0)
            memset(&e2e_tokens[i], 0, sizeof e2e_tokens[i]);
    }
}

/* ==== erasure
 * ===================================================================================== */

static void test_erase(void **state)
{
    (void)state;
    e2e_as("cw-a");
    char id[64];
    create_case(NAMED_CASE, id, NULL);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/cases/%s", id);
    EXPECT_AS("cw-a", "POST", pf("%s/erase", path), NULL, 403);
    e2e_as("admin");
    resp r;
    SEND(&r, "POST", pf("%s/erase", path), NULL, NULL);
    EXPECT_STATUS(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "statistics_kept")));
    resp_free(&r);
    SEND(&r, "POST", pf("%s/erase", path), NULL, NULL);
    expect_error(&r, 409, "invalid_state");
    resp_free(&r);
    e2e_as("cw-a");
    GET(&r, path);
    EXPECT_STATUS(&r, 200);
    assert_null(strstr(r.body, "Valentina"));
    assert_null(strstr(r.body, "Ibarra"));
    assert_string_equal(jstr(r.json, "prs_Gender"), "Feminine"); /* statistics consented */
    json_int_t v = jint(r.json, "version");
    resp_free(&r);
    SEND(&r, "PATCH", path, pf("{\"version\": %lld, \"cas_Status\": \"Closed\"}", (long long)v),
         NULL);
    expect_error(&r, 409, "invalid_state");
    resp_free(&r);
}

/* The server keeps recently read cases in memory (as stored): a change made by
 * another process, here `amparo case erase` on the command line while the server
 * runs, must be seen by the very next read, never answered from memory. */
static void test_erase_from_cli_while_serving(void **state)
{
    (void)state;
    e2e_as("cw-a");
    char id[64];
    create_case(NAMED_CASE, id, NULL);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/cases/%s", id);
    resp r;
    for (int i = 0; i < 3; i++) { /* the later reads may come from the server's memory */
        GET(&r, path);
        EXPECT_STATUS(&r, 200);
        assert_non_null(strstr(r.body, "Valentina"));
        resp_free(&r);
    }
    char *argv[] = {(char *)srv.bin, "case", "erase", "--data", srv.data, id, NULL};
    int st = run_tool(argv);
    assert_true(st >= 0 && WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    GET(&r, path);
    EXPECT_STATUS(&r, 200);
    assert_null(strstr(r.body, "Valentina"));
    assert_null(strstr(r.body, "Ibarra"));
    resp_free(&r);
    SEND(&r, "PATCH", path, "{\"version\": 2, \"cas_Status\": \"Closed\"}", NULL);
    expect_error(&r, 409, "invalid_state"); /* read-only after erasure, as the server knows */
    resp_free(&r);
}

/* ==== encryption at rest ===================================================== */

/* True when the file holds needle anywhere. */
static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t cap = 1 << 20, n = 0, got;
    char *buf = malloc(cap);
    bool found = false;
    size_t nl = strlen(needle);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (memmem(buf, n, needle, nl)) {
            found = true;
            break;
        }
        if (n > nl) { /* keep the tail that may start a match */
            memmove(buf, buf + n - nl, nl);
            n = nl;
        }
    }
    free(buf);
    fclose(f);
    return found;
}

static void test_no_identity_in_clear_on_disk(void **state)
{
    (void)state;
    e2e_as("cw-a");
    static const char *const secrets[] = {"Zenaida",
                                          "Quispe-Mamani",
                                          "1994-03-17",
                                          "+593987654321",
                                          "1712345678",
                                          "Avenida Amazonas 1234",
                                          "lives behind the market of Otavalo"};
    char id[64];
    create_case("{\"prs_FirstName\": \"Zenaida\", \"prs_SecondName\": \"Quispe-Mamani\","
                " \"prs_Birthdate\": \"1994-03-17\", \"prs_MobilePhone\": \"+593987654321\","
                " \"prs_IdentityNumber\": \"1712345678\","
                " \"prs_MailingStreet\": \"Avenida Amazonas 1234\", \"prs_Gender\": \"Feminine\","
                " \"vic_TraffickingStatus\": \"PossibleVictimOfTrafficking\","
                " \"comments\": [{\"cco_CaseComment\": \"lives behind the market of Otavalo\"}]}",
                id, NULL);
    /* the owner reads everything back, decrypted */
    resp r;
    GET(&r, pf("/api/v1/cases/%s", id));
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "prs_FirstName"), "Zenaida");
    assert_string_equal(jstr(r.json, "prs_IdentityNumber"), "1712345678");
    assert_non_null(strstr(r.body, "Otavalo"));
    /* the age, derived by the server, stays in clear for figures */
    assert_int_equal(jint(r.json, "amp_AgeAtRegistration"), 32);
    resp_free(&r);
    /* an edit re-seals */
    SEND(&r, "PATCH", pf("/api/v1/cases/%s", id), "{\"prs_MiddleName\": \"Rocío\"}",
         "If-Match: \"1\"");
    EXPECT_STATUS(&r, 200);
    assert_string_equal(jstr(r.json, "prs_FirstName"), "Zenaida");
    resp_free(&r);
    /* exact search by name and ID number through the blind indexes */
    GET(&r, "/api/v1/cases?name=zenaida");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    resp_free(&r);
    GET(&r, "/api/v1/cases?name=Zenaida%20Rocio");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    resp_free(&r);
    GET(&r, "/api/v1/cases?id_number=171-234-5678");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 1);
    resp_free(&r);
    GET(&r, "/api/v1/cases?name=Zenobia");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 0);
    resp_free(&r);
    e2e_as("coord-a"); /* no identity: no search by identity either */
    GET(&r, "/api/v1/cases?name=zenaida");
    expect_error(&r, 400, NULL);
    expect_field_error(&r, "name", "forbidden");
    resp_free(&r);
    e2e_as("cw-a");
    /* neither the database nor its write-ahead log holds any of it in clear */
    char db[400], wal[400];
    snprintf(db, sizeof db, "%s/amparo.db", srv.data);
    snprintf(wal, sizeof wal, "%s/amparo.db-wal", srv.data);
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) {
        if (file_has(db, secrets[i]) || file_has(wal, secrets[i]))
            fail_msg("'%s' is stored in clear", secrets[i]);
    }
    /* erasure destroys the key: the sealed data is gone for good */
    e2e_as("admin");
    SEND(&r, "POST", pf("/api/v1/cases/%s/erase", id), NULL, NULL);
    EXPECT_STATUS(&r, 200);
    resp_free(&r);
    e2e_as("cw-a");
    GET(&r, pf("/api/v1/cases/%s", id));
    EXPECT_STATUS(&r, 200);
    assert_null(strstr(r.body, "Zenaida"));
    assert_null(strstr(r.body, "_sealed"));
    resp_free(&r);
    GET(&r, "/api/v1/cases?name=zenaida");
    EXPECT_STATUS(&r, 200);
    assert_int_equal(jint(r.json, "total"), 0);
    resp_free(&r);
}

/* ==== native TLS ================================================================================
 */

static void test_native_tls(void **state)
{
    (void)state;
    char key[400], cert[400], portfile[400], cmd[1400];
    snprintf(key, sizeof key, "%s/tls-key.pem", srv.root);
    snprintf(cert, sizeof cert, "%s/tls-cert.pem", srv.root);
    snprintf(portfile, sizeof portfile, "%s/tls-port", srv.root);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=127.0.0.1 -keyout %s -out %s >/dev/null 2>&1 && chmod 600 %s",
             key, cert, key);
    if (system(cmd) != 0)
        fail_msg("openssl could not make a test certificate");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(srv.logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(srv.bin, srv.bin, "serve", "--data", srv.data, "--listen", "127.0.0.1:0",
              "--port-file", portfile, "--tls-cert", cert, "--tls-key", key, (char *)NULL);
        _exit(127);
    }
    unsigned port = 0;
    for (int i = 0; i < 500 && !port; i++) {
        sleep_ms(10);
        FILE *f = fopen(portfile, "r");
        char line[32] = "";
        if (f) {
            if (fgets(line, sizeof line, f) && strchr(line, '\n'))
                port = (unsigned)strtoul(line, NULL, 10);
            fclose(f);
        }
    }
    assert_true(port > 0);
    CURL *h = curl_easy_init();
    char url[80];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/api/v1/login", port);
    resp r;
    memset(&r, 0, sizeof r);
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    const char *body = "{\"username\": \"cw-a\", \"password\": \"" E2E_PASSWORD "\"}";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, cert);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L); /* the test certificate names an IP */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    long tls_version_ok = cc == CURLE_OK;
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    if (!tls_version_ok)
        fail_msg("HTTPS request failed: %s", curl_easy_strerror(cc));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.set_cookie, "Secure"));
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    resp_free(&r);
}

int main(void)
{
    e2e_extra_conf = "mfa_required_roles=auditor\n";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_needs_a_session),
        cmocka_unit_test(test_login_answers),
        cmocka_unit_test(test_role_matrix),
        cmocka_unit_test(test_user_admin_validation),
        cmocka_unit_test(test_restricted_case),
        cmocka_unit_test(test_cookie_sessions_need_csrf),
        cmocka_unit_test(test_api_tokens),
        cmocka_unit_test(test_totp),
        cmocka_unit_test(test_mfa_required_for_role),
        cmocka_unit_test(test_login_throttling),
        cmocka_unit_test(test_concurrent_sign_ins),
        cmocka_unit_test(test_disable_and_reset),
        cmocka_unit_test(test_erase),
        cmocka_unit_test(test_erase_from_cli_while_serving),
        cmocka_unit_test(test_no_identity_in_clear_on_disk),
        cmocka_unit_test(test_native_tls),
        cmocka_unit_test(test_sigterm_exits_cleanly),
    };
    return cmocka_run_group_tests_name("e2e_security", tests, world_setup, group_teardown);
}
