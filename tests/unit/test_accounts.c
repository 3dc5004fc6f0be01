/* test_accounts.c — accounts, sessions and the permission matrix, in the core:
 * password hashing, session expiry (idle and absolute), tokens stored only as
 * hashes, scoped API tokens, and case scope for principals of each role. */
#include "testutil.h"

#include "core/accounts.h"

#include <sqlite3.h>
#include <unistd.h>

#define PW "a long enough password"

static accounts *open_accounts(tu_env *e, int64_t idle_ms, int64_t max_ms)
{
    accounts_settings s;
    accounts_settings_default(&s);
    s.pwhash = PWHASH_MIN;
    if (idle_ms)
        s.session_idle_ms = idle_ms;
    if (max_ms)
        s.session_max_ms = max_ms;
    randombytes_buf(s.secret_key, sizeof s.secret_key);
    accounts *a = accounts_new(e->core, &s);
    assert_non_null(a);
    return a;
}

static void add_org(tu_env *e, const char *id)
{
    amp_err err = {0};
    json_t *body = json_pack("{s:s, s:s}", "id", id, "org_Name", id), *out = NULL;
    assert_int_equal(orgs_put(e->core, &e->who, body, &out, &err), AMP_OK);
    json_decref(body);
    json_decref(out);
}

static void add_user(tu_env *e, accounts *a, const char *name, const char *org, const char *role)
{
    amp_err err = {0};
    json_t *body = json_pack("{s:s, s:s, s:[s], s:s}", "username", name, "org", org, "roles", role,
                             "password", PW),
           *out = NULL;
    amp_code code = accounts_user_create(a, &e->who, body, &out, &err);
    if (code != AMP_OK)
        fail_msg("user %s: %s", name, err.message);
    json_decref(body);
    json_decref(out);
}

static void login(accounts *a, const char *name, login_result *lr)
{
    amp_err err = {0};
    amp_code code = accounts_login(a, name, PW, NULL, "127.0.0.1", "en", lr, &err);
    if (code != AMP_OK)
        fail_msg("login %s: %s", name, err.message);
}

static void test_password_hash_is_argon2id(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    accounts *a = open_accounts(e, 0, 0);
    add_org(e, "org-a");
    add_user(e, a, "ana", "org-a", "caseworker");
    store_user u;
    assert_int_equal(store_user_get(e->store, "ana", 0, &u), STORE_OK);
    assert_true(strncmp(u.pw_hash, "$argon2id$", 10) == 0);
    assert_null(strstr(u.pw_hash, PW));
    /* user names are case-insensitive for sign-in */
    login_result lr;
    login(a, "ANA", &lr);
    login_result_release(&lr);
    accounts_free(a);
    tu_env_free(e);
}

static void test_password_policy(void **state)
{
    (void)state;
    amp_err err = {0};
    assert_int_equal(accounts_password_ok("ana", "short", &err), AMP_EINVALID);
    amp_err_clear(&err);
    assert_int_equal(accounts_password_ok("ana-long-name", "ana-long-name", &err), AMP_EINVALID);
    amp_err_clear(&err);
    assert_int_equal(accounts_password_ok("ana", "valid but \xff\xfe bytes", &err), AMP_EINVALID);
    amp_err_clear(&err);
    assert_int_equal(accounts_password_ok("ana", "contraseña larga y válida", &err), AMP_OK);
    char gen[24];
    accounts_generate_password(gen);
    assert_int_equal(strlen(gen), 20);
    assert_int_equal(accounts_password_ok("ana", gen, &err), AMP_OK);
}

/* Only hashes of tokens reach the database. */
static void test_tokens_stored_hashed(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    accounts *a = open_accounts(e, 0, 0);
    add_org(e, "org-a");
    add_user(e, a, "ana", "org-a", "caseworker");
    login_result lr;
    login(a, "ana", &lr);
    char token[64];
    snprintf(token, sizeof token, "%s", lr.token);
    login_result_release(&lr);
    store_close(e->store);
    e->store = NULL;
    char path[320];
    snprintf(path, sizeof path, "%s/amparo.db", e->dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char data[8 << 20];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/amparo.db-wal", e->dir);
    f = fopen(path, "rb");
    if (f) {
        n += fread(data + n, 1, sizeof data - n, f);
        fclose(f);
    }
    assert_null(memmem(data, n, token, strlen(token)));
    accounts_free(a);
    core_free(e->core);
    e->core = NULL;
    tu_env_free(e);
}

static void test_session_idle_and_absolute_expiry(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    add_org(e, "org-a");
    /* generous margins: on a loaded 2-CPU machine a sleep can overrun by a lot;
     * a check whose premise the machine broke (too slow to stay within the
     * period) is skipped, not failed */
    accounts *a = open_accounts(e, 1000, 0);
    add_user(e, a, "ana", "org-a", "caseworker");
    login_result lr;
    login(a, "ana", &lr);
    int64_t used = clock_mono_us();
    principal p;
    auth_info info;
    char hash[72];
    amp_err err = {0};
    assert_int_equal(accounts_authenticate(a, lr.token, &p, &info, hash, &err), AMP_OK);
    assert_string_equal(p.actor, "ana");
    assert_string_equal(p.org, "org-a");
    assert_int_equal(p.roles, ROLE_CASEWORKER);
    assert_false(p.internal);
    used = clock_mono_us();
    usleep(250 * 1000); /* used within the idle period: stays valid */
    if (clock_mono_us() - used < 900 * 1000)
        assert_int_equal(accounts_authenticate(a, lr.token, &p, &info, hash, &err), AMP_OK);
    else
        print_message("machine too slow: idle check skipped\n");
    amp_err_clear(&err);
    usleep(1300 * 1000);
    assert_int_equal(accounts_authenticate(a, lr.token, &p, &info, hash, &err), AMP_EUNAUTH);
    assert_string_equal(err.name, "session_expired");
    amp_err_clear(&err);
    login_result_release(&lr);
    accounts_free(a);

    a = open_accounts(e, 0, 1000); /* absolute limit, however busy */
    login(a, "ana", &lr);
    int64_t start = clock_mono_us();
    for (int i = 0; i < 4; i++) {
        usleep(100 * 1000);
        if (clock_mono_us() - start < 900 * 1000)
            assert_int_equal(accounts_authenticate(a, lr.token, &p, &info, hash, &err), AMP_OK);
        amp_err_clear(&err);
    }
    usleep(1000 * 1000);
    assert_int_equal(accounts_authenticate(a, lr.token, &p, &info, hash, &err), AMP_EUNAUTH);
    amp_err_clear(&err);
    login_result_release(&lr);
    accounts_free(a);
    tu_env_free(e);
}

static void test_logout_and_unknown_tokens(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    add_org(e, "org-a");
    accounts *a = open_accounts(e, 0, 0);
    add_user(e, a, "ana", "org-a", "caseworker");
    login_result lr;
    login(a, "ana", &lr);
    principal p;
    auth_info info;
    char hash[72];
    amp_err err = {0};
    assert_int_equal(accounts_authenticate(a, "x", &p, &info, hash, &err), AMP_EUNAUTH);
    amp_err_clear(&err);
    assert_int_equal(accounts_authenticate(a, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &p,
                                           &info, hash, &err),
                     AMP_EUNAUTH);
    amp_err_clear(&err);
    assert_int_equal(accounts_authenticate(a, lr.token, &p, &info, hash, &err), AMP_OK);
    assert_int_equal(accounts_logout(a, &p, hash, &err), AMP_OK);
    assert_int_equal(accounts_authenticate(a, lr.token, &p, &info, hash, &err), AMP_EUNAUTH);
    amp_err_clear(&err);
    login_result_release(&lr);
    accounts_free(a);
    tu_env_free(e);
}

/* An API token carries at most its owner's roles, and its scope narrows them. */
static void test_api_token_scope(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    add_org(e, "org-a");
    accounts *a = open_accounts(e, 0, 0);
    amp_err err = {0};
    json_t *body = json_pack("{s:s, s:s, s:[s,s], s:s}", "username", "ana", "org", "org-a", "roles",
                             "caseworker", "analyst", "password", PW),
           *out = NULL;
    assert_int_equal(accounts_user_create(a, &e->who, body, &out, &err), AMP_OK);
    json_decref(body);
    json_decref(out);
    login_result lr;
    login(a, "ana", &lr);
    principal p;
    auth_info info;
    char hash[72];
    assert_int_equal(accounts_authenticate(a, lr.token, &p, &info, hash, &err), AMP_OK);
    body = json_pack("{s:s, s:[s]}", "name", "stats", "roles", "analyst");
    assert_int_equal(accounts_token_create(a, &p, body, &out, &err), AMP_OK);
    json_decref(body);
    char token[64];
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(out, "token")));
    json_decref(out);
    principal tp;
    assert_int_equal(accounts_authenticate(a, token, &tp, &info, hash, &err), AMP_OK);
    assert_string_equal(info.kind, "api");
    assert_int_equal(tp.roles, ROLE_ANALYST);
    assert_false(authz_allows(&tp, ACT_READ, RES_CASE));
    assert_true(authz_allows(&tp, ACT_READ, RES_REPORT));
    login_result_release(&lr);
    accounts_free(a);
    tu_env_free(e);
}

static int grant_org_b(store_tx *tx, void *arg)
{
    return store_tx_case_grant(tx, *(int64_t *)arg, "org-b", "test", "2026-06-15T00:00:00Z");
}

static int revoke_org_b(store_tx *tx, void *arg)
{
    return store_tx_case_revoke(tx, *(int64_t *)arg, "org-b");
}

/* Case scope in the core, with principals of several roles and organisations. */
static void test_case_scope(void **state)
{
    (void)state;
    tu_env *e = tu_env_new();
    add_org(e, "org-a");
    add_org(e, "org-b");
    principal cw_a = {.actor = "ana", .lang = "en", .org = "org-a", .roles = ROLE_CASEWORKER};
    principal cw_b = {.actor = "bea", .lang = "en", .org = "org-b", .roles = ROLE_CASEWORKER};
    principal coord = {.actor = "cora", .lang = "en", .org = "org-a", .roles = ROLE_COORDINATOR};
    principal analyst = {.actor = "ali", .lang = "en", .org = "org-a", .roles = ROLE_ANALYST};
    amp_err err = {0};
    json_t *body = json_pack("{s:s, s:s}", "prs_FirstName", "Marisol", "vic_TraffickingStatus",
                             "PossibleVictimOfTrafficking"),
           *out = NULL;
    assert_int_equal(cases_create_sync(e->core, &cw_a, body, &out, &err), AMP_OK);
    json_decref(body);
    char id[40];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(out, "id")));
    assert_string_equal(json_string_value(json_object_get(out, "amp_OwnerOrganisation")), "org-a");
    json_decref(out);

    json_t *rec = NULL;
    assert_int_equal(cases_get(e->core, &cw_a, id, &rec, &err), AMP_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "prs_FirstName")), "Marisol");
    json_decref(rec);
    assert_int_equal(cases_get(e->core, &cw_b, id, &rec, &err), AMP_ENOTFOUND);
    amp_err_clear(&err);
    assert_int_equal(cases_get(e->core, &analyst, id, &rec, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    assert_int_equal(cases_get(e->core, &coord, id, &rec, &err), AMP_OK);
    assert_null(json_object_get(rec, "prs_FirstName"));
    json_decref(rec);

    /* sharing with org-b (what an accepted referral does) opens it to org-b */
    store_row row;
    assert_int_equal(cases_access(e->core, &cw_a, id, ACT_READ, &row, &err), AMP_OK);
    assert_false(cases_in_scope(e->core, &cw_b, &row));
    int64_t case_row = row.id;
    store_row_release(&row);
    assert_int_equal(store_run(e->store, grant_org_b, &case_row), STORE_OK);
    assert_int_equal(cases_get(e->core, &cw_b, id, &rec, &err), AMP_OK);
    json_decref(rec);
    assert_int_equal(store_run(e->store, revoke_org_b, &case_row), STORE_OK);
    json_t *list = NULL;
    const list_param none[] = {{"limit", "50"}};
    assert_int_equal(cases_list(e->core, &cw_b, none, 1, &list, &err), AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(list, "total")), 0);
    json_decref(list);
    assert_int_equal(cases_list(e->core, &cw_a, none, 1, &list, &err), AMP_OK);
    assert_int_equal(json_integer_value(json_object_get(list, "total")), 1);
    json_decref(list);
    /* a caseworker cannot register a case for another organisation */
    body = json_pack("{s:s, s:s}", "amp_OwnerOrganisation", "org-b", "vic_TraffickingStatus",
                     "PossibleVictimOfTrafficking");
    assert_int_equal(cases_create_sync(e->core, &cw_a, body, &out, &err), AMP_EFORBIDDEN);
    amp_err_clear(&err);
    json_decref(body);
    tu_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_hash_is_argon2id),
        cmocka_unit_test(test_password_policy),
        cmocka_unit_test(test_tokens_stored_hashed),
        cmocka_unit_test(test_session_idle_and_absolute_expiry),
        cmocka_unit_test(test_logout_and_unknown_tokens),
        cmocka_unit_test(test_api_token_scope),
        cmocka_unit_test(test_case_scope),
    };
    return cmocka_run_group_tests_name("accounts", tests, NULL, NULL);
}
